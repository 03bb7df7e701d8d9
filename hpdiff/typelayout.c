/*
 * Type layout changes, found through DWARF.
 *
 * Adding a field to "struct conn" (or to "class net::peer", or to a base
 * class of another) changes the offsets every user of the type computes
 * with.  Objects already in the running process keep the
 * old layout, so such a change can be hotpatched only if nothing but
 * replaced code can ever touch an instance: no variable holds one, no
 * unchanged function uses it, and no exported function passes it across
 * the object's boundary (other objects would keep the old layout).
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hpdiff/cxxname.h"
#include "hpdiff/diff.h"
#include "hpdiff/dwarf.h"
#include "common/cli.h"
#include "common/mem.h"

/* Append "; <formatted text>" to a growing string. */
static __attribute__((format(printf, 2, 3))) void append(char **s, const char *fmt, ...)
{
	char part[256];
	va_list ap;
	char *n;

	va_start(ap, fmt);
	vsnprintf(part, sizeof(part), fmt, ap);
	va_end(ap);
	n = *s ? xasprintf("%s; %s", *s, part) : xstrdup(part);
	free(*s);
	*s = n;
}

static const struct dmember *find_member(const struct dtype *t, const char *name)
{
	for (size_t i = 0; i < t->nmembers; i++)
		if (!strcmp(t->members[i].name, name))
			return &t->members[i];
	return NULL;
}

/* "offset 8", or "offset 4 bit 3" for a bit-field. */
static const char *position(const struct dmember *m, char *buf, size_t size)
{
	if (m->bit_size)
		snprintf(buf, size, "offset %llu bit %u", (unsigned long long)m->offset,
			 m->bit_offset);
	else
		snprintf(buf, size, "offset %llu", (unsigned long long)m->offset);
	return buf;
}

/* "member 'fd'" or, for a base class, "base struct base". */
static const char *what(const struct dmember *m, char *buf, size_t size)
{
	snprintf(buf, size, m->base ? "base %s" : "member '%s'", m->name);
	return buf;
}

/* NULL if the layouts match, else what changed. */
static char *layout_difference(const struct dtype *a, const struct dtype *b)
{
	char *s = NULL, pa[48], pb[48], w[300];

	if (a->size != b->size)
		append(&s, "size %llu -> %llu bytes", (unsigned long long)a->size,
		       (unsigned long long)b->size);
	for (size_t i = 0; i < b->nmembers; i++) {
		const struct dmember *nb = &b->members[i];
		const struct dmember *na = nb->name[0] ? find_member(a, nb->name) : NULL;

		if (!nb->name[0])
			continue;
		what(nb, w, sizeof(w));
		if (!na && nb->base)
			append(&s, "%s added at offset %llu", w, (unsigned long long)nb->offset);
		else if (!na)
			append(&s, "%s (%s) added at offset %llu", w, nb->type,
			       (unsigned long long)nb->offset);
		else if (na->offset != nb->offset || na->bit_offset != nb->bit_offset)
			append(&s, "%s moved from %s to %s", w, position(na, pa, sizeof(pa)),
			       position(nb, pb, sizeof(pb)));
		else if (na->bit_size != nb->bit_size)
			append(&s, "bit-field '%s' changed from %u to %u bits", nb->name,
			       na->bit_size, nb->bit_size);
		else if (strcmp(na->type, nb->type))
			append(&s, "%s changed type from %s to %s", w, na->type, nb->type);
		else if (na->size != nb->size && nb->base)
			append(&s, "%s changed size from %llu to %llu bytes", w,
			       (unsigned long long)na->size, (unsigned long long)nb->size);
		else if (na->size != nb->size)
			append(&s, "%s (%s) changed size from %llu to %llu bytes", w, nb->type,
			       (unsigned long long)na->size, (unsigned long long)nb->size);
	}
	for (size_t i = 0; i < a->nmembers; i++)
		if (a->members[i].name[0] && !find_member(b, a->members[i].name))
			append(&s, "%s removed", what(&a->members[i], w, sizeof(w)));
	if (!s && a->nmembers != b->nmembers)
		append(&s, "unnamed members changed");
	return s;
}

