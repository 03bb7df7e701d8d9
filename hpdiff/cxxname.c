/*
 * Finding the compiler-chosen numbers in C++ mangled names (cxxname.h).
 *
 * The Itanium C++ ABI grammar, only as far as it matters here:
 *
 *   <local-name>   Z <function encoding> E <entity> [<discriminator>]
 *   <discriminator> _ <digit>  |  __ <number> _
 *   <closure-type> Ul <parameter types> E [<number>] _
 *   <unnamed-type> Ut [<number>] _
 *   clang++'s closures of non-inline functions: the source name "$_<n>"
 *
 * Everything else is stepped over: a source name by its length (its
 * characters may be anything, "E" and "_" included), a substitution or
 * template parameter up to its "_", a literal up to its "E", and the
 * nesting of N, I, Z, F, X, J, Ul and a few D forms, each closed by "E".
 */
#include <stdlib.h>
#include <string.h>

#include "hpdiff/cxxname.h"
#include "common/mem.h"

#define MAX_FRAMES 128 /* deeper nesting is not followed (no real name comes near) */
#define MAX_SPANS  256 /* numbers per name; the rest of a longer name stays as it is */
#define MAX_TOKENS 32  /* closures per name */

/* A number in the name: [start, start + len) is replaced by repl in the key. */
struct span {
	size_t start, len;
	const char *repl;
	uint32_t value;
};

/* A closure mentioned by the name: its token, and the local-name scope before it. */
struct token {
	size_t start, end;	 /* the closure's own text [start, end) */
	size_t scope, scope_end; /* its enclosing Z...E, or scope == scope_end */
};

struct scan {
	const char *s;
	size_t n, pos;
	char frames[MAX_FRAMES];
	size_t frame_start[MAX_FRAMES];
	size_t depth;
	size_t z_start, z_end; /* the last Z...E closed: [z_start, z_end) */
	bool have_z;
	bool local; /* a Z...E closed at the outermost level */
	uint32_t disc;
	struct span spans[MAX_SPANS];
	size_t nspans;
	struct token tokens[MAX_TOKENS];
	size_t ntokens;
};

static bool is_digit(char c)
{
	return c >= '0' && c <= '9';
}

static bool is_upper(char c)
{
	return c >= 'A' && c <= 'Z';
}

static bool is_lower(char c)
{
	return c >= 'a' && c <= 'z';
}

static char peek(const struct scan *sc, size_t ahead)
{
	return sc->pos + ahead < sc->n ? sc->s[sc->pos + ahead] : 0;
}

/* Read a decimal number at pos (saturating); returns the digit count. */
static size_t read_number(struct scan *sc, uint32_t *v)
{
	size_t k = 0;

	*v = 0;
	while (sc->pos < sc->n && is_digit(sc->s[sc->pos])) {
		*v = *v > 100000000 ? *v : *v * 10 + (uint32_t)(sc->s[sc->pos] - '0');
		sc->pos++;
		k++;
	}
	return k;
}

static void add_span(struct scan *sc, size_t start, size_t len, const char *repl, uint32_t value)
{
	if (sc->nspans < MAX_SPANS)
		sc->spans[sc->nspans++] = (struct span){start, len, repl, value};
}

/*
 * A closure starting at `start` ends at sc->pos.  It is scoped by the last
 * Z...E if only qualifiers (N, K, V, r) stand between that and the closure:
 * "Z5setupiEUliE0_" and "Z5setupiENKUliE0_clEi" (its operator()) name one
 * closure of setup(int).
 */
static void add_token(struct scan *sc, size_t start)
{
	struct token *t;
	size_t k;

	if (sc->ntokens >= MAX_TOKENS)
		return;
	t = &sc->tokens[sc->ntokens++];
	t->start = start;
	t->end = sc->pos;
	t->scope = t->scope_end = 0;
	if (!sc->have_z || sc->z_end > start)
		return;
	for (k = sc->z_end; k < start && strchr("NKVr", sc->s[k]); k++)
		;
	if (k == start) {
		t->scope = sc->z_start;
		t->scope_end = sc->z_end;
	}
}

