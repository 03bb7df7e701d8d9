/*
 * Code that ran once, before any hotpatch could be applied.
 *
 * A hotpatch replaces functions in a process that is already running: code
 * that runs only when the program starts has run, with the old code, and
 * will not run again.  What it made -- a C++ global initialised by its
 * dynamic initialiser (std::string banner = "v2"), a table a constructor
 * fills, a function-scope static initialised on its first use -- stays as
 * the old code made it.  So a change there is a changed initial value, and
 * not hotpatchable, exactly like `int max_conn = 32;` becoming 64:
 *
 *   - an entry added to or removed from a constructor or destructor table
 *     (.init_array, .preinit_array, .ctors; .fini_array, .dtors): the
 *     running process never registers the new one, and already ran (or
 *     will still run) the old one;
 *   - a changed constructor, or a changed function that only constructors
 *     reach (g++'s _GLOBAL__sub_I_x.cc and what it calls, clang++'s
 *     __cxx_global_var_init.N): the variables it initialises are named;
 *   - a changed guarded initialisation of a function-scope static (the
 *     code between __cxa_guard_acquire and __cxa_guard_release): it ran on
 *     the first call.
 *
 * A function only destructors reach is different: the process runs it at
 * exit, through the redirect at its old entry, so its new code does run.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hpdiff/cxxname.h"
#include "hpdiff/diff.h"
#include "format/hp.h"
#include "common/cli.h"
#include "common/mem.h"

/* ---- tables of constructors and destructors --------------------------------------------- */

enum table_kind {
	TABLE_NONE = 0,
	TABLE_INIT, /* runs when the program starts */
	TABLE_FINI, /* runs when it exits */
};

static enum table_kind table_kind(const struct section *s)
{
	if (s->type == SHT_INIT_ARRAY || s->type == SHT_PREINIT_ARRAY)
		return TABLE_INIT;
	if (s->type == SHT_FINI_ARRAY)
		return TABLE_FINI;
	if (s->type != SHT_PROGBITS)
		return TABLE_NONE;
	if (!strcmp(s->name, ".ctors") || !strncmp(s->name, ".ctors.", 7))
		return TABLE_INIT;
	if (!strcmp(s->name, ".dtors") || !strncmp(s->name, ".dtors.", 7))
		return TABLE_FINI;
	return TABLE_NONE;
}

/* One entry of such a table: a function of the object, or a symbol it imports. */
struct entry {
	const struct section *table;
	struct func *func;	  /* NULL: not a function of the object */
	const struct symbol *sym; /* what the entry names */
	bool matched;
};

/* The function an entry points at: a function symbol, or a section offset at a function's start. */
static struct func *entry_func(const struct reloc *r)
{
	const struct symbol *s = r->sym->alias_of ? r->sym->alias_of : r->sym;
	struct symbol *at;

	if (s->type == STT_SECTION && s->sec && r->addend >= 0) {
		at = find_symbol_containing(s->sec, (uint64_t)r->addend);
		return at && at->value == (uint64_t)r->addend ? func_of(at) : NULL;
	}
	return r->addend == 0 ? func_of(s) : NULL;
}

static int collect_entries(struct object *o, struct entry **out, size_t *n)
{
	size_t cap = 0;

	*out = NULL;
	*n = 0;
	for_each_sec(&o->elf, s)
	{
		if (table_kind(s) == TABLE_NONE)
			continue;
		for (size_t i = 0; i < s->nrelocs; i++) {
			if (grow_array(out, &cap, *n, sizeof(**out), 16) < 0)
				return -1;
			(*out)[(*n)++] = (struct entry){s, entry_func(&s->relocs[i]),
							s->relocs[i].sym, false};
		}
	}
	return 0;
}

/* What an entry names, for messages: its function, or its symbol. */
static const char *entry_name(const struct entry *e)
{
	if (e->func)
		return e->func->sym->name;
	return e->sym->name[0] ? e->sym->name : e->table->name;
}

static bool same_entry(const struct entry *a, const struct entry *b)
{
	if (strcmp(a->table->name, b->table->name))
		return false;
	if (a->func || b->func)
		return a->func && b->func && a->func->twin == b->func;
	return a->sym->type != STT_SECTION && !strcmp(a->sym->name, b->sym->name);
}

