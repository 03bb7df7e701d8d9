#include <stdio.h>
#include <string.h>
#include "api.h"

static void line(struct kvstore *st, const char *l)
{
	printf("parse(\"%s\") = %d\n", l, kv_parse_line(st, l));
}

static void get(const struct kvstore *st, const char *k)
{
	const char *v = kv_get(st, k);
	printf("get(\"%s\") = %s%s%s\n", k, v ? "\"" : "", v ? v : "NULL", v ? "\"" : "");
}

void probe(void)
{
	struct kvstore st;

	memset(&st, 0, sizeof st);
	line(&st, "# agent settings");
	line(&st, "listen = 0.0.0.0:8080");
	line(&st, "  log.level=debug\n");
	line(&st, "../etc/passwd = x");
	line(&st, "9lives = 9");
	line(&st, "no equals sign");
	get(&st, "listen");
	get(&st, "log.level");
	get(&st, "../etc/passwd");
	get(&st, "9lives");
	get(&st, "missing");
}
