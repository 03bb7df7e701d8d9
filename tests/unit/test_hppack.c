/*
 * hppack as release engineers run it: real hpdiff -> hppack runs on the
 * samples and on the small programs of tests/hppack-fixture.sh, checking
 * exit status and messages, the package's bytes (reproducible, canonical,
 * signed or not), what every reference was resolved to (checked against the
 * baseline with readelf and objdump), provenance, sequences and cumulative
 * packages, and the inputs that must be refused.
 */
#include <elf.h>
#include <json-c/json.h>
#include <stdarg.h>

#include "tests/testutil.h"
#include "tests/pkiutil.h"
#include "tests/hpkutil.h"
#include "format/hpd.h"
#include "format/hpk.h"
#include "format/image.h"

#define HPPACK		HP_BINDIR "/hppack"
#define HPDIFF		HP_BINDIR "/hpdiff"
#define HPSIGN		HP_BINDIR "/hpsign"
#define SAMPLE(v, s, f) HP_SAMPLEDIR "/" v "/" s "/" f
#define EPOCH		"1700000000"

/* ---- the fixture programs, built once per run (before the tests fork) -------------- */

static char fixture[256];

ReportHook(PRE_ALL)(struct criterion_test_set *set)
{
	char cmd[1024];

	(void)set;
	snprintf(fixture, sizeof(fixture), "/tmp/hppack-fixture-%ld", (long)getpid());
	snprintf(cmd, sizeof(cmd), "bash %s/tests/hppack-fixture.sh %s %s %s >%s.log 2>&1",
		 HP_SRCDIR, fixture, HP_BINDIR, HP_SAMPLEDIR, fixture);
	if (system(cmd) != 0) {
		fprintf(stderr, "cannot build the hppack fixture (see %s.log)\n", fixture);
		exit(2);
	}
	setenv("HPPACK_TEST_FIXTURE", fixture, 1);
}

ReportHook(POST_ALL)(struct criterion_global_stats *stats)
{
	char log[300];

	(void)stats;
	tu_rmtree(getenv("HPPACK_TEST_FIXTURE"));
	snprintf(log, sizeof(log), "%s.log", getenv("HPPACK_TEST_FIXTURE"));
	unlink(log);
}

static char *tmp;

static void setup(void)
{
	pki_setup();
	snprintf(fixture, sizeof(fixture), "%s", getenv("HPPACK_TEST_FIXTURE"));
	setenv("SOURCE_DATE_EPOCH", EPOCH, 1);
	tmp = tu_tmpdir();
}

static void teardown(void)
{
	tu_rmtree(tmp);
	free(tmp);
}

TestSuite(hppack, .init = setup, .fini = teardown);

/* ---- helpers ------------------------------------------------------------------------ */

/* tmp/NAME (a few calls may share one expression) */
static const char *tpath(const char *name)
{
	static char buf[16][512];
	static int n;
	char *p = buf[n++ % 16];

	snprintf(p, 512, "%s/%s", tmp, name);
	return p;
}

/* fixture/NAME */
static const char *fpath(const char *name)
{
	static char buf[16][512];
	static int n;
	char *p = buf[n++ % 16];

	snprintf(p, 512, "%s/%s", fixture, name);
	return p;
}

/* Run a tool with a NULL-terminated argument list. */
static struct run run(const char *tool, ...)
{
	char *argv[64];
	int n = 0;
	va_list ap;

	argv[n++] = (char *)tool;
	va_start(ap, tool);
	while (n < 63 && (argv[n] = va_arg(ap, char *)))
		n++;
	va_end(ap);
	argv[n] = NULL;
	return tu_run(argv);
}

/* hpdiff OLD.o NEW.o of a sample into tmp/NAME; it must find hotpatchable differences. */
static const char *sample_hpd(const char *variant, const char *scenario, const char *name)
{
	char old[512], new[512];
	const char *out = tpath(name);
	struct run r;

	snprintf(old, sizeof(old), "%s/%s/%s/old.o", HP_SAMPLEDIR, variant, scenario);
	snprintf(new, sizeof(new), "%s/%s/%s/new.o", HP_SAMPLEDIR, variant, scenario);
	r = run(HPDIFF, old, new, "-o", out, NULL);
	cr_assert(r.status == 1 || r.status == 3, "hpdiff %s/%s: %d %s", variant, scenario,
		  r.status, r.err);
	tu_run_free(&r);
	return out;
}

static void expect_status(const struct run *r, int status, const char *what)
{
	cr_assert_eq(r->status, status, "%s: exit %d, want %d\nstdout: %s\nstderr: %s", what,
		     r->status, status, r->out, r->err);
}

static void expect_err(const struct run *r, const char *needle)
{
	cr_expect(strstr(r->err, needle), "stderr lacks \"%s\":\n%s", needle, r->err);
}

/* The directory holds exactly `n` entries (no temporary or partial file left). */
static void expect_entries(const char *dir, int n)
{
	char cmd[600];
	FILE *p;
	int count = 0;
	char line[512];

	snprintf(cmd, sizeof(cmd), "ls -A '%s'", dir);
	p = popen(cmd, "r");
	cr_assert(p);
	while (fgets(line, sizeof(line), p))
		count++;
	pclose(p);
	cr_expect_eq(count, n, "%s holds %d entries, want %d", dir, count, n);
}

/* A package's parts: container, manifest, and (when it opens) the payload. */
struct pkg {
	uint8_t *buf;
	size_t len;
	struct hp_hpk k;
	struct hp_manifest *m;
	struct hp_payload *pl;
};

/* Open a package; with `baseline`, decompress and decode its payload as a loader would. */
static void pkg_open(struct pkg *p, const char *path, const char *baseline)
{
	struct hp_error e;
	uint8_t *raw = NULL, *prefix = NULL, *file = NULL, h[32];
	size_t prefix_len = 0, flen = 0;
	struct hp_image img;

	memset(p, 0, sizeof(*p));
	p->buf = (uint8_t *)tu_read_ok(path, &p->len);
	cr_assert(hp_hpk_read(p->buf, p->len, &p->k, &e) == 0, "%s: %s", path, e.what);
	cr_assert(hp_manifest_parse(p->k.manifest, p->k.manifest_len, &p->m, &e) == 0, "%s: %s",
		  path, e.what);
	if (!baseline)
		return;
	file = (uint8_t *)tu_read_ok(baseline, &flen);
	cr_assert(hp_image_parse(file, flen, &img, &e) == 0);
	if (p->m->compression == HP_COMP_ZSTD_BASELINE) {
		for (uint32_t i = 0; i < p->m->nfuncs; i++)
			prefix_len += p->m->funcs[i].size;
		prefix = malloc(prefix_len);
		prefix_len = 0;
		for (uint32_t i = 0; i < p->m->nfuncs; i++) {
			const uint8_t *b =
				hp_image_bytes(&img, p->m->funcs[i].offset, p->m->funcs[i].size);

			cr_assert(b);
			memcpy(prefix + prefix_len, b, p->m->funcs[i].size);
			prefix_len += p->m->funcs[i].size;
		}
	}
	cr_assert(hp_zstd_decompress(p->k.payload, p->k.payload_len, prefix, prefix_len,
				     p->m->payload_raw_size, &raw, &e) == 0,
		  "%s: %s", path, e.what);
	hp_sha256(raw, p->m->payload_raw_size, h);
	cr_assert(!memcmp(h, p->m->payload_raw_sha256, 32), "payload-raw-sha256");
	hp_sha256(p->k.payload, p->k.payload_len, h);
	cr_assert(!memcmp(h, p->m->payload_sha256, 32), "payload-sha256");
	cr_assert(hp_payload_decode(raw, p->m->payload_raw_size, &p->pl, &e) == 0, "%s", e.what);
	cr_assert_eq(p->pl->nreplaced, p->m->nfuncs);
	free(raw);
	free(prefix);
	free(file);
}

static void pkg_close(struct pkg *p)
{
	hp_payload_free(p->pl);
	hp_manifest_free(p->m);
	free(p->buf);
}

/* MANIFEST function i's replacement code. */
static const struct hp_pcode *replacement(const struct pkg *p, const char *name)
{
	for (uint32_t i = 0; i < p->m->nfuncs; i++)
		if (!strcmp(p->m->funcs[i].name, name))
			return &p->pl->code[p->pl->replaced[i]];
	cr_assert_fail("the package does not replace %s", name);
	return NULL;
}

static const struct hp_manifest_func *mfunc(const struct pkg *p, const char *name)
{
	for (uint32_t i = 0; i < p->m->nfuncs; i++)
		if (!strcmp(p->m->funcs[i].name, name))
			return &p->m->funcs[i];
	cr_assert_fail("the package does not replace %s", name);
	return NULL;
}

/*
 * Symbol `name` of a linked file as readelf lists it: the n-th (1-based)
 * definition in the group of STT_FILE `file`, or (file NULL) the global one.
 */
static uint64_t elf_sym(const char *elf, const char *file, int nth_group, const char *name)
{
	char cmd[600], line[512], type[32], bind[32], vis[32], ndx[32], sym[256];
	unsigned long long value;
	long long size;
	int group = 0;
	bool in_file = false;
	FILE *p;
	uint64_t hit = UINT64_MAX;

	snprintf(cmd, sizeof(cmd), "readelf -sW '%s'", elf);
	p = popen(cmd, "r");
	cr_assert(p);
	while (fgets(line, sizeof(line), p)) {
		sym[0] = 0;
		if (sscanf(line, " %*d: %llx %lli %31s %31s %31s %31s %255s", &value, &size, type,
			   bind, vis, ndx, sym) < 6)
			continue;
		if (!strcmp(type, "FILE")) {
			in_file = file && !strcmp(sym, file);
			group += in_file;
			continue;
		}
		if (strcmp(sym, name) || !strcmp(ndx, "UND"))
			continue;
		if (file ? in_file && group == nth_group && !strcmp(bind, "LOCAL")
			 : strcmp(bind, "LOCAL") != 0) {
			hit = value;
			break;
		}
	}
	pclose(p);
	cr_assert(hit != UINT64_MAX, "%s: no %s in group %d of %s", elf, name, nth_group,
		  file ? file : "(any)");
	return hit;
}

