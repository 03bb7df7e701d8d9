/*
 * CMS signatures and X.509 chains: the one file of hpsign that touches
 * OpenSSL's X509, CMS, EVP and ENGINE interfaces (see cms.h, sign.h).
 *
 * Verification does not trust OpenSSL's leniency.  A signature must be DER
 * that re-encodes to the very same bytes, with the versions and the
 * digestAlgorithms set that its one SignerInfo implies, and every embedded
 * certificate must be an X.509 certificate of the verified chain, once, and
 * not its anchor: otherwise bytes that no signature covers (an unused or
 * repeated certificate, a version number, a parameter) could change and the
 * package would still verify.  The ECDSA signature values stay malleable,
 * the SignerInfo's and those of the embedded certificates: (r, s) verifies
 * as (r, n - s) too, and neither stock OpenSSL nor CAs sign with one form
 * only, so both are accepted; the hash of MANIFEST.sig therefore does not
 * identify a package (the hash of MANIFEST does).  OpenSSL 3.0 has no
 * code-signing purpose, so the chain is verified with no purpose and the
 * leaf's extendedKeyUsage, basicConstraints and keyUsage are checked here.
 */
#define OPENSSL_SUPPRESS_DEPRECATED /* the ENGINE API, for PKCS#11 keys */

#include <openssl/asn1.h>
#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/cms.h>
#include <openssl/crypto.h>
#include <openssl/engine.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/objects.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "verify/cms.h"

#define MAX_PEM_FILE (16u << 20)

/* Format a message into msg, return `ret` (a class, or -1). */
static int say(int ret, char *msg, size_t size, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

static int say(int ret, char *msg, size_t size, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, size, fmt, ap);
	va_end(ap);
	return ret;
}

/* OpenSSL's reason for the last failure ("bad decrypt"), clearing its queue. */
static const char *ossl_reason(void)
{
	unsigned long err = ERR_peek_last_error();
	const char *r = err ? ERR_reason_error_string(err) : NULL;

	ERR_clear_error();
	return r ? r : "unknown OpenSSL error";
}

static int64_t asn1_time(const ASN1_TIME *t)
{
	struct tm tm;

	memset(&tm, 0, sizeof(tm));
	if (!t || !ASN1_TIME_to_tm(t, &tm))
		return 0;
	return (int64_t)timegm(&tm);
}

static void name_text(const X509_NAME *n, char *buf, size_t size)
{
	BIO *b = BIO_new(BIO_s_mem());
	char *p;
	long len;

	buf[0] = 0;
	if (!b)
		return;
	if (X509_NAME_print_ex(b, n, 0, XN_FLAG_RFC2253) >= 0) {
		len = BIO_get_mem_data(b, &p);
		snprintf(buf, size, "%.*s", (int)len, p);
	}
	BIO_free(b);
}

/* ---- algorithms ------------------------------------------------------------------ */

/* ECDSA on P-256 or P-384, or RSA of at least 2048 bits; describes the key. */
static bool key_ok(EVP_PKEY *pk, char *desc, size_t size)
{
	char group[64];
	size_t glen = 0;

	snprintf(desc, size, "unsupported key type");
	if (!pk)
		return false;
	switch (EVP_PKEY_get_base_id(pk)) {
	case EVP_PKEY_EC:
		if (!EVP_PKEY_get_group_name(pk, group, sizeof(group), &glen)) {
			ERR_clear_error();
			snprintf(desc, size, "ECDSA with explicit curve parameters");
			return false;
		}
		if (!strcmp(group, "prime256v1") || !strcmp(group, "P-256")) {
			snprintf(desc, size, "ECDSA P-256");
			return true;
		}
		if (!strcmp(group, "secp384r1") || !strcmp(group, "P-384")) {
			snprintf(desc, size, "ECDSA P-384");
			return true;
		}
		snprintf(desc, size, "ECDSA %.40s", group);
		return false;
	case EVP_PKEY_RSA:
		snprintf(desc, size, "RSA %d", EVP_PKEY_get_bits(pk));
		return EVP_PKEY_get_bits(pk) >= 2048;
	default:
		return false;
	}
}

static const char *digest_name(int nid)
{
	switch (nid) {
	case NID_sha256:
		return "SHA-256";
	case NID_sha384:
		return "SHA-384";
	case NID_sha512:
		return "SHA-512";
	default:
		return NULL;
	}
}

/* A certificate's key and the digest its issuer signed it with. */
static int cert_algorithms_ok(X509 *x, const char *role, char *msg, size_t size)
{
	char key[48], subject[200];
	int md = NID_undef, pk = NID_undef, bits = 0;
	uint32_t flags = 0;

	name_text(X509_get_subject_name(x), subject, sizeof(subject));
	if (!key_ok(X509_get0_pubkey(x), key, sizeof(key)))
		return say(HP_V_ALGORITHM, msg, size,
			   "%s certificate %s: key %s is not allowed "
			   "(ECDSA P-256/P-384 or RSA >= 2048)",
			   role, subject, key);
	if (!X509_get_signature_info(x, &md, &pk, &bits, &flags))
		ERR_clear_error();
	if (!digest_name(md) || (pk != NID_rsaEncryption && pk != NID_X9_62_id_ecPublicKey))
		return say(HP_V_ALGORITHM, msg, size,
			   "%s certificate %s: signed with %s, not allowed (SHA-256 or stronger, "
			   "ECDSA or RSA PKCS#1)",
			   role, subject,
			   md != NID_undef ? OBJ_nid2sn(md) : "an unsupported algorithm");
	return HP_V_OK;
}

