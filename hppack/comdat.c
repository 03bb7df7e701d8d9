/*
 * One replacement per function, when several objects replace it: a C++
 * inline function of a header (a COMDAT group) is compiled into every
 * object that uses it, the linker keeps one copy, and a fix of the header
 * changes it in each of those objects.  Their replacements are one if they
 * are the same: the same bytes and every reference resolved to the same
 * place.  Blocks a reference reaches are compared the same way (each
 * object carries its own copy of a new helper or a string literal).
 */
#include <stdlib.h>
#include <string.h>

#include "hppack/packer.h"
#include "common/mem.h"

/* Comparisons of blocks at most, before two are said not to be shown the same. */
#define MAX_STEPS (1u << 20)

struct pair {
	uint8_t kind; /* HP_PT_CODE or HP_PT_DATA */
	uint32_t a, b;
};

/*
 * The comparison: the pairs of blocks being compared (assumed the same
 * while their own references are compared, so that mutually recursive
 * functions compare equal), and the steps left.
 */
struct cmp {
	const struct hp_payload *pl;
	struct pair *open;
	size_t nopen, cap;
	uint32_t steps;
	bool failed; /* out of memory or of steps: not shown the same */
};

static bool same_block(struct cmp *c, uint8_t kind, uint32_t a, uint32_t b);

static bool same_relocs(struct cmp *c, const struct hp_preloc *x, uint32_t nx,
			const struct hp_preloc *y, uint32_t ny)
{
	if (nx != ny)
		return false;
	for (uint32_t i = 0; i < nx; i++) {
		if (x[i].offset != y[i].offset || x[i].type != y[i].type ||
		    x[i].addend != y[i].addend || x[i].target != y[i].target ||
		    x[i].target_off != y[i].target_off)
			return false;
		switch (x[i].target) {
		case HP_PT_CODE:
		case HP_PT_DATA:
			if (!same_block(c, x[i].target, x[i].index, y[i].index))
				return false;
			break;
		case HP_PT_IMPORT: /* one entry per name */
			if (x[i].index != y[i].index)
				return false;
			break;
		default: /* IMAGE and CONST: target_off */
			break;
		}
	}
	return true;
}

static bool is_open(const struct cmp *c, uint8_t kind, uint32_t a, uint32_t b)
{
	for (size_t i = 0; i < c->nopen; i++)
		if (c->open[i].kind == kind && ((c->open[i].a == a && c->open[i].b == b) ||
						(c->open[i].a == b && c->open[i].b == a)))
			return true;
	return false;
}

/*
 * Code blocks of the same kind, size, alignment and bytes; read-only data
 * blocks of the same size, alignment and bytes (writable ones are two
 * variables, unless they are one block); with the same references.
 */
static bool same_contents(struct cmp *c, uint8_t kind, uint32_t a, uint32_t b)
{
	if (kind == HP_PT_CODE) {
		const struct hp_pcode *x = &c->pl->code[a], *y = &c->pl->code[b];

		return x->kind == y->kind && x->size == y->size && x->align == y->align &&
		       !memcmp(x->code, y->code, x->size) &&
		       same_relocs(c, x->relocs, x->nrelocs, y->relocs, y->nrelocs);
	} else {
		const struct hp_pdata *x = &c->pl->data[a], *y = &c->pl->data[b];

		return x->kind == HP_PDATA_RODATA && y->kind == HP_PDATA_RODATA &&
		       x->size == y->size && x->align == y->align && x->init && y->init &&
		       !memcmp(x->init, y->init, x->size) &&
		       same_relocs(c, x->relocs, x->nrelocs, y->relocs, y->nrelocs);
	}
}

static bool same_block(struct cmp *c, uint8_t kind, uint32_t a, uint32_t b)
{
	bool same;

	if (a == b || is_open(c, kind, a, b))
		return true;
	if (c->failed || !c->steps--) {
		c->failed = true;
		return false;
	}
	if (grow_array(&c->open, &c->cap, c->nopen, sizeof(*c->open), 16) < 0) {
		c->failed = true;
		return false;
	}
	c->open[c->nopen++] = (struct pair){kind, a, b};
	same = same_contents(c, kind, a, b);
	c->nopen--;
	return same && !c->failed;
}

bool same_replacement(const struct packer *p, uint32_t a, uint32_t b)
{
	struct cmp c = {.pl = &p->pl, .steps = MAX_STEPS};
	bool same = same_block(&c, HP_PT_CODE, a, b);

	free(c.open);
	return same;
}

/*
 * Blocks numbered together: code block i is i, data block j is ncode + j.
 * A reference to a code block that is a copy reaches the kept block.
 */
struct graph {
	const struct hp_payload *pl;
	const uint32_t *copy_of;
	uint32_t *stack;
	size_t nstack;
};

