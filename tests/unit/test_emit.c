/*
 * The reference map hpdiff emits: where each kind of reference must point
 * (the running instance of existing data, the new code of called
 * functions, the baseline entry of address-taken functions, imports,
 * copies of literals and jump tables), the baseline code kept for
 * provenance, and the widening of short branches.
 */
#include <elf.h>

#include "tests/testutil.h"
#include "hpdiff/diff.h"
#include "format/hpd.h"

static char *tmp;

static void setup(void)
{
	tmp = tu_tmpdir();
}

static void teardown(void)
{
	tu_rmtree(tmp);
	free(tmp);
}

TestSuite(emit, .init = setup, .fini = teardown);

/* Run hpdiff OLD NEW -o tmp/out.hpd and decode the result. */
static struct hp_hpd *diff_files(const char *old, const char *new, int want_exit)
{
	char out[4200];
	struct hp_error e;
	struct hp_hpd *h;
	size_t len = 0;
	char *buf;

	snprintf(out, sizeof(out), "%s/out.hpd", tmp);
	char *argv[] = {HP_BINDIR "/hpdiff", "-o", out, (char *)old, (char *)new, NULL};
	struct run r = tu_run(argv);

	cr_assert_eq(r.status, want_exit, "exit %d\n%s%s", r.status, r.out, r.err);
	tu_run_free(&r);
	buf = tu_read(out, &len);
	cr_assert(buf);
	cr_assert(hp_hpd_decode((uint8_t *)buf, len, &h, &e) == 0);
	free(buf);
	return h;
}

static struct hp_hpd *diff_sample(const char *variant, const char *scenario)
{
	char old[4200], new[4200];

	snprintf(old, sizeof(old), "%s/%s/%s/old.o", HP_SAMPLEDIR, variant, scenario);
	snprintf(new, sizeof(new), "%s/%s/%s/new.o", HP_SAMPLEDIR, variant, scenario);
	return diff_files(old, new, 1);
}

static const struct hp_func *func_named(const struct hp_hpd *h, const char *name)
{
	for (uint32_t i = 0; i < h->nfuncs; i++)
		if (!strcmp(h->funcs[i].name, name))
			return &h->funcs[i];
	cr_assert_fail("no function %s in the .hpd", name);
	return NULL;
}

static long func_index(const struct hp_hpd *h, const char *name)
{
	return func_named(h, name) - h->funcs;
}

/* Does f have a relocation to the named symbol (kind, binding)? */
static bool refers_to_sym(const struct hp_hpd *h, const struct hp_func *f, uint8_t kind,
			  const char *name)
{
	for (uint32_t i = 0; i < f->nrelocs; i++) {
		const struct hp_reloc *r = &f->relocs[i];

		if (r->target_kind == HP_TGT_SYM && h->syms[r->target].kind == kind &&
		    !strcmp(h->syms[r->target].name, name))
			return true;
	}
	return false;
}

static bool refers_to_func(const struct hp_func *f, long index)
{
	for (uint32_t i = 0; i < f->nrelocs; i++)
		if (f->relocs[i].target_kind == HP_TGT_FUNC && f->relocs[i].target == index)
			return true;
	return false;
}

Test(emit, kept_statics_are_the_running_instance_under_their_baseline_name)
{
	struct hp_hpd *h = diff_sample("gcc-O2", "static-local-counter");
	const struct hp_func *f = func_named(h, "idgen_next");

	/* gcc renamed it counter.2 in the fixed build; the baseline has counter.0 */
	cr_assert(refers_to_sym(h, f, HP_SYM_BASE, "counter.0"));
	for (uint32_t i = 0; i < h->nsyms; i++)
		cr_assert(strcmp(h->syms[i].name, "counter.2"));
	/* new function-scope statics are new zeroed data */
	bool longest = false;
	for (uint32_t i = 0; i < h->ndata; i++)
		longest |= !strcmp(h->data[i].name, "longest.0") && h->data[i].kind == HP_DATA_BSS;
	cr_assert(longest);
	hp_hpd_free(h);
}