/* The leaf may sign code: codeSigning, no CA, digitalSignature if keyUsage is set. */
static int leaf_usage_ok(X509 *leaf, char *msg, size_t size)
{
	uint32_t ext = X509_get_extension_flags(leaf);

	if (ext & EXFLAG_INVALID)
		return say(HP_V_KEY_USAGE, msg, size, "signer certificate has invalid extensions");
	if (ext & EXFLAG_CA)
		return say(HP_V_KEY_USAGE, msg, size,
			   "signer certificate is a CA (basicConstraints CA:TRUE)");
	if (!(ext & EXFLAG_XKUSAGE) || !(X509_get_extended_key_usage(leaf) & XKU_CODE_SIGN))
		return say(HP_V_KEY_USAGE, msg, size,
			   "signer certificate lacks extendedKeyUsage codeSigning");
	if ((ext & EXFLAG_KUSAGE) && !(X509_get_key_usage(leaf) & KU_DIGITAL_SIGNATURE))
		return say(HP_V_KEY_USAGE, msg, size,
			   "signer certificate's keyUsage does not allow digitalSignature");
	return HP_V_OK;
}

/* ---- trust ----------------------------------------------------------------------- */

struct hp_trust {
	X509_STORE *store;
	bool crls;
};

/* Every PEM object of a file, read once into memory. */
static STACK_OF(X509_INFO) * read_pem(const char *path, char *msg, size_t size)
{
	struct hp_error e;
	STACK_OF(X509_INFO) *info = NULL;
	uint8_t *data;
	size_t len;
	char text[160];
	BIO *b;

	if (hp_read_file(path, MAX_PEM_FILE, &data, &len, &e) < 0) {
		say(-1, msg, size, "%s: %s", path, hp_error_text(&e, text, sizeof(text)));
		return NULL;
	}
	b = BIO_new_mem_buf(data, (int)len);
	if (b)
		info = PEM_X509_INFO_read_bio(b, NULL, NULL, NULL);
	if (!info)
		say(-1, msg, size, "%s: not a PEM file: %s", path, ossl_reason());
	BIO_free(b);
	free(data);
	return info;
}

static int add_anchors(X509_STORE *st, const char *path, char *msg, size_t size)
{
	STACK_OF(X509_INFO) *info = read_pem(path, msg, size);
	int n = 0, ret = -1;

	if (!info)
		return -1;
	for (int i = 0; i < sk_X509_INFO_num(info); i++) {
		X509_INFO *it = sk_X509_INFO_value(info, i);

		if (!it->x509 || it->crl || it->x_pkey) {
			say(-1, msg, size, "%s: holds something else than certificates", path);
			goto out;
		}
		if (!X509_STORE_add_cert(st, it->x509)) {
			say(-1, msg, size, "%s: %s", path, ossl_reason());
			goto out;
		}
		n++;
	}
	if (!n) {
		say(-1, msg, size, "%s: no certificate in the file", path);
		goto out;
	}
	ret = 0;
out:
	sk_X509_INFO_pop_free(info, X509_INFO_free);
	return ret;
}

static int add_crls(X509_STORE *st, const char *path, char *msg, size_t size)
{
	STACK_OF(X509_INFO) *info = read_pem(path, msg, size);
	int n = 0, ret = -1;

	if (!info)
		return -1;
	for (int i = 0; i < sk_X509_INFO_num(info); i++) {
		X509_INFO *it = sk_X509_INFO_value(info, i);

		if (!it->crl || it->x509 || it->x_pkey) {
			say(-1, msg, size, "%s: holds something else than CRLs", path);
			goto out;
		}
		if (!X509_STORE_add_crl(st, it->crl)) {
			say(-1, msg, size, "%s: %s", path, ossl_reason());
			goto out;
		}
		n++;
	}
	if (!n) {
		say(-1, msg, size, "%s: no CRL in the file", path);
		goto out;
	}
	ret = 0;
out:
	sk_X509_INFO_pop_free(info, X509_INFO_free);
	return ret;
}

int hp_trust_load(const char *ca_file, const char *crl_file, struct hp_trust **out, char *msg,
		  size_t size)
{
	struct hp_trust *t = calloc(1, sizeof(*t));

	*out = NULL;
	if (!t || !(t->store = X509_STORE_new())) {
		free(t);
		return say(-1, msg, size, "out of memory");
	}
	if (!ca_file) {
		say(-1, msg, size, "no trust anchors given");
		goto fail;
	}
	if (add_anchors(t->store, ca_file, msg, size) < 0)
		goto fail;
	if (crl_file) {
		if (add_crls(t->store, crl_file, msg, size) < 0)
			goto fail;
		t->crls = true;
	}
	*out = t;
	return 0;
fail:
	hp_trust_free(t);
	return -1;
}

void hp_trust_free(struct hp_trust *t)
{
	if (!t)
		return;
	X509_STORE_free(t->store);
	free(t);
}

/* ---- strict DER ---------------------------------------------------------------------- */

struct tlv {
	const unsigned char *start, *body, *end;
	int tag, cls;
	bool cons;
};

