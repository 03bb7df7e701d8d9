/*
 * libhpverify in-process: packages built with the format library, signed
 * with the library's signer or with stock `openssl cms -sign` (for the
 * certificates hpsign refuses to sign with), each refused package checked
 * for its failure class.  The test PKI is made once per run by
 * tests/pki/mkpki.sh (see there for what each leaf is).
 */
#include "tests/testutil.h"
#include "tests/hpkutil.h"
#include "tests/pkiutil.h"
#include "verify/sign.h"
#include "verify/verify.h"

#define TARGET	     HP_SAMPLEDIR "/gcc-O2/body-change/old"
#define OTHER_TARGET HP_SAMPLEDIR "/gcc-O2/switch-jumptable/old"

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

TestSuite(verify, .init = setup, .fini = teardown);

/* ---- signing ------------------------------------------------------------------------- */

static uint8_t *lib_sign(const char *leaf, const void *content, size_t len, size_t *sig_len)
{
	struct hp_signer_opts o = {.key = pki_file(leaf, ".key"),
				   .cert = pki_file(leaf, ".pem"),
				   .chain = pki_file(leaf, ".chain")};
	struct hp_signer *s;
	uint8_t *sig;
	char msg[512];

	cr_assert_eq(hp_signer_load(&o, &s, msg, sizeof(msg)), 0, "%s: %s", leaf, msg);
	cr_assert_eq(hp_signer_sign(s, content, len, &sig, sig_len, msg, sizeof(msg)), 0, "%s",
		     msg);
	hp_signer_free(s);
	return sig;
}

/* Stock OpenSSL's detached DER signature, for what hpsign will not sign with. */
static uint8_t *ossl_sign(const char *leaf, const char *md, const void *content, size_t len,
			  size_t *sig_len)
{
	char in[512], out[512], cmd[4096], *sig;
	struct stat st;
	bool chain = !stat(pki_file(leaf, ".chain"), &st) && st.st_size > 0;

	snprintf(in, sizeof(in), "%s/content", tmp);
	snprintf(out, sizeof(out), "%s/content.sig", tmp);
	tu_write(in, content, len);
	snprintf(cmd, sizeof(cmd),
		 "OPENSSL_CONF=/dev/null openssl cms -sign -binary -outform DER -nosmimecap -md %s "
		 "-in %s -signer %s -inkey %s %s%s -out %s",
		 md, in, pki_file(leaf, ".pem"), pki_file(leaf, ".key"), chain ? "-certfile " : "",
		 chain ? pki_file(leaf, ".chain") : "", out);
	cr_assert_eq(system(cmd), 0, "%s", cmd);
	sig = tu_read(out, sig_len);
	cr_assert(sig);
	return (uint8_t *)sig;
}

/* A signed package of the spec: by the library, or by openssl when md is given. */
static uint8_t *signed_pkg(struct hk_spec *s, const char *leaf, const char *md, size_t *len)
{
	char *m;
	uint8_t *z, *sig, *pkg;
	size_t mlen, zlen, slen;

	hk_members(s, &m, &mlen, &z, &zlen);
	sig = md ? ossl_sign(leaf, md, m, mlen, &slen) : lib_sign(leaf, m, mlen, &slen);
	pkg = hk_container(m, mlen, sig, slen, z, zlen, len);
	free(m);
	free(z);
	free(sig);
	return pkg;
}

static uint8_t *good_pkg(size_t *len)
{
	struct hk_spec s;

	hk_spec_default(&s);
	return signed_pkg(&s, "p256", NULL, len);
}

/* ---- checking ---------------------------------------------------------------------------- */

static struct hp_verify_opts opts(void)
{
	struct hp_verify_opts o = {.ca_file = pki_file("root", ".pem")};

	return o;
}

static void expect(const uint8_t *pkg, size_t len, const struct hp_verify_opts *o, int cls)
{
	struct hp_verified v;
	int r = hp_verify(pkg, len, o, &v);

	cr_expect_eq(v.cls, cls, "class %s (%s), expected %s", hp_vclass_name(v.cls), v.message,
		     hp_vclass_name(cls));
	cr_expect_eq(r, cls == HP_V_OK ? 0 : -1);
	hp_verified_free(&v);
}

static void expect_leaf(const char *leaf, const char *md, const char *crl, int cls)
{
	struct hp_verify_opts o = opts();
	struct hk_spec s;
	uint8_t *pkg;
	size_t len;

	hk_spec_default(&s);
	pkg = signed_pkg(&s, leaf, md, &len);
	o.crl_file = crl ? pki_file(crl, ".pem") : NULL;
	expect(pkg, len, &o, cls);
	free(pkg);
}

/* ---- valid packages ---------------------------------------------------------------------- */

