/*
 * Golden tests: every scenario of samples/diff, built in every variant
 * (compiler, optimisation, function sections, PIC), against its `expect`
 * file.  Runs the real hpdiff binary and checks the exit status, every
 * reported function and data symbol, and the .hpd it wrote.
 *
 * The expect format is described in samples/README.md.
 */
#include <ctype.h>
#include <dirent.h>
#include <json-c/json.h>
#include <stdbool.h>

#include "tests/testutil.h" /* criterion.h first: after parameterized.h, Test() is undefined */
#include <criterion/parameterized.h>

#include "format/hp.h"
#include "format/hpd.h"

#define MAX_LINES 256

struct expectation {
	char kind[256]; /* "func", "data" */
	char name[256];
	char status[256];
	bool unpatchable;
	bool optional;
};

struct expected {
	int exit;
	struct expectation e[MAX_LINES];
	int n;
};

/* Variant tokens: "gcc-O2-fs" -> gcc O2 fs pie g */
static bool variant_has(const char *variant, const char *tok)
{
	char buf[128], *save = NULL;
	bool fs = false, pic = false, nopie = false, nog = false;

	snprintf(buf, sizeof(buf), "%s", variant);
	for (char *t = strtok_r(buf, "-", &save); t; t = strtok_r(NULL, "-", &save)) {
		if (!strcmp(t, tok))
			return true;
		fs |= !strcmp(t, "fs");
		pic |= !strcmp(t, "pic");
		nopie |= !strcmp(t, "nopie");
		nog |= !strcmp(t, "nog");
	}
	if (!strcmp(tok, "nofs"))
		return !fs;
	if (!strcmp(tok, "pie"))
		return !pic && !nopie;
	if (!strcmp(tok, "g"))
		return !nog;
	return false;
}