/*
 * Entries added or removed: the running process ran the tables of the
 * baseline, and never runs them again.
 */
static int compare_tables(struct diff *d, struct entry *o, size_t no, struct entry *n, size_t nn)
{
	for (size_t j = 0; j < nn; j++)
		for (size_t i = 0; i < no && !n[j].matched; i++)
			if (!o[i].matched && same_entry(&o[i], &n[j]))
				o[i].matched = n[j].matched = true;
	for (size_t j = 0; j < nn; j++) {
		bool init = table_kind(n[j].table) == TABLE_INIT;
		char *why;

		if (n[j].matched)
			continue;
		why = xasprintf(init ? "new constructor in %s: it runs only when a program starts, "
				       "so the running process never runs it"
				     : "new destructor in %s: the running process never registered "
				       "it, so it would not run at exit",
				n[j].table->name);
		if (diff_add_finding(d, entry_name(&n[j]), true, why) < 0)
			return -1;
	}
	for (size_t i = 0; i < no; i++) {
		bool init = table_kind(o[i].table) == TABLE_INIT;
		char *why;

		if (o[i].matched)
			continue;
		why = xasprintf(
			init ? "constructor removed from %s: the running process already "
			       "ran it, and keeps what it made"
			     : "destructor removed from %s: the running process would still "
			       "run it at exit",
			o[i].table->name);
		if (diff_add_finding(d, entry_name(&o[i]), true, why) < 0)
			return -1;
	}
	return 0;
}

/* ---- what only constructors reach ------------------------------------------------------- */

/*
 * Reachability over the functions of the fixed object.  An edge is a
 * reference from code or data to a function: a direct call or jump
 * (`branch`), or taking its address, which lets it escape to whoever
 * holds the pointer.  What constructors reach through calls and jumps
 * alone, and nothing else reaches, runs only when the program starts.
 */
struct reach {
	struct object *o;
	uint8_t *mark; /* per function: bit 0 reached from constructors, bit 1 from elsewhere */
	size_t *queue;
	size_t head, tail;
};

#define FROM_INIT  1
#define FROM_OTHER 2
#define INIT_ENTRY 4 /* the function is a constructor table's entry */

static void visit(struct reach *r, const struct func *f, uint8_t bit)
{
	size_t i = (size_t)(f - r->o->funcs);

	if (r->mark[i] & bit)
		return;
	r->mark[i] |= bit;
	r->queue[r->tail++] = i;
}

/* Functions a data item's or piece's pointers name. */
static void visit_refs_of_data(struct reach *r, const struct ref *refs, size_t n, uint8_t bit)
{
	for (size_t k = 0; k < n; k++)
		if (refs[k].t.kind == T_FUNC)
			visit(r, refs[k].t.func, bit);
}

/*
 * Follow the queue for one bit.  From constructors (FROM_INIT) every edge
 * counts; from elsewhere too, and a function whose address any code takes
 * has escaped, which makes it reachable from elsewhere.
 */
static int follow(struct reach *r, uint8_t bit)
{
	while (r->head < r->tail) {
		struct func *f = &r->o->funcs[r->queue[r->head++]];

		for_each_ref(f, ref)
		{
			if (ref->t.kind == T_FUNC)
				visit(r, ref->t.func, bit);
			else if (ref->t.kind == T_PIECE) {
				if (piece_refs(r->o, ref->t.piece) < 0)
					return -1;
				visit_refs_of_data(r, ref->t.piece->refs, ref->t.piece->nrefs, bit);
			}
		}
	}
	r->head = r->tail = 0;
	return 0;
}