Test(verify, p256_p384_rsa2048_chains_verify)
{
	static const char *const leaves[] = {"p256", "p384", "rsa2048"};
	static const char *const keys[] = {"ECDSA P-256", "ECDSA P-384", "RSA 2048"};
	static const char *const digests[] = {"SHA-256", "SHA-384", "SHA-256"};

	for (int i = 0; i < 3; i++) {
		struct hp_verify_opts o = opts();
		struct hp_verified v;
		struct hk_spec s;
		uint8_t *pkg;
		size_t len;

		hk_spec_default(&s);
		pkg = signed_pkg(&s, leaves[i], NULL, &len);
		cr_assert_eq(hp_verify(pkg, len, &o, &v), 0, "%s: %s", leaves[i], v.message);
		cr_expect_eq(v.cls, HP_V_OK);
		cr_expect_str_eq(v.signer.key, keys[i]);
		cr_expect_str_eq(v.signer.digest, digests[i]);
		cr_expect_eq(v.signer.chain_len, 3);
		cr_expect(strstr(v.signer.subject, leaves[i]), "%s", v.signer.subject);
		cr_expect(strstr(v.signer.anchor, "root"));
		cr_expect(v.payload_checked && v.payload && v.manifest);
		cr_expect_eq(v.payload->ncode, 2);
		cr_expect(!v.target_checked && !v.sequence_checked);
		hp_verified_free(&v);
		free(pkg);
	}
}

Test(verify, stock_openssl_signatures_verify)
{
	expect_leaf("p256", "sha256", NULL, HP_V_OK);
	expect_leaf("p384", "sha384", NULL, HP_V_OK);
	expect_leaf("rsa2048", "sha512", NULL, HP_V_OK);
}

Test(verify, crl_file_with_good_leaf)
{
	expect_leaf("p256", NULL, "crls", HP_V_OK);
}

Test(verify, class_names_are_stable)
{
	cr_expect_str_eq(hp_vclass_name(HP_V_OK), "valid");
	cr_expect_str_eq(hp_vclass_name(HP_V_KEY_USAGE), "key usage");
	cr_expect_str_eq(hp_vclass_name(HP_V_PAYLOAD_HASH), "payload hash");
	cr_expect_str_eq(hp_vclass_name(HP_V_TROUBLE), "trouble");
	cr_expect_str_eq(hp_vclass_name(99), "unknown");
}

/* ---- chain and key usage ------------------------------------------------------------------- */

Test(verify, unsigned_package_is_refused)
{
	struct hp_verify_opts o = opts();
	struct hp_verified v;
	struct hk_spec s;
	uint8_t *pkg;
	size_t len;

	hk_spec_default(&s);
	pkg = hk_package(&s, &len);
	cr_expect_eq(hp_verify(pkg, len, &o, &v), -1);
	cr_expect_eq(v.cls, HP_V_SIGNATURE);
	cr_expect_str_eq(v.message, "package is not signed");
	hp_verified_free(&v);
	free(pkg);
}

Test(verify, untrusted_root_and_self_signed_leaf)
{
	expect_leaf("untrusted", "sha256", NULL, HP_V_CHAIN);
	expect_leaf("self", "sha256", NULL, HP_V_CHAIN);
}

Test(verify, leaf_without_codesigning_or_ca)
{
	expect_leaf("noeku", "sha256", NULL, HP_V_KEY_USAGE);
	expect_leaf("caleaf", "sha256", NULL, HP_V_KEY_USAGE);
}

Test(verify, expired_and_not_yet_valid_leaf)
{
	expect_leaf("expired", "sha256", NULL, HP_V_EXPIRED);
	expect_leaf("notyet", "sha256", NULL, HP_V_EXPIRED);
}

Test(verify, verification_time_is_the_callers)
{
	struct hp_verify_opts o = opts();
	struct hk_spec s;
	uint8_t *pkg;
	size_t len;

	hk_spec_default(&s);
	pkg = signed_pkg(&s, "expired", "sha256", &len);
	o.now = 1590000000; /* 2020-05-20: inside its validity */
	expect(pkg, len, &o, HP_V_OK);
	o.now = 2400000000; /* 2046: p256 valid, anchors valid, but expired leaf not */
	expect(pkg, len, &o, HP_V_EXPIRED);
	free(pkg);
}

Test(verify, revoked_leaf_and_intermediate)
{
	expect_leaf("revoked", "sha256", "crls", HP_V_REVOKED);
	expect_leaf("underrevoked", "sha256", "crls", HP_V_REVOKED);
	/* without the CRLs nothing says so */
	expect_leaf("revoked", "sha256", NULL, HP_V_OK);
}

Test(verify, weak_algorithms)
{
	expect_leaf("rsa1024", "sha256", NULL, HP_V_ALGORITHM);
	expect_leaf("sha1", "sha256", NULL, HP_V_ALGORITHM);
	expect_leaf("p256", "sha1", NULL, HP_V_ALGORITHM);
	expect_leaf("rsa2048", "sha1", NULL, HP_V_ALGORITHM);
}

Test(verify, missing_or_bad_trust_files_are_trouble)
{
	struct hp_verify_opts o = opts();
	uint8_t *pkg;
	size_t len;

	pkg = good_pkg(&len);
	o.ca_file = "/nonexistent/root.pem";
	expect(pkg, len, &o, HP_V_TROUBLE);
	o.ca_file = pki_file("root", ".crl"); /* a CRL is no anchor */
	expect(pkg, len, &o, HP_V_TROUBLE);
	o = opts();
	o.crl_file = pki_file("root", ".pem");
	expect(pkg, len, &o, HP_V_TROUBLE);
	free(pkg);
}