static const struct func *find_func(const struct object *o, const char *name)
{
	const struct symbol *s = find_symbol_by_name(&o->elf, name);
	size_t len = strlen(name);

	if (s && func_of(s))
		return func_of(s);
	/* Out-of-line clones carry the origin's name in DWARF. */
	for_each_func(o, f) if (clone_origin_len(f->sym->name) == len &&
				!strncmp(f->sym->name, name, len)) return f;
	return NULL;
}

/*
 * Why live instances may exist with the old layout, or NULL if only
 * replaced code can reach the type.
 */
static char *blockers(const struct diff *d, const struct dtype *t)
{
	char *s = NULL;
	int shown = 0, more = 0;

	for (size_t i = 0; i < t->nusers; i++) {
		const char *name = t->users[i].name;
		enum dwarf_use kind = t->users[i].kind;
		const struct func *f = kind == USE_VARIABLE ? NULL : find_func(&d->new, name);
		const char *why = NULL; /* a format with one %s: the user's name */

		if (kind == USE_VARIABLE)
			why = "variable %s holds or points to it";
		else if (f && f->status == ST_SAME)
			why = "unchanged function %s uses it";
		else if (kind == USE_SIGNATURE && t->users[i].external)
			why = "exported function %s passes it to or from other objects";
		if (!why)
			continue;
		if (shown++ < 3)
			append(&s, why, name);
		else
			more++;
	}
	if (more)
		append(&s, "and %d more", more);
	return s;
}

/* ---- lambdas' captures ----------------------------------------------------------------- */

/*
 * The closures of lambdas of function `scope` that have functions of their
 * own in o (an invoker, a manager, an operator()): *escaping counts them,
 * *removed those of them with no function paired.  A closure whose code
 * was all inlined lives only in its function's frames.  -1 out of memory.
 */
static int closures_of(const struct object *o, const char *scope, size_t *escaping, size_t *removed)
{
	char **ids = NULL;
	bool *paired = NULL;
	size_t n = 0, cap = 0;
	int ret = -1;

	for_each_func(o, f)
	{
		struct cxx_name cx;

		if (strncmp(f->sym->name, "_Z", 2) || cxx_scan(f->sym->name, &cx) < 0)
			continue;
		for (size_t k = 0; k < cx.nclosures; k++) {
			char *sc = cxx_closure_scope(&cx.closures[k]);
			size_t i;

			if (!sc || strcmp(sc, scope)) {
				free(sc);
				continue;
			}
			free(sc);
			for (i = 0; i < n && strcmp(ids[i], cx.closures[k].id); i++)
				;
			if (i == n) {
				bool *p;

				if (grow_array(&ids, &cap, n, sizeof(*ids), 8) < 0 ||
				    !(p = xrealloc(paired, cap * sizeof(*paired))) ||
				    !(ids[n] = xstrdup(cx.closures[k].id))) {
					cxx_name_free(&cx);
					goto out;
				}
				paired = p;
				paired[n++] = false;
			}
			paired[i] |= f->twin != NULL;
		}
		cxx_name_free(&cx);
	}
	*escaping = n;
	*removed = 0;
	for (size_t i = 0; i < n; i++)
		*removed += !paired[i];
	ret = 0;
out:
	for (size_t i = 0; i < n; i++)
		free(ids[i]);
	free(ids);
	free(paired);
	return ret;
}

