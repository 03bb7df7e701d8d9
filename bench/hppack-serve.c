/*
 * The running side of bench/hppack.sh's "real-sized fix": a static program
 * that answers one line of stdin at a time with the libc functions the fix
 * touches (stdio with push-back, regex, malloc and memalign, memset).  The
 * bench applies the libc package to it while it runs and checks that it
 * still answers as the build linked against the new libc.a does.
 */
#define _GNU_SOURCE
#include <malloc.h>
#include <regex.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int main(void)
{
	char line[256];
	regex_t re;

	if (regcomp(&re, "^([a-z_]+)[[:space:]]*=[[:space:]]*([0-9]+)$", REG_EXTENDED))
		return 2;
	setvbuf(stdout, NULL, _IOLBF, 0);
	for (;;) {
		regmatch_t m[3];
		int c = getchar();
		size_t n;
		char *p, *q;

		if (c == EOF || ungetc(c, stdin) == EOF || !fgets(line, sizeof(line), stdin))
			break;
		n = strlen(line);
		p = malloc(n + 100);
		q = memalign(64, 4096);
		if (!p || !q)
			return 2;
		memset(p, 0, n + 100);
		memset(q, 'x', 4096);
		memcpy(p, line, n);
		p[strcspn(p, "\n")] = 0;
		if (regexec(&re, p, 3, m, 0))
			printf("%s: no\n", p);
		else
			printf("%s: %.*s is %ld\n", p, (int)(m[1].rm_eo - m[1].rm_so), p + m[1].rm_so,
			       strtol(p + m[2].rm_so, NULL, 10));
		free(q);
		free(p);
	}
	regfree(&re);
	return 0;
}