static int reach_all(struct reach *r, const struct entry *e, size_t ne)
{
	/* from constructors */
	for (size_t k = 0; k < ne; k++) {
		if (!e[k].func || table_kind(e[k].table) != TABLE_INIT)
			continue;
		r->mark[e[k].func - r->o->funcs] |= INIT_ENTRY;
		visit(r, e[k].func, FROM_INIT);
	}
	if (follow(r, FROM_INIT) < 0)
		return -1;
	/* from everywhere else: exported functions, destructors, escaped pointers, data */
	for_each_func(r->o, f)
	{
		if (!is_local_sym(f->sym) && !(r->mark[f - r->o->funcs] & INIT_ENTRY))
			visit(r, f, FROM_OTHER);
		for_each_ref(f, ref) if (ref->t.kind == T_FUNC && !ref->branch)
			visit(r, ref->t.func, FROM_OTHER);
	}
	for (size_t k = 0; k < ne; k++)
		if (e[k].func && table_kind(e[k].table) == TABLE_FINI)
			visit(r, e[k].func, FROM_OTHER);
	for_each_data(r->o, x) visit_refs_of_data(r, x->refs, x->nrefs, FROM_OTHER);
	return follow(r, FROM_OTHER);
}

/* ---- refusing, and naming what it initialises ----------------------------------------- */

/* Mark f not hotpatchable, adding why to what changed.  Returns 0, -1 when out of memory. */
static int refuse_func(struct diff *d, struct func *f, char *why)
{
	char *r;

	if (!why)
		return -1;
	if (f->unpatchable) {
		free(why);
		return 0;
	}
	if (f->reason) {
		r = xasprintf("%s; %s", f->reason, why);
		free(why);
		if (!r)
			return -1;
		free(f->reason);
		f->reason = r;
	} else {
		f->reason = why;
	}
	f->unpatchable = true;
	d->unpatchable = true;
	return 0;
}

/* A variable whose value code that ran once made: changed (or new), not hotpatchable. */
static int refuse_variable(struct diff *d, struct dobj *x, char *why)
{
	if (!why)
		return -1;
	if (x->unpatchable) {
		free(why);
		return 0;
	}
	if (x->status == ST_SAME) {
		x->status = ST_CHANGED;
		if (x->twin)
			x->twin->status = ST_CHANGED;
	}
	free(x->reason);
	x->reason = why;
	x->unpatchable = true;
	d->unpatchable = true;
	d->differs = true;
	return 0;
}

static bool is_guard(const struct dobj *x)
{
	return !strncmp(x->sym->name, "_ZGV", 4);
}

static bool calls(const struct func *f, long i, const char *name);

/* A variable's address loaded from the GOT (position-independent code). */
static bool is_got_load(const struct func *f, const struct ref *r)
{
	const struct hp_reloc_desc *dsc = hp_reloc_describe(f->obj->elf.machine, r->type);

	return !r->implicit && dsc && dsc->calc == HP_CALC_GOTPCREL;
}

/*
 * The variable a changed initialiser f initialises where it changed.  One
 * initialiser often does several (g++'s _GLOBAL__sub_I_x.cc), one after the
 * other, and the instruction that changed need not name its variable:
 *   - position-dependent code prepares a value, then stores it into the
 *     variable or passes its address (to a constructor, to __cxa_atexit):
 *     the change belongs to the next variable named;
 *   - optimised position-independent code loads the variable's address
 *     from the GOT first and stores through it: the change belongs to the
 *     variable whose address was loaded last, unless its initialisation
 *     ended in between (the call registering its destructor with
 *     __cxa_atexit).
 * A guess where nothing says more; the function's own reason lists every
 * variable it initialises.  NULL if f names no writable variable.
 */
static struct dobj *initialised_at(const struct func *f)
{
	long at = f->diff_off >= 0 ? func_insn_at(f, (uint64_t)f->diff_off) : -1, iprev = -1;
	const struct ref *prev = NULL, *next = NULL;
	bool ended = false;

	if (at < 0)
		at = f->ninsns;
	for_each_ref(f, r)
	{
		struct dobj *y = r->t.kind == T_DATA ? r->t.data : NULL;
		long i = func_insn_at(f, r->off);

		if (!y || !is_writable_data(y) || is_guard(y) || i < 0)
			continue;
		if (i <= at) {
			prev = r;
			iprev = i;
		}
		if (i >= at && !next)
			next = r;
	}
	if (prev && iprev == at)
		return prev->t.data;
	for (long i = iprev + 1; prev && i < at && i < f->ninsns; i++)
		ended |= calls(f, i, "__cxa_atexit");
	if (prev && ((is_got_load(f, prev) && !ended) || !next))
		return prev->t.data;
	return next ? next->t.data : NULL;
}