/* ---- tampering ------------------------------------------------------------------------------ */

struct parts {
	struct hp_hpk k;
	uint8_t *m, *sig, *z;
};

static void split(const uint8_t *pkg, size_t len, struct parts *p)
{
	struct hp_error e;

	cr_assert_eq(hp_hpk_read(pkg, len, &p->k, &e), 0, "%s", e.what);
	p->m = malloc(p->k.manifest_len + 1);
	memcpy(p->m, p->k.manifest, p->k.manifest_len);
	p->sig = malloc(p->k.sig_len + 16);
	memcpy(p->sig, p->k.sig, p->k.sig_len);
	p->z = malloc(p->k.payload_len + 1);
	memcpy(p->z, p->k.payload, p->k.payload_len);
}

static uint8_t *join(const struct parts *p, size_t mlen, size_t slen, size_t zlen, size_t *len)
{
	return hk_container(p->m, mlen, p->sig, slen, p->z, zlen, len);
}

static void free_parts(struct parts *p)
{
	free(p->m);
	free(p->sig);
	free(p->z);
}

Test(verify, flipped_payload_manifest_or_signature)
{
	struct hp_verify_opts o = opts();
	struct parts p;
	uint8_t *pkg, *bad;
	size_t len, blen;

	pkg = good_pkg(&len);
	split(pkg, len, &p);
	p.z[p.k.payload_len / 2] ^= 1;
	bad = join(&p, p.k.manifest_len, p.k.sig_len, p.k.payload_len, &blen);
	expect(bad, blen, &o, HP_V_PAYLOAD_HASH);
	free(bad);
	p.z[p.k.payload_len / 2] ^= 1;
	p.m[10] ^= 1;
	bad = join(&p, p.k.manifest_len, p.k.sig_len, p.k.payload_len, &blen);
	expect(bad, blen, &o, HP_V_SIGNATURE);
	free(bad);
	p.m[10] ^= 1;
	p.sig[p.k.sig_len - 10] ^= 0x40; /* inside the signature value */
	bad = join(&p, p.k.manifest_len, p.k.sig_len, p.k.payload_len, &blen);
	expect(bad, blen, &o, HP_V_SIGNATURE);
	free(bad);
	p.sig[p.k.sig_len - 10] ^= 0x40;
	bad = join(&p, p.k.manifest_len, p.k.sig_len - 1, p.k.payload_len, &blen);
	expect(bad, blen, &o, HP_V_SIGNATURE);
	free(bad);
	memset(p.sig + p.k.sig_len, 0, 2);
	bad = join(&p, p.k.manifest_len, p.k.sig_len + 2, p.k.payload_len, &blen);
	expect(bad, blen, &o, HP_V_SIGNATURE);
	free(bad);
	free_parts(&p);
	free(pkg);
}

Test(verify, bytes_after_the_archive)
{
	struct hp_verify_opts o = opts();
	uint8_t *pkg;
	size_t len;

	pkg = good_pkg(&len);
	pkg = realloc(pkg, len + 512);
	memset(pkg + len, 0, 512);
	expect(pkg, len + 512, &o, HP_V_CONTAINER);
	expect(pkg, len - 512, &o, HP_V_CONTAINER);
	free(pkg);
}

Test(verify, signature_or_payload_of_another_package)
{
	struct hp_verify_opts o = opts();
	struct parts a, b;
	struct hk_spec s;
	uint8_t *pa, *pb, *bad;
	size_t la, lb, blen;

	hk_spec_default(&s);
	pa = signed_pkg(&s, "p256", NULL, &la);
	s.m.sequence = 3; /* same sizes, other content */
	s.names[0][0] = 'L';
	pb = signed_pkg(&s, "p256", NULL, &lb);
	split(pa, la, &a);
	split(pb, lb, &b);
	bad = hk_container(a.m, a.k.manifest_len, b.sig, b.k.sig_len, a.z, a.k.payload_len, &blen);
	expect(bad, blen, &o, HP_V_SIGNATURE);
	free(bad);
	free_parts(&a);
	free_parts(&b);
	free(pa);
	free(pb);

	/* MANIFEST (and signature) of one package, payload of another */
	hk_spec_default(&s);
	pa = signed_pkg(&s, "p256", NULL, &la);
	s.m.nfuncs = 2;
	s.funcs[1] = s.funcs[0];
	s.funcs[1].offset += 0x100;
	snprintf(s.names[1], sizeof(s.names[1]), "other");
	pb = signed_pkg(&s, "p256", NULL, &lb);
	split(pa, la, &a);
	split(pb, lb, &b);
	bad = hk_container(a.m, a.k.manifest_len, a.sig, a.k.sig_len, b.z, b.k.payload_len, &blen);
	{
		struct hp_verified v;

		cr_expect_eq(hp_verify(bad, blen, &o, &v), -1);
		cr_expect(v.cls == HP_V_PAYLOAD_SIZE || v.cls == HP_V_PAYLOAD_HASH, "%s",
			  hp_vclass_name(v.cls));
		hp_verified_free(&v);
	}
	free(bad);
	free_parts(&a);
	free_parts(&b);
	free(pa);
	free(pb);
}

