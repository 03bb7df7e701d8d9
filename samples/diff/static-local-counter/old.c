/*
 * idgen.c - request ids of the form "<node>-<seq>" where seq counts the ids
 * issued by this process.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "api.h"

static unsigned issued;

/* Format the next id into buf; returns its length or -1. */
int idgen_next(char *buf, size_t n, const char *node)
{
	static unsigned counter;
	int r;

	counter++;
	r = snprintf(buf, n, "%s-%u", node, counter);
	if (r < 0 || (size_t)r >= n)
		return -1;
	issued++;
	return r;
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
