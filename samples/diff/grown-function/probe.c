#include <stdio.h>
#include <string.h>
#include "api.h"

static void ev(const char *s, const struct calc_var *v, size_t n)
{
	int err = 0;
	long r = calc_eval(s, v, n, &err);

	printf("eval(%s) = %ld err=%d validate=%d\n", s, r, err, calc_validate(s));
	r = calc_engine.eval(s, v, n, &err);
	printf("engine(%s) = %ld err=%d validate=%d\n", s, r, err, calc_engine.validate(s));
}

void probe(void)
{
	static char deep[160];
	struct calc_var vars[] = {
		{ "workers", 8 }, { "cores", 6 }, { "base", 1000 },
	};
	size_t n = sizeof vars / sizeof vars[0];
	int i;

	calc_sort_vars(vars, n);
	printf("sorted = %s %s %s\n", vars[0].name, vars[1].name, vars[2].name);
	ev("1 + 2 * 3", vars, n);
	ev("workers * 2 + (cores - 1) % 4", vars, n);
	ev("base / (cores - 6)", vars, n);
	ev("-(3 - 10) * 2", vars, n);
	ev("nosuch + 1", vars, n);
	ev("7 $ 2", vars, n);
	ev("(1 + 2", vars, n);
	for (i = 0; i < 40; i++)
		deep[i] = '(';
	deep[40] = '1';
	for (i = 0; i < 40; i++)
		deep[41 + i] = ')';
	deep[81] = '\0';
	ev(deep, vars, n);
}