/* Address of NAME@plt in a linked file, from objdump. */
static uint64_t plt_entry(const char *elf, const char *name)
{
	char cmd[600], line[512], want[128];
	unsigned long long v;
	uint64_t hit = 0;
	FILE *p;

	snprintf(cmd, sizeof(cmd), "objdump -d -j .plt -j .plt.sec '%s'", elf);
	snprintf(want, sizeof(want), "<%s@plt>:", name);
	p = popen(cmd, "r");
	cr_assert(p);
	while (fgets(line, sizeof(line), p))
		if (strstr(line, want) && sscanf(line, "%llx", &v) == 1)
			hit = v;
	pclose(p);
	cr_assert(hit, "%s has no %s@plt", elf, name);
	return hit;
}

static json_object *json_get(json_object *o, const char *key)
{
	json_object *x = NULL;

	cr_assert(json_object_object_get_ex(o, key, &x), "no key %s in JSON", key);
	return x;
}

/* ---- usage ---------------------------------------------------------------------------- */

Test(hppack, help_version_and_bad_usage)
{
	struct run r = run(HPPACK, "--help", NULL);
	const char *hpd = sample_hpd("gcc-O2", "body-change", "x.hpd");
	const char *old = SAMPLE("gcc-O2", "body-change", "old");

	expect_status(&r, 0, "--help");
	cr_expect(strstr(r.out, "usage: hppack --baseline FILE --seq N -o OUT.hpk"));
	cr_expect(strstr(r.out, "exit status: 0 package written; 1 refused; 2 trouble"));
	cr_expect_str_empty(r.err);
	tu_run_free(&r);
	r = run(HPPACK, "--version", NULL);
	expect_status(&r, 0, "--version");
	cr_expect_str_eq(r.out, "hppack 0.1.0\n");
	tu_run_free(&r);

	r = run(HPPACK, NULL);
	expect_status(&r, 2, "no arguments");
	expect_err(&r, "--baseline, --seq and -o are required");
	expect_err(&r, "Try 'hppack --help'");
	cr_expect_str_empty(r.out);
	tu_run_free(&r);
	r = run(HPPACK, "--baseline", old, "--seq", "1", "-o", tpath("x.hpk"), NULL);
	expect_status(&r, 2, "no .hpd");
	expect_err(&r, "no .hpd file given");
	tu_run_free(&r);
	r = run(HPPACK, "--baseline", old, "--seq", "0", "-o", tpath("x.hpk"), hpd, NULL);
	expect_status(&r, 2, "--seq 0");
	expect_err(&r, "--seq wants a positive number, not '0'");
	tu_run_free(&r);
	r = run(HPPACK, "--baseline", old, "--seq", "1", "-o", tpath("x.hpk"), "--key",
		pki_file("p256", ".key"), hpd, NULL);
	expect_status(&r, 2, "--key without --cert");
	expect_err(&r, "--key and --cert go together");
	tu_run_free(&r);
	r = run(HPPACK, "--inspect", tpath("x.hpk"), "--seq", "1", NULL);
	expect_status(&r, 2, "--inspect with --seq");
	expect_err(&r, "--inspect takes a package");
	tu_run_free(&r);
	r = run(HPPACK, "--baseline", old, "--seq", "1", "-o", tpath("x.hpk"), "--frobnicate", hpd,
		NULL);
	expect_status(&r, 2, "unknown option");
	expect_err(&r, "unknown option '--frobnicate'");
	tu_run_free(&r);
	expect_entries(tmp, 1); /* x.hpd only */
}

/* ---- the package's bytes -------------------------------------------------------------- */

Test(hppack, reproducible_with_source_date_epoch)
{
	const char *hpd = sample_hpd("gcc-O2", "body-change", "b.hpd");
	const char *old = SAMPLE("gcc-O2", "body-change", "old");
	struct run r =
		run(HPPACK, "--baseline", old, "--seq", "3", "-o", tpath("1.hpk"), hpd, NULL);
	char *a, *b;
	size_t alen, blen;
	struct pkg p;
	char when[32];

	expect_status(&r, 0, "first run");
	cr_expect_str_empty(r.out);
	cr_expect_str_empty(r.err);
	tu_run_free(&r);
	r = run(HPPACK, "-o", tpath("2.hpk"), hpd, "--seq", "3", "--baseline", old, NULL);
	expect_status(&r, 0, "second run");
	tu_run_free(&r);
	a = tu_read_ok(tpath("1.hpk"), &alen);
	b = tu_read_ok(tpath("2.hpk"), &blen);
	cr_expect(alen == blen && !memcmp(a, b, alen), "two runs gave different packages");
	free(b);

	/* the time is SOURCE_DATE_EPOCH's, in the manifest and in every member's header */
	pkg_open(&p, tpath("1.hpk"), NULL);
	cr_expect_eq(p.m->created, 1700000000);
	cr_expect_eq(p.k.mtime, 1700000000);
	hp_time_format(p.m->created, when, sizeof(when));
	cr_expect_str_eq(when, "2023-11-14T22:13:20Z");
	cr_expect_eq(p.m->sequence, 3);
	cr_expect_eq(p.m->min_sequence, 0);
	cr_expect(p.m->cumulative);
	cr_expect_str_eq(p.m->package_id, "old-3");
	cr_expect_str_eq(p.m->target_name, "old");
	cr_expect_str_eq(p.m->tools, "hpdiff 0.1.0, hppack 0.1.0");
	pkg_close(&p);

	/* another time: another package */
	setenv("SOURCE_DATE_EPOCH", "1700000001", 1);
	r = run(HPPACK, "--baseline", old, "--seq", "3", "-o", tpath("3.hpk"), hpd, NULL);
	expect_status(&r, 0, "third run");
	tu_run_free(&r);
	b = tu_read_ok(tpath("3.hpk"), &blen);
	cr_expect(alen != blen || memcmp(a, b, alen), "the creation time is not in the package");
	free(a);
	free(b);

	setenv("SOURCE_DATE_EPOCH", "yesterday", 1);
	r = run(HPPACK, "--baseline", old, "--seq", "3", "-o", tpath("4.hpk"), hpd, NULL);
	expect_status(&r, 2, "bad SOURCE_DATE_EPOCH");
	expect_err(&r, "SOURCE_DATE_EPOCH is not a number of seconds: 'yesterday'");
	cr_expect(!tu_exists(tpath("4.hpk")));
	tu_run_free(&r);
}

Test(hppack, argument_order_does_not_matter)
{
	const char *prog = fpath("scope/prog");
	struct run r = run(HPPACK, "--baseline", prog, "--seq", "1", "-o", tpath("1.hpk"),
			   fpath("scope/a.hpd"), fpath("scope/m.hpd"), NULL);
	char *a, *b;
	size_t alen, blen;
	struct pkg p;

	expect_status(&r, 0, "a m");
	tu_run_free(&r);
	r = run(HPPACK, fpath("scope/m.hpd"), "-o", tpath("2.hpk"), fpath("scope/a.hpd"), "--seq",
		"1", "--baseline", prog, NULL);
	expect_status(&r, 0, "m a");
	tu_run_free(&r);
	a = tu_read_ok(tpath("1.hpk"), &alen);
	b = tu_read_ok(tpath("2.hpk"), &blen);
	cr_expect(alen == blen && !memcmp(a, b, alen), "argument order changed the package");
	free(a);
	free(b);
	/* three functions from two objects, listed by address */
	pkg_open(&p, tpath("1.hpk"), prog);
	cr_assert_eq(p.m->nfuncs, 3);
	for (uint32_t i = 1; i < p.m->nfuncs; i++)
		cr_expect_gt(p.m->funcs[i].offset, p.m->funcs[i - 1].offset);
	cr_expect_eq(mfunc(&p, "main")->offset, elf_sym(prog, NULL, 0, "main"));
	cr_expect_eq(mfunc(&p, "report")->offset, elf_sym(prog, NULL, 0, "report"));
	pkg_close(&p);
}

Test(hppack, unsigned_package_members_and_verifier)
{
	const char *hpd = sample_hpd("gcc-O2", "bounds-check", "x.hpd");
	const char *old = SAMPLE("gcc-O2", "bounds-check", "old");
	struct run r =
		run(HPPACK, "--baseline", old, "--seq", "1", "-o", tpath("u.hpk"), hpd, NULL);
	struct pkg p;
	json_object *o;

	expect_status(&r, 0, "pack");
	tu_run_free(&r);
	pkg_open(&p, tpath("u.hpk"), old);
	cr_expect_null(p.k.sig, "an unsigned package has no MANIFEST.sig");
	cr_expect_eq(p.k.payload_len, p.m->payload_size);
	/* 512-byte header + data rounded up, per member, then two zero blocks */
	cr_expect_eq(p.len, 512 + (p.k.manifest_len + 511) / 512 * 512 + 512 +
				    (p.k.payload_len + 511) / 512 * 512 + 1024);
	pkg_close(&p);
	r = run("/bin/tar", "-tvf", tpath("u.hpk"), NULL);
	expect_status(&r, 0, "tar");
	cr_expect(strstr(r.out, "root/root"));
	cr_expect(strstr(r.out, " MANIFEST\n"));
	cr_expect(strstr(r.out, " payload.zst\n"));
	cr_expect_null(strstr(r.out, "MANIFEST.sig"));
	tu_run_free(&r);
	r = run("/bin/tar", "-tf", tpath("u.hpk"), NULL);
	cr_expect_str_eq(r.out, "MANIFEST\npayload.zst\n");
	tu_run_free(&r);

	r = run(HPSIGN, "--verify", tpath("u.hpk"), "--ca", pki_file("root", ".pem"), "--json",
		NULL);
	expect_status(&r, 1, "hpsign --verify of an unsigned package");
	o = json_tokener_parse(r.out);
	cr_assert(o, "not JSON: %s", r.out);
	cr_expect_str_eq(json_object_get_string(json_get(o, "class")), "signature");
	cr_expect(!json_object_get_boolean(json_get(o, "valid")));
	cr_expect_str_eq(json_object_get_string(json_get(o, "message")), "package is not signed");
	json_object_put(o);
	tu_run_free(&r);
}