/* A source name: <length> <characters>; clang++'s "$_<n>" is a closure. */
static void source_name(struct scan *sc)
{
	size_t start = sc->pos, len;
	uint32_t n;

	read_number(sc, &n);
	len = n;
	if (len > sc->n - sc->pos)
		len = sc->n - sc->pos;
	if (len >= 3 && sc->s[sc->pos] == '$' && sc->s[sc->pos + 1] == '_') {
		size_t k = 2;
		uint32_t v = 0;

		while (k < len && is_digit(sc->s[sc->pos + k]))
			v = v > 100000000 ? v : v * 10 + (uint32_t)(sc->s[sc->pos + k++] - '0');
		if (k == len) {
			sc->pos += len;
			add_span(sc, start, sc->pos - start, "$_", v);
			add_token(sc, start);
			return;
		}
	}
	sc->pos += len;
}

/* Skip [0-9A-Z]* '_' (a substitution's or template parameter's number). */
static void skip_seq(struct scan *sc)
{
	while (sc->pos < sc->n && (is_digit(sc->s[sc->pos]) || is_upper(sc->s[sc->pos])))
		sc->pos++;
	if (peek(sc, 0) == '_')
		sc->pos++;
}

/* [n] <number> _ (a call offset's parts) */
static void skip_offset(struct scan *sc)
{
	uint32_t v;

	if (peek(sc, 0) == 'n')
		sc->pos++;
	read_number(sc, &v);
	if (peek(sc, 0) == '_')
		sc->pos++;
}

static void push(struct scan *sc, char kind, size_t skip)
{
	if (sc->depth < MAX_FRAMES) {
		sc->frames[sc->depth] = kind;
		sc->frame_start[sc->depth] = sc->pos;
	}
	sc->depth++;
	sc->pos += skip;
}

/* An "E": the innermost frame ends; a closure's number follows its own. */
static void pop(struct scan *sc)
{
	char kind;
	size_t start;

	sc->pos++;
	if (!sc->depth)
		return;
	sc->depth--;
	if (sc->depth >= MAX_FRAMES)
		return;
	kind = sc->frames[sc->depth];
	start = sc->frame_start[sc->depth];
	if (kind == 'Z') {
		sc->have_z = true;
		sc->z_start = start;
		sc->z_end = sc->pos;
		if (sc->depth == 0)
			sc->local = true;
		/* Z...E d [<number>] _ : a default argument's scope */
		if (peek(sc, 0) == 'd') {
			sc->pos++;
			skip_offset(sc);
		}
	} else if (kind == 'U') { /* Ul <types> E [<number>] _ */
		size_t at = sc->pos;
		uint32_t v;
		size_t k = read_number(sc, &v);

		if (peek(sc, 0) == '_') {
			sc->pos++;
			add_span(sc, at, k, "", k ? v + 1 : 0);
			add_token(sc, start);
		}
	}
}

/* _ <digit> | __ <number> _ after an outermost local name; anything else is stepped over. */
static void underscore(struct scan *sc)
{
	size_t start = sc->pos;
	uint32_t v;

	if (!(sc->local && sc->depth == 0)) {
		sc->pos++;
		return;
	}
	if (is_digit(peek(sc, 1))) {
		sc->pos += 2;
		v = (uint32_t)(sc->s[start + 1] - '0');
	} else if (peek(sc, 1) == '_' && is_digit(peek(sc, 2))) {
		sc->pos += 2;
		read_number(sc, &v);
		if (peek(sc, 0) == '_')
			sc->pos++;
	} else {
		sc->pos++;
		return;
	}
	sc->disc = v + 1;
	add_span(sc, start, sc->pos - start, "", v + 1);
}

/* A literal: L <type> <value> E, or L _Z <encoding> E (one frame, closed by its E). */
static void literal(struct scan *sc)
{
	if (peek(sc, 1) == '_' && peek(sc, 2) == 'Z') {
		push(sc, 'L', 3);
		return;
	}
	sc->pos++;
	if (is_digit(peek(sc, 0)))
		source_name(sc);
	else if (peek(sc, 0) == 'D')
		sc->pos += 2;
	else if (peek(sc, 0))
		sc->pos++;
	while (sc->pos < sc->n && sc->s[sc->pos] != 'E')
		sc->pos++;
	if (sc->pos < sc->n)
		sc->pos++;
}

