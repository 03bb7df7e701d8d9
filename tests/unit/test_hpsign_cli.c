/*
 * hpsign as release engineers and auditors run it: usage and exit status,
 * signing (PEM and PKCS#11 keys through SoftHSM2), refusing keys a verifier
 * would refuse, re-signing that changes only MANIFEST.sig, verification
 * output (text and JSON), and stock `openssl cms -verify` accepting what
 * hpsign signed.
 */
#include <json-c/json.h>

#include "tests/testutil.h"
#include "tests/hpkutil.h"
#include "tests/pkiutil.h"
#include "verify/verify.h"

#define HPSIGN	       HP_BINDIR "/hpsign"
#define TARGET	       HP_SAMPLEDIR "/gcc-O2/body-change/old"
#define SOFTHSM_MODULE "/usr/lib/softhsm/libsofthsm2.so"

static char *tmp;

static void setup(void)
{
	pki_setup();
	tmp = tu_tmpdir();
}

static void teardown(void)
{
	tu_rmtree(tmp);
	free(tmp);
}

TestSuite(cli, .init = setup, .fini = teardown);

/* An unsigned package bound to the sample target, written to tmp/NAME. */
static char *unsigned_pkg(const char *name, uint8_t comp)
{
	struct hk_target t;
	struct hk_spec s;
	uint8_t *pkg;
	size_t len;
	char *p = tu_path(tmp, name);

	hk_target_load(&t, TARGET);
	hk_spec_default(&s);
	hk_bind(&s, &t, TARGET, 0, "latwin_sum");
	hk_bind(&s, &t, TARGET, 1, "latwin_avg");
	s.m.nfuncs = 2;
	if (comp == HP_COMP_ZSTD_BASELINE) {
		uint8_t *prefix = malloc(s.funcs[0].size + s.funcs[1].size);

		memcpy(prefix, hp_image_bytes(&t.img, s.funcs[0].offset, s.funcs[0].size),
		       s.funcs[0].size);
		memcpy(prefix + s.funcs[0].size,
		       hp_image_bytes(&t.img, s.funcs[1].offset, s.funcs[1].size), s.funcs[1].size);
		s.compression = comp;
		s.prefix = prefix;
		s.prefix_len = s.funcs[0].size + s.funcs[1].size;
		pkg = hk_package(&s, &len);
		free(prefix);
	} else {
		pkg = hk_package(&s, &len);
	}
	tu_write(p, pkg, len);
	free(pkg);
	free(t.file);
	return p;
}

static struct run sign_as(const char *pkg, const char *leaf, const char *out)
{
	char *argv[] = {HPSIGN,
			"--sign",
			(char *)pkg,
			"--key",
			(char *)pki_file(leaf, ".key"),
			"--cert",
			(char *)pki_file(leaf, ".pem"),
			"--chain",
			(char *)pki_file(leaf, ".chain"),
			out ? "-o" : NULL,
			(char *)out,
			NULL};

	return tu_run(argv);
}

static struct run verify_run(const char *pkg, const char *extra1, const char *extra2)
{
	char *argv[] = {HPSIGN,
			"--verify",
			(char *)pkg,
			"--ca",
			(char *)pki_file("root", ".pem"),
			(char *)extra1,
			(char *)extra2,
			NULL};

	return tu_run(argv);
}

static void expect_signed(const char *pkg, const char *leaf, const char *out)
{
	struct run r = sign_as(pkg, leaf, out);

	cr_assert_eq(r.status, 0, "%s: %s", leaf, r.err);
	cr_expect_str_empty(r.out);
	cr_expect_str_empty(r.err);
	tu_run_free(&r);
}

/* ---- usage ------------------------------------------------------------------------------ */

Test(cli, help_and_version)
{
	char *help[] = {HPSIGN, "--help", NULL};
	char *version[] = {HPSIGN, "--version", NULL};
	struct run r = tu_run(help);

	cr_assert_eq(r.status, 0);
	cr_expect(strstr(r.out, "usage: hpsign --sign"));
	cr_expect(strstr(r.out, "exit status"));
	cr_expect_str_empty(r.err);
	tu_run_free(&r);
	r = tu_run(version);
	cr_assert_eq(r.status, 0);
	cr_expect_str_eq(r.out, "hpsign 0.1.0\n");
	cr_expect_str_empty(r.err);
	tu_run_free(&r);
}