Test(verify, every_flipped_byte_fails)
{
	struct hp_verify_opts o = opts();
	static const uint8_t masks[] = {0x01, 0x20, 0x80, 0xff};
	uint8_t *pkg;
	size_t len;

	pkg = good_pkg(&len);
	expect(pkg, len, &o, HP_V_OK);
	for (size_t m = 0; m < sizeof(masks); m++) {
		for (size_t i = 0; i < len; i++) {
			struct hp_verified v;

			pkg[i] ^= masks[m];
			cr_assert_eq(hp_verify(pkg, len, &o, &v), -1,
				     "byte %zu ^ 0x%02x still verifies", i, masks[m]);
			cr_assert_neq(v.cls, HP_V_OK);
			cr_assert_neq(v.cls, HP_V_TROUBLE, "byte %zu: %s", i, v.message);
			hp_verified_free(&v);
			pkg[i] ^= masks[m];
		}
	}
	free(pkg);
}

/* ---- extra entries in the certificates set ---------------------------------------------- */

/* The DER TLV at p: header length and body length (definite, short or long form). */
static size_t der_tlv(const uint8_t *p, size_t *hl)
{
	size_t len = p[1], n = 0;

	if (len & 0x80) {
		n = len & 0x7f;
		len = 0;
		for (size_t i = 0; i < n; i++)
			len = len << 8 | p[2 + i];
	}
	*hl = 2 + n;
	return len;
}

/* A TLV of tag and body, with the DER length. */
static uint8_t *der_wrap(uint8_t tag, const uint8_t *body, size_t len, size_t *out_len)
{
	uint8_t *o = malloc(len + 6), *p = o;

	*p++ = tag;
	if (len < 0x80) {
		*p++ = (uint8_t)len;
	} else if (len < 0x100) {
		*p++ = 0x81;
		*p++ = (uint8_t)len;
	} else {
		cr_assert_lt(len, 0x10000);
		*p++ = 0x82;
		*p++ = (uint8_t)(len >> 8);
		*p++ = (uint8_t)len;
	}
	memcpy(p, body, len);
	*out_len = (size_t)(p - o) + len;
	return o;
}

struct der_elt {
	const uint8_t *p;
	size_t len;
};

/* DER's SET OF order: the encodings compared as octet strings, shorter first on a tie. */
static int der_elt_cmp(const void *a, const void *b)
{
	const struct der_elt *x = a, *y = b;
	int c = memcmp(x->p, y->p, x->len < y->len ? x->len : y->len);

	return c ? c : (x->len > y->len) - (x->len < y->len);
}

/*
 * A copy of the signature with one more element in its certificates set,
 * where DER puts it, so that the result is still DER that OpenSSL
 * re-encodes identically: only the certificates set changes.
 */
static uint8_t *add_to_cert_set(const uint8_t *sig, size_t slen, const uint8_t *extra, size_t elen,
				size_t *out_len)
{
	const uint8_t *ci, *ex, *sd, *p, *set = NULL, *end;
	struct der_elt elts[16];
	size_t hl, len, n = 0, set_len = 0, body_len, sdb_len, w1, w2, w3, w4;
	uint8_t *body, *q, *nset, *nsd, *nex, *nci, *oid_and_ex;

	ci = sig;
	len = der_tlv(ci, &hl);
	cr_assert_eq(hl + len, slen);
	p = ci + hl;		       /* contentType OID */
	ex = p + der_tlv(p, &hl) + hl; /* [0] EXPLICIT */
	der_tlv(ex, &hl);
	sd = ex + hl; /* SignedData */
	sdb_len = der_tlv(sd, &hl);
	p = sd + hl;
	end = p + sdb_len;
	while (p < end) {
		const uint8_t *e = p;

		len = der_tlv(p, &hl);
		p += hl + len;
		if (*e == 0xa0) {
			set = e;
			set_len = hl + len;
		}
	}
	cr_assert(set, "no certificates set");
	len = der_tlv(set, &hl);
	for (p = set + hl; p < set + hl + len; n++) {
		size_t l = der_tlv(p, &w1);

		cr_assert_lt(n, 15);
		elts[n] = (struct der_elt){p, w1 + l};
		p += w1 + l;
	}
	if (extra)
		elts[n++] = (struct der_elt){extra, elen};
	qsort(elts, n, sizeof(elts[0]), der_elt_cmp);
	body_len = len + elen;
	body = malloc(body_len);
	for (size_t i = 0, off = 0; i < n; off += elts[i].len, i++)
		memcpy(body + off, elts[i].p, elts[i].len);
	nset = der_wrap(0xa0, body, body_len, &w1);
	/* SignedData: the same fields, the new set in place of the old */
	q = malloc(sdb_len - set_len + w1);
	der_tlv(sd, &hl);
	memcpy(q, sd + hl, (size_t)(set - (sd + hl)));
	memcpy(q + (set - (sd + hl)), nset, w1);
	memcpy(q + (set - (sd + hl)) + w1, set + set_len,
	       (size_t)(sd + hl + sdb_len - (set + set_len)));
	nsd = der_wrap(0x30, q, sdb_len - set_len + w1, &w2);
	nex = der_wrap(0xa0, nsd, w2, &w3);
	/* ContentInfo: the OID, then the new [0] */
	der_tlv(ci, &hl);
	len = (size_t)(ex - (ci + hl));
	oid_and_ex = malloc(len + w3);
	memcpy(oid_and_ex, ci + hl, len);
	memcpy(oid_and_ex + len, nex, w3);
	nci = der_wrap(0x30, oid_and_ex, len + w3, &w4);
	*out_len = w4;
	free(body);
	free(nset);
	free(q);
	free(nsd);
	free(nex);
	free(oid_and_ex);
	return nci;
}