Test(hppack, signed_package_verifies_against_its_target)
{
	const char *hpd = sample_hpd("gcc-O2", "body-change", "x.hpd");
	const char *old = SAMPLE("gcc-O2", "body-change", "old");
	struct run r = run(HPPACK, "--baseline", old, "--seq", "1", "-o", tpath("s.hpk"), "--key",
			   pki_file("p256", ".key"), "--cert", pki_file("p256", ".pem"), "--chain",
			   pki_file("p256", ".chain"), "-v", hpd, NULL);
	struct pkg p;
	char expired_msg[600];

	expect_status(&r, 0, "pack and sign");
	cr_expect(strstr(r.out, "s.hpk: old-1 for old"), "%s", r.out);
	cr_expect(strstr(r.out, "2 functions"), "%s", r.out);
	cr_expect(strstr(r.out, ", signed\n"), "%s", r.out);
	tu_run_free(&r);
	pkg_open(&p, tpath("s.hpk"), old);
	cr_expect_not_null(p.k.sig);
	cr_expect_gt(p.k.sig_len, 0);
	pkg_close(&p);
	r = run("/bin/tar", "-tf", tpath("s.hpk"), NULL);
	cr_expect_str_eq(r.out, "MANIFEST\nMANIFEST.sig\npayload.zst\n");
	tu_run_free(&r);

	r = run(HPSIGN, "--verify", tpath("s.hpk"), "--ca", pki_file("root", ".pem"), "--target",
		old, NULL);
	expect_status(&r, 0, "verify against the baseline");
	cr_expect(strstr(r.out, "s.hpk: valid"), "%s", r.out);
	cr_expect(strstr(r.out, "build-id, SHA-256, replaced bytes"), "%s", r.out);
	cr_expect(strstr(r.out, "replace   latwin_sum at 0x"), "%s", r.out);
	tu_run_free(&r);
	r = run(HPSIGN, "--verify", tpath("s.hpk"), "--ca", pki_file("root", ".pem"), "--target",
		SAMPLE("gcc-O2", "body-change", "new"), NULL);
	expect_status(&r, 1, "verify against the fixed build");
	expect_err(&r, "not valid (target)");
	tu_run_free(&r);

	/*
	 * A certificate a verifier would refuse is refused before anything is
	 * written: with its chain given, so expiry is the only thing wrong.
	 */
	snprintf(expired_msg, sizeof(expired_msg), "hppack: %s: certificate has expired\n",
		 pki_file("expired", ".pem"));
	r = run(HPPACK, "--baseline", old, "--seq", "1", "-o", tpath("e.hpk"), "--key",
		pki_file("expired", ".key"), "--cert", pki_file("expired", ".pem"), "--chain",
		pki_file("expired", ".chain"), hpd, NULL);
	expect_status(&r, 2, "expired signer");
	cr_expect_str_eq(r.err, expired_msg);
	cr_expect(!tu_exists(tpath("e.hpk")));
	tu_run_free(&r);

	/*
	 * Validity is checked at signing time, not at SOURCE_DATE_EPOCH: a
	 * reproducible build dated 2017, before the certificate existed, signs;
	 * one dated 2020, while the expired certificate was still valid, does not.
	 */
	setenv("SOURCE_DATE_EPOCH", "1500000000", 1);
	r = run(HPPACK, "--baseline", old, "--seq", "1", "-o", tpath("o.hpk"), "--key",
		pki_file("p256", ".key"), "--cert", pki_file("p256", ".pem"), "--chain",
		pki_file("p256", ".chain"), hpd, NULL);
	expect_status(&r, 0, "dated before the certificate's notBefore");
	tu_run_free(&r);
	setenv("SOURCE_DATE_EPOCH", "1590969600", 1);
	r = run(HPPACK, "--baseline", old, "--seq", "1", "-o", tpath("e.hpk"), "--key",
		pki_file("expired", ".key"), "--cert", pki_file("expired", ".pem"), "--chain",
		pki_file("expired", ".chain"), hpd, NULL);
	expect_status(&r, 2, "expired signer, dated while it was valid");
	cr_expect_str_eq(r.err, expired_msg);
	cr_expect(!tu_exists(tpath("e.hpk")));
	tu_run_free(&r);
}

Test(hppack, compression_is_the_smaller_of_zstd_and_zstd_against_the_baseline)
{
	const char *cases[][3] = {
		{SAMPLE("gcc-O2", "body-change", "old"), "body-change", "zstd+baseline"},
		{NULL, "hidden/h.hpd", "zstd"},
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const char *base = cases[i][0] ? cases[i][0] : fpath("hidden/old/libh.so");
		const char *hpd = cases[i][0] ? sample_hpd("gcc-O2", cases[i][1], "c.hpd")
					      : fpath(cases[i][1]);
		struct run r = run(HPPACK, "--baseline", base, "--seq", "1", "-o", tpath("c.hpk"),
				   hpd, NULL);
		struct pkg p;
		struct hp_error e;
		uint8_t *raw, *plain, *delta, *prefix;
		size_t raw_len, plain_len, delta_len, prefix_len = 0;
		struct hp_image img;
		char *file;
		size_t flen;

		expect_status(&r, 0, cases[i][1]);
		tu_run_free(&r);
		pkg_open(&p, tpath("c.hpk"), base);
		cr_expect_eq(p.m->compression,
			     strcmp(cases[i][2], "zstd") ? HP_COMP_ZSTD_BASELINE : HP_COMP_ZSTD,
			     "%s", cases[i][1]);
		/* both ways at level 19: the package has the smaller */
		cr_assert(hp_payload_encode(p.pl, &raw, &raw_len, &e) == 0);
		cr_expect_eq(raw_len, p.m->payload_raw_size);
		file = tu_read_ok(base, &flen);
		cr_assert(hp_image_parse((uint8_t *)file, flen, &img, &e) == 0);
		prefix = malloc(1 << 16);
		for (uint32_t k = 0; k < p.m->nfuncs; k++) {
			memcpy(prefix + prefix_len,
			       hp_image_bytes(&img, p.m->funcs[k].offset, p.m->funcs[k].size),
			       p.m->funcs[k].size);
			prefix_len += p.m->funcs[k].size;
		}
		cr_assert(hp_zstd_compress(raw, raw_len, NULL, 0, 19, &plain, &plain_len, &e) == 0);
		cr_assert(hp_zstd_compress(raw, raw_len, prefix, prefix_len, 19, &delta, &delta_len,
					   &e) == 0);
		cr_expect_eq(p.m->payload_size, delta_len < plain_len ? delta_len : plain_len,
			     "%s: %llu, plain %zu, against the baseline %zu", cases[i][1],
			     (unsigned long long)p.m->payload_size, plain_len, delta_len);
		free(raw);
		free(plain);
		free(delta);
		free(prefix);
		free(file);
		pkg_close(&p);
	}
}

Test(hppack, output_is_atomic)
{
	const char *hpd = sample_hpd("gcc-O2", "body-change", "x.hpd");
	struct run r;
	char *b;

	tu_write(tpath("out.hpk"), "previous contents\n", 18);
	r = run(HPPACK, "--baseline", SAMPLE("gcc-O2", "body-change", "new"), "--seq", "1", "-o",
		tpath("out.hpk"), hpd, NULL);
	expect_status(&r, 1, "refused");
	tu_run_free(&r);
	b = tu_read_ok(tpath("out.hpk"), NULL);
	cr_expect_str_eq(b, "previous contents\n", "a refused package replaced the output");
	free(b);
	expect_entries(tmp, 2);
	r = run(HPPACK, "--baseline", SAMPLE("gcc-O2", "body-change", "old"), "--seq", "1", "-o",
		tpath("no/such/dir/out.hpk"), hpd, NULL);
	expect_status(&r, 2, "output directory missing");
	expect_err(&r, "cannot create output");
	tu_run_free(&r);
	r = run(HPPACK, "--baseline", SAMPLE("gcc-O2", "body-change", "old"), "--seq", "1", "-o",
		tpath("out.hpk"), hpd, NULL);
	expect_status(&r, 0, "replaces the file");
	tu_run_free(&r);
	b = tu_read_ok(tpath("out.hpk"), NULL);
	cr_expect(!memcmp(b, "MANIFEST", 8));
	free(b);
	expect_entries(tmp, 2);
}

/* ---- provenance ----------------------------------------------------------------------- */

Test(hppack, provenance_refuses_the_fixed_program)
{
	const char *hpd = sample_hpd("gcc-O2", "body-change", "x.hpd");
	struct run r = run(HPPACK, "--baseline", SAMPLE("gcc-O2", "body-change", "new"), "--seq",
			   "1", "-o", tpath("x.hpk"), hpd, NULL);

	expect_status(&r, 1, "pack against NEW");
	expect_err(&r, "latwin_sum has 70 bytes in the object but 49 in");
	expect_err(&r, "latwin_avg has 75 bytes in the object but 59 in");
	expect_err(&r, "the objects were not built into this baseline");
	cr_expect(!tu_exists(tpath("x.hpk")));
	tu_run_free(&r);
}