static void d_form(struct scan *sc)
{
	char c = peek(sc, 1);

	if (c == 't' || c == 'T' || c == 'C' || c == 'O' || c == 'w' || c == 'X') {
		push(sc, 'D', 2);
	} else if (c == 'v' || c == 'F' || c == 'B') { /* Dv <n> _, DF <n> _, DB <n> _ */
		sc->pos += 2;
		skip_offset(sc);
	} else {
		sc->pos += c ? 2 : 1; /* Dp, Da, Dn, D0/D1/D2 (destructors), ... */
	}
}

static void t_form(struct scan *sc)
{
	char c = peek(sc, 1);

	if (c == '_' || is_digit(c)) { /* template parameter */
		sc->pos++;
		skip_seq(sc);
	} else if (c == 'h') { /* Th <offset> */
		sc->pos += 2;
		skip_offset(sc);
	} else if (c == 'v') { /* Tv <offset> <offset> */
		sc->pos += 2;
		skip_offset(sc);
		skip_offset(sc);
	} else {
		sc->pos += c ? 2 : 1; /* TV, TI, TS, TT, TH, TW, Tc... */
	}
}

/* fp [CV] [<number>] _  and  fL <number> p [CV] [<number>] _ (function parameters) */
static bool f_form(struct scan *sc)
{
	uint32_t v;

	if (peek(sc, 1) != 'p' && peek(sc, 1) != 'L')
		return false;
	sc->pos += 2;
	if (sc->s[sc->pos - 1] == 'L') {
		read_number(sc, &v);
		if (peek(sc, 0) == 'p')
			sc->pos++;
	}
	while (peek(sc, 0) == 'r' || peek(sc, 0) == 'V' || peek(sc, 0) == 'K')
		sc->pos++;
	skip_offset(sc);
	return true;
}

static void step(struct scan *sc)
{
	char c = sc->s[sc->pos], c1 = peek(sc, 1);
	uint32_t v;

	if (is_digit(c)) {
		source_name(sc);
	} else if (c == 'E') {
		pop(sc);
	} else if (c == '_') {
		underscore(sc);
	} else if (c == 'N' || c == 'I' || c == 'Z' || c == 'F' || c == 'X' || c == 'J') {
		push(sc, c, 1);
	} else if (c == 'U' && c1 == 'l') {
		push(sc, 'U', 2);
	} else if (c == 'U' && c1 == 't') { /* Ut [<number>] _ */
		size_t start = sc->pos, at;
		size_t k;

		sc->pos += 2;
		at = sc->pos;
		k = read_number(sc, &v);
		if (peek(sc, 0) == '_') {
			sc->pos++;
			add_span(sc, at, k, "", k ? v + 1 : 0);
			add_token(sc, start);
		}
	} else if (c == 'S') {
		sc->pos++;
		if (is_lower(c1))
			sc->pos++;
		else
			skip_seq(sc);
	} else if (c == 'T') {
		t_form(sc);
	} else if (c == 'D') {
		d_form(sc);
	} else if (c == 'L') {
		literal(sc);
	} else if (c == 'A' && (is_digit(c1) || c1 == '_')) { /* A <number> _ */
		sc->pos++;
		skip_offset(sc);
	} else if (c == 'C' && (is_digit(c1) || c1 == 'I')) { /* C1, C2, CI1 <type> */
		sc->pos += c1 == 'I' ? 3 : 2;
	} else if (c == 'f' && f_form(sc)) {
		;
	} else {
		sc->pos++; /* builtin types, operators, qualifiers, G, GV, B... */
	}
}

static int cmp_span(const void *a, const void *b)
{
	const struct span *x = a, *y = b;

	return x->start < y->start ? -1 : x->start > y->start;
}

/* [from, to) of the name with the numbers inside replaced, appended to *out. */
static char *append_stripped(const struct scan *sc, char *out, size_t *w, size_t from, size_t to)
{
	size_t pos = from;

	for (size_t i = 0; i < sc->nspans; i++) {
		const struct span *sp = &sc->spans[i];

		if (sp->start < from || sp->start + sp->len > to)
			continue;
		memcpy(out + *w, sc->s + pos, sp->start - pos);
		*w += sp->start - pos;
		memcpy(out + *w, sp->repl, strlen(sp->repl));
		*w += strlen(sp->repl);
		pos = sp->start + sp->len;
	}
	memcpy(out + *w, sc->s + pos, to - pos);
	*w += to - pos;
	out[*w] = 0;
	return out;
}

