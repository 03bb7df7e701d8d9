/*
 * admin.c - the admin console: one command per line, dispatched through a
 * constant table of handlers.  Handlers write a reply into out.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "api.h"

struct ctx {
	const char *arg;	/* rest of the line after the command */
	char *out;
	size_t n;
};

static long counters[4];

static int cmd_help(struct ctx *c)
{
	return snprintf(c->out, c->n, "commands: help get inc reset");
}

/* "get N": value of counter N */
static int cmd_get(struct ctx *c)
{
	long i = strtol(c->arg, NULL, 10);

	if (i < 0 || i >= 4)
		return snprintf(c->out, c->n, "error: no counter %ld", i);
	return snprintf(c->out, c->n, "counter %ld = %ld", i, counters[i]);
}

/* "inc N": increment counter N */
static int cmd_inc(struct ctx *c)
{
	long i = strtol(c->arg, NULL, 10);

	if (i < 0 || i >= 4)
		return snprintf(c->out, c->n, "error: no counter %ld", i);
	return snprintf(c->out, c->n, "counter %ld = %ld", i, ++counters[i]);
}

static int cmd_reset(struct ctx *c)
{
	memset(counters, 0, sizeof counters);
	return snprintf(c->out, c->n, "ok");
}

static const struct command {
	const char *name;
	int (*fn)(struct ctx *);
} commands[] = {
	{ "help", cmd_help },
	{ "get", cmd_get },
	{ "inc", cmd_inc },
	{ "reset", cmd_reset },
};

int admin_exec(const char *line, char *out, size_t n)
{
	struct ctx c = { "", out, n };
	size_t len = strcspn(line, " ");
	size_t i;

	if (line[len] == ' ')
		c.arg = line + len + 1;
	for (i = 0; i < sizeof commands / sizeof commands[0]; i++)
		if (strlen(commands[i].name) == len &&
		    memcmp(commands[i].name, line, len) == 0)
			return commands[i].fn(&c);
	return snprintf(out, n, "unknown command");
}