Test(hppack, provenance_refuses_another_variants_program)
{
	const char *hpd = sample_hpd("gcc-O2", "body-change", "x.hpd");
	struct run r = run(HPPACK, "--baseline", SAMPLE("clang-O2", "body-change", "old"), "--seq",
			   "1", "-o", tpath("x.hpk"), hpd, NULL);

	expect_status(&r, 1, "clang's program");
	expect_err(&r, "x.hpd: latwin_sum has 70 bytes in the object but");
	expect_err(&r, "/clang-O2/body-change/old: the objects were not built into this baseline");
	tu_run_free(&r);
	r = run(HPPACK, "--baseline", SAMPLE("gcc-O2", "bounds-check", "old"), "--seq", "1", "-o",
		tpath("x.hpk"), hpd, NULL);
	expect_status(&r, 1, "another program");
	expect_err(&r, "x.hpd: latwin_sum is not in ");
	expect_err(&r, "bounds-check/old: the package is for another baseline");
	cr_expect(!tu_exists(tpath("x.hpk")));
	tu_run_free(&r);
}

/* Which byte of a function no relocation or relaxation can touch? */
static uint32_t unmasked_offset(const struct hp_func *f)
{
	for (uint32_t k = f->old_size; k-- > 0;) {
		bool near = false;

		for (uint32_t i = 0; i < f->nold_relocs; i++)
			near |= k + 16 >= f->old_relocs[i].offset &&
				k <= f->old_relocs[i].offset + 16;
		if (!near)
			return k;
	}
	cr_assert_fail("%s: no byte away from relocations", f->name);
	return 0;
}

Test(hppack, provenance_names_the_first_differing_byte_of_tampered_old_code)
{
	const char *hpd = sample_hpd("gcc-O2", "bounds-check", "x.hpd");
	const char *old = SAMPLE("gcc-O2", "bounds-check", "old");
	struct hp_hpd *h;
	struct hp_error e;
	uint8_t *buf, *out;
	size_t len, out_len;
	uint32_t at = 0;
	char want[256];
	struct run r;

	buf = (uint8_t *)tu_read_ok(hpd, &len);
	cr_assert(hp_hpd_decode(buf, len, &h, &e) == 0, "%s", e.what);
	free(buf);
	for (uint32_t i = 0; i < h->nfuncs; i++) {
		struct hp_func *f = &h->funcs[i];

		if (f->status != HP_FUNC_CHANGED || strcmp(f->base_name, "reqline_method"))
			continue;
		at = unmasked_offset(f);
		f->old_code[at] ^= 0x01; /* the code hpdiff says OLD had, one bit off */
	}
	cr_assert(hp_hpd_encode(h, &out, &out_len, &e) == 0, "%s", e.what);
	tu_write(tpath("tampered.hpd"), out, out_len);
	free(out);
	hp_hpd_free(h);
	r = run(HPPACK, "--baseline", old, "--seq", "1", "-o", tpath("x.hpk"),
		tpath("tampered.hpd"), NULL);
	expect_status(&r, 1, "tampered old code");
	snprintf(want, sizeof(want),
		 "tampered.hpd: reqline_method differs from %s's at +0x%x: the "
		 "objects were not built into this baseline",
		 old, at);
	expect_err(&r, want);
	cr_expect(!tu_exists(tpath("x.hpk")));
	tu_run_free(&r);
}

/* ---- inputs that make no package ------------------------------------------------------- */

Test(hppack, unpatchable_hpd_is_refused_with_its_reasons)
{
	const char *hpd = sample_hpd("gcc-O2", "changed-global-init", "g.hpd");
	const char *hpd2 = sample_hpd("gcc-O2", "struct-field", "s.hpd");
	struct run r = run(HPPACK, "--baseline", SAMPLE("gcc-O2", "changed-global-init", "old"),
			   "--seq", "1", "-o", tpath("x.hpk"), hpd, NULL);

	expect_status(&r, 1, "changed initial value");
	expect_err(&r, "g.hpd: max_conn: not hotpatchable: initial value changed");
	expect_err(&r, "g.hpd: new.o has changes that cannot be hotpatched");
	cr_expect(!tu_exists(tpath("x.hpk")));
	tu_run_free(&r);
	r = run(HPPACK, "--baseline", SAMPLE("gcc-O2", "struct-field", "old"), "--seq", "1", "-o",
		tpath("x.hpk"), hpd2, NULL);
	expect_status(&r, 1, "struct layout");
	expect_err(&r, "s.hpd: struct session: not hotpatchable: layout changed (size 72 -> 80");
	cr_expect(!tu_exists(tpath("x.hpk")));
	tu_run_free(&r);
}

Test(hppack, nothing_to_replace_and_the_same_object_twice)
{
	const char *old = SAMPLE("gcc-O2", "no-change", "old");
	const char *hpd = tpath("n.hpd");
	struct run r = run(HPDIFF, SAMPLE("gcc-O2", "no-change", "old.o"),
			   SAMPLE("gcc-O2", "no-change", "new.o"), "-o", hpd, NULL);

	expect_status(&r, 0, "hpdiff no-change");
	tu_run_free(&r);
	r = run(HPPACK, "--baseline", old, "--seq", "1", "-o", tpath("x.hpk"), hpd, NULL);
	expect_status(&r, 1, "nothing changed");
	expect_err(&r, "nothing to replace: the .hpd files hold no changed function");
	tu_run_free(&r);
	hpd = sample_hpd("gcc-O2", "body-change", "b.hpd");
	r = run(HPPACK, "--baseline", SAMPLE("gcc-O2", "body-change", "old"), "--seq", "1", "-o",
		tpath("x.hpk"), hpd, hpd, NULL);
	expect_status(&r, 1, "one object twice");
	expect_err(&r, "describe the same object (new.o)");
	cr_expect(!tu_exists(tpath("x.hpk")));
	tu_run_free(&r);
}

/*
 * Addends come from untrusted objects: a "new" function with the baseline's
 * name and bytes whose reference has an addend that overflows when the
 * field is recomputed is simply not the baseline's code (no signed overflow:
 * SANITIZE=1 runs catch one).
 */
Test(hppack, a_moved_function_with_an_overflowing_addend_is_refused)
{
	const char *old = SAMPLE("gcc-O2", "body-change", "old");
	uint64_t at = elf_sym(old, NULL, 0, "latwin_sum");
	struct hp_sym sym = {HP_SYM_UNDEF, HP_BIND_GLOBAL, HP_STYPE_FUNC, "latwin_avg"};
	struct hp_reloc rel = {1, R_X86_64_PLT32, HP_TGT_SYM, 0, INT64_MAX};
	struct hp_func f = {0};
	struct hp_hpd h = {0};
	struct hp_image img;
	struct hp_error e;
	const uint8_t *code;
	uint8_t *file, *out;
	size_t len, out_len;
	struct run r;

	file = (uint8_t *)tu_read_ok(old, &len);
	cr_assert(hp_image_parse(file, len, &img, &e) == 0, "%s", e.what);
	code = hp_image_bytes(&img, at, 70); /* latwin_sum's size in gcc-O2 */
	cr_assert(code);
	f.status = HP_FUNC_NEW;
	f.bind = HP_BIND_GLOBAL;
	f.align = 16;
	f.name = "latwin_sum";
	f.base_name = "";
	f.section = ".text";
	f.source = "";
	f.code = (uint8_t *)code;
	f.size = 70;
	f.relocs = &rel;
	f.nrelocs = 1;
	h.major = 1;
	h.minor = 1;
	h.machine = EM_X86_64;
	h.tool = "hpdiff 0.1.0";
	h.object = "body-change.o";
	h.source = "body-change.c";
	h.syms = &sym;
	h.nsyms = 1;
	h.funcs = &f;
	h.nfuncs = 1;
	cr_assert(hp_hpd_encode(&h, &out, &out_len, &e) == 0, "%s", e.what);
	tu_write(tpath("big.hpd"), out, out_len);
	free(out);
	free(file);
	r = run(HPPACK, "--baseline", old, "--seq", "1", "-o", tpath("x.hpk"), tpath("big.hpd"),
		NULL);
	expect_status(&r, 1, "an overflowing addend");
	expect_err(&r, "big.hpd: latwin_sum is new in body-change.o, but");
	expect_err(&r, "moved between objects and changed");
	cr_expect(!tu_exists(tpath("x.hpk")));
	tu_run_free(&r);
}

Test(hppack, malformed_hpd_is_trouble_and_leaves_nothing)
{
	const char *hpd = sample_hpd("gcc-O2", "body-change", "x.hpd");
	const char *old = SAMPLE("gcc-O2", "body-change", "old");
	char *b;
	size_t len;
	struct run r;

	b = tu_read_ok(hpd, &len);
	tu_write(tpath("trunc.hpd"), b, len / 2);
	b[len / 3] ^= 0x40;
	tu_write(tpath("flip.hpd"), b, len);
	tu_write(tpath("empty.hpd"), "", 0);
	free(b);
	mkdir(tpath("out"), 0755);
	r = run(HPPACK, "--baseline", old, "--seq", "1", "-o", tpath("out/x.hpk"),
		tpath("trunc.hpd"), NULL);
	expect_status(&r, 2, "truncated");
	expect_err(&r, "trunc.hpd: not a valid .hpd file: checksum");
	tu_run_free(&r);
	r = run(HPPACK, "--baseline", old, "--seq", "1", "-o", tpath("out/x.hpk"),
		tpath("flip.hpd"), NULL);
	expect_status(&r, 2, "flipped");
	expect_err(&r, "flip.hpd: not a valid .hpd file: checksum");
	tu_run_free(&r);
	r = run(HPPACK, "--baseline", old, "--seq", "1", "-o", tpath("out/x.hpk"), hpd,
		tpath("empty.hpd"), NULL);
	expect_status(&r, 2, "empty, after a good one");
	expect_err(&r, "empty.hpd: not a valid .hpd file");
	tu_run_free(&r);
	r = run(HPPACK, "--baseline", old, "--seq", "1", "-o", tpath("out/x.hpk"), old, NULL);
	expect_status(&r, 2, "a binary as .hpd");
	expect_err(&r, "/body-change/old: not a valid .hpd file");
	tu_run_free(&r);
	r = run(HPPACK, "--baseline", old, "--seq", "1", "-o", tpath("out/x.hpk"),
		tpath("none.hpd"), NULL);
	expect_status(&r, 2, "missing .hpd");
	expect_err(&r, "none.hpd: cannot open: No such file or directory");
	tu_run_free(&r);
	expect_entries(tpath("out"), 0);
}

