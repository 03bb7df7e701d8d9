#include <stdio.h>
#include "api.h"

/*
 * The driver calls probe() once per input line and the counters persist, so
 * print values relative to the first call: a hotpatched process must keep
 * counting from where the old code left off.  The length of a generated id
 * grows with the counter's digits, so only success is printed.
 */
void probe(void)
{
	static const char *nodes[] = { "web1", "db.2", "../../tmp/x", "web1" };
	char buf[64];
	unsigned seq, base = idgen_issued();
	size_t i;
	int r;

	for (i = 0; i < sizeof nodes / sizeof nodes[0]; i++) {
		r = idgen_next(buf, sizeof buf, nodes[i]);
		if (r < 0 || idgen_parse(buf, &seq) != 0)
			printf("next(%s) = %d\n", nodes[i], r);
		else
			printf("next(%s) = ok seq+%u\n", nodes[i], seq - base);
	}
	printf("issued+ = %u\n", idgen_issued() - base);
	printf("parse(web1-) = %d\n", idgen_parse("web1-", &seq));
}