/* The next definite-length TLV in [*p, end). */
static bool tlv_next(const unsigned char **p, const unsigned char *end, struct tlv *t)
{
	const unsigned char *q = *p;
	long len;
	int r;

	if (q >= end)
		return false;
	r = ASN1_get_object(&q, &len, &t->tag, &t->cls, end - q);
	if ((r & 0x80) || (r & 1)) {
		ERR_clear_error();
		return false;
	}
	t->start = *p;
	t->body = q;
	t->end = q + len;
	t->cons = r & V_ASN1_CONSTRUCTED;
	*p = t->end;
	return true;
}

static bool tlv_is(const struct tlv *t, int cls, int tag)
{
	return t->cls == cls && t->tag == tag;
}

static bool small_int(const struct tlv *t, int want)
{
	return tlv_is(t, V_ASN1_UNIVERSAL, V_ASN1_INTEGER) && t->end - t->body == 1 &&
	       t->body[0] == want;
}

/* Bytes of a DER header for this tag number and length. */
static long der_header_len(int tag, long len)
{
	long n = 2;

	for (int t = tag; tag >= 31 && t; t >>= 7)
		n++;
	for (long l = len; len >= 128 && l; l >>= 8)
		n++;
	return n;
}

/*
 * Every TLV of a DER encoding, recursively: minimal lengths, and the form
 * (constructed or primitive) the universal type demands.  OpenSSL keeps the
 * received bytes of some parts (names, certificates) and re-encodes those
 * as received, so the re-encoding check alone would let a SEQUENCE marked
 * primitive through.
 */
static bool der_strict(const unsigned char *p, const unsigned char *end, int depth)
{
	struct tlv t;

	if (depth > 40)
		return false;
	while (p < end) {
		if (!tlv_next(&p, end, &t) ||
		    t.body - t.start != der_header_len(t.tag, (long)(t.end - t.body)))
			return false;
		if (t.cls == V_ASN1_UNIVERSAL &&
		    (t.tag == V_ASN1_SEQUENCE || t.tag == V_ASN1_SET) != t.cons)
			return false;
		if (t.cons && !der_strict(t.body, t.end, depth + 1))
			return false;
	}
	return true;
}

/*
 * Fields of the SignedData no signature covers, which OpenSSL does not
 * check: both version numbers (RFC 5652 5.1, 5.3) and the digestAlgorithms
 * set, which must be exactly the one SignerInfo's digest algorithm.
 */
/* The TLV at p is exactly want[0..n). */
static bool tlv_bytes_are(const unsigned char **p, const unsigned char *end, const uint8_t *want,
			  int n)
{
	struct tlv t;

	return want && n > 0 && tlv_next(p, end, &t) && t.end - t.start == n &&
	       !memcmp(t.start, want, (size_t)n);
}

/*
 * The signer identifier, byte for byte the certificate's issuer and serial
 * (OpenSSL compares names case-insensitively).  A key identifier is
 * compared byte for byte by OpenSSL already.
 */
static bool sid_ok(const struct tlv *sid, X509 *leaf)
{
	unsigned char *name = NULL, *serial = NULL;
	const unsigned char *p = sid->body;
	int nl, sl;
	bool ok;

	if (!tlv_is(sid, V_ASN1_UNIVERSAL, V_ASN1_SEQUENCE))
		return true; /* [0] subjectKeyIdentifier */
	nl = i2d_X509_NAME(X509_get_issuer_name(leaf), &name);
	sl = i2d_ASN1_INTEGER(X509_get0_serialNumber(leaf), &serial);
	ok = tlv_bytes_are(&p, sid->end, name, nl) && tlv_bytes_are(&p, sid->end, serial, sl) &&
	     p == sid->end;
	OPENSSL_free(name);
	OPENSSL_free(serial);
	return ok;
}

/*
 * The certificates set ([0]) holds exactly the ncerts X.509 certificates
 * OpenSSL returned: OpenSSL skips the other CertificateChoices (attribute
 * and other-format certificates), which would be bytes nobody checked.
 */
static bool cert_set_ok(const struct tlv *set, int ncerts)
{
	const unsigned char *p = set->body;
	struct tlv c;
	int n = 0;

	while (p < set->end) {
		if (!tlv_next(&p, set->end, &c) || !tlv_is(&c, V_ASN1_UNIVERSAL, V_ASN1_SEQUENCE))
			return false;
		n++;
	}
	return n == ncerts;
}

static bool unsigned_fields_ok(const uint8_t *sig, size_t len, int version, const uint8_t *dalg,
			       size_t dalg_len, X509 *leaf, int ncerts)
{
	const unsigned char *p = sig, *q, *r;
	struct tlv ci, oid, ex, sd, v, algs, alg, encap, t, si;

	if (!tlv_next(&p, sig + len, &ci) || p != sig + len)
		return false;
	q = ci.body;
	if (!tlv_next(&q, ci.end, &oid) || !tlv_next(&q, ci.end, &ex) || q != ci.end ||
	    !tlv_is(&ex, V_ASN1_CONTEXT_SPECIFIC, 0))
		return false;
	q = ex.body;
	if (!tlv_next(&q, ex.end, &sd) || q != ex.end)
		return false;
	q = sd.body;
	if (!tlv_next(&q, sd.end, &v) || !small_int(&v, version))
		return false;
	if (!tlv_next(&q, sd.end, &algs) || !tlv_is(&algs, V_ASN1_UNIVERSAL, V_ASN1_SET))
		return false;
	r = algs.body;
	if (!tlv_next(&r, algs.end, &alg) || r != algs.end ||
	    (size_t)(alg.end - alg.start) != dalg_len || memcmp(alg.start, dalg, dalg_len))
		return false;
	if (!tlv_next(&q, sd.end, &encap) || !tlv_next(&q, sd.end, &t))
		return false;
	if (tlv_is(&t, V_ASN1_CONTEXT_SPECIFIC, 0) &&
	    (!cert_set_ok(&t, ncerts) || !tlv_next(&q, sd.end, &t)))
		return false;
	/* t is now the signerInfos set: embedded CRLs ([1]) are refused earlier */
	if (!tlv_is(&t, V_ASN1_UNIVERSAL, V_ASN1_SET) || q != sd.end)
		return false;
	r = t.body;
	if (!tlv_next(&r, t.end, &si) || r != t.end)
		return false;
	r = si.body;
	return tlv_next(&r, si.end, &v) && small_int(&v, version) && tlv_next(&r, si.end, &t) &&
	       sid_ok(&t, leaf);
}

