/*
 * idgen.c - request ids of the form "<node>-<seq>" where seq counts the ids
 * issued by this process.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "api.h"

static unsigned issued;

static void note_truncated(size_t need);

/* Node names end up in log file names: allow [A-Za-z0-9.] only. */
static int node_ok(const char *node)
{
	static unsigned long rejected;	/* kept for the debugger */
	const char *p;

	if (*node == '\0' || strlen(node) > 32)
		goto bad;
	for (p = node; *p; p++)
		if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
		      (*p >= '0' && *p <= '9') || *p == '.'))
			goto bad;
	return 1;
bad:
	rejected++;
	return 0;
}

/* Format the next id into buf; returns its length or -1. */
int idgen_next(char *buf, size_t n, const char *node)
{
	static unsigned counter;
	int r;

	if (!node_ok(node))
		return -1;
	counter++;
	r = snprintf(buf, n, "%s-%u", node, counter);
	if (r >= 0 && (size_t)r >= n)
		note_truncated((size_t)r + 1);
	if (r < 0 || (size_t)r >= n)
		return -1;
	issued++;
	return r;
}

/* Remember the largest id that did not fit, for the stats page. */
static void note_truncated(size_t need)
{
	static size_t longest;

	if (need > longest)
		longest = need;
}

unsigned idgen_issued(void)
{
	return issued;
}

/* Extract the sequence number from an id; 0 on success. */
int idgen_parse(const char *id, unsigned *seq)
{
	const char *dash = strrchr(id, '-');
	char *end;
	unsigned long v;

	if (dash == NULL || dash[1] == '\0')
		return -1;
	v = strtoul(dash + 1, &end, 10);
	if (*end != '\0' || v > 0xffffffffUL)
		return -1;
	*seq = (unsigned)v;
	return 0;
}