Test(hppack, baseline_trouble)
{
	const char *hpd = sample_hpd("gcc-O2", "body-change", "x.hpd");
	const char *old = SAMPLE("gcc-O2", "body-change", "old");
	struct run r = run(HPPACK, "--baseline", tpath("nothere"), "--seq", "1", "-o",
			   tpath("x.hpk"), hpd, NULL);
	char cmd[1200];

	expect_status(&r, 2, "missing baseline");
	expect_err(&r, "nothere: cannot open: No such file or directory");
	tu_run_free(&r);
	r = run(HPPACK, "--baseline", hpd, "--seq", "1", "-o", tpath("x.hpk"), hpd, NULL);
	expect_status(&r, 2, "not ELF");
	expect_err(&r, "x.hpd: not an ELF file");
	tu_run_free(&r);
	r = run(HPPACK, "--baseline", SAMPLE("gcc-O2", "body-change", "old.o"), "--seq", "1", "-o",
		tpath("x.hpk"), hpd, NULL);
	expect_status(&r, 2, "an object file");
	expect_err(&r, "old.o: not an executable or shared library");
	tu_run_free(&r);
	snprintf(cmd, sizeof(cmd),
		 "strip --strip-all -o '%s' '%s' && objcopy --remove-section "
		 ".note.gnu.build-id '%s' '%s'",
		 tpath("stripped"), old, old, tpath("noid"));
	cr_assert(system(cmd) == 0);
	r = run(HPPACK, "--baseline", tpath("stripped"), "--seq", "1", "-o", tpath("x.hpk"), hpd,
		NULL);
	expect_status(&r, 2, "stripped");
	expect_err(&r, "stripped: no symbol table; give the unstripped binary or its debug file "
		       "with --baseline-symbols");
	tu_run_free(&r);
	r = run(HPPACK, "--baseline", tpath("noid"), "--seq", "1", "-o", tpath("x.hpk"), hpd, NULL);
	expect_status(&r, 2, "no build-id");
	expect_err(&r, "noid: the binary has no build-id");
	tu_run_free(&r);
	/* e_machine 183, AArch64: a machine the tools do not support (yet) */
	snprintf(cmd, sizeof(cmd),
		 "cp '%s' '%s' && printf '\\267\\000' | dd of='%s' bs=1 seek=18 conv=notrunc "
		 "status=none",
		 old, tpath("aarch64"), tpath("aarch64"));
	cr_assert(system(cmd) == 0);
	r = run(HPPACK, "--baseline", tpath("aarch64"), "--seq", "1", "-o", tpath("x.hpk"), hpd,
		NULL);
	expect_status(&r, 2, "another machine");
	expect_err(&r, "aarch64: not a binary for a machine hppack supports (e_machine 183)");
	tu_run_free(&r);
	cr_expect(!tu_exists(tpath("x.hpk")));
}

/*
 * A stripped baseline and `objcopy --only-keep-debug`'s symbol file give the
 * package of the unstripped baseline except for target-sha256: the package
 * names the file that runs, and the stripped file is another file.
 */
Test(hppack, baseline_symbols_from_a_debug_file)
{
	const char *hpd = sample_hpd("gcc-O2", "body-change", "x.hpd");
	const char *old = SAMPLE("gcc-O2", "body-change", "old");
	char cmd[1200];
	struct run r;
	struct pkg a, b;
	char *ma, *mb, *line;

	mkdir(tpath("s"), 0755);
	snprintf(cmd, sizeof(cmd),
		 "strip --strip-all -o '%s' '%s' && objcopy --only-keep-debug '%s' '%s' && "
		 "objcopy --only-keep-debug '%s' '%s'",
		 tpath("s/old"), old, old, tpath("old.debug"),
		 SAMPLE("gcc-O2", "bounds-check", "old"), tpath("other.debug"));
	cr_assert(system(cmd) == 0);
	r = run(HPPACK, "--baseline", old, "--seq", "1", "-o", tpath("full.hpk"), hpd, NULL);
	expect_status(&r, 0, "unstripped");
	tu_run_free(&r);
	r = run(HPPACK, "--baseline", tpath("s/old"), "--baseline-symbols", tpath("old.debug"),
		"--seq", "1", "-o", tpath("split.hpk"), hpd, NULL);
	expect_status(&r, 0, "stripped + debug file");
	cr_expect_str_empty(r.err);
	tu_run_free(&r);

	pkg_open(&a, tpath("full.hpk"), old);
	pkg_open(&b, tpath("split.hpk"), tpath("s/old"));
	cr_expect(a.k.payload_len == b.k.payload_len &&
		  !memcmp(a.k.payload, b.k.payload, a.k.payload_len));
	cr_expect(a.m->build_id_len == b.m->build_id_len &&
		  !memcmp(a.m->build_id, b.m->build_id, a.m->build_id_len));
	cr_expect(memcmp(a.m->target_sha256, b.m->target_sha256, 32));
	/* the manifests differ in the target-sha256 line only */
	ma = strndup((const char *)a.k.manifest, a.k.manifest_len);
	mb = strndup((const char *)b.k.manifest, b.k.manifest_len);
	cr_expect_eq(strlen(ma), strlen(mb));
	line = strstr(ma, "target-sha256: ");
	cr_assert(line);
	memcpy(line + 15, strstr(mb, "target-sha256: ") + 15, 64);
	cr_expect_str_eq(ma, mb);
	free(ma);
	free(mb);
	pkg_close(&a);
	pkg_close(&b);

	r = run(HPPACK, "--baseline", tpath("s/old"), "--baseline-symbols", tpath("other.debug"),
		"--seq", "1", "-o", tpath("x.hpk"), hpd, NULL);
	expect_status(&r, 2, "another build's debug file");
	expect_err(&r, "other.debug: build-id differs from");
	expect_err(&r, "not its symbol file");
	cr_expect(!tu_exists(tpath("x.hpk")));
	tu_run_free(&r);
}

Test(hppack, manifest_values_from_the_command_line)
{
	const char *hpd = sample_hpd("gcc-O2", "body-change", "x.hpd");
	const char *old = SAMPLE("gcc-O2", "body-change", "old");
	struct run r = run(HPPACK, "--baseline", old, "--seq", "7", "--min-seq", "5", "--expires",
			   "2031-02-03T04:05:06Z", "--id", "web-2024.06_1+x", "--fixes",
			   "CVE-2024-1234, CVE-2024-5678", "-o", tpath("x.hpk"), hpd, NULL);
	struct pkg p;
	char cmd[1200];

	expect_status(&r, 0, "all options");
	tu_run_free(&r);
	pkg_open(&p, tpath("x.hpk"), NULL);
	cr_expect_str_eq(p.m->package_id, "web-2024.06_1+x");
	cr_expect_eq(p.m->sequence, 7);
	cr_expect_eq(p.m->min_sequence, 5);
	cr_expect(p.m->has_expires);
	cr_expect_eq(p.m->expires, 1927857906);
	cr_expect_str_eq(p.m->fixes, "CVE-2024-1234, CVE-2024-5678");
	pkg_close(&p);

	r = run(HPPACK, "--baseline", old, "--seq", "1", "--id", "bad id", "-o", tpath("y.hpk"),
		hpd, NULL);
	expect_status(&r, 2, "bad --id");
	expect_err(&r, "--id 'bad id': a package id is letters, digits");
	tu_run_free(&r);
	r = run(HPPACK, "--baseline", old, "--seq", "1", "--fixes", "tab\there", "-o",
		tpath("y.hpk"), hpd, NULL);
	expect_status(&r, 2, "bad --fixes");
	expect_err(&r, "--fixes: one line of printable UTF-8 text");
	tu_run_free(&r);
	snprintf(cmd, sizeof(cmd), "cp '%s' '%s'", old, tpath("we~ird"));
	cr_assert(system(cmd) == 0);
	r = run(HPPACK, "--baseline", tpath("we~ird"), "--seq", "1", "-o", tpath("y.hpk"), hpd,
		NULL);
	expect_status(&r, 2, "baseline file name");
	expect_err(&r, "the file name 'we~ird' cannot name the target");
	tu_run_free(&r);
	cr_expect(!tu_exists(tpath("y.hpk")));
}

Test(hppack, min_seq_and_expires_are_checked)
{
	const char *hpd = sample_hpd("gcc-O2", "body-change", "x.hpd");
	const char *old = SAMPLE("gcc-O2", "body-change", "old");
	struct run r = run(HPPACK, "--baseline", old, "--seq", "2", "--min-seq", "3", "-o",
			   tpath("x.hpk"), hpd, NULL);

	expect_status(&r, 2, "--min-seq above --seq");
	expect_err(&r, "--min-seq is above --seq");
	tu_run_free(&r);
	/* SOURCE_DATE_EPOCH is 2023-11-14T22:13:20Z */
	r = run(HPPACK, "--baseline", old, "--seq", "2", "--expires", "2023-11-14T22:13:20Z", "-o",
		tpath("x.hpk"), hpd, NULL);
	expect_status(&r, 2, "expires at creation");
	expect_err(&r, "--expires is not after the creation time");
	tu_run_free(&r);
	unsetenv("SOURCE_DATE_EPOCH");
	r = run(HPPACK, "--baseline", old, "--seq", "2", "--expires", "2021-01-01T00:00:00Z", "-o",
		tpath("x.hpk"), hpd, NULL);
	expect_status(&r, 2, "expired now");
	expect_err(&r, "--expires is not after the creation time");
	tu_run_free(&r);
	const char *bad[] = {"2027-02-30T00:00:00Z", "2027-05-01", "2027-05-01T00:00:00+02:00",
			     "tomorrow", "2027-5-1T00:00:00Z"};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		char want[128];

		r = run(HPPACK, "--baseline", old, "--seq", "2", "--expires", bad[i], "-o",
			tpath("x.hpk"), hpd, NULL);
		expect_status(&r, 2, bad[i]);
		snprintf(want, sizeof(want),
			 "--expires wants a UTC time like 2027-05-01T00:00:00Z, "
			 "not '%s'",
			 bad[i]);
		expect_err(&r, want);
		tu_run_free(&r);
	}
	cr_expect(!tu_exists(tpath("x.hpk")));
}