/* ---- verification ----------------------------------------------------------------- */

struct vstate {
	CMS_ContentInfo *cms;
	CMS_SignerInfo *si;
	STACK_OF(X509) * certs; /* embedded */
	X509 *leaf;		/* one of certs */
	int md_nid;
	char *msg;
	size_t size;
};

/* Parse, re-encode, and check the shape: detached id-data, one signer. */
static int parse_signature(struct vstate *s, const uint8_t *sig, size_t len)
{
	const unsigned char *p = sig;
	unsigned char *der = NULL;
	int n;

	if (len > LONG_MAX || !(s->cms = d2i_CMS_ContentInfo(NULL, &p, (long)len)))
		return say(HP_V_SIGNATURE, s->msg, s->size,
			   "MANIFEST.sig is not a DER CMS structure (%s)", ossl_reason());
	if (p != sig + len)
		return say(HP_V_SIGNATURE, s->msg, s->size,
			   "MANIFEST.sig has %zu bytes after its signature",
			   len - (size_t)(p - sig));
	n = i2d_CMS_ContentInfo(s->cms, &der);
	if (n < 0 || (size_t)n != len || memcmp(der, sig, len)) {
		OPENSSL_free(der);
		ERR_clear_error();
		return say(HP_V_SIGNATURE, s->msg, s->size, "MANIFEST.sig is not in DER form");
	}
	OPENSSL_free(der);
	if (!der_strict(sig, sig + len, 0))
		return say(HP_V_SIGNATURE, s->msg, s->size, "MANIFEST.sig is not in DER form");
	if (OBJ_obj2nid(CMS_get0_type(s->cms)) != NID_pkcs7_signed)
		return say(HP_V_SIGNATURE, s->msg, s->size, "MANIFEST.sig is not CMS SignedData");
	if (OBJ_obj2nid(CMS_get0_eContentType(s->cms)) != NID_pkcs7_data ||
	    CMS_is_detached(s->cms) != 1)
		return say(HP_V_SIGNATURE, s->msg, s->size,
			   "MANIFEST.sig is not a detached signature of data");
	if (sk_CMS_SignerInfo_num(CMS_get0_SignerInfos(s->cms)) != 1)
		return say(HP_V_SIGNATURE, s->msg, s->size,
			   "MANIFEST.sig must have exactly one signer");
	s->si = sk_CMS_SignerInfo_value(CMS_get0_SignerInfos(s->cms), 0);
	if (CMS_unsigned_get_attr_count(s->si) > 0)
		return say(HP_V_SIGNATURE, s->msg, s->size, "MANIFEST.sig has unsigned attributes");
	return HP_V_OK;
}

/* The embedded certificates, the signer among them, and no CRLs. */
static int find_signer(struct vstate *s)
{
	STACK_OF(X509_CRL) *crls = CMS_get1_crls(s->cms);
	int found = 0;

	if (crls) {
		sk_X509_CRL_pop_free(crls, X509_CRL_free);
		return say(HP_V_SIGNATURE, s->msg, s->size, "MANIFEST.sig embeds CRLs");
	}
	s->certs = CMS_get1_certs(s->cms);
	for (int i = 0; i < sk_X509_num(s->certs); i++) {
		X509 *x = sk_X509_value(s->certs, i);

		if (!CMS_SignerInfo_cert_cmp(s->si, x)) {
			s->leaf = x;
			found++;
		}
	}
	if (found != 1)
		return say(HP_V_SIGNATURE, s->msg, s->size,
			   found ? "MANIFEST.sig embeds the signer certificate twice"
				 : "MANIFEST.sig does not embed the signer certificate");
	return HP_V_OK;
}

static bool algor_params_ok(const X509_ALGOR *a, bool null_ok)
{
	int ptype;
	const void *pval;
	const ASN1_OBJECT *obj;

	X509_ALGOR_get0(&obj, &ptype, &pval, a);
	return ptype == V_ASN1_UNDEF || (null_ok && ptype == V_ASN1_NULL);
}

/* Signer's digest and signature algorithm, and the unsigned fields that go with them. */
static int signature_algorithms(struct vstate *s, const uint8_t *sig, size_t len,
				struct hp_signer_info *info)
{
	X509_ALGOR *dig, *salg;
	EVP_PKEY *pk;
	X509 *signer;
	ASN1_OCTET_STRING *keyid = NULL;
	unsigned char *dder = NULL;
	int sig_nid, want_ec, want_rsa, dlen, rc;
	bool ec;

