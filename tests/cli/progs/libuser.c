/*
 * A program for hpapply's tests that loads libscore.so at run time, as
 * often as it is told, one command per line on stdin:
 *
 *   o PATH   dlopen(PATH): a copy under another name is a second instance
 *   m PATH   dlmopen(LM_ID_NEWLM, PATH): a new instance in a new namespace
 *   c        dlclose every instance (the library is unmapped)
 *   other    "lib_score(500) = A B ...", one answer per instance loaded
 *
 * Each answer ends with a line "--".
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <stdio.h>
#include <string.h>

#define MAX 8

int main(void)
{
	void *h[MAX];
	int n = 0;
	char line[4096];

	while (fgets(line, sizeof(line), stdin)) {
		line[strcspn(line, "\n")] = 0;
		if ((line[0] == 'o' || line[0] == 'm') && line[1] == ' ' && n < MAX) {
			void *p = line[0] == 'o' ? dlopen(line + 2, RTLD_NOW | RTLD_LOCAL)
						 : dlmopen(LM_ID_NEWLM, line + 2, RTLD_NOW);

			if (p)
				h[n++] = p;
			printf("%s\n", p ? "loaded" : dlerror());
		} else if (line[0] == 'c') {
			while (n > 0)
				dlclose(h[--n]);
			printf("closed\n");
		} else {
			printf("lib_score(500) =");
			for (int i = 0; i < n; i++) {
				int (*f)(int) = (int (*)(int))dlsym(h[i], "lib_score");

				printf(" %d", f ? f(500) : 0);
			}
			printf("\n");
		}
		printf("--\n");
		fflush(stdout);
	}
	return 0;
}