/* The DER of a PEM certificate of the test PKI. */
static uint8_t *cert_der(const char *name, size_t *len)
{
	char cmd[1024], out[512];
	uint8_t *der;

	snprintf(out, sizeof(out), "%s/%s.der", tmp, name);
	snprintf(cmd, sizeof(cmd), "openssl x509 -in %s -outform DER -out %s",
		 pki_file(name, ".pem"), out);
	cr_assert_eq(system(cmd), 0, "%s", cmd);
	der = (uint8_t *)tu_read(out, len);
	cr_assert(der);
	return der;
}

/* good_pkg's signature with `extra` added to its certificates set: refused as cls. */
static void expect_extra_cert(const uint8_t *extra, size_t elen, int cls)
{
	struct hp_verify_opts o = opts();
	struct parts p;
	uint8_t *pkg, *bad, *sig;
	size_t len, blen, slen;

	pkg = good_pkg(&len);
	split(pkg, len, &p);
	sig = add_to_cert_set(p.sig, p.k.sig_len, extra, elen, &slen);
	bad = hk_container(p.m, p.k.manifest_len, sig, slen, p.z, p.k.payload_len, &blen);
	expect(bad, blen, &o, cls);
	free(bad);
	/* the helper itself: adding nothing gives back the very same signature */
	free(sig);
	sig = add_to_cert_set(p.sig, p.k.sig_len, NULL, 0, &slen);
	cr_expect_eq(slen, p.k.sig_len);
	cr_expect_arr_eq(sig, p.sig, slen);
	free(sig);
	free_parts(&p);
	free(pkg);
}

Test(verify, other_format_certificate_is_refused)
{
	/* [3] OtherCertificateFormat { 1.2.3.4, NULL }: OpenSSL's certificate list skips it */
	static const uint8_t other[] = {0xa3, 0x07, 0x06, 0x03, 0x2a, 0x03, 0x04, 0x05, 0x00};

	expect_extra_cert(other, sizeof(other), HP_V_SIGNATURE);
}

Test(verify, intermediate_embedded_twice_is_refused)
{
	size_t len;
	uint8_t *der = cert_der("int", &len);

	expect_extra_cert(der, len, HP_V_CHAIN);
	free(der);
}

Test(verify, embedded_trust_anchor_is_refused)
{
	size_t len;
	uint8_t *der = cert_der("root", &len);

	expect_extra_cert(der, len, HP_V_CHAIN);
	free(der);
}

/* ---- manifest and payload ------------------------------------------------------------------- */

Test(verify, expired_package)
{
	struct hp_verify_opts o = opts();
	struct hk_spec s;
	uint8_t *pkg;
	size_t len;

	hk_spec_default(&s);
	s.m.has_expires = true;
	s.m.expires = s.m.created + 86400;
	pkg = signed_pkg(&s, "p256", NULL, &len);
	expect(pkg, len, &o, HP_V_EXPIRED);
	o.now = s.m.created + 3600;
	expect(pkg, len, &o, HP_V_OK);
	free(pkg);
}

Test(verify, signed_but_non_canonical_manifest)
{
	struct hp_verify_opts o = opts();
	struct hk_spec s;
	char *m;
	uint8_t *z, *sig, *pkg;
	size_t mlen, zlen, slen, len;

	hk_spec_default(&s);
	hk_members(&s, &m, &mlen, &z, &zlen);
	m = realloc(m, mlen + 2);
	memmove(m + 1, m, mlen);
	m[0] = '\n';
	sig = lib_sign("p256", m, mlen + 1, &slen);
	pkg = hk_container(m, mlen + 1, sig, slen, z, zlen, &len);
	expect(pkg, len, &o, HP_V_MANIFEST);
	free(m);
	free(z);
	free(sig);
	free(pkg);
}

/* A package whose payload.zst is given (not compressed from a payload). */
static void expect_zst(const uint8_t *zst, size_t zlen, size_t raw_len, int cls)
{
	struct hp_verify_opts o = opts();
	struct hk_spec s;
	uint8_t *pkg, *raw;
	size_t len, rlen;

	hk_spec_default(&s);
	raw = hk_payload_bytes(1, &rlen);
	s.raw = raw;
	s.raw_len = raw_len ? raw_len : rlen;
	raw = realloc(raw, s.raw_len);
	s.raw = raw;
	s.zst = zst;
	s.zst_len = zlen;
	pkg = signed_pkg(&s, "p256", NULL, &len);
	expect(pkg, len, &o, cls);
	free(raw);
	free(pkg);
}