	CMS_SignerInfo_get0_algs(s->si, &pk, &signer, &dig, &salg);
	s->md_nid = OBJ_obj2nid(dig->algorithm);
	if (!digest_name(s->md_nid))
		return say(HP_V_ALGORITHM, s->msg, s->size,
			   "signature digest %s is not allowed (SHA-256 or stronger)",
			   OBJ_nid2sn(s->md_nid));
	snprintf(info->digest, sizeof(info->digest), "%s", digest_name(s->md_nid));
	if (!key_ok(X509_get0_pubkey(s->leaf), info->key, sizeof(info->key)))
		return say(HP_V_ALGORITHM, s->msg, s->size,
			   "signer key %s is not allowed (ECDSA P-256/P-384 or RSA >= 2048)",
			   info->key);
	ec = EVP_PKEY_get_base_id(X509_get0_pubkey(s->leaf)) == EVP_PKEY_EC;
	want_ec = s->md_nid == NID_sha256   ? NID_ecdsa_with_SHA256
		  : s->md_nid == NID_sha384 ? NID_ecdsa_with_SHA384
					    : NID_ecdsa_with_SHA512;
	want_rsa = s->md_nid == NID_sha256   ? NID_sha256WithRSAEncryption
		   : s->md_nid == NID_sha384 ? NID_sha384WithRSAEncryption
					     : NID_sha512WithRSAEncryption;
	sig_nid = OBJ_obj2nid(salg->algorithm);
	if (ec ? sig_nid != want_ec : (sig_nid != NID_rsaEncryption && sig_nid != want_rsa))
		return say(HP_V_ALGORITHM, s->msg, s->size,
			   "signature algorithm %s does not go with a %s key and %s",
			   OBJ_nid2sn(sig_nid), info->key, info->digest);
	if (!algor_params_ok(dig, true) || !algor_params_ok(salg, !ec))
		return say(HP_V_SIGNATURE, s->msg, s->size,
			   "MANIFEST.sig has unexpected algorithm parameters");
	rc = CMS_SignerInfo_get0_signer_id(s->si, &keyid, NULL, NULL);
	dlen = i2d_X509_ALGOR(dig, &dder);
	if (!rc || dlen <= 0 ||
	    !unsigned_fields_ok(sig, len, keyid ? 3 : 1, dder, (size_t)dlen, s->leaf,
				sk_X509_num(s->certs))) {
		OPENSSL_free(dder);
		ERR_clear_error();
		return say(
			HP_V_SIGNATURE, s->msg, s->size,
			"MANIFEST.sig has inconsistent versions, digest algorithms or signer id");
	}
	OPENSSL_free(dder);
	return HP_V_OK;
}

/* The signature itself over the content (signed attributes and message digest). */
static int check_signature(struct vstate *s, const uint8_t *content, size_t len)
{
	BIO *in = BIO_new_mem_buf(content, (int)len);
	int ok;

	if (!in || len > INT_MAX) {
		BIO_free(in);
		return say(HP_V_TROUBLE, s->msg, s->size, "out of memory");
	}
	ok = CMS_verify(s->cms, NULL, NULL, in, NULL,
			CMS_BINARY | CMS_DETACHED | CMS_NO_SIGNER_CERT_VERIFY);
	BIO_free(in);
	if (ok != 1)
		return say(HP_V_SIGNATURE, s->msg, s->size,
			   "signature does not match MANIFEST (%s)", ossl_reason());
	return HP_V_OK;
}

/* X509_verify_cert's verdict, to a class. */
static int chain_error(struct vstate *s, X509_STORE_CTX *ctx)
{
	int err = X509_STORE_CTX_get_error(ctx), depth = X509_STORE_CTX_get_error_depth(ctx);
	X509 *x = X509_STORE_CTX_get_current_cert(ctx);
	const char *what = X509_verify_cert_error_string(err);
	char name[200] = "";
	int cls;

	if (x)
		name_text(X509_get_subject_name(x), name, sizeof(name));
	switch (err) {
	case X509_V_ERR_CERT_HAS_EXPIRED:
	case X509_V_ERR_CERT_NOT_YET_VALID:
	case X509_V_ERR_CRL_HAS_EXPIRED:
	case X509_V_ERR_CRL_NOT_YET_VALID:
		cls = HP_V_EXPIRED;
		break;
	case X509_V_ERR_CERT_REVOKED:
		cls = HP_V_REVOKED;
		break;
	case X509_V_ERR_EE_KEY_TOO_SMALL:
	case X509_V_ERR_CA_KEY_TOO_SMALL:
	case X509_V_ERR_CA_MD_TOO_WEAK:
	case X509_V_ERR_EC_KEY_EXPLICIT_PARAMS:
		cls = HP_V_ALGORITHM;
		break;
	case X509_V_ERR_INVALID_CA:
	case X509_V_ERR_INVALID_PURPOSE:
	case X509_V_ERR_KEYUSAGE_NO_CERTSIGN:
		cls = HP_V_CHAIN;
		break;
	default:
		cls = HP_V_CHAIN;
	}
	ERR_clear_error();
	return say(cls, s->msg, s->size, "certificate chain: %s (depth %d%s%s)", what, depth,
		   name[0] ? ", " : "", name);
}

