/*
 * Shared main for the hpdiff sample programs.
 *
 * For every line read from stdin, call the scenario's probe() (which prints
 * one line per call of the scenario's functions), then print "--" and flush.
 * Exits at EOF.  A test can keep the process alive, hotpatch it, and feed
 * it another line to see whether it now behaves like the new build.
 */
#include <stdio.h>

void probe(void);

int main(void)
{
	char line[256];

	setvbuf(stdout, NULL, _IOLBF, 0);
	while (fgets(line, sizeof line, stdin) != NULL) {
		probe();
		puts("--");
		fflush(stdout);
	}
	return 0;
}