/* Closures of function `scope` in di whose layout has no equal in `other`'s (a multiset). */
static size_t layouts_gone(const struct dwarf_info *di, const char *scope,
			   const struct dwarf_info *other, const char *other_scope, bool *used)
{
	size_t gone = 0;

	memset(used, 0, other->nclosures * sizeof(*used));
	for (size_t i = 0; i < di->nclosures; i++) {
		size_t j;

		if (strcmp(di->closures[i].scope, scope))
			continue;
		for (j = 0; j < other->nclosures; j++)
			if (!used[j] && !strcmp(other->closures[j].scope, other_scope) &&
			    !strcmp(other->closures[j].layout, di->closures[i].layout))
				break;
		if (j < other->nclosures)
			used[j] = true;
		else
			gone++;
	}
	return gone;
}

/*
 * A lambda that captures differently: a closure object made before the
 * patch (held by a std::function, a container, a thread) has the old
 * captures, which new code would read with the new layout.  Closure types
 * have no names, and their numbers are places, so they are compared as a
 * function's set of layouts: when more of them disappear than lambdas of
 * the function were removed, some lambda that stayed changed its captures.
 */
static int check_closures(struct diff *d)
{
	const struct dwarf_info *a = d->old.dwarf, *b = d->new.dwarf;
	bool *used = xcalloc(b->nclosures + 1, sizeof(*used));
	int ret = -1;

	if (!used)
		return -1;
	for (size_t i = 0; i < a->nclosures; i++) {
		const char *scope = a->closures[i].scope;
		const struct symbol *s = find_symbol_by_name(&d->old.elf, scope);
		const struct func *f = s ? func_of(s) : NULL;
		size_t gone, escaping, removed;
		bool seen = false;

		for (size_t k = 0; k < i; k++)
			seen |= !strcmp(a->closures[k].scope, scope);
		if (seen || !f || !f->twin)
			continue;
		gone = layouts_gone(a, scope, b, f->twin->sym->name, used);
		if (!gone)
			continue;
		if (closures_of(&d->old, scope, &escaping, &removed) < 0)
			goto out;
		if (!escaping || gone <= removed)
			continue;
		if (diff_add_finding(
			    d, scope, true,
			    xasprintf("the captures of a lambda of this function changed "
				      "(%zu closure layouts of the baseline are gone); a "
				      "closure the running process holds (a std::function) "
				      "keeps the old captures, which the new code would "
				      "read with the new layout",
				      gone)) < 0)
			goto out;
	}
	ret = 0;
out:
	free(used);
	return ret;
}

/*
 * A type named after a lambda: g++ writes every lambda of a function
 * alike ("_Tuple_impl<0, setup(int)::<lambda(int)> >"), clang++ by its
 * line and column ("(lambda at x.cc:6:16)"), so the same name can stand
 * for another lambda in the other object.  Lambdas' own layouts are
 * compared by check_closures().
 */
static bool named_after_lambda(const char *name)
{
	return strstr(name, "<lambda(") || strstr(name, "(lambda at ") || strstr(name, "{lambda(");
}

int check_layouts(struct diff *d)
{
	const struct dwarf_info *a = d->old.dwarf, *b = d->new.dwarf;

	if (!a || !b)
		return 0;
	if (check_closures(d) < 0)
		return -1;
	for (size_t i = 0; i < a->ntypes; i++) {
		const struct dtype *ta = &a->types[i];
		const struct dtype *tb = dwarf_find_type(b, ta->name);
		char *change, *block, *reason;
		int ret;

		if (!tb || named_after_lambda(ta->name) || !(change = layout_difference(ta, tb)))
			continue;
		/* A type nothing in the object uses does not matter here. */
		if (!tb->nusers && !ta->nusers) {
			free(change);
			continue;
		}
		block = blockers(d, tb);
		if (block)
			reason = xasprintf(
				"layout changed (%s); instances in the running process keep "
				"the old layout: %s",
				change, block);
		else
			reason = xasprintf("layout changed (%s); only replaced code uses it",
					   change);
		ret = diff_add_finding(d, ta->name, block != NULL, reason);
		free(change);
		free(block);
		if (ret < 0)
			return -1;
	}
	return 0;
}