/* Fill in what the caller shows about the signer. */
static void describe(X509 *leaf, STACK_OF(X509) * chain, struct hp_signer_info *info)
{
	BIGNUM *bn = ASN1_INTEGER_to_BN(X509_get0_serialNumber(leaf), NULL);
	char *hex = bn ? BN_bn2hex(bn) : NULL;

	name_text(X509_get_subject_name(leaf), info->subject, sizeof(info->subject));
	name_text(X509_get_issuer_name(leaf), info->issuer, sizeof(info->issuer));
	snprintf(info->serial, sizeof(info->serial), "%s", hex ? hex : "?");
	for (char *c = info->serial; *c; c++)
		if (*c >= 'A' && *c <= 'F')
			*c = (char)(*c - 'A' + 'a');
	info->not_before = asn1_time(X509_get0_notBefore(leaf));
	info->not_after = asn1_time(X509_get0_notAfter(leaf));
	info->chain_len = sk_X509_num(chain);
	name_text(X509_get_subject_name(sk_X509_value(chain, info->chain_len - 1)), info->anchor,
		  sizeof(info->anchor));
	OPENSSL_free(hex);
	BN_free(bn);
}

static int verify_chain(struct vstate *s, const struct hp_trust *t, int64_t now,
			struct hp_signer_info *info)
{
	X509_STORE_CTX *ctx = X509_STORE_CTX_new();
	STACK_OF(X509) *chain = NULL;
	X509_VERIFY_PARAM *vp;
	int cls = HP_V_OK;

	if (!ctx || !X509_STORE_CTX_init(ctx, t->store, s->leaf, s->certs)) {
		cls = say(HP_V_TROUBLE, s->msg, s->size, "out of memory");
		goto out;
	}
	vp = X509_STORE_CTX_get0_param(ctx);
	X509_VERIFY_PARAM_set_time(vp, (time_t)now);
	/* 112 bits: refuses RSA < 2048 and SHA-1 signatures in the chain */
	X509_VERIFY_PARAM_set_auth_level(vp, 2);
	if (t->crls)
		X509_VERIFY_PARAM_set_flags(vp, X509_V_FLAG_CRL_CHECK | X509_V_FLAG_CRL_CHECK_ALL);
	if (X509_verify_cert(ctx) != 1) {
		cls = chain_error(s, ctx);
		goto out;
	}
	chain = X509_STORE_CTX_get1_chain(ctx);
	for (int i = 0; i < sk_X509_num(chain); i++) {
		cls = cert_algorithms_ok(sk_X509_value(chain, i),
					 i ? (i + 1 == sk_X509_num(chain) ? "anchor" : "CA")
					   : "signer",
					 s->msg, s->size);
		if (cls != HP_V_OK)
			goto out;
	}
	/*
	 * An embedded certificate the chain does not use is bytes nobody
	 * checked: so is the anchor (it comes from --ca), and so is a second
	 * copy of a certificate.
	 */
	for (int i = 0; i < sk_X509_num(s->certs); i++) {
		X509 *x = sk_X509_value(s->certs, i);
		const char *why = "a certificate the chain does not use";
		int n = sk_X509_num(chain);

		for (int j = 0; j + 1 < n && why; j++)
			if (!X509_cmp(x, sk_X509_value(chain, j)))
				why = NULL;
		if (why && !X509_cmp(x, sk_X509_value(chain, n - 1)))
			why = "the trust anchor";
		for (int j = 0; j < i && !why; j++)
			if (!X509_cmp(x, sk_X509_value(s->certs, j)))
				why = "a certificate twice";
		if (why) {
			cls = say(HP_V_CHAIN, s->msg, s->size, "MANIFEST.sig embeds %s", why);
			goto out;
		}
	}
	describe(s->leaf, chain, info);
out:
	sk_X509_pop_free(chain, X509_free);
	X509_STORE_CTX_free(ctx);
	return cls;
}

int hp_cms_verify(const struct hp_trust *t, const uint8_t *sig, size_t sig_len,
		  const uint8_t *content, size_t len, int64_t now, struct hp_signer_info *info,
		  char *msg, size_t size)
{
	struct vstate s = {.msg = msg, .size = size};
	int cls;

	memset(info, 0, sizeof(*info));
	if ((cls = parse_signature(&s, sig, sig_len)) != HP_V_OK ||
	    (cls = find_signer(&s)) != HP_V_OK ||
	    (cls = signature_algorithms(&s, sig, sig_len, info)) != HP_V_OK ||
	    (cls = check_signature(&s, content, len)) != HP_V_OK)
		goto out;
	if (X509_get_extension_flags(s.leaf) & EXFLAG_SS) {
		cls = say(HP_V_CHAIN, msg, size, "signer certificate is self-signed");
		goto out;
	}
	if ((cls = verify_chain(&s, t, now, info)) != HP_V_OK ||
	    (cls = leaf_usage_ok(s.leaf, msg, size)) != HP_V_OK)
		goto out;
out:
	sk_X509_pop_free(s.certs, X509_free);
	CMS_ContentInfo_free(s.cms);
	ERR_clear_error();
	return cls;
}

/* ---- signing ------------------------------------------------------------------------ */

void hp_wipe(void *p, size_t n)
{
	OPENSSL_cleanse(p, n);
}

struct hp_signer {
	EVP_PKEY *key;
	X509 *cert;
	STACK_OF(X509) * chain; /* intermediates to embed */
	ENGINE *engine;		/* for a PKCS#11 key */
	const EVP_MD *md;
};