static int make_closure(const struct scan *sc, const struct token *t, struct cxx_closure *c)
{
	size_t idlen = (t->scope_end - t->scope) + (t->end - t->start), w = 0;

	memset(c, 0, sizeof(*c));
	/* the key is never longer than the text: "$_" replaces at least "3$_0" */
	c->id = xmalloc(idlen + 1);
	c->cls = xmalloc(idlen + 1);
	if (!c->id || !c->cls)
		return -1;
	memcpy(c->id, sc->s + t->scope, t->scope_end - t->scope);
	memcpy(c->id + (t->scope_end - t->scope), sc->s + t->start, t->end - t->start);
	c->id[idlen] = 0;
	append_stripped(sc, c->cls, &w, t->scope, t->scope_end);
	append_stripped(sc, c->cls, &w, t->start, t->end);
	for (size_t i = 0; i < sc->nspans; i++) {
		const struct span *sp = &sc->spans[i];
		bool in = (sp->start >= t->scope && sp->start < t->scope_end) ||
			  (sp->start >= t->start && sp->start < t->end);

		if (in && c->nnum < CXX_MAX_NUMS)
			c->num[c->nnum++] = sp->value;
	}
	return 0;
}

int cxx_scan(const char *name, struct cxx_name *out)
{
	struct scan *sc;
	size_t w = 0;
	int ret = -1;

	memset(out, 0, sizeof(*out));
	if (strncmp(name, "_Z", 2)) {
		out->key = xstrdup(name);
		return out->key ? 0 : -1;
	}
	sc = xcalloc(1, sizeof(*sc));
	if (!sc)
		return -1;
	sc->s = name;
	sc->n = strlen(name);
	sc->pos = 2;
	/* a clone suffix (".isra.0") ends the mangled part; clone_key() reads it */
	while (sc->pos < sc->n && sc->s[sc->pos] != '.')
		step(sc);
	if (sc->pos > sc->n)
		sc->pos = sc->n;
	sort(sc->spans, sc->nspans, sizeof(*sc->spans), cmp_span);
	out->key = xmalloc(sc->n + 1);
	if (!out->key)
		goto out;
	append_stripped(sc, out->key, &w, 0, sc->n);
	out->local = sc->local;
	out->disc = sc->disc;
	out->numbered = sc->local || sc->ntokens || strcmp(out->key, name) != 0;
	if (sc->ntokens) {
		out->closures = xcalloc(sc->ntokens, sizeof(*out->closures));
		if (!out->closures)
			goto out;
		for (size_t i = 0; i < sc->ntokens; i++, out->nclosures++)
			if (make_closure(sc, &sc->tokens[i], &out->closures[i]) < 0)
				goto out;
	}
	ret = 0;
out:
	free(sc);
	if (ret < 0)
		cxx_name_free(out);
	return ret;
}

void cxx_name_free(struct cxx_name *n)
{
	for (size_t i = 0; i < n->nclosures; i++) {
		free(n->closures[i].id);
		free(n->closures[i].cls);
	}
	free(n->closures);
	free(n->key);
	memset(n, 0, sizeof(*n));
}

char *cxx_guard_of(const char *var)
{
	return strncmp(var, "_Z", 2) ? NULL : xasprintf("_ZGV%s", var + 2);
}

char *cxx_guarded_by(const char *guard)
{
	return strncmp(guard, "_ZGV", 4) ? NULL : xasprintf("_Z%s", guard + 4);
}

char *cxx_closure_scope(const struct cxx_closure *c)
{
	const char *s = c->cls, *u = strstr(s, "EUl");

	if (s[0] != 'Z')
		return xstrdup(s);
	if (!u)
		u = strrchr(s, 'E');
	return u ? xasprintf("_Z%.*s", (int)(u - s - 1), s + 1) : xstrdup(s);
}

int cxx_closure_order(const struct cxx_closure *a, const struct cxx_closure *b)
{
	for (uint8_t i = 0; i < a->nnum && i < b->nnum; i++)
		if (a->num[i] != b->num[i])
			return a->num[i] < b->num[i] ? -1 : 1;
	return a->nnum < b->nnum ? -1 : a->nnum > b->nnum;
}
