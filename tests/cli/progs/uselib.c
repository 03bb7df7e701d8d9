/* The program that loads libscore.so: one answer per line on stdin. */
#include <stdio.h>

int lib_score(int x);
unsigned long lib_used(void);

int main(void)
{
	char line[64];

	while (fgets(line, sizeof(line), stdin)) {
		printf("lib_score(500) = %d\n--\n", lib_score(500));
		fflush(stdout);
	}
	return lib_used() > 0 ? 0 : 1;
}