static bool selector_matches(const char *sel, const char *variant)
{
	char buf[128], *save = NULL;

	snprintf(buf, sizeof(buf), "%s", sel);
	for (char *t = strtok_r(buf, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
		while (isspace((unsigned char)*t))
			t++;
		bool neg = *t == '!';
		if (neg)
			t++;
		if (variant_has(variant, t) == neg)
			return false;
	}
	return true;
}

static void set_expectation(struct expected *x, const struct expectation *e)
{
	for (int i = 0; i < x->n; i++) {
		if (!strcmp(x->e[i].kind, e->kind) && !strcmp(x->e[i].name, e->name)) {
			x->e[i] = *e; /* the last matching line wins */
			return;
		}
	}
	cr_assert(x->n < MAX_LINES);
	x->e[x->n++] = *e;
}

static void parse_expect(const char *path, const char *variant, struct expected *x)
{
	char *text = tu_read(path, NULL), *save = NULL;
	int lineno = 0;

	cr_assert(text, "cannot read %s", path);
	memset(x, 0, sizeof(*x));
	x->exit = -1;
	for (char *line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		char *hash = strchr(line, '#'), *p = line, words[4][256] = {{0}};
		int nw;

		lineno++;
		if (hash)
			*hash = 0;
		while (isspace((unsigned char)*p))
			p++;
		if (!*p)
			continue;
		if (*p == '[') {
			char *end = strchr(p, ']');

			cr_assert(end, "%s:%d: unterminated selector", path, lineno);
			*end = 0;
			if (!selector_matches(p + 1, variant))
				continue;
			p = end + 1;
		}
		nw = sscanf(p, "%255s %255s %255s %255s", words[0], words[1], words[2], words[3]);
		if (!strcmp(words[0], "exit")) {
			cr_assert(nw == 2, "%s:%d: exit wants a number", path, lineno);
			x->exit = atoi(words[1]);
			continue;
		}
		cr_assert(nw >= 3 && (!strcmp(words[0], "func") || !strcmp(words[0], "data")),
			  "%s:%d: cannot parse '%s'", path, lineno, p);
		struct expectation e = {0};
		snprintf(e.kind, sizeof(e.kind), "%s", words[0]);
		snprintf(e.name, sizeof(e.name), "%s", words[1]);
		snprintf(e.status, sizeof(e.status), "%s", words[2]);
		for (int k = 3; k < nw; k++) {
			e.unpatchable |= !strcmp(words[k], "unpatchable");
			e.optional |= !strcmp(words[k], "?");
		}
		set_expectation(x, &e);
	}
	free(text);
	cr_assert(x->exit >= 0, "%s: no exit line for %s", path, variant);
}

/* Strip every ".<digits>" component: clone and static-local numbering. */
static void normalise(const char *name, char *out, size_t size)
{
	size_t w = 0;

	for (const char *r = name; *r && w + 1 < size;) {
		if (*r == '.' && isdigit((unsigned char)r[1])) {
			const char *e = r + 1;

			while (isdigit((unsigned char)*e))
				e++;
			if (*e == '.' || !*e) {
				r = e;
				continue;
			}
		}
		out[w++] = *r++;
	}
	out[w] = 0;
}

static const struct expectation *find_exp(const struct expected *x, const char *kind,
					  const char *name)
{
	for (int i = 0; i < x->n; i++)
		if (!strcmp(x->e[i].kind, kind) && !strcmp(x->e[i].name, name))
			return &x->e[i];
	return NULL;
}

/* Check the report's functions or data against the expectations; returns failures. */
static int check_list(struct json_object *list, const char *kind, const struct expected *x,
		      const char *ctx, bool *seen)
{
	int fails = 0;

	for (size_t i = 0; i < json_object_array_length(list); i++) {
		struct json_object *it = json_object_array_get_idx(list, i), *v;
		const char *name, *status;
		char norm[256];
		bool hot = true;

		json_object_object_get_ex(it, "name", &v);
		name = json_object_get_string(v);
		json_object_object_get_ex(it, "status", &v);
		status = json_object_get_string(v);
		if (json_object_object_get_ex(it, "hotpatchable", &v))
			hot = json_object_get_boolean(v);
		normalise(name, norm, sizeof(norm));
		const struct expectation *e = find_exp(x, kind, norm);
		if (!e || strcmp(e->status, status)) {
			cr_expect(0, "%s: %s %s reported %s, expected %s", ctx, kind, name, status,
				  e ? e->status : "same (not listed)");
			fails++;
			continue;
		}
		seen[e - x->e] = true;
		if (!strcmp(kind, "data") && e->unpatchable == hot) {
			cr_expect(0, "%s: data %s hotpatchable=%d, expected %d", ctx, name, hot,
				  !e->unpatchable);
			fails++;
		}
	}
	return fails;
}

static int check_hpd(const char *path, int exit, struct json_object *funcs, const char *ctx)
{
	size_t len;
	char *buf = tu_read(path, &len);
	struct hp_hpd *h = NULL;
	struct hp_error e;
	int fails = 0;

	if (exit == 0 || exit == 2) {
		free(buf);
		return 0;
	}
	cr_expect(buf != NULL, "%s: no .hpd written", ctx);
	if (!buf)
		return 1;
	if (hp_hpd_decode((uint8_t *)buf, len, &h, &e) < 0) {
		char msg[200];

		cr_expect(0, "%s: .hpd does not decode: %s", ctx,
			  hp_error_text(&e, msg, sizeof(msg)));
		free(buf);
		return 1;
	}
	if (!!(h->flags & HP_HPD_F_UNPATCHABLE) != (exit == 3)) {
		cr_expect(0, "%s: .hpd unpatchable flag %u for exit %d", ctx, h->flags, exit);
		fails++;
	}
	if (exit == 1) {
		/* Every changed or new function is carried, nothing else. */
		size_t want = 0;

		for (size_t i = 0; i < json_object_array_length(funcs); i++) {
			struct json_object *v;

			json_object_object_get_ex(json_object_array_get_idx(funcs, i), "status",
						  &v);
			want += strcmp(json_object_get_string(v), "removed") != 0;
		}
		if (h->nfuncs != want) {
			cr_expect(0, "%s: .hpd carries %u functions, report lists %zu", ctx,
				  h->nfuncs, want);
			fails++;
		}
	}
	hp_hpd_free(h);
	free(buf);
	return fails;
}

static int check_variant(const char *scenario, const char *variant, const char *tmp)
{
	char dir[4096], old[4200], new[4200], out[4200], expect[4200], ctx[300];
	struct expected x;
	bool seen[MAX_LINES] = {false};
	int fails = 0;

	snprintf(dir, sizeof(dir), "%s/%s/%s", HP_SAMPLEDIR, variant, scenario);
	snprintf(old, sizeof(old), "%s/old.o", dir);
	snprintf(new, sizeof(new), "%s/new.o", dir);
	snprintf(out, sizeof(out), "%s/%s-%s.hpd", tmp, variant, scenario);
	snprintf(expect, sizeof(expect), "%s/samples/diff/%s/expect", HP_SRCDIR, scenario);
	snprintf(ctx, sizeof(ctx), "%s [%s]", scenario, variant);
	cr_assert(tu_exists(old) && tu_exists(new), "%s: objects not built (make samples)", ctx);
	parse_expect(expect, variant, &x);

	char *argv[] = {HP_BINDIR "/hpdiff", "--json", "-o", out, old, new, NULL};
	struct run r = tu_run(argv);
	struct json_object *root = json_tokener_parse(r.out), *objs, *obj, *funcs, *data;

	if (r.status != x.exit) {
		cr_expect(0, "%s: exit %d, expected %d\n%s%s", ctx, r.status, x.exit, r.err, r.out);
		fails++;
	}
	if (r.status == 2 || !root) {
		cr_expect(root != NULL || r.status == 2, "%s: no JSON on stdout", ctx);
		tu_run_free(&r);
		return fails + 1;
	}
	cr_assert(json_object_object_get_ex(root, "objects", &objs));
	cr_assert(json_object_array_length(objs) == 1);
	obj = json_object_array_get_idx(objs, 0);
	cr_assert(json_object_object_get_ex(obj, "functions", &funcs));
	cr_assert(json_object_object_get_ex(obj, "data", &data));
	fails += check_list(funcs, "func", &x, ctx, seen);
	fails += check_list(data, "data", &x, ctx, seen);
	for (int i = 0; i < x.n; i++) {
		if (seen[i] || x.e[i].optional || !strcmp(x.e[i].status, "same"))
			continue;
		cr_expect(0, "%s: %s %s expected %s, not reported\n%s", ctx, x.e[i].kind,
			  x.e[i].name, x.e[i].status, r.out);
		fails++;
	}
	fails += check_hpd(out, r.status, funcs, ctx);
	json_object_put(root);
	tu_run_free(&r);
	return fails;
}

static int cmp_names(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Subdirectories of `path` (sorted), or only those holding `file`. */
static int list_dirs(const char *path, const char *file, char ***out)
{
	DIR *d = opendir(path);
	struct dirent *de;
	char **v = NULL;
	int n = 0;

	cr_assert(d, "cannot open %s", path);
	while ((de = readdir(d))) {
		char p[4200];

		if (de->d_name[0] == '.')
			continue;
		snprintf(p, sizeof(p), "%s/%s/%s", path, de->d_name, file ? file : "");
		if (!tu_exists(p))
			continue;
		v = realloc(v, (size_t)(n + 1) * sizeof(*v));
		v[n++] = strdup(de->d_name);
	}
	closedir(d);
	qsort(v, (size_t)n, sizeof(*v), cmp_names);
	*out = v;
	return n;
}

struct scenario {
	char name[64];
};

ParameterizedTestParameters(samples, scenario)
{
	char **names, dir[4200];
	int n;
	struct scenario *v;

	snprintf(dir, sizeof(dir), "%s/samples/diff", HP_SRCDIR);
	n = list_dirs(dir, "expect", &names);
	v = cr_malloc(sizeof(*v) * (size_t)n);
	for (int i = 0; i < n; i++) {
		snprintf(v[i].name, sizeof(v[i].name), "%s", names[i]);
		free(names[i]);
	}
	free(names);
	return cr_make_param_array(struct scenario, v, (size_t)n);
}

ParameterizedTest(struct scenario *s, samples, scenario, .timeout = 120)
{
	char **variants;
	char *tmp = tu_tmpdir();
	int n = list_dirs(HP_SAMPLEDIR, NULL, &variants), fails = 0, checked = 0;

	for (int i = 0; i < n; i++) {
		char probe[4200];

		snprintf(probe, sizeof(probe), "%s/%s/%s/old.o", HP_SAMPLEDIR, variants[i],
			 s->name);
		if (strcmp(variants[i], "src") && tu_exists(probe)) {
			fails += check_variant(s->name, variants[i], tmp);
			checked++;
		}
		free(variants[i]);
	}
	free(variants);
	tu_rmtree(tmp);
	free(tmp);
	cr_assert(checked >= 14, "%s: only %d variants built", s->name, checked);
	cr_assert(fails == 0, "%s: %d mismatches", s->name, fails);
}

/*
 * The parameterized test runs once per scenario that has an expect file:
 * none found would pass silently, and a scenario without one (C: old.c,
 * C++: old.cc) would never be checked.
 */
Test(samples, every_scenario_has_an_expected_result)
{
	char **names, dir[4200];
	int n, with_c, with_cc;

	snprintf(dir, sizeof(dir), "%s/samples/diff", HP_SRCDIR);
	n = list_dirs(dir, "expect", &names);
	for (int i = 0; i < n; i++)
		free(names[i]);
	free(names);
	with_c = list_dirs(dir, "old.c", &names);
	for (int i = 0; i < with_c; i++)
		free(names[i]);
	free(names);
	with_cc = list_dirs(dir, "old.cc", &names);
	for (int i = 0; i < with_cc; i++)
		free(names[i]);
	free(names);
	cr_assert_eq(n, with_c + with_cc, "%d scenarios, %d expect files in %s", with_c + with_cc,
		     n, dir);
	/* the 16 named scenarios, the ones added since, and issue 9's C++ ones */
	cr_assert_geq(n, 27, "only %d scenarios with an expect file in %s", n, dir);
	cr_assert_geq(with_cc, 5, "only %d C++ scenarios in %s", with_cc, dir);
}