Test(cli, bad_usage_is_status_2)
{
	char *none[] = {HPSIGN, NULL};
	char *both[] = {HPSIGN, "--sign", "a", "--verify", "b", "--ca", "c", NULL};
	char *noca[] = {HPSIGN, "--verify", "a", NULL};
	char *nokey[] = {HPSIGN, "--sign", "a", "--cert", "c", NULL};
	char *unknown[] = {HPSIGN, "--verify", "a", "--ca", "c", "--frobnicate", NULL};
	char *extra[] = {HPSIGN, "--verify", "a", "--ca", "c", "b", NULL};
	char *mixed[] = {HPSIGN, "--verify", "a", "--ca", "c", "--key", "k", NULL};
	char *badtime[] = {HPSIGN, "--verify", "a", "--ca", "c", "--time", "yesterday", NULL};
	char *noarg[] = {HPSIGN, "--verify", NULL};
	char **cases[] = {none, both, noca, nokey, unknown, extra, mixed, badtime, noarg};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct run r = tu_run(cases[i]);

		cr_expect_eq(r.status, 2, "case %zu", i);
		cr_expect_str_empty(r.out, "case %zu", i);
		cr_expect(!strncmp(r.err, "hpsign: ", 8), "case %zu: %s", i, r.err);
		tu_run_free(&r);
	}
}

Test(cli, unreadable_inputs_are_status_2)
{
	char *pkg = unsigned_pkg("a.hpk", HP_COMP_ZSTD);
	char *missing = tu_path(tmp, "missing.hpk");
	struct run r;

	expect_signed(pkg, "p256", NULL);
	r = verify_run(missing, NULL, NULL);
	cr_expect_eq(r.status, 2);
	cr_expect(strstr(r.err, "hpsign: ") && strstr(r.err, "missing.hpk: cannot open"), "%s",
		  r.err);
	tu_run_free(&r);
	{
		char *argv[] = {HPSIGN, "--verify", pkg, "--ca", "/nonexistent.pem", NULL};

		r = tu_run(argv);
		cr_expect_eq(r.status, 2);
		cr_expect(strstr(r.err, "hpsign: /nonexistent.pem: cannot open"), "%s", r.err);
		tu_run_free(&r);
	}
	r = verify_run(pkg, "--target", "/nonexistent");
	cr_expect_eq(r.status, 2);
	cr_expect(strstr(r.err, "hpsign: /nonexistent: cannot open"), "%s", r.err);
	tu_run_free(&r);
	r = verify_run(pkg, "--target", pki_file("root", ".pem"));
	cr_expect_eq(r.status, 2);
	cr_expect(strstr(r.err, "not a linked ELF file"), "%s", r.err);
	tu_run_free(&r);
	free(pkg);
	free(missing);
}

Test(cli, stdout_write_errors_are_status_2)
{
	char *pkg = unsigned_pkg("a.hpk", HP_COMP_ZSTD);
	char cmd[2048];

	expect_signed(pkg, "p256", NULL);
	snprintf(cmd, sizeof(cmd), "%s --verify %s --ca %s >/dev/full 2>/dev/null", HPSIGN, pkg,
		 pki_file("root", ".pem"));
	cr_expect_eq(WEXITSTATUS(system(cmd)), 2);
	free(pkg);
}

/* ---- signing and verifying ------------------------------------------------------------------ */

