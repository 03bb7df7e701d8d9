/*
 * linestat.c - tiny line-oriented statistics filter: for every input line
 * print its length, word count and a running checksum.  Used by the log
 * shipper's self-test.
 */
#include <stdio.h>
#include <string.h>

static unsigned long total_lines;
static unsigned long total_bytes;

static unsigned words(const char *s)
{
	unsigned n = 0;
	int in_word = 0;

	for (; *s; s++) {
		if (*s == ' ' || *s == '\t' || *s == '\n') {
			in_word = 0;
		} else if (!in_word) {
			in_word = 1;
			n++;
		}
	}
	return n;
}

static unsigned long fold(unsigned long h, const char *s)
{
	while (*s)
		h = h * 31 + (unsigned char)*s++;
	return h;
}

int main(void)
{
	char line[512];
	unsigned long sum = 0;

	setvbuf(stdout, NULL, _IOLBF, 0);
	while (fgets(line, sizeof line, stdin) != NULL) {
		size_t len = strlen(line);

		total_lines++;
		total_bytes += len;
		sum = fold(sum, line);
		printf("line %lu: len=%zu words=%u sum=%08lx\n",
		       total_lines, len, words(line), sum & 0xffffffffUL);
		fflush(stdout);
	}
	printf("total: %lu lines, %lu bytes\n", total_lines, total_bytes);
	return 0;
}
