/* calc: integer expression evaluator */
#ifndef CALC_API_H
#define CALC_API_H
#include <stddef.h>

struct calc_var {
	char name[16];
	long value;
};

/* descriptor registered with the config loader's expression hook */
struct calc_engine {
	const char *name;
	int (*validate)(const char *s);
	long (*eval)(const char *s, const struct calc_var *vars, size_t nvars, int *err);
};

extern const struct calc_engine calc_engine;

int calc_validate(const char *s);
void calc_sort_vars(struct calc_var *v, size_t n);
long calc_eval(const char *s, const struct calc_var *vars, size_t nvars, int *err);
#endif