static X509 *load_cert(const char *path, char *msg, size_t size)
{
	STACK_OF(X509_INFO) *info = read_pem(path, msg, size);
	X509 *x = NULL;

	if (!info)
		return NULL;
	if (sk_X509_INFO_num(info) != 1 || !sk_X509_INFO_value(info, 0)->x509)
		say(-1, msg, size, "%s: must hold exactly one certificate", path);
	else if (X509_up_ref(sk_X509_INFO_value(info, 0)->x509))
		x = sk_X509_INFO_value(info, 0)->x509;
	sk_X509_INFO_pop_free(info, X509_INFO_free);
	return x;
}

/*
 * The intermediates to embed: from the file, the leaf's issuer, its issuer,
 * and so on, up to (not including) a self-signed anchor.  Other
 * certificates of the file are left out: a verifier refuses embedded
 * certificates its chain does not use.
 */
static int load_chain(struct hp_signer *s, const char *path, char *msg, size_t size)
{
	STACK_OF(X509_INFO) *info = read_pem(path, msg, size);
	X509 *cur = s->cert;
	char why[400];
	int ret = -1;

	if (!info)
		return -1;
	for (int i = 0; i < sk_X509_INFO_num(info); i++)
		if (!sk_X509_INFO_value(info, i)->x509) {
			say(-1, msg, size, "%s: holds something else than certificates", path);
			goto out;
		}
	for (int depth = 0; depth < sk_X509_INFO_num(info); depth++) {
		X509 *up = NULL;

		for (int i = 0; i < sk_X509_INFO_num(info) && !up; i++) {
			X509 *x = sk_X509_INFO_value(info, i)->x509;

			if (X509_cmp(x, cur) && X509_check_issued(x, cur) == X509_V_OK)
				up = x;
		}
		if (!up || (X509_get_extension_flags(up) & EXFLAG_SS))
			break;
		if (cert_algorithms_ok(up, "CA", why, sizeof(why)) != HP_V_OK) {
			say(-1, msg, size, "%s: %s", path, why);
			goto out;
		}
		if (!X509_add_cert(s->chain, up, X509_ADD_FLAG_UP_REF | X509_ADD_FLAG_NO_DUP)) {
			say(-1, msg, size, "%s: %s", path, ossl_reason());
			goto out;
		}
		cur = up;
	}
	ret = 0;
out:
	ERR_clear_error();
	sk_X509_INFO_pop_free(info, X509_INFO_free);
	return ret;
}

/* First line of a passphrase file, wiped from every buffer but the result. */
static char *read_pass(const char *path, char *msg, size_t size)
{
	struct hp_error e;
	uint8_t *data;
	size_t len, n;
	char text[160], *pass;

	if (hp_read_file(path, 4096, &data, &len, &e) < 0) {
		say(-1, msg, size, "%s: %s", path, hp_error_text(&e, text, sizeof(text)));
		return NULL;
	}
	n = strcspn((char *)data, "\r\n");
	pass = malloc(n + 1);
	if (pass) {
		memcpy(pass, data, n);
		pass[n] = 0;
	} else {
		say(-1, msg, size, "out of memory");
	}
	OPENSSL_cleanse(data, len);
	free(data);
	return pass;
}

static EVP_PKEY *load_pem_key(const char *path, const char *pass_file, char *msg, size_t size)
{
	struct hp_error e;
	EVP_PKEY *k = NULL;
	uint8_t *data = NULL;
	size_t len = 0;
	char text[160], *pass = NULL;
	BIO *b = NULL;

	if (pass_file && !(pass = read_pass(pass_file, msg, size)))
		return NULL;
	if (hp_read_file(path, MAX_PEM_FILE, &data, &len, &e) < 0) {
		say(-1, msg, size, "%s: %s", path, hp_error_text(&e, text, sizeof(text)));
		goto out;
	}
	b = BIO_new_mem_buf(data, (int)len);
	/* a NULL passphrase with no callback fails cleanly on encrypted keys */
	k = b ? PEM_read_bio_PrivateKey(b, NULL, NULL, pass ? pass : (char *)"") : NULL;
	if (!k)
		say(-1, msg, size, "%s: cannot read the private key: %s", path, ossl_reason());
out:
	BIO_free(b);
	if (data)
		OPENSSL_cleanse(data, len);
	free(data);
	if (pass)
		OPENSSL_cleanse(pass, strlen(pass));
	free(pass);
	return k;
}

static EVP_PKEY *load_engine_key(struct hp_signer *s, const char *uri, const char *module,
				 char *msg, size_t size)
{
	EVP_PKEY *k;

	s->engine = ENGINE_by_id("pkcs11");
	if (!s->engine) {
		say(-1, msg, size,
		    "pkcs11: OpenSSL engine \"pkcs11\" not found "
		    "(Debian package libengine-pkcs11-openssl): %s",
		    ossl_reason());
		return NULL;
	}
	if (module && !ENGINE_ctrl_cmd_string(s->engine, "MODULE_PATH", module, 0)) {
		say(-1, msg, size, "%s: cannot use this PKCS#11 module: %s", module, ossl_reason());
		/* not initialised: hp_signer_free must not ENGINE_finish it */
		ENGINE_free(s->engine);
		s->engine = NULL;
		return NULL;
	}
	if (!ENGINE_init(s->engine)) {
		say(-1, msg, size, "pkcs11: cannot initialise the engine: %s", ossl_reason());
		ENGINE_free(s->engine);
		s->engine = NULL;
		return NULL;
	}
	k = ENGINE_load_private_key(s->engine, uri, NULL, NULL);
	if (!k)
		say(-1, msg, size, "pkcs11: cannot load the key of the URI: %s", ossl_reason());
	return k;
}