Test(cli, sign_in_place_then_verify)
{
	char *pkg = unsigned_pkg("a.hpk", HP_COMP_ZSTD);
	struct run r = verify_run(pkg, NULL, NULL);

	cr_expect_eq(r.status, 1);
	cr_expect(strstr(r.err, "not valid (signature): package is not signed"), "%s", r.err);
	tu_run_free(&r);
	expect_signed(pkg, "p256", NULL);
	r = verify_run(pkg, "--target", TARGET);
	cr_assert_eq(r.status, 0, "%s", r.err);
	cr_expect(strstr(r.out, ": valid\n"));
	cr_expect(strstr(r.out, "CN=p256"), "%s", r.out);
	cr_expect(strstr(r.out, "ECDSA P-256"));
	cr_expect(strstr(r.out, "replace   latwin_sum at 0x"), "%s", r.out);
	cr_expect(strstr(r.out, "1 new functions, 1 data items"), "%s", r.out);
	cr_expect(strstr(r.out, "against " TARGET));
	cr_expect(!strstr(r.out, "not checked"));
	cr_expect_str_empty(r.err);
	tu_run_free(&r);
	free(pkg);
}

Test(cli, zstd_baseline_without_target_says_so)
{
	char *pkg = unsigned_pkg("b.hpk", HP_COMP_ZSTD_BASELINE);
	struct run r;

	expect_signed(pkg, "p384", NULL);
	r = verify_run(pkg, NULL, NULL);
	cr_assert_eq(r.status, 0, "%s", r.err);
	cr_expect(strstr(r.out, "payload content not checked: compressed against the baseline; "
				"pass --target to check it"),
		  "%s", r.out);
	tu_run_free(&r);
	r = verify_run(pkg, "--target", TARGET);
	cr_assert_eq(r.status, 0, "%s", r.err);
	cr_expect(!strstr(r.out, "not checked"));
	tu_run_free(&r);
	free(pkg);
}

Test(cli, json_verdicts)
{
	char *pkg = unsigned_pkg("a.hpk", HP_COMP_ZSTD);
	json_object *o, *x;
	struct run r;
	size_t len = 0;
	char *data;

	expect_signed(pkg, "rsa2048", NULL);
	r = verify_run(pkg, "--json", NULL);
	cr_assert_eq(r.status, 0, "%s", r.err);
	o = json_tokener_parse(r.out);
	cr_assert(o, "%s", r.out);
	cr_expect(json_object_object_get_ex(o, "valid", &x) && json_object_get_boolean(x));
	cr_expect(json_object_object_get_ex(o, "class", &x));
	cr_expect_str_eq(json_object_get_string(x), "valid");
	cr_expect(json_object_object_get_ex(o, "signer", &x));
	cr_expect(json_object_object_get_ex(x, "key", &x));
	cr_expect_str_eq(json_object_get_string(x), "RSA 2048");
	cr_expect(json_object_object_get_ex(o, "manifest", &x) &&
		  json_object_object_get_ex(x, "replaced", &x) && json_object_array_length(x) == 2);
	json_object_put(o);
	tu_run_free(&r);

	/* a flipped payload byte: not valid, class "payload hash", still JSON */
	data = tu_read(pkg, &len);
	data[len - 1024 - 512 + 3] ^= 1; /* inside payload.zst's last block */
	tu_write(pkg, data, len);
	free(data);
	r = verify_run(pkg, "--json", NULL);
	cr_expect_eq(r.status, 1);
	cr_expect(strstr(r.err, "not valid (payload hash)"), "%s", r.err);
	o = json_tokener_parse(r.out);
	cr_assert(o, "%s", r.out);
	cr_expect(json_object_object_get_ex(o, "valid", &x) && !json_object_get_boolean(x));
	cr_expect(json_object_object_get_ex(o, "class", &x));
	cr_expect_str_eq(json_object_get_string(x), "payload hash");
	cr_expect(json_object_object_get_ex(o, "message", &x) && json_object_get_string_len(x));
	json_object_put(o);
	tu_run_free(&r);
	free(pkg);
}

Test(cli, verification_time_option)
{
	char *pkg = unsigned_pkg("a.hpk", HP_COMP_ZSTD);
	struct run r;

	expect_signed(pkg, "p256", NULL);
	r = verify_run(pkg, "--time", "2055-01-01T00:00:00Z");
	cr_expect_eq(r.status, 1);
	cr_expect(strstr(r.err, "not valid (expired)"), "%s", r.err);
	tu_run_free(&r);
	free(pkg);
}