Test(emit, calls_to_new_helpers_go_to_their_new_code)
{
	const char *variants[] = {"gcc-O2", "clang-O2", "gcc-O2-fs", "clang-O2-nopie"};

	for (size_t v = 0; v < 4; v++) {
		struct hp_hpd *h = diff_sample(variants[v], "new-static-helper");
		long helper = func_index(h, "key_valid");
		int callers = 0;

		cr_assert_eq(h->funcs[helper].status, HP_FUNC_NEW);
		for (uint32_t i = 0; i < h->nfuncs; i++)
			callers += h->funcs[i].status == HP_FUNC_CHANGED &&
				   refers_to_func(&h->funcs[i], helper);
		cr_assert_geq(callers, 1, "%s: nothing calls the new helper", variants[v]);
		hp_hpd_free(h);
	}
}

Test(emit, imports_and_thread_locals)
{
	struct hp_hpd *h = diff_sample("gcc-O2", "new-libc-call");
	bool strnlen_seen = false;

	for (uint32_t i = 0; i < h->nsyms; i++)
		strnlen_seen |=
			h->syms[i].kind == HP_SYM_UNDEF && !strcmp(h->syms[i].name, "strnlen");
	cr_assert(strnlen_seen);
	hp_hpd_free(h);

	h = diff_sample("gcc-O2", "tls-errno");
	bool tls = false;
	for (uint32_t i = 0; i < h->nsyms; i++)
		tls |= h->syms[i].kind == HP_SYM_BASE && h->syms[i].type == HP_STYPE_TLS;
	cr_assert(tls, "no reference to the baseline's thread-local variable");
	hp_hpd_free(h);
}

Test(emit, jump_tables_are_copied_and_point_into_the_new_code)
{
	const char *variants[] = {"gcc-O2", "gcc-O2-nopie", "clang-O2", "gcc-O2-fs"};

	for (size_t v = 0; v < 4; v++) {
		struct hp_hpd *h = diff_sample(variants[v], "switch-jumptable");
		long run = func_index(h, "filter_run");
		int entries = 0;

		for (uint32_t d = 0; d < h->ndata; d++)
			for (uint32_t i = 0; i < h->data[d].nrelocs; i++)
				if (h->data[d].relocs[i].target_kind == HP_TGT_FUNC &&
				    h->data[d].relocs[i].target == run)
					entries++;
		cr_assert_geq(entries, 13, "%s: %d jump table entries", variants[v], entries);
		/* filter_check is unchanged: its table is not carried */
		for (uint32_t i = 0; i < h->nfuncs; i++)
			cr_assert(strcmp(h->funcs[i].name, "filter_check"));
		hp_hpd_free(h);
	}
}

Test(emit, baseline_code_is_the_old_objects_bytes)
{
	char old[4200];
	size_t len = 0;
	struct hp_hpd *h = diff_sample("gcc-O2", "grown-function");
	struct object o;
	char *img;

	cr_assert_eq(h->nfuncs, 1);
	cr_assert_str_eq(h->funcs[0].base_name, "calc_validate");
	snprintf(old, sizeof(old), "%s/gcc-O2/grown-function/old.o", HP_SAMPLEDIR);
	img = tu_read(old, &len);
	cr_assert(object_load(&o, old, (uint8_t *)img, len) == 0);
	struct symbol *s = find_symbol_by_name(&o.elf, "calc_validate");
	cr_assert(s);
	cr_assert_eq(h->funcs[0].old_size, s->size);
	cr_assert_arr_eq(h->funcs[0].old_code, s->sec->data + s->value, s->size);
	object_free(&o);
	free(img);
	hp_hpd_free(h);
}

/* ---- compiled here: address-taken functions, short tail calls ---------------- */