/* ---- sequences and cumulative packages ------------------------------------------------ */

static void pack_ok(const char *out, const char *seq, const char *previous, const char *hpd1,
		    const char *hpd2)
{
	struct run r = previous ? run(HPPACK, "--baseline", fpath("scope/prog"), "--seq", seq,
				      "--previous", previous, "-o", out, hpd1, hpd2, NULL)
				: run(HPPACK, "--baseline", fpath("scope/prog"), "--seq", seq, "-o",
				      out, hpd1, hpd2, NULL);

	expect_status(&r, 0, out);
	tu_run_free(&r);
}

Test(hppack, previous_package_sequence_and_cumulative)
{
	const char *a = fpath("scope/a.hpd"), *m = fpath("scope/m.hpd");
	const char *prog = fpath("scope/prog");
	struct run r;
	struct pkg p;

	pack_ok(tpath("1.hpk"), "1", NULL, a, NULL);
	/* cumulative: sequence 2 holds the fix of 1 and a new one */
	pack_ok(tpath("2.hpk"), "2", tpath("1.hpk"), a, m);
	pkg_open(&p, tpath("2.hpk"), prog);
	cr_expect_eq(p.m->nfuncs, 3);
	cr_expect(p.m->cumulative);
	pkg_close(&p);

	r = run(HPPACK, "--baseline", prog, "--seq", "2", "--previous", tpath("2.hpk"), "-o",
		tpath("x.hpk"), a, m, NULL);
	expect_status(&r, 1, "same sequence");
	expect_err(&r, "sequence 2 is not newer than ");
	expect_err(&r, "2.hpk's 2");
	tu_run_free(&r);
	r = run(HPPACK, "--baseline", prog, "--seq", "1", "--previous", tpath("2.hpk"), "-o",
		tpath("x.hpk"), a, m, NULL);
	expect_status(&r, 1, "older sequence");
	expect_err(&r, "sequence 1 is not newer than ");
	tu_run_free(&r);

	/* dropping a function the previous package fixed */
	r = run(HPPACK, "--baseline", prog, "--seq", "3", "--previous", tpath("2.hpk"), "-o",
		tpath("x.hpk"), m, NULL);
	expect_status(&r, 1, "drops step");
	expect_err(&r, "2.hpk replaced step, which this package does not: a package holds every "
		       "fix since the baseline");
	tu_run_free(&r);

	/* min-sequence only goes up */
	pack_ok(tpath("3.hpk"), "3", tpath("2.hpk"), a, m);
	r = run(HPPACK, "--baseline", prog, "--seq", "4", "--min-seq", "2", "--previous",
		tpath("3.hpk"), "-o", tpath("4.hpk"), a, m, NULL);
	expect_status(&r, 0, "raise min-seq");
	tu_run_free(&r);
	r = run(HPPACK, "--baseline", prog, "--seq", "5", "--min-seq", "1", "--previous",
		tpath("4.hpk"), "-o", tpath("x.hpk"), a, m, NULL);
	expect_status(&r, 1, "lower min-seq");
	expect_err(&r, "min-sequence 1 is below ");
	expect_err(&r, "4.hpk's 2");
	tu_run_free(&r);
	cr_expect(!tu_exists(tpath("x.hpk")));
}

Test(hppack, previous_package_of_another_baseline_or_not_a_package)
{
	const char *hpd = sample_hpd("gcc-O2", "body-change", "b.hpd");
	struct run r = run(HPPACK, "--baseline", fpath("scope/prog"), "--seq", "1", "-o",
			   tpath("scope.hpk"), fpath("scope/a.hpd"), NULL);

	expect_status(&r, 0, "scope");
	tu_run_free(&r);
	r = run(HPPACK, "--baseline", SAMPLE("gcc-O2", "body-change", "old"), "--seq", "2",
		"--previous", tpath("scope.hpk"), "-o", tpath("x.hpk"), hpd, NULL);
	expect_status(&r, 1, "another baseline");
	expect_err(&r, "scope.hpk: the previous package is for another baseline");
	tu_run_free(&r);
	r = run(HPPACK, "--baseline", SAMPLE("gcc-O2", "body-change", "old"), "--seq", "2",
		"--previous", hpd, "-o", tpath("x.hpk"), hpd, NULL);
	expect_status(&r, 2, "not a package");
	expect_err(&r, "b.hpd: not a valid package");
	tu_run_free(&r);
	r = run(HPPACK, "--baseline", SAMPLE("gcc-O2", "body-change", "old"), "--seq", "2",
		"--previous", tpath("none.hpk"), "-o", tpath("x.hpk"), hpd, NULL);
	expect_status(&r, 2, "no such package");
	expect_err(&r, "none.hpk: cannot open");
	tu_run_free(&r);
	cr_expect(!tu_exists(tpath("x.hpk")));
}

/* ---- resolution ----------------------------------------------------------------------- */

Test(hppack, thread_locals_of_pic_code_are_refused)
{
	const char *hpd = sample_hpd("gcc-O2-pic", "tls-errno", "t.hpd");
	struct run r = run(HPPACK, "--baseline", SAMPLE("gcc-O2-pic", "tls-errno", "old"), "--seq",
			   "1", "-o", tpath("x.hpk"), hpd, NULL);

	expect_status(&r, 1, "local dynamic TLS");
	expect_err(&r, "t.hpd: thread-local last_error is accessed with the general or local "
		       "dynamic model (code built with -fPIC); only executables' local and initial "
		       "exec accesses can be hotpatched");
	cr_expect(!tu_exists(tpath("x.hpk")));
	tu_run_free(&r);
}

/* PT_TLS's memsz and alignment, from readelf -lW. */
static void tls_segment(const char *elf, uint64_t *memsz, uint64_t *align)
{
	char cmd[600], line[512];
	unsigned long long off, va, pa, fs, ms, al;
	bool found = false;
	FILE *p;

	snprintf(cmd, sizeof(cmd), "readelf -lW '%s'", elf);
	p = popen(cmd, "r");
	cr_assert(p);
	while (fgets(line, sizeof(line), p))
		if (sscanf(line, " TLS 0x%llx 0x%llx 0x%llx 0x%llx 0x%llx %*s 0x%llx", &off, &va,
			   &pa, &fs, &ms, &al) == 6) {
			*memsz = ms;
			*align = al;
			found = true;
		}
	pclose(p);
	cr_assert(found, "%s has no PT_TLS", elf);
}

Test(hppack, thread_locals_of_executables_are_thread_pointer_offsets)
{
	const char *old = SAMPLE("gcc-O2", "tls-errno", "old");
	const char *hpd = sample_hpd("gcc-O2", "tls-errno", "t.hpd");
	struct run r =
		run(HPPACK, "--baseline", old, "--seq", "1", "-o", tpath("t.hpk"), hpd, NULL);
	const struct hp_pcode *c;
	struct pkg p;
	uint64_t memsz, align, value;
	int64_t tpoff;
	char fs[64];
	int found = 0;

	expect_status(&r, 0, "local exec TLS");
	tu_run_free(&r);
	pkg_open(&p, tpath("t.hpk"), old);
	c = replacement(&p, "np_parse_port");
	tls_segment(old, &memsz, &align);
	value = elf_sym(old, "tls-errno.c", 1, "last_error");
	tpoff = (int64_t)value - (int64_t)((memsz + align - 1) & ~(align - 1));
	for (uint32_t i = 0; i < c->nrelocs; i++) {
		if (c->relocs[i].type != R_X86_64_TPOFF32)
			continue;
		cr_expect_eq(c->relocs[i].target, HP_PT_CONST);
		cr_expect_eq(c->relocs[i].target_off, tpoff);
		found++;
	}
	cr_expect_eq(found, 1);
	pkg_close(&p);
	/* the linker's own code uses the same offset */
	snprintf(fs, sizeof(fs), "%%fs:0x%llx", (unsigned long long)(uint64_t)tpoff);
	r = run("/usr/bin/objdump", "-d", old, NULL);
	cr_expect(strstr(r.out, fs), "the baseline never uses %s", fs);
	tu_run_free(&r);
}

/* hpd with symbol `name` of a tls-errno fix given type `type`, into tmp/NAME.hpd */
static const char *retyped_hpd(const char *hpd, const char *name, uint8_t type)
{
	char file[64];
	struct hp_hpd *h;
	struct hp_error e;
	uint8_t *buf, *out;
	size_t len, out_len;
	bool found = false;

	buf = (uint8_t *)tu_read_ok(hpd, &len);
	cr_assert(hp_hpd_decode(buf, len, &h, &e) == 0, "%s", e.what);
	free(buf);
	for (uint32_t i = 0; i < h->nsyms; i++)
		if (!strcmp(h->syms[i].name, name)) {
			h->syms[i].type = type;
			found = true;
		}
	cr_assert(found, "no symbol %s in %s", name, hpd);
	cr_assert(hp_hpd_encode(h, &out, &out_len, &e) == 0, "%s", e.what);
	snprintf(file, sizeof(file), "%s.hpd", name);
	tu_write(tpath(file), out, out_len);
	free(out);
	hp_hpd_free(h);
	return tpath(file);
}