/* The writable variables f refers to, for messages: "banner, limits" ("" if none). */
static char *variables_of(const struct func *f)
{
	char *s = xstrdup(""), *n;

	for_each_ref(f, r)
	{
		struct dobj *x = r->t.kind == T_DATA ? r->t.data : NULL;

		if (!s || !x || !is_writable_data(x) || is_guard(x) || strstr(s, x->sym->name))
			continue;
		n = xasprintf("%s%s%s", s, *s ? ", " : "", x->sym->name);
		free(s);
		s = n;
	}
	return s;
}

static char *where(const struct func *f)
{
	long i = f->diff_off >= 0 ? func_insn_at(f, (uint64_t)f->diff_off) : -1;
	char text[96];

	if (i < 0)
		return xstrdup("");
	return xasprintf(" at +0x%x `%s`", f->insns[i].off,
			 func_insn_text(f, i, text, sizeof(text)));
}

/*
 * f, changed or new, runs only when the program starts (a constructor,
 * or code only constructors call).  The variables it initialises are
 * refused, the one where it changed by name; f itself too.
 */
static int refuse_initialiser(struct diff *d, struct func *f, bool entry)
{
	char *at = where(f), *vars, *why;

	if (!at)
		return -1;
	if (f->status == ST_CHANGED) {
		struct dobj *x = initialised_at(f);

		if (x &&
		    refuse_variable(d, x,
				    xasprintf("initial value changed: its initialiser %s "
					      "changed%s; it ran when the program started, and the "
					      "running process keeps the value it made, which a "
					      "hotpatch cannot re-initialise",
					      f->sym->name, at)) < 0) {
			free(at);
			return -1;
		}
	} else {
		for_each_ref(f, r)
		{
			struct dobj *x = r->t.kind == T_DATA ? r->t.data : NULL;

			if (!x || x->status != ST_NEW || !is_writable_data(x) || is_guard(x))
				continue;
			if (refuse_variable(
				    d, x,
				    xasprintf("new variable with an initialiser that runs only "
					      "when the program starts (%s): the running "
					      "process would never initialise it",
					      f->sym->name)) < 0) {
				free(at);
				return -1;
			}
		}
	}
	free(at);
	vars = variables_of(f);
	if (!vars)
		return -1;
	why = xasprintf("%s%s%s: it ran when the program started, so the running process never "
			"runs the new code",
			entry ? "a constructor" : "only constructors call it",
			*vars ? ", initialising " : "", vars);
	free(vars);
	return refuse_func(d, f, why);
}

static int check_constructors(struct diff *d)
{
	struct entry *eo = NULL, *en = NULL;
	size_t no = 0, nn = 0;
	struct reach r = {.o = &d->new};
	int ret = -1;

	if (collect_entries(&d->old, &eo, &no) < 0 || collect_entries(&d->new, &en, &nn) < 0)
		goto out;
	if (!no && !nn) {
		ret = 0;
		goto out;
	}
	if (compare_tables(d, eo, no, en, nn) < 0)
		goto out;
	r.mark = xcalloc(d->new.nfuncs + 1, 1);
	r.queue = xcalloc(2 * d->new.nfuncs + 1, sizeof(*r.queue));
	if (!r.mark || !r.queue || reach_all(&r, en, nn) < 0)
		goto out;
	for_each_func(&d->new, f)
	{
		uint8_t m = r.mark[f - d->new.funcs];
		bool entry = m & INIT_ENTRY;

		if (!is_replaced_or_new(f) || !(m & FROM_INIT) || ((m & FROM_OTHER) && !entry))
			continue;
		if (refuse_initialiser(d, f, entry) < 0)
			goto out;
	}
	ret = 0;
out:
	free(eo);
	free(en);
	free(r.mark);
	free(r.queue);
	return ret;
}

/* ---- guarded initialisation of function-scope statics --------------------------------- */

/* Does instruction i call the imported function `name`? */
static bool calls(const struct func *f, long i, const char *name)
{
	const struct ref *r = f->insns[i].type == INSN_CALL ? func_branch_ref(f, i) : NULL;

	return r && r->t.kind == T_UNDEF && !strcmp(r->t.sym->name, name);
}