/* Everything but MANIFEST.sig is byte-identical after re-signing. */
Test(cli, resigning_changes_only_the_signature)
{
	char *pkg = unsigned_pkg("a.hpk", HP_COMP_ZSTD), *other = tu_path(tmp, "b.hpk");
	struct hp_hpk ka, kb;
	struct hp_error e;
	char *a, *b;
	size_t la = 0, lb = 0, sa, sb, tail;

	expect_signed(pkg, "p256", NULL);
	expect_signed(pkg, "rsa2048", other);
	a = tu_read(pkg, &la);
	b = tu_read(other, &lb);
	cr_assert_eq(hp_hpk_read((uint8_t *)a, la, &ka, &e), 0);
	cr_assert_eq(hp_hpk_read((uint8_t *)b, lb, &kb, &e), 0);
	cr_expect_neq(ka.sig_len, kb.sig_len);
	/* MANIFEST's header and data, up to MANIFEST.sig's header */
	sa = (size_t)(ka.sig - (uint8_t *)a) - 512;
	sb = (size_t)(kb.sig - (uint8_t *)b) - 512;
	cr_assert_eq(sa, sb);
	cr_expect(!memcmp(a, b, sa));
	/* payload.zst's header, data, padding and the end blocks */
	tail = la - (size_t)(ka.payload - (uint8_t *)a) + 512;
	cr_assert_eq(tail, lb - (size_t)(kb.payload - (uint8_t *)b) + 512);
	cr_expect(!memcmp(a + la - tail, b + lb - tail, tail));
	free(a);
	free(b);
	free(pkg);
	free(other);
}

Test(cli, refuses_keys_a_verifier_would_refuse)
{
	/*
	 * The whole message: each begins with the certificate's path, which
	 * holds the leaf's name, so the leaf's name alone would match any error.
	 */
	static const struct {
		const char *leaf, *why;
	} cases[] = {
		{"rsa1024", "signer certificate O=hotpatch test,CN=rsa1024: key RSA 1024 is not "
			    "allowed (ECDSA P-256/P-384 or RSA >= 2048)"},
		{"sha1",
		 "signer certificate O=hotpatch test,CN=sha1: signed with SHA1, not allowed "
		 "(SHA-256 or stronger, ECDSA or RSA PKCS#1)"},
		{"noeku", "signer certificate lacks extendedKeyUsage codeSigning"},
		{"caleaf", "signer certificate is a CA (basicConstraints CA:TRUE)"},
		{"self", "signer certificate is self-signed"},
		{"expired", "certificate has expired"},
		{"notyet", "certificate is not yet valid"},
	};
	char *pkg = unsigned_pkg("a.hpk", HP_COMP_ZSTD), *out = tu_path(tmp, "out.hpk");

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct run r = sign_as(pkg, cases[i].leaf, out);
		char want[600];

		snprintf(want, sizeof(want), "hpsign: %s: %s\n", pki_file(cases[i].leaf, ".pem"),
			 cases[i].why);
		cr_expect_eq(r.status, 2, "%s", cases[i].leaf);
		cr_expect_str_eq(r.err, want, "%s", cases[i].leaf);
		cr_expect_str_empty(r.out, "%s", cases[i].leaf);
		cr_expect(!tu_exists(out), "%s", cases[i].leaf);
		tu_run_free(&r);
	}
	{
		/* a key that is not the certificate's */
		char *argv[] = {HPSIGN,
				"--sign",
				pkg,
				"--key",
				(char *)pki_file("p384", ".key"),
				"--cert",
				(char *)pki_file("p256", ".pem"),
				"-o",
				out,
				NULL};
		struct run r = tu_run(argv);

		cr_expect_eq(r.status, 2);
		cr_expect(strstr(r.err, "p256.pem: the key does not match this certificate"), "%s",
			  r.err);
		cr_expect(!tu_exists(out));
		tu_run_free(&r);
	}
	free(pkg);
	free(out);
}