/* A symbol thread-local on one side only, whatever the relocation's type. */
Test(hppack, thread_local_in_the_object_or_the_baseline_only)
{
	const char *old = SAMPLE("gcc-O2", "tls-errno", "old");
	const char *hpd = sample_hpd("gcc-O2", "tls-errno", "t.hpd");
	char want[600];
	struct run r;

	r = run(HPPACK, "--baseline", old, "--seq", "1", "-o", tpath("t.hpk"),
		retyped_hpd(hpd, "last_error", HP_STYPE_OBJECT), NULL);
	expect_status(&r, 1, "a thread-local of the baseline, not of the object");
	snprintf(want, sizeof(want),
		 "last_error.hpd: last_error is thread-local in %s but not in the object", old);
	expect_err(&r, want);
	tu_run_free(&r);
	r = run(HPPACK, "--baseline", old, "--seq", "1", "-o", tpath("t.hpk"),
		retyped_hpd(hpd, "parse_uint", HP_STYPE_TLS), NULL);
	expect_status(&r, 1, "a thread-local of the object, not of the baseline");
	snprintf(want, sizeof(want),
		 "parse_uint.hpd: parse_uint is thread-local in the object but not in %s", old);
	expect_err(&r, want);
	cr_expect(!tu_exists(tpath("t.hpk")));
	tu_run_free(&r);
}

Test(hppack, inspect_text)
{
	const char *old = SAMPLE("gcc-O2", "body-change", "old");
	const char *hpd = sample_hpd("gcc-O2", "body-change", "x.hpd");
	struct run r = run(HPPACK, "--baseline", old, "--seq", "4", "--min-seq", "2", "--fixes",
			   "CVE-2024-0001", "-o", tpath("x.hpk"), hpd, NULL);
	struct pkg p;
	char want[300], hex[129];

	expect_status(&r, 0, "pack");
	tu_run_free(&r);
	pkg_open(&p, tpath("x.hpk"), old);
	r = run(HPPACK, "--inspect", tpath("x.hpk"), "--baseline", old, NULL);
	expect_status(&r, 0, "--inspect");
	cr_expect_str_empty(r.err);
	snprintf(want, sizeof(want), "package old-4 (unsigned), %zu bytes\n", p.len);
	cr_expect(strstr(r.out, want), "%s", r.out);
	hp_hex(p.m->build_id, p.m->build_id_len, hex);
	snprintf(want, sizeof(want), "  target      old, build-id %s\n", hex);
	cr_expect(strstr(r.out, want), "%s", r.out);
	cr_expect(strstr(r.out, "  sequence    4 (min-sequence 2), created 2023-11-14T22:13:20Z\n"),
		  "%s", r.out);
	cr_expect(strstr(r.out, "  fixes       CVE-2024-0001\n"), "%s", r.out);
	snprintf(want, sizeof(want),
		 "  replaces    latwin_sum at baseline+0x%llx, 70 bytes -> %u bytes\n",
		 (unsigned long long)elf_sym(old, NULL, 0, "latwin_sum"),
		 replacement(&p, "latwin_sum")->size);
	cr_expect(strstr(r.out, want), "want %s in\n%s", want, r.out);
	cr_expect(strstr(r.out, "  replaces    latwin_avg at baseline+0x"), "%s", r.out);
	tu_run_free(&r);
	pkg_close(&p);
	/* without the baseline, a payload compressed against it stays closed */
	r = run(HPPACK, "--inspect", tpath("x.hpk"), NULL);
	expect_status(&r, 0, "--inspect without --baseline");
	cr_expect(strstr(r.out, "(payload not opened: compressed against the baseline: give "
				"--baseline FILE)"),
		  "%s", r.out);
	tu_run_free(&r);
	r = run(HPPACK, "--inspect", tpath("x.hpk"), "--baseline",
		SAMPLE("gcc-O2", "bounds-check", "old"), NULL);
	expect_status(&r, 2, "--inspect with the wrong baseline");
	expect_err(&r, "latwin_sum's bytes differ from the package's baseline: wrong --baseline");
	tu_run_free(&r);
	r = run(HPPACK, "--inspect", hpd, NULL);
	expect_status(&r, 2, "--inspect of a .hpd");
	expect_err(&r, "x.hpd: not a valid package");
	tu_run_free(&r);
}

/* A package whose payload replaces fewer (or more) functions than MANIFEST lists. */
static void write_mismatched(const char *path, uint32_t nfuncs, uint32_t nreplaced)
{
	struct hk_spec s;
	uint8_t *raw, *pkg;
	size_t rlen, len;

	hk_spec_default(&s);
	s.m.nfuncs = nfuncs;
	for (uint32_t i = 0; i < nfuncs; i++) {
		s.funcs[i].offset = 0x1000 + 0x100 * i;
		s.funcs[i].size = 16;
		snprintf(s.names[i], sizeof(s.names[i]), "f%u", i);
	}
	raw = hk_payload_bytes(nreplaced, &rlen);
	s.raw = raw;
	s.raw_len = rlen;
	pkg = hk_package(&s, &len);
	tu_write(path, pkg, len);
	free(pkg);
	free(raw);
}

Test(hppack, inspect_refuses_payload_not_matching_manifest)
{
	static const uint32_t shapes[][2] = {{4, 1}, {1, 2}};
	static const char *const formats[] = {NULL, "--json"};

	for (size_t i = 0; i < sizeof(shapes) / sizeof(shapes[0]); i++) {
		char want[200];

		write_mismatched(tpath("bad.hpk"), shapes[i][0], shapes[i][1]);
		snprintf(want, sizeof(want),
			 "bad.hpk: not a valid package: payload replaces %u functions, MANIFEST "
			 "lists %u",
			 shapes[i][1], shapes[i][0]);
		for (size_t j = 0; j < 2; j++) {
			struct run r = run(HPPACK, "--inspect", tpath("bad.hpk"), formats[j], NULL);

			expect_status(&r, 2, "--inspect of a payload not matching MANIFEST");
			expect_err(&r, want);
			cr_expect_str_empty(r.out);
			tu_run_free(&r);
		}
	}
}

Test(hppack, inspect_json_and_imports_kept_as_imports)
{
	const char *old = SAMPLE("gcc-O2", "new-libc-call", "old");
	const char *hpd = sample_hpd("gcc-O2", "new-libc-call", "x.hpd");
	struct run r =
		run(HPPACK, "--baseline", old, "--seq", "1", "-o", tpath("x.hpk"), hpd, NULL);
	json_object *o, *f, *refs, *x;
	struct pkg p;
	char hex[129];
	bool strnlen_ref = false;

	expect_status(&r, 0, "pack");
	tu_run_free(&r);
	pkg_open(&p, tpath("x.hpk"), old);
	r = run(HPPACK, "--inspect", tpath("x.hpk"), "--baseline", old, "--json", NULL);
	expect_status(&r, 0, "--inspect --json");
	o = json_tokener_parse(r.out);
	cr_assert(o, "not JSON: %s", r.out);
	cr_expect_str_eq(json_object_get_string(json_get(o, "target")), "old");
	hp_hex(p.m->build_id, p.m->build_id_len, hex);
	cr_expect_str_eq(json_object_get_string(json_get(o, "build_id")), hex);
	hp_hex(p.m->target_sha256, 32, hex);
	cr_expect_str_eq(json_object_get_string(json_get(o, "target_sha256")), hex);
	cr_expect_eq(json_object_get_int64(json_get(o, "sequence")), 1);
	cr_expect_eq(json_object_get_int64(json_get(o, "package_size")), (int64_t)p.len);
	cr_expect(!json_object_get_boolean(json_get(o, "signed")));
	cr_assert_eq(json_object_array_length(json_get(o, "functions")), 1);
	f = json_object_array_get_idx(json_get(o, "functions"), 0);
	cr_expect_str_eq(json_object_get_string(json_get(f, "name")), "apikey_check");
	cr_expect_eq(json_object_get_int64(json_get(f, "baseline_offset")),
		     (int64_t)elf_sym(old, NULL, 0, "apikey_check"));
	cr_expect_eq(json_object_get_int64(json_get(f, "old_size")), 22);
	cr_expect_eq(json_object_get_int64(json_get(f, "new_size")),
		     replacement(&p, "apikey_check")->size);
	refs = json_get(f, "references");
	for (size_t i = 0; i < json_object_array_length(refs); i++) {
		x = json_object_array_get_idx(refs, i);
		if (strcmp(json_object_get_string(json_get(x, "target")), "import strnlen"))
			continue;
		cr_expect_str_eq(json_object_get_string(json_get(x, "type")), "R_X86_64_PLT32");
		strnlen_ref = true;
	}
	cr_expect(strnlen_ref, "strnlen is not imported: %s", r.out);
	/* the baseline has no strnlen@plt: the loader resolves it in the process */
	x = json_get(o, "imports");
	cr_assert_eq(json_object_array_length(x), 1);
	cr_expect_str_eq(json_object_get_string(json_object_array_get_idx(x, 0)), "strnlen");
	json_object_put(o);
	tu_run_free(&r);
	pkg_close(&p);
}