/* What the verifier requires of a signer certificate, at signing time. */
static int check_cert(const struct hp_signer *s, const char *path, int64_t now, char *msg,
		      size_t size)
{
	char why[400];
	time_t t = (time_t)now;

	if (cert_algorithms_ok(s->cert, "signer", why, sizeof(why)) != HP_V_OK ||
	    leaf_usage_ok(s->cert, why, sizeof(why)) != HP_V_OK)
		return say(-1, msg, size, "%s: %s", path, why);
	if (X509_get_extension_flags(s->cert) & EXFLAG_SS)
		return say(-1, msg, size, "%s: signer certificate is self-signed", path);
	if (X509_cmp_time(X509_get0_notBefore(s->cert), &t) >= 0)
		return say(-1, msg, size, "%s: certificate is not yet valid", path);
	if (X509_cmp_time(X509_get0_notAfter(s->cert), &t) <= 0)
		return say(-1, msg, size, "%s: certificate has expired", path);
	return 0;
}

int hp_signer_load(const struct hp_signer_opts *o, struct hp_signer **out, char *msg, size_t size)
{
	struct hp_signer *s = calloc(1, sizeof(*s));
	int64_t now = o->now ? o->now : (int64_t)time(NULL);
	char key[48];

	*out = NULL;
	if (!s || !(s->chain = sk_X509_new_null())) {
		free(s);
		return say(-1, msg, size, "out of memory");
	}
	if (!(s->cert = load_cert(o->cert, msg, size)) ||
	    check_cert(s, o->cert, now, msg, size) < 0)
		goto fail;
	if (o->chain && load_chain(s, o->chain, msg, size) < 0)
		goto fail;
	if (!strncmp(o->key, "pkcs11:", 7))
		s->key = load_engine_key(s, o->key, o->pkcs11_module, msg, size);
	else
		s->key = load_pem_key(o->key, o->pass_file, msg, size);
	if (!s->key)
		goto fail;
	key_ok(X509_get0_pubkey(s->cert), key, sizeof(key));
	s->md = !strcmp(key, "ECDSA P-384") ? EVP_sha384() : EVP_sha256();
	/*
	 * The key must be the certificate's: their public parts are compared
	 * (an engine key has its public part too), without a signature, which
	 * would cost a token operation; hp_signer_sign checks each signature.
	 */
	if (X509_check_private_key(s->cert, s->key) != 1) {
		/* never the key argument: a PKCS#11 URI may hold a PIN */
		say(-1, msg, size, "%s: the key does not match this certificate", o->cert);
		goto fail;
	}
	*out = s;
	return 0;
fail:
	hp_signer_free(s);
	ERR_clear_error();
	return -1;
}

void hp_signer_free(struct hp_signer *s)
{
	if (!s)
		return;
	EVP_PKEY_free(s->key);
	X509_free(s->cert);
	sk_X509_pop_free(s->chain, X509_free);
	if (s->engine) {
		ENGINE_finish(s->engine);
		ENGINE_free(s->engine);
	}
	free(s);
}

int hp_signer_sign(const struct hp_signer *s, const uint8_t *content, size_t len, uint8_t **der,
		   size_t *der_len, char *msg, size_t size)
{
	const int flags = CMS_BINARY | CMS_DETACHED | CMS_PARTIAL | CMS_NOSMIMECAP;
	char why[400];
	struct vstate v = {.msg = why, .size = sizeof(why)};
	CMS_ContentInfo *cms = NULL;
	unsigned char *p = NULL;
	BIO *in = NULL;
	int n, ret = -1;

	*der = NULL;
	if (len > INT_MAX || !(in = BIO_new_mem_buf(content, (int)len)) ||
	    !(cms = CMS_sign(NULL, NULL, NULL, NULL, flags)) ||
	    !CMS_add1_signer(cms, s->cert, s->key, s->md, flags)) {
		say(-1, msg, size, "cannot sign: %s", ossl_reason());
		goto out;
	}
	for (int i = 0; i < sk_X509_num(s->chain); i++)
		if (!CMS_add1_cert(cms, sk_X509_value(s->chain, i))) {
			say(-1, msg, size, "cannot sign: %s", ossl_reason());
			goto out;
		}
	if (!CMS_final(cms, in, NULL, flags) || (n = i2d_CMS_ContentInfo(cms, &p)) <= 0) {
		say(-1, msg, size, "cannot sign: %s", ossl_reason());
		goto out;
	}
	/*
	 * What a verifier checks of the signature itself must hold already: a
	 * token or engine that signs wrongly is caught here, not by a verifier.
	 */
	if (parse_signature(&v, p, (size_t)n) != HP_V_OK || find_signer(&v) != HP_V_OK ||
	    check_signature(&v, content, len) != HP_V_OK) {
		say(-1, msg, size, "cannot sign: the signature made does not verify: %s", why);
		goto out;
	}
	*der = malloc((size_t)n);
	if (!*der) {
		say(-1, msg, size, "out of memory");
		goto out;
	}
	memcpy(*der, p, (size_t)n);
	*der_len = (size_t)n;
	ret = 0;
out:
	sk_X509_pop_free(v.certs, X509_free);
	CMS_ContentInfo_free(v.cms);
	OPENSSL_free(p);
	CMS_ContentInfo_free(cms);
	BIO_free(in);
	ERR_clear_error();
	return ret;
}