/* zstd frame header: magic, descriptor, [window], content size */
static size_t fcs_offset(const uint8_t *z)
{
	uint8_t fhd = z[4];

	return 5 + !(fhd & 0x20) +
	       ((fhd & 3) == 1	 ? 1
		: (fhd & 3) == 2 ? 2
		: (fhd & 3) == 3 ? 4
				 : 0);
}

Test(verify, decompression_bomb_and_corrupt_frame)
{
	struct hp_error e;
	uint8_t *big = calloc(1, 1 << 20), *z;
	size_t zlen;

	/* 1 MiB of zeros, the frame header patched to declare 1024 bytes */
	cr_assert_eq(hp_zstd_compress(big, 1 << 20, NULL, 0, 19, &z, &zlen, &e), 0);
	{
		uint8_t fhd = z[4];
		size_t at = fcs_offset(z);

		cr_assert_eq(fhd >> 6, 2, "expected a 4-byte content size field");
		z[at] = 0;
		z[at + 1] = 4;
		z[at + 2] = 0;
		z[at + 3] = 0;
	}
	expect_zst(z, zlen, 1024, HP_V_PAYLOAD_SIZE);
	free(z);
	free(big);

	/* a valid payload's frame with its blocks damaged */
	{
		size_t rlen;
		uint8_t *raw = hk_payload_bytes(1, &rlen);

		cr_assert_eq(hp_zstd_compress(raw, rlen, NULL, 0, 19, &z, &zlen, &e), 0);
		for (size_t i = fcs_offset(z) + 4; i < zlen; i++)
			z[i] ^= 0x5a;
		expect_zst(z, zlen, rlen, HP_V_PAYLOAD_FORMAT);
		free(z);
		/* trailing bytes after the frame */
		cr_assert_eq(hp_zstd_compress(raw, rlen, NULL, 0, 19, &z, &zlen, &e), 0);
		z = realloc(z, zlen + 3);
		memset(z + zlen, 0, 3);
		expect_zst(z, zlen + 3, rlen, HP_V_PAYLOAD_FORMAT);
		free(z);
		/* not zstd at all */
		expect_zst(raw, rlen, rlen, HP_V_PAYLOAD_FORMAT);
		free(raw);
	}
}

enum raw_damage { BAD_OFFSET, BAD_TYPE, BAD_NAME };

/* A package whose raw payload is damaged (the MANIFEST hashes follow the damage). */
static void expect_damaged(enum raw_damage d)
{
	/* code 0's first relocation: offset 4, R_X86_64_PC32, target DATA */
	static const uint8_t reloc0[] = {4, 0, 0, 0, R_X86_64_PC32, 0, 0, 0, HP_PT_DATA};
	/* code 0's name: length 7, "fixed_0" */
	static const uint8_t name0[] = {7, 0, 0, 0, 'f', 'i', 'x', 'e', 'd', '_', '0'};
	struct hp_verify_opts o = opts();
	struct hk_spec s;
	uint8_t *raw, *pkg, *hit;
	size_t rlen, len;

	raw = hk_payload_bytes(1, &rlen);
	if (d == BAD_NAME) {
		hit = memmem(raw, rlen, name0, sizeof(name0));
		cr_assert(hit);
		hit[2] = 0xff; /* 16 MiB: beyond the input and the name limit */
	} else {
		hit = memmem(raw, rlen, reloc0, sizeof(reloc0));
		cr_assert(hit);
		if (d == BAD_OFFSET)
			hit[0] = 200; /* the code is 20 bytes */
		else
			hit[4] = 0x7f;
	}
	hk_spec_default(&s);
	s.raw = raw;
	s.raw_len = rlen;
	pkg = signed_pkg(&s, "p256", NULL, &len);
	expect(pkg, len, &o, HP_V_PAYLOAD_FORMAT);
	free(pkg);
	free(raw);
}

Test(verify, malformed_payloads)
{
	expect_damaged(BAD_OFFSET);
	expect_damaged(BAD_TYPE);
	expect_damaged(BAD_NAME);
}

Test(verify, replacements_must_match_manifest_functions)
{
	struct hp_verify_opts o = opts();
	struct hk_spec s;
	uint8_t *raw, *pkg;
	size_t rlen, len;

	hk_spec_default(&s);
	raw = hk_payload_bytes(2, &rlen); /* two replacements, MANIFEST lists one */
	s.raw = raw;
	s.raw_len = rlen;
	pkg = signed_pkg(&s, "p256", NULL, &len);
	expect(pkg, len, &o, HP_V_PAYLOAD_FORMAT);
	free(pkg);
	free(raw);
}

/* ---- large payloads: hashed on a second thread, decompressed in pieces ------------------ */

#define BIG (3u << 20)

/* The model payload with a read-only item of BIG bytes: half random, half repeated words. */
static uint8_t *big_payload(size_t *len)
{
	struct hp_payload *p = hk_payload_model(1);
	struct hp_pdata *d;
	struct hp_error e;
	uint8_t *out;
	uint32_t x = 7;

	p->data = realloc(p->data, 2 * sizeof(*p->data));
	d = &p->data[p->ndata++];
	memset(d, 0, sizeof(*d));
	d->kind = HP_PDATA_RODATA;
	d->align = 64;
	d->name = strdup("table");
	d->size = BIG;
	d->init = malloc(BIG);
	for (size_t i = 0; i < BIG; i++) {
		x = x * 1103515245u + 12345u;
		d->init[i] =
			i < BIG / 2 ? (uint8_t)(x >> 24) : (uint8_t)((i / 64) % 7 * 31 + i % 64);
	}
	cr_assert_eq(hp_payload_encode(p, &out, len, &e), 0, "%s", e.what);
	hp_payload_free(p);
	return out;
}