static void edges(struct graph *g, uint32_t v, const struct hp_preloc **r, uint32_t *n)
{
	if (v < g->pl->ncode) {
		*r = g->pl->code[v].relocs;
		*n = g->pl->code[v].nrelocs;
	} else {
		*r = g->pl->data[v - g->pl->ncode].relocs;
		*n = g->pl->data[v - g->pl->ncode].nrelocs;
	}
}

/* Mark in `seen` every block reachable from those already on g's stack. */
static void reach(struct graph *g, bool *seen, bool follow_copies)
{
	while (g->nstack) {
		uint32_t v = g->stack[--g->nstack], n;
		const struct hp_preloc *r;

		edges(g, v, &r, &n);
		for (uint32_t i = 0; i < n; i++) {
			uint32_t w;

			if (r[i].target == HP_PT_CODE)
				w = follow_copies ? g->copy_of[r[i].index] : r[i].index;
			else if (r[i].target == HP_PT_DATA)
				w = g->pl->ncode + r[i].index;
			else
				continue;
			if (!seen[w]) {
				seen[w] = true;
				g->stack[g->nstack++] = w;
			}
		}
	}
}

/*
 * Which blocks the package keeps (keep[], numbered as in struct graph):
 * not the copies, nor what only copies reach (each object's own copy of a
 * new helper, or of a literal).  Everything else stays, reached or not.
 */
static void blocks_kept(struct graph *g, bool *keep, bool *from_copies)
{
	const struct hp_payload *pl = g->pl;
	uint32_t nb = pl->ncode + pl->ndata;

	for (uint32_t v = 0; v < pl->ncode; v++)
		if (g->copy_of[v] != v) {
			from_copies[v] = true;
			g->stack[g->nstack++] = v;
		}
	reach(g, from_copies, false);
	for (uint32_t v = 0; v < nb; v++) {
		bool root = !from_copies[v] || (v < pl->ncode && g->copy_of[v] == v &&
						pl->code[v].kind == HP_PCODE_REPLACEMENT);

		if (root && !keep[v]) {
			keep[v] = true;
			g->stack[g->nstack++] = v;
		}
		reach(g, keep, true);
	}
}

static void renumber(struct hp_preloc *r, uint32_t n, const uint32_t *code_to,
		     const uint32_t *copy_of, const uint32_t *data_to)
{
	for (uint32_t i = 0; i < n; i++) {
		if (r[i].target == HP_PT_CODE)
			r[i].index = code_to[copy_of[r[i].index]];
		else if (r[i].target == HP_PT_DATA)
			r[i].index = data_to[r[i].index];
	}
}

static void free_code(struct hp_pcode *c)
{
	free(c->name);
	free(c->code);
	free(c->relocs);
}

static void free_data(struct hp_pdata *d)
{
	free(d->name);
	free(d->init);
	free(d->relocs);
}

/* Keep the blocks keep[] says, in order; code_to and data_to their new numbers. */
static void compact(struct packer *p, const bool *keep, uint32_t *code_to, uint32_t *data_to)
{
	struct hp_payload *pl = &p->pl;
	uint32_t nc = 0, nd = 0;

	for (uint32_t i = 0; i < pl->ncode; i++) {
		if (!keep[i]) {
			free_code(&pl->code[i]);
			continue;
		}
		code_to[i] = nc;
		pl->code[nc++] = pl->code[i];
	}
	for (uint32_t j = 0; j < pl->ndata; j++) {
		if (!keep[pl->ncode + j]) {
			free_data(&pl->data[j]);
			continue;
		}
		data_to[j] = nd;
		pl->data[nd++] = pl->data[j];
	}
	pl->ncode = nc;
	pl->ndata = nd;
}

int drop_copies(struct packer *p, const uint32_t *copy_of)
{
	struct hp_payload *pl = &p->pl;
	size_t nb = (size_t)pl->ncode + pl->ndata;
	struct graph g = {pl, copy_of, xcalloc(nb + 1, sizeof(*g.stack)), 0};
	bool *keep = xcalloc(nb + 1, sizeof(*keep)), *from_copies = xcalloc(nb + 1, sizeof(bool));
	uint32_t *code_to = xcalloc(pl->ncode + 1, sizeof(*code_to));
	uint32_t *data_to = xcalloc(pl->ndata + 1, sizeof(*data_to));
	int ret = -1;

	if (!g.stack || !keep || !from_copies || !code_to || !data_to)
		goto out;
	blocks_kept(&g, keep, from_copies);
	compact(p, keep, code_to, data_to);
	for (uint32_t i = 0; i < pl->ncode; i++)
		renumber(pl->code[i].relocs, pl->code[i].nrelocs, code_to, copy_of, data_to);
	for (uint32_t i = 0; i < pl->ndata; i++)
		renumber(pl->data[i].relocs, pl->data[i].nrelocs, code_to, copy_of, data_to);
	for (uint32_t i = 0; i < p->nfuncs; i++)
		p->func_code[i] = code_to[copy_of[p->func_code[i]]];
	ret = 0;
out:
	free(g.stack);
	free(keep);
	free(from_copies);
	free(code_to);
	free(data_to);
	return ret;
}
