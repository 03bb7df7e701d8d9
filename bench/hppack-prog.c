/*
 * The "real-sized fix" of bench/hppack.sh: a small program linked
 * statically against the libc.a of two libc6-dev versions.  It reads a
 * config with stdio, matches lines with regcomp/regexec, keeps records in
 * malloc'ed memory, sorts them, expands words with wordexp, seeks and
 * pushes back on streams, uses memalign, memset, ffsll, mmap/mremap:
 * libio, malloc, regex, wordexp and the string functions are all linked,
 * and several of them changed between Debian's 2.36 updates.
 */
#define _GNU_SOURCE
#include <assert.h>
#include <ctype.h>
#include <errno.h>
#include <malloc.h>
#include <regex.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>
#include <wordexp.h>

struct rec {
	char key[32];
	long value;
};

static int cmp_rec(const void *a, const void *b)
{
	return strcmp(((const struct rec *)a)->key, ((const struct rec *)b)->key);
}

int main(int argc, char **argv)
{
	regex_t re;
	regmatch_t m[3];
	wordexp_t we;
	struct rec *recs;
	size_t n = 0, cap = 8;
	char line[256];
	FILE *in, *out;
	void *big;
	long long mask;

	assert(argc >= 1);
	if (regcomp(&re, "^([a-z_]+)[[:space:]]*=[[:space:]]*([0-9]+)$", REG_EXTENDED))
		return 2;
	recs = malloc(cap * sizeof(*recs));
	in = argc > 1 ? fopen(argv[1], "r") : stdin;
	if (!in || !recs) {
		perror("open");
		return 2;
	}
	while (fgets(line, sizeof(line), in)) {
		line[strcspn(line, "\n")] = 0;
		if (regexec(&re, line, 3, m, 0))
			continue;
		if (n == cap) {
			cap *= 2;
			recs = realloc(recs, cap * sizeof(*recs));
		}
		snprintf(recs[n].key, sizeof(recs[n].key), "%.*s", (int)(m[1].rm_eo - m[1].rm_so),
			 line + m[1].rm_so);
		recs[n].value = strtol(line + m[2].rm_so, NULL, 10);
		n++;
	}
	if (in != stdin) {
		fseek(in, 0, SEEK_SET);
		ungetc(fgetc(in), in);
		fclose(in);
	}
	qsort(recs, n, sizeof(*recs), cmp_rec);
	big = memalign(64, 1 << 16);
	memset(big, 0, 1 << 16);
	if (wordexp("report $HOME", &we, WRDE_NOCMD) == 0) {
		printf("%s for %zu words\n", we.we_wordv[0], we.we_wordc);
		wordfree(&we);
	}
	mask = 0;
	for (size_t i = 0; i < n; i++)
		mask |= 1LL << (recs[i].value & 63);
	out = tmpfile();
	for (size_t i = 0; out && i < n; i++)
		fprintf(out, "%s=%ld\n", recs[i].key, recs[i].value);
	if (out) {
		fseeko(out, 0, SEEK_SET);
		while (fgets(line, sizeof(line), out))
			fputs(line, stdout);
		fclose(out);
	}
	printf("first bit %d, time %d, pid %d, %s\n", ffsll(mask), time(NULL) > 0,
	       (int)getpid() > 0, strerror(EINVAL));
	{
		void *p = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		if (p != MAP_FAILED)
			p = mremap(p, 4096, 8192, MREMAP_MAYMOVE);
		if (p != MAP_FAILED)
			munmap(p, 8192);
	}
	free(big);
	free(recs);
	regfree(&re);
	return 0;
}