static void compile(const char *dir, const char *src, const char *flags)
{
	char cmd[8192], path[4200];

	snprintf(path, sizeof(path), "%s/%s", tmp, dir);
	mkdir(path, 0755);
	snprintf(path, sizeof(path), "%s/%s/unit.c", tmp, dir);
	tu_write(path, src, strlen(src));
	snprintf(cmd, sizeof(cmd), "cd %s/%s && gcc %s -c unit.c -o unit.o", tmp, dir, flags);
	cr_assert(system(cmd) == 0);
}

static const char cb_old[] = "int changed_fn(int x) { return x * 3; }\n"
			     "int (*get_cb(int k))(int) { return k ? changed_fn : 0; }\n"
			     "int call_it(int x) { return changed_fn(x) + 1; }\n";
static const char cb_new[] = "int changed_fn(int x) { return x * 5; }\n"
			     "int (*get_cb(int k))(int) { return k > 1 ? changed_fn : 0; }\n"
			     "int call_it(int x) { return changed_fn(x) + 2; }\n";

Test(emit, address_taken_functions_keep_the_baseline_entry)
{
	char old[4200], new[4200];

	compile("a", cb_old, "-O2 -fno-inline -fPIE");
	compile("b", cb_new, "-O2 -fno-inline -fPIE");
	snprintf(old, sizeof(old), "%s/a/unit.o", tmp);
	snprintf(new, sizeof(new), "%s/b/unit.o", tmp);
	struct hp_hpd *h = diff_files(old, new, 1);
	long fn = func_index(h, "changed_fn");

	/* a pointer handed out must compare equal to pointers taken before the patch */
	cr_assert(refers_to_sym(h, func_named(h, "get_cb"), HP_SYM_BASE, "changed_fn"));
	cr_assert(!refers_to_func(func_named(h, "get_cb"), fn));
	/* a call goes straight to the new code */
	cr_assert(refers_to_func(func_named(h, "call_it"), fn));
	hp_hpd_free(h);
}

/* helper is placed right before api, so api's tail call is `jmp rel8` with no relocation. */
static const char tail_old[] = "static __attribute__((noinline)) int helper(int x)\n"
			       "{ return x * 7 + 1; }\n"
			       "int api(int x) { return helper(x + 1); }\n"
			       "int keep(int x) { return helper(x) + 3; }\n";
static const char tail_new[] = "static __attribute__((noinline)) int helper(int x)\n"
			       "{ return x * 7 + 1; }\n"
			       "int api(int x) { return helper(x + 2); }\n"
			       "int keep(int x) { return helper(x) + 3; }\n";

Test(emit, short_tail_calls_are_widened)
{
	char old[4200], new[4200];
	size_t len = 0;
	char *img;
	struct object o;

	compile("a", tail_old, "-O2 -fPIE");
	compile("b", tail_new, "-O2 -fPIE");
	snprintf(old, sizeof(old), "%s/a/unit.o", tmp);
	snprintf(new, sizeof(new), "%s/b/unit.o", tmp);
	/* precondition: the fixed api ends in eb xx (jmp rel8) to helper */
	img = tu_read(new, &len);
	cr_assert(object_load(&o, new, (uint8_t *)img, len) == 0);
	struct symbol *api = find_symbol_by_name(&o.elf, "api");
	const uint8_t *code = api->sec->data + api->value;
	uint64_t api_size = api->size;

	cr_assert_eq(code[api_size - 2], 0xeb, "compiler did not emit a short tail call");
	object_free(&o);
	free(img);

	struct hp_hpd *h = diff_files(old, new, 1);
	const struct hp_func *f = func_named(h, "api");

	/* jmp rel8 (2 bytes) became jmp rel32 (5 bytes) */
	cr_assert_eq(f->size, api_size + 3);
	cr_assert_eq(f->code[f->size - 5], 0xe9);
	cr_assert_eq(f->nrelocs, 1);
	cr_assert_eq(f->relocs[0].offset, f->size - 4);
	cr_assert_eq(f->relocs[0].type, R_X86_64_PC32);
	cr_assert_eq(f->relocs[0].addend, -4);
	cr_assert(refers_to_sym(h, f, HP_SYM_BASE, "helper"));
	hp_hpd_free(h);
}