Test(cli, encrypted_pem_key_with_pass_file)
{
	char *pkg = unsigned_pkg("a.hpk", HP_COMP_ZSTD), *key = tu_path(tmp, "enc.key"),
	     *pass = tu_path(tmp, "pass"), cmd[2048];
	struct run r;

	tu_write(pass, "correct horse\n", 14);
	snprintf(cmd, sizeof(cmd),
		 "OPENSSL_CONF=/dev/null openssl pkey -in %s -aes256 -passout file:%s -out %s",
		 pki_file("p256", ".key"), pass, key);
	cr_assert_eq(system(cmd), 0);
	{
		char *argv[] = {HPSIGN,
				"--sign",
				pkg,
				"--key",
				key,
				"--pass-file",
				pass,
				"--cert",
				(char *)pki_file("p256", ".pem"),
				"--chain",
				(char *)pki_file("p256", ".chain"),
				NULL};
		char *nopass[] = {HPSIGN,
				  "--sign",
				  pkg,
				  "--key",
				  key,
				  "--cert",
				  (char *)pki_file("p256", ".pem"),
				  NULL};

		r = tu_run(nopass);
		cr_expect_eq(r.status, 2);
		cr_expect(strstr(r.err, "enc.key: cannot read the private key"), "%s", r.err);
		tu_run_free(&r);
		r = tu_run(argv);
		cr_expect_eq(r.status, 0, "%s", r.err);
		tu_run_free(&r);
	}
	r = verify_run(pkg, NULL, NULL);
	cr_expect_eq(r.status, 0, "%s", r.err);
	tu_run_free(&r);
	free(pkg);
	free(key);
	free(pass);
}

/* ---- interoperability --------------------------------------------------------------------- */

/* Extract MANIFEST and MANIFEST.sig, and run stock openssl cms -verify on them. */
static int openssl_verify(const char *pkg)
{
	struct hp_hpk k;
	struct hp_error e;
	char *data, *m = tu_path(tmp, "MANIFEST"), *sig = tu_path(tmp, "MANIFEST.sig"), cmd[4096];
	size_t len = 0;
	int st;

	data = tu_read(pkg, &len);
	cr_assert_eq(hp_hpk_read((uint8_t *)data, len, &k, &e), 0);
	tu_write(m, k.manifest, k.manifest_len);
	tu_write(sig, k.sig, k.sig_len);
	snprintf(
		cmd, sizeof(cmd),
		"OPENSSL_CONF=/dev/null openssl cms -verify -binary -inform DER -in %s -content %s "
		"-CAfile %s -purpose any -out /dev/null 2>/dev/null",
		sig, m, pki_file("root", ".pem"));
	st = system(cmd);
	free(data);
	free(m);
	free(sig);
	return WEXITSTATUS(st);
}

Test(cli, stock_openssl_accepts_hpsign_signatures)
{
	static const char *const leaves[] = {"p256", "p384", "rsa2048"};
	char *pkg = unsigned_pkg("a.hpk", HP_COMP_ZSTD);

	for (size_t i = 0; i < 3; i++) {
		expect_signed(pkg, leaves[i], NULL);
		cr_expect_eq(openssl_verify(pkg), 0, "%s", leaves[i]);
	}
	free(pkg);
}