Test(hppack, imports_through_the_baselines_plt)
{
	const char *old = fpath("plt/old");
	struct run r = run(HPPACK, "--baseline", old, "--seq", "1", "-o", tpath("x.hpk"),
			   fpath("plt/nlc.hpd"), NULL);
	json_object *o, *refs, *x;
	char want[64];
	bool found = false;

	expect_status(&r, 0, "pack");
	tu_run_free(&r);
	r = run(HPPACK, "--inspect", tpath("x.hpk"), "--baseline", old, "--json", NULL);
	expect_status(&r, 0, "--inspect --json");
	o = json_tokener_parse(r.out);
	cr_assert(o, "not JSON: %s", r.out);
	snprintf(want, sizeof(want), "baseline+0x%llx",
		 (unsigned long long)plt_entry(old, "strnlen"));
	refs = json_get(json_object_array_get_idx(json_get(o, "functions"), 0), "references");
	for (size_t i = 0; i < json_object_array_length(refs); i++) {
		x = json_object_array_get_idx(refs, i);
		found |= !strcmp(json_object_get_string(json_get(x, "target")), want);
		cr_expect(strncmp(json_object_get_string(json_get(x, "target")), "import ", 7));
	}
	cr_expect(found, "no reference to strnlen@plt (%s): %s", want, r.out);
	cr_expect_eq(json_object_array_length(json_get(o, "imports")), 0);
	json_object_put(o);
	tu_run_free(&r);
}

Test(hppack, file_local_symbols_resolve_in_their_own_file)
{
	/* prog = main.o b/util.o a/util.o: two groups named util.c, a's second */
	const char *prog = fpath("scope/prog");
	struct run r = run(HPPACK, "--baseline", prog, "--seq", "1", "-o", tpath("x.hpk"),
			   fpath("scope/a.hpd"), NULL);
	const struct hp_pcode *c;
	struct pkg p;
	uint64_t a_hits = elf_sym(prog, "util.c", 2, "hits");
	uint64_t b_hits = elf_sym(prog, "util.c", 1, "hits");

	expect_status(&r, 0, "pack");
	tu_run_free(&r);
	cr_assert_neq(a_hits, b_hits);
	pkg_open(&p, tpath("x.hpk"), prog);
	cr_assert_eq(p.m->nfuncs, 1);
	/* the replaced step is a's (found by its code), not b's */
	cr_expect_eq(p.m->funcs[0].offset, elf_sym(prog, "util.c", 2, "step"));
	cr_expect_neq(p.m->funcs[0].offset, elf_sym(prog, "util.c", 1, "step"));
	c = replacement(&p, "step");
	cr_assert_gt(c->nrelocs, 0);
	for (uint32_t i = 0; i < c->nrelocs; i++) {
		cr_expect_eq(c->relocs[i].target, HP_PT_IMAGE);
		cr_expect_eq((uint64_t)c->relocs[i].target_off, a_hits, "hits resolved to 0x%llx",
			     (unsigned long long)c->relocs[i].target_off);
	}
	pkg_close(&p);
}

Test(hppack, a_file_local_symbol_in_two_same_named_files_is_ambiguous)
{
	/* g.hpd changes the global a_run, which calls the static step: which util.c? */
	struct run r = run(HPPACK, "--baseline", fpath("scope/prog"), "--seq", "1", "-o",
			   tpath("x.hpk"), fpath("scope/g.hpd"), NULL);

	expect_status(&r, 1, "ambiguous");
	expect_err(&r, "g.hpd: step of util.c is ambiguous in ");
	expect_err(&r, "scope/prog: 2 source files of that name");
	cr_expect(!tu_exists(tpath("x.hpk")));
	tu_run_free(&r);
}

/*
 * A moved function that calls a static of its own file, which has a
 * namesake in the other util.c: only the input's group (from the static it
 * replaces) tells them apart, and it is known before moved functions are
 * tested.  a.hpd fixes a's step; here a_run is also "new" in a/util.o, with
 * the baseline's bytes, as if moved there unchanged: bound, not refused.
 */
Test(hppack, a_moved_function_calling_a_static_of_a_same_named_file)
{
	const char *prog = fpath("scope/prog");
	uint64_t step = elf_sym(prog, "util.c", 2, "step");
	struct hk_target t;
	struct hk_spec s;
	struct hp_hpd *h;
	struct hp_func *f;
	struct hp_error e;
	const uint8_t *code;
	uint8_t *buf, *out;
	size_t len, out_len;
	uint32_t call = 0;
	struct run r;

	hk_target_load(&t, prog);
	hk_spec_default(&s);
	hk_bind(&s, &t, prog, 0, "a_run");
	code = hp_image_bytes(&t.img, s.funcs[0].offset, s.funcs[0].size);
	for (uint32_t k = 0; k + 5 <= s.funcs[0].size && !call; k++) {
		int32_t rel;

		memcpy(&rel, code + k + 1, 4);
		if (code[k] == 0xe8 && s.funcs[0].offset + k + 5 + (int64_t)rel == step)
			call = k + 1;
	}
	cr_assert(call, "a_run does not call a's step");
	buf = (uint8_t *)tu_read_ok(fpath("scope/a.hpd"), &len);
	cr_assert(hp_hpd_decode(buf, len, &h, &e) == 0, "%s", e.what);
	free(buf);
	h->syms = realloc(h->syms, (h->nsyms + 1) * sizeof(*h->syms));
	h->syms[h->nsyms] =
		(struct hp_sym){HP_SYM_BASE, HP_BIND_LOCAL, HP_STYPE_FUNC, strdup("step")};
	h->funcs = realloc(h->funcs, (h->nfuncs + 1) * sizeof(*h->funcs));
	f = &h->funcs[h->nfuncs++];
	memset(f, 0, sizeof(*f));
	f->status = HP_FUNC_NEW;
	f->bind = HP_BIND_GLOBAL;
	f->align = 16;
	f->name = strdup("a_run");
	f->base_name = strdup("");
	f->section = strdup(".text");
	f->source = strdup("");
	f->size = s.funcs[0].size;
	f->code = malloc(f->size);
	memcpy(f->code, code, f->size);
	f->nrelocs = 1;
	f->relocs = calloc(1, sizeof(*f->relocs));
	*f->relocs = (struct hp_reloc){call, R_X86_64_PLT32, HP_TGT_SYM, h->nsyms++, -4};
	cr_assert(hp_hpd_encode(h, &out, &out_len, &e) == 0, "%s", e.what);
	tu_write(tpath("moved.hpd"), out, out_len);
	free(out);
	hp_hpd_free(h);
	free(t.file);
	r = run(HPPACK, "--baseline", prog, "--seq", "1", "-o", tpath("x.hpk"), tpath("moved.hpd"),
		NULL);
	expect_status(&r, 0, "a moved function calling a's step");
	cr_expect_str_empty(r.err);
	tu_run_free(&r);
	r = run(HPPACK, "--inspect", tpath("x.hpk"), "--baseline", prog, NULL);
	expect_status(&r, 0, "--inspect");
	cr_expect(strstr(r.out, "  replaces    step at baseline+0x"), "%s", r.out);
	cr_expect(!strstr(r.out, "a_run"), "a second a_run: %s", r.out);
	tu_run_free(&r);
}

Test(hppack, locals_of_an_object_without_file_symbols)
{
	/* x.o has no STT_FILE (like glibc's objects): ld files its locals under "x.o" */
	const char *prog = fpath("nofile/prog");
	struct run r = run(HPPACK, "--baseline", prog, "--seq", "1", "-o", tpath("x.hpk"),
			   fpath("nofile/x.hpd"), NULL);
	const struct hp_pcode *c;
	struct pkg p;
	uint64_t tally = elf_sym(prog, "x.o", 1, "tally");

	expect_status(&r, 0, "pack");
	tu_run_free(&r);
	pkg_open(&p, tpath("x.hpk"), prog);
	cr_expect_eq(mfunc(&p, "inc")->offset, elf_sym(prog, "x.o", 1, "inc"));
	c = replacement(&p, "inc");
	cr_assert_gt(c->nrelocs, 0);
	/* y.o's hidden global of the same name is another variable */
	cr_assert_neq(tally, elf_sym(prog, NULL, 0, "tally"));
	for (uint32_t i = 0; i < c->nrelocs; i++) {
		cr_expect_eq(c->relocs[i].target, HP_PT_IMAGE);
		cr_expect_eq((uint64_t)c->relocs[i].target_off, tally);
	}
	pkg_close(&p);
}

Test(hppack, hidden_symbols_are_the_baselines_not_imports)
{
	/* libh.so: `hid` and `counter` are hidden, so the linker made them local */
	const char *lib = fpath("hidden/old/libh.so");
	struct run r = run(HPPACK, "--baseline", lib, "--seq", "1", "-o", tpath("x.hpk"),
			   fpath("hidden/h.hpd"), NULL);
	const struct hp_pcode *c;
	struct pkg p;
	uint64_t counter = elf_sym(lib, "", 1, "counter");
	int image = 0;

	expect_status(&r, 0, "pack");
	tu_run_free(&r);
	pkg_open(&p, tpath("x.hpk"), lib);
	cr_expect_eq(mfunc(&p, "hid")->offset, elf_sym(lib, "", 1, "hid"));
	cr_expect_eq(p.pl->nimports, 0, "a hidden variable became an import");
	c = replacement(&p, "bump");
	for (uint32_t i = 0; i < c->nrelocs; i++) {
		if (c->relocs[i].target != HP_PT_IMAGE)
			continue;
		cr_expect_eq((uint64_t)c->relocs[i].target_off, counter);
		image++;
	}
	cr_expect_eq(image, 2, "counter is referred to twice");
	pkg_close(&p);
}

Test(hppack, a_symbol_of_the_object_missing_from_the_baseline_is_refused)
{
	/* linked with --gc-sections: helper_unused is gone from the baseline */
	struct run r = run(HPPACK, "--baseline", fpath("gc/old/prog"), "--seq", "1", "-o",
			   tpath("x.hpk"), fpath("gc/gc.hpd"), NULL);

	expect_status(&r, 1, "discarded symbol");
	expect_err(&r, "gc.hpd: helper_unused is defined by g.o but not in ");
	expect_err(&r, "the objects were not built into this baseline, or the linker discarded it");
	cr_expect(!tu_exists(tpath("x.hpk")));
	tu_run_free(&r);
}