static uint8_t *big_zst(const uint8_t *raw, size_t rlen, size_t *zlen)
{
	struct hp_error e;
	uint8_t *z;

	cr_assert_eq(hp_zstd_compress(raw, rlen, NULL, 0, 3, &z, zlen, &e), 0, "%s", e.what);
	cr_assert_gt(*zlen, 1u << 20, "a frame of several pieces");
	return z;
}

Test(verify, large_payload)
{
	struct hp_verify_opts o = opts();
	struct hp_verified v;
	struct hk_spec s;
	uint8_t *raw, *pkg;
	size_t rlen, len;

	raw = big_payload(&rlen);
	hk_spec_default(&s);
	s.raw = raw;
	s.raw_len = rlen;
	s.level = 3;
	pkg = signed_pkg(&s, "p256", NULL, &len);
	cr_assert_eq(hp_verify(pkg, len, &o, &v), 0, "%s", v.message);
	cr_assert(v.payload_checked && v.payload->ndata == 2);
	cr_expect_eq(v.payload->data[1].size, BIG);
	cr_expect(memmem(raw, rlen, v.payload->data[1].init, BIG), "the item's bytes");
	hp_verified_free(&v);
	free(pkg);
	/* unsigned: the hash of payload.zst is abandoned */
	pkg = hk_package(&s, &len);
	expect(pkg, len, &o, HP_V_SIGNATURE);
	free(pkg);
	free(raw);
}

Test(verify, large_payload_failures)
{
	uint8_t *raw, *z, *flipped;
	size_t rlen, zlen;

	raw = big_payload(&rlen);
	z = big_zst(raw, rlen, &zlen);
	cr_assert_eq(z[4] >> 6, 2, "expected a 4-byte content size field");
	/* the frame holds 1 MiB more than it (and MANIFEST) declares: fails mid-way */
	z[fcs_offset(z) + 2] -= 0x10;
	expect_zst(z, zlen, rlen - (1u << 20), HP_V_PAYLOAD_SIZE);
	/* it holds less than it declares: fails at its end */
	z[fcs_offset(z) + 2] += 0x20;
	expect_zst(z, zlen, rlen + (1u << 20), HP_V_PAYLOAD_FORMAT);
	z[fcs_offset(z) + 2] -= 0x10;
	/* decompresses to other bytes than MANIFEST's raw SHA-256 is of */
	{
		struct hp_verify_opts o = opts();
		struct hk_spec s;
		struct parts p;
		uint8_t *pkg, *bad;
		size_t len, blen;

		flipped = malloc(rlen);
		memcpy(flipped, raw, rlen);
		flipped[rlen - 100] ^= 1;
		hk_spec_default(&s);
		s.raw = flipped;
		s.raw_len = rlen;
		s.zst = z;
		s.zst_len = zlen;
		pkg = signed_pkg(&s, "p256", NULL, &len);
		expect(pkg, len, &o, HP_V_PAYLOAD_HASH);
		free(pkg);
		/* and a payload.zst that is not the one MANIFEST pins */
		s.raw = raw;
		pkg = signed_pkg(&s, "p256", NULL, &len);
		split(pkg, len, &p);
		p.z[zlen / 2] ^= 1;
		bad = join(&p, p.k.manifest_len, p.k.sig_len, zlen, &blen);
		expect(bad, blen, &o, HP_V_PAYLOAD_HASH);
		free(bad);
		free_parts(&p);
		free(pkg);
		free(flipped);
	}
	free(z);
	free(raw);
}

/* ---- target binding ------------------------------------------------------------------------ */

static uint8_t *bound_pkg(struct hk_target *t, uint8_t comp, size_t *len)
{
	struct hk_spec s;
	uint8_t *pkg;

	hk_target_load(t, TARGET);
	hk_spec_default(&s);
	hk_bind(&s, t, TARGET, 0, "latwin_avg");
	if (comp == HP_COMP_ZSTD_BASELINE) {
		s.compression = comp;
		s.prefix = hp_image_bytes(&t->img, s.funcs[0].offset, s.funcs[0].size);
		s.prefix_len = s.funcs[0].size;
	}
	pkg = signed_pkg(&s, "p256", NULL, len);
	return pkg;
}

Test(verify, bound_to_the_sample_target)
{
	struct hp_verify_opts o = opts();
	struct hp_verified v;
	struct hk_target t;
	uint8_t *pkg;
	size_t len;

	pkg = bound_pkg(&t, HP_COMP_ZSTD, &len);
	o.target = &t.img;
	cr_assert_eq(hp_verify(pkg, len, &o, &v), 0, "%s", v.message);
	cr_expect(v.target_checked && v.payload_checked);
	cr_expect_str_eq(v.manifest->funcs[0].name, "latwin_avg");
	hp_verified_free(&v);
	free(pkg);
	free(t.file);
}

