/*
 * calc.c - integer expression evaluator for computed config values such as
 * "workers * 2 + (cores - 1) % 4".  Variables come from a table sorted by
 * calc_sort_vars(); evaluation is precedence climbing.
 */
#include <stdlib.h>
#include <string.h>
#include "api.h"

enum { C_OTHER, C_SPACE, C_DIGIT, C_ALPHA, C_OP, C_PAREN };

static const unsigned char char_class[128] = {
	[' '] = C_SPACE, ['\t'] = C_SPACE,
	['0' ... '9'] = C_DIGIT,
	['a' ... 'z'] = C_ALPHA, ['A' ... 'Z'] = C_ALPHA, ['_'] = C_ALPHA,
	['+'] = C_OP, ['-'] = C_OP, ['*'] = C_OP, ['/'] = C_OP, ['%'] = C_OP,
	['('] = C_PAREN, [')'] = C_PAREN,
};

/* 0 if s only contains characters the evaluator understands. */
int calc_validate(const char *s)
{
	for (; *s; s++)
		if ((unsigned char)*s >= 128 || char_class[(unsigned char)*s] == C_OTHER)
			return -1;
	return 0;
}

struct lexer {
	const char *p;
	const struct calc_var *vars;
	size_t nvars;
	int err;
};

static long op_add(long a, long b, int *err) { (void)err; return a + b; }
static long op_sub(long a, long b, int *err) { (void)err; return a - b; }
static long op_mul(long a, long b, int *err) { (void)err; return a * b; }

static long op_div(long a, long b, int *err)
{
	if (b == 0) {
		*err = 1;
		return 0;
	}
	return a / b;
}

static long op_mod(long a, long b, int *err)
{
	if (b == 0) {
		*err = 1;
		return 0;
	}
	return a % b;
}

static const struct opdef {
	char sym;
	unsigned char prec;
	long (*fn)(long, long, int *);
} ops[] = {
	{ '+', 1, op_add }, { '-', 1, op_sub },
	{ '*', 2, op_mul }, { '/', 2, op_div }, { '%', 2, op_mod },
};

static int var_cmp(const void *a, const void *b)
{
	return strcmp(((const struct calc_var *)a)->name,
		      ((const struct calc_var *)b)->name);
}

void calc_sort_vars(struct calc_var *v, size_t n)
{
	qsort(v, n, sizeof *v, var_cmp);
}

static const struct opdef *find_op(int c)
{
	size_t i;

	for (i = 0; i < sizeof ops / sizeof ops[0]; i++)
		if (ops[i].sym == c)
			return &ops[i];
	return NULL;
}

static void skip_space(struct lexer *lx)
{
	while (*lx->p && char_class[(unsigned char)*lx->p & 127] == C_SPACE)
		lx->p++;
}

static long parse_expr(struct lexer *lx, int minprec);

static long lookup_var(struct lexer *lx)
{
	struct calc_var key;
	const struct calc_var *v;
	size_t n = 0;

	while (n < sizeof key.name - 1 && char_class[(unsigned char)lx->p[n] & 127] >= C_DIGIT &&
	       char_class[(unsigned char)lx->p[n] & 127] <= C_ALPHA)
		n++;
	memcpy(key.name, lx->p, n);
	key.name[n] = '\0';
	lx->p += n;
	v = bsearch(&key, lx->vars, lx->nvars, sizeof key, var_cmp);
	if (v == NULL) {
		lx->err = 1;
		return 0;
	}
	return v->value;
}

static long parse_primary(struct lexer *lx)
{
	long v;

	skip_space(lx);
	if (*lx->p == '(') {
		lx->p++;
		v = parse_expr(lx, 1);
		skip_space(lx);
		if (*lx->p != ')')
			lx->err = 1;
		else
			lx->p++;
		return v;
	}
	if (*lx->p == '-') {
		lx->p++;
		return -parse_primary(lx);
	}
	if (char_class[(unsigned char)*lx->p & 127] == C_DIGIT)
		return strtol(lx->p, (char **)&lx->p, 10);
	if (char_class[(unsigned char)*lx->p & 127] == C_ALPHA)
		return lookup_var(lx);
	lx->err = 1;
	return 0;
}

static long parse_expr(struct lexer *lx, int minprec)
{
	long lhs = parse_primary(lx);
	const struct opdef *op;

	for (;;) {
		skip_space(lx);
		op = find_op(*lx->p);
		if (op == NULL || op->prec < minprec || lx->err)
			return lhs;
		lx->p++;
		lhs = op->fn(lhs, parse_expr(lx, op->prec + 1), &lx->err);
	}
}

/* Callers must have checked s with calc_validate(). */
long calc_eval(const char *s, const struct calc_var *vars, size_t nvars, int *err)
{
	struct lexer lx = { s, vars, nvars, 0 };
	long v;

	v = parse_expr(&lx, 1);
	skip_space(&lx);
	*err = lx.err || *lx.p != '\0';
	return *err ? 0 : v;
}

const struct calc_engine calc_engine = {
	.name = "calc",
	.validate = calc_validate,
	.eval = calc_eval,
};