Test(cli, pkcs11_key_in_softhsm)
{
	char *pkg = unsigned_pkg("a.hpk", HP_COMP_ZSTD), *hsm = tu_path(tmp, "hsm"), conf[1024],
	     cmd[4096], uri[256];
	struct run r;

	snprintf(conf, sizeof(conf), "%s/softhsm2.conf", hsm);
	snprintf(cmd, sizeof(cmd),
		 "mkdir -p %s/tokens && printf 'directories.tokendir = %s/tokens\\n"
		 "objectstore.backend = file\\nlog.level = ERROR\\n' > %s",
		 hsm, hsm, conf);
	cr_assert_eq(system(cmd), 0);
	setenv("SOFTHSM2_CONF", conf, 1);
	snprintf(cmd, sizeof(cmd),
		 "softhsm2-util --init-token --free --label hptest --pin 1234 --so-pin 5678 "
		 ">/dev/null && softhsm2-util --import %s --token hptest --label signkey --id 01 "
		 "--pin 1234 >/dev/null",
		 pki_file("p256", ".p8"));
	cr_assert_eq(system(cmd), 0, "%s", cmd);
	snprintf(uri, sizeof(uri),
		 "pkcs11:token=hptest;object=signkey;type=private;pin-value=1234");
	{
		char *argv[] = {HPSIGN,
				"--sign",
				pkg,
				"--key",
				uri,
				"--cert",
				(char *)pki_file("p256", ".pem"),
				"--chain",
				(char *)pki_file("p256", ".chain"),
				"--pkcs11-module",
				SOFTHSM_MODULE,
				NULL};

		r = tu_run(argv);
		cr_assert_eq(r.status, 0, "%s", r.err);
		tu_run_free(&r);
	}
	r = verify_run(pkg, "--target", TARGET);
	cr_expect_eq(r.status, 0, "%s", r.err);
	cr_expect(strstr(r.out, "CN=p256"));
	tu_run_free(&r);
	cr_expect_eq(openssl_verify(pkg), 0);
	{
		/* the token's key is not p384's: refused, and the PIN is never printed */
		char *argv[] = {HPSIGN,
				"--sign",
				pkg,
				"--key",
				uri,
				"--cert",
				(char *)pki_file("p384", ".pem"),
				"--pkcs11-module",
				SOFTHSM_MODULE,
				NULL};

		r = tu_run(argv);
		cr_expect_eq(r.status, 2);
		cr_expect(strstr(r.err, "p384.pem:"), "%s", r.err);
		cr_expect(!strstr(r.err, "1234"), "%s", r.err);
		tu_run_free(&r);
	}
	free(pkg);
	free(hsm);
}

/* ---- the man page ----------------------------------------------------------------------- */

Test(cli, man_page_lints_and_documents_every_class)
{
	char *argv[] = {"/usr/bin/groff",	    "-man", "-Tutf8", "-ww", "-z",
			HP_SRCDIR "/docs/hpsign.1", NULL};
	struct run r = tu_run(argv);
	char *man = tu_read(HP_SRCDIR "/docs/hpsign.1", NULL), *usage;

	cr_expect_eq(r.status, 0);
	cr_expect_str_empty(r.err);
	tu_run_free(&r);
	cr_assert(man);
	for (int c = HP_V_CONTAINER; c <= HP_V_TROUBLE; c++) {
		char want[64];

		snprintf(want, sizeof(want), ".B %s\n", hp_vclass_name(c));
		cr_expect(strstr(man, want) || (c == HP_V_TROUBLE && strstr(man, ".B trouble\nis")),
			  "class %s not documented", hp_vclass_name(c));
	}
	cr_expect(strstr(man, ".SH EXIT STATUS\n.TP\n.B 0\n"));
	cr_expect(strstr(man, ".TP\n.B 1\n") && strstr(man, ".TP\n.B 2\n"));
	{
		char *help[] = {HPSIGN, "--help", NULL};

		r = tu_run(help);
		usage = r.out;
		cr_expect(strstr(usage,
				 "exit status: 0 valid (or signed), 1 not valid, 2 could not"));
		tu_run_free(&r);
	}
	free(man);
}

/* A full-chain file with unrelated certificates: only the leaf's path is embedded. */
Test(cli, chain_file_with_other_certificates)
{
	char *pkg = unsigned_pkg("a.hpk", HP_COMP_ZSTD), *chain = tu_path(tmp, "mixed.pem"),
	     cmd[4096];
	struct run r;

	snprintf(cmd, sizeof(cmd), "cat %s %s %s %s > %s", pki_file("int2", ".pem"),
		 pki_file("root", ".pem"), pki_file("int", ".pem"), pki_file("other-root", ".pem"),
		 chain);
	cr_assert_eq(system(cmd), 0);
	{
		char *argv[] = {HPSIGN,
				"--sign",
				pkg,
				"--key",
				(char *)pki_file("p384", ".key"),
				"--cert",
				(char *)pki_file("p384", ".pem"),
				"--chain",
				chain,
				NULL};

		r = tu_run(argv);
		cr_assert_eq(r.status, 0, "%s", r.err);
		tu_run_free(&r);
	}
	r = verify_run(pkg, "--json", NULL);
	cr_expect_eq(r.status, 0, "%s", r.err);
	cr_expect(strstr(r.out, "\"chain_length\":3"), "%s", r.out);
	tu_run_free(&r);
	free(pkg);
	free(chain);
}