/* Does instruction i refer to data g?  (refs are sorted by offset) */
static bool refers_to(const struct func *f, long i, const struct dobj *g)
{
	const struct insn *in = &f->insns[i];
	size_t lo = 0, hi = f->nrefs;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (f->refs[mid].off < in->off)
			lo = mid + 1;
		else
			hi = mid;
	}
	for (; lo < f->nrefs && f->refs[lo].off < in->off + in->len; lo++)
		if (f->refs[lo].t.kind == T_DATA && f->refs[lo].t.data == g)
			return true;
	return false;
}

#define GUARD_ARG_REACH 8 /* instructions between loading the guard's address and the call */

/* The call of __cxa_guard_acquire whose argument is guard g (loaded just before), or -1. */
static long guard_acquire(const struct func *f, const struct dobj *g)
{
	for (long i = 0; i < f->ninsns; i++) {
		if (!calls(f, i, "__cxa_guard_acquire"))
			continue;
		for (long k = i - 1; k >= 0 && k >= i - GUARD_ARG_REACH; k--)
			if (refers_to(f, k, g))
				return i;
	}
	return -1;
}

/*
 * The __cxa_guard_release that ends what acquire a began: the first one
 * after it that is not another guard's, nested inside (a static whose
 * initialiser uses another static of the function).  Its argument may
 * come from a register loaded long before, so it is not looked at.
 */
static long guard_release(const struct func *f, long a)
{
	int depth = 0;

	for (long i = a + 1; i < f->ninsns; i++) {
		if (calls(f, i, "__cxa_guard_acquire"))
			depth++;
		else if (calls(f, i, "__cxa_guard_release") && depth-- == 0)
			return i;
	}
	return -1;
}

static bool ends_block(const struct insn *in)
{
	return in->type == INSN_JUMP || in->type == INSN_JUMP_COND || in->type == INSN_RETURN ||
	       in->type == INSN_JUMP_INDIRECT || in->type == INSN_TRAP;
}

/* Per byte of f: is it where a branch inside f lands?  NULL when out of memory. */
static uint8_t *branch_targets(const struct func *f)
{
	uint8_t *t = xcalloc(f->size + 1, 1);

	for (long i = 0; t && i < f->ninsns; i++) {
		int64_t to = insn_rel_target(&f->insns[i]);

		if (is_direct_branch(&f->insns[i]) && f->insns[i].rel_size && to >= 0 &&
		    (uint64_t)to < f->size)
			t[to] = 1;
	}
	return t;
}

/*
 * Where f initialises the static guarded by g: from the start of the
 * block that calls __cxa_guard_acquire (the value may be computed there,
 * before the call) to the call of __cxa_guard_release.  Without
 * thread-safe statics (-fno-threadsafe-statics) there are no such calls:
 * from the block after the guard's test to the instruction that sets it.
 * Returns 1 with [*from, *to], 2 for the second shape, whose region is
 * wider than the initialisation (the test does not say which way is the
 * initialised path, which may sit in between), 0 if the code has neither
 * shape, -1 when out of memory.
 */
static int guard_region(const struct func *f, const struct dobj *g, long *from, long *to)
{
	long a = f->ninsns > 0 ? guard_acquire(f, g) : -1, r;

	if (f->ninsns <= 0)
		return 0;
	if (a >= 0) {
		uint8_t *target;

		r = guard_release(f, a);
		if (r < 0)
			return 0;
		target = branch_targets(f);
		if (!target)
			return -1;
		for (*from = a;
		     *from > 0 && !ends_block(&f->insns[*from - 1]) && !target[f->insns[*from].off];
		     (*from)--)
			;
		free(target);
		*to = r;
		return 1;
	}
	for (a = 0; a < f->ninsns && !refers_to(f, a, g); a++)
		;
	while (a < f->ninsns && f->insns[a].type != INSN_JUMP_COND)
		a++;
	for (r = a + 1; r < f->ninsns && !refers_to(f, r, g); r++)
		;
	if (a >= f->ninsns || r >= f->ninsns)
		return 0;
	*from = a + 1;
	*to = r;
	return 2;
}