Test(verify, zstd_baseline_needs_the_target_for_the_payload)
{
	struct hp_verify_opts o = opts();
	struct hp_verified v;
	struct hk_target t;
	uint8_t *pkg;
	size_t len;

	pkg = bound_pkg(&t, HP_COMP_ZSTD_BASELINE, &len);
	cr_assert_eq(hp_verify(pkg, len, &o, &v), 0, "%s", v.message);
	cr_expect(!v.payload_checked && !v.payload && !v.target_checked);
	hp_verified_free(&v);
	o.target = &t.img;
	cr_assert_eq(hp_verify(pkg, len, &o, &v), 0, "%s", v.message);
	cr_expect(v.payload_checked && v.payload && v.target_checked);
	hp_verified_free(&v);
	free(pkg);
	free(t.file);
}

Test(verify, wrong_baselines)
{
	struct hp_verify_opts o = opts();
	struct hk_target t, other;
	struct hp_error e;
	struct hp_image forged;
	uint8_t *pkg, *copy;
	size_t len;

	pkg = bound_pkg(&t, HP_COMP_ZSTD, &len);
	/* another program */
	hk_target_load(&other, OTHER_TARGET);
	o.target = &other.img;
	expect(pkg, len, &o, HP_V_TARGET);
	free(other.file);
	/* the same build-id, other bytes (the last byte of the file: section headers) */
	copy = malloc(t.len);
	memcpy(copy, t.file, t.len);
	copy[t.len - 1] ^= 1;
	cr_assert_eq(hp_image_parse(copy, t.len, &forged, &e), 0);
	cr_assert(!memcmp(forged.build_id, t.img.build_id, t.img.build_id_len));
	o.target = &forged;
	expect(pkg, len, &o, HP_V_TARGET);
	/* another architecture: e_machine 183 (AArch64) */
	copy[t.len - 1] ^= 1;
	copy[18] = 183;
	copy[19] = 0;
	cr_assert_eq(hp_image_parse(copy, t.len, &forged, &e), 0);
	expect(pkg, len, &o, HP_V_TARGET);
	free(copy);
	free(pkg);
	free(t.file);
}

Test(verify, payload_hash_is_reported_before_the_target)
{
	struct hp_verify_opts o = opts();
	struct hk_target t, other;
	struct parts p;
	uint8_t *pkg, *bad;
	size_t len, blen;

	pkg = bound_pkg(&t, HP_COMP_ZSTD, &len);
	hk_target_load(&other, OTHER_TARGET);
	o.target = &other.img;
	expect(pkg, len, &o, HP_V_TARGET);
	split(pkg, len, &p);
	p.z[p.k.payload_len / 2] ^= 1;
	bad = join(&p, p.k.manifest_len, p.k.sig_len, p.k.payload_len, &blen);
	expect(bad, blen, &o, HP_V_PAYLOAD_HASH);
	o.target = &t.img;
	expect(bad, blen, &o, HP_V_PAYLOAD_HASH);
	free(bad);
	free_parts(&p);
	free(pkg);
	free(other.file);
	free(t.file);
}

Test(verify, baseline_function_bytes_differ)
{
	struct hp_verify_opts o = opts();
	struct hk_target t;
	struct hk_spec s;
	uint8_t *pkg;
	size_t len;

	/* the file is the one packed, but the function hash says otherwise */
	hk_target_load(&t, TARGET);
	hk_spec_default(&s);
	hk_bind(&s, &t, TARGET, 0, "latwin_avg");
	s.funcs[0].sha256[0] ^= 1;
	pkg = signed_pkg(&s, "p256", NULL, &len);
	o.target = &t.img;
	expect(pkg, len, &o, HP_V_TARGET);
	free(pkg);
	/* a function outside the file-backed image */
	hk_spec_default(&s);
	hk_bind(&s, &t, TARGET, 0, "latwin_avg");
	s.funcs[0].offset = t.img.size + 0x1000;
	pkg = signed_pkg(&s, "p256", NULL, &len);
	expect(pkg, len, &o, HP_V_TARGET);
	free(pkg);
	free(t.file);
}

/* ---- sequence ---------------------------------------------------------------------------------
 */

Test(verify, sequence_state)
{
	struct hp_verify_opts o = opts();
	struct hp_verified v;
	uint8_t *pkg;
	size_t len;

	pkg = good_pkg(&len); /* sequence 2 */
	o.have_state = true;
	o.applied_seq = 1;
	cr_assert_eq(hp_verify(pkg, len, &o, &v), 0, "%s", v.message);
	cr_expect(v.sequence_checked);
	hp_verified_free(&v);
	o.applied_seq = 2;
	expect(pkg, len, &o, HP_V_SEQUENCE);
	o.applied_seq = 5;
	expect(pkg, len, &o, HP_V_SEQUENCE);
	o.applied_seq = 0;
	o.floor = 3;
	expect(pkg, len, &o, HP_V_SEQUENCE);
	o.floor = 2;
	expect(pkg, len, &o, HP_V_OK);
	free(pkg);
}