/*
 * Two regions hold the same code: instruction by instruction, branches
 * inside f compared by where they land relative to the region (or both
 * leaving it), everything else by insn_equal().  1 equal, 0 not, -1 trouble.
 */
static int same_region(const struct func *a, long af, long at, const struct func *b, long bf,
		       long bt)
{
	if (at - af != bt - bf)
		return 0;
	for (long k = 0; k <= at - af; k++) {
		const struct insn *x = &a->insns[af + k], *y = &b->insns[bf + k];

		if (is_direct_branch(x) && x->rel_size && !func_branch_ref(a, af + k)) {
			int64_t tx = insn_rel_target(x) - a->insns[af].off;
			int64_t ty = insn_rel_target(y) - b->insns[bf].off;
			int64_t ex = a->insns[at].off + a->insns[at].len - a->insns[af].off;
			int64_t ey = b->insns[bt].off + b->insns[bt].len - b->insns[bf].off;
			bool inx = tx >= 0 && tx < ex, iny = ty >= 0 && ty < ey;

			if (!is_direct_branch(y) || x->type != y->type || x->len != y->len ||
			    x->rel_off != y->rel_off || !y->rel_size ||
			    func_branch_ref(b, bf + k) ||
			    memcmp(a->code + x->off, b->code + y->off, x->rel_off) || inx != iny ||
			    (inx && tx != ty))
				return 0;
			continue;
		}
		int eq = insn_equal(a, af + k, b, bf + k);

		if (eq <= 0)
			return eq;
	}
	return 1;
}

/* The static guard g guards: "_ZGVZ5limitiE6cached" guards "_ZZ5limitiE6cached". */
static struct dobj *guarded(const struct object *o, const struct dobj *g)
{
	char *name = cxx_guarded_by(g->sym->name);
	struct symbol *s = name ? find_symbol_by_name(&o->elf, name) : NULL;

	free(name);
	return s ? dobj_of(s) : NULL;
}

static int check_guard(struct diff *d, struct func *b, struct dobj *g)
{
	struct func *a = b->twin;
	struct dobj *var = guarded(&d->new, g);
	long af, at, bf, bt;
	int same = 0, rb, ra;
	char *why;

	rb = guard_region(b, g, &bf, &bt);
	ra = rb > 0 ? guard_region(a, g->twin, &af, &at) : 0;
	if (rb < 0 || ra < 0)
		return -1;
	if (rb && ra) {
		same = same_region(a, af, at, b, bf, bt);
		if (same < 0)
			return -1;
		if (same)
			return 0;
	}
	if (rb == 1 && ra == 1) {
		why = xasprintf("initial value changed: its guarded initialisation in %s changed; "
				"it ran on the first call, and the running process keeps the value "
				"it made, which a hotpatch cannot re-initialise",
				b->sym->name);
	} else {
		why = xasprintf("%s changed, and where it initialises this static (guarded by "
				"%s) cannot be told, so a changed initial value cannot be ruled "
				"out",
				b->sym->name, g->sym->name);
	}
	if (var)
		return refuse_variable(d, var, why);
	return diff_add_finding(d, g->sym->name, true, why);
}

/* Every changed function that initialises a function-scope static under a guard. */
static int check_guards(struct diff *d)
{
	for_each_func(&d->new, b)
	{
		if (b->status != ST_CHANGED || !b->twin || b->ninsns < 0 || b->twin->ninsns < 0)
			continue;
		for_each_ref(b, r)
		{
			struct dobj *g = r->t.kind == T_DATA ? r->t.data : NULL;
			bool seen = false;

			if (!g || !is_guard(g) || !g->twin)
				continue;
			for (const struct ref *p = b->refs; p < r; p++)
				seen |= p->t.kind == T_DATA && p->t.data == g;
			if (!seen && check_guard(d, b, g) < 0)
				return -1;
		}
	}
	return 0;
}

int check_startup(struct diff *d)
{
	if (!d->old.elf.image || !d->new.elf.image)
		return 0;
	if (check_constructors(d) < 0 || check_guards(d) < 0)
		return -1;
	return 0;
}
