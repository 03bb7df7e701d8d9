/*
 * The verification pipeline of a package (see verify.h for the order and
 * what each step establishes).  Each step reads only what earlier steps
 * checked: the signature is checked over the MANIFEST bytes before the
 * MANIFEST is parsed, the payload.zst bytes against the MANIFEST before they
 * are decompressed, the baseline bytes against the MANIFEST before they
 * serve as the decompression prefix.
 */
#include <elf.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cms.h"
#include "verify.h"

static const char *const class_names[] = {
	[HP_V_OK] = "valid",
	[HP_V_CONTAINER] = "container",
	[HP_V_SIGNATURE] = "signature",
	[HP_V_CHAIN] = "chain",
	[HP_V_KEY_USAGE] = "key usage",
	[HP_V_EXPIRED] = "expired",
	[HP_V_REVOKED] = "revoked",
	[HP_V_ALGORITHM] = "algorithm",
	[HP_V_MANIFEST] = "manifest",
	[HP_V_PAYLOAD_SIZE] = "payload size",
	[HP_V_PAYLOAD_HASH] = "payload hash",
	[HP_V_PAYLOAD_FORMAT] = "payload format",
	[HP_V_TARGET] = "target",
	[HP_V_SEQUENCE] = "sequence",
	[HP_V_TROUBLE] = "trouble",
};

const char *hp_vclass_name(int cls)
{
	if (cls < 0 || (size_t)cls >= sizeof(class_names) / sizeof(class_names[0]))
		return "unknown";
	return class_names[cls];
}

static int fail(struct hp_verified *v, int cls, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static int fail(struct hp_verified *v, int cls, const char *fmt, ...)
{
	va_list ap;

	v->cls = cls;
	va_start(ap, fmt);
	vsnprintf(v->message, sizeof(v->message), fmt, ap);
	va_end(ap);
	return -1;
}

/* Fail with a format reader's error: "MANIFEST: manifest line 'x': ..." */
static int fail_format(struct hp_verified *v, int cls, const char *what, const struct hp_error *e)
{
	char text[200];

	if (e->code == HP_ENOMEM)
		cls = HP_V_TROUBLE;
	return fail(v, cls, "%s: %s", what, hp_error_text(e, text, sizeof(text)));
}

/* ---- steps ----------------------------------------------------------------------------- */

static int check_payload_bytes(const struct hp_hpk *k, const struct hp_manifest *m,
			       struct hp_verified *v)
{
	uint8_t h[32];

	if (k->payload_len != m->payload_size)
		return fail(v, HP_V_PAYLOAD_SIZE, "payload.zst has %zu bytes, MANIFEST says %llu",
			    k->payload_len, (unsigned long long)m->payload_size);
	if (hp_sha256(k->payload, k->payload_len, h) < 0)
		return fail(v, HP_V_TROUBLE, "cannot hash payload.zst");
	if (memcmp(h, m->payload_sha256, 32))
		return fail(v, HP_V_PAYLOAD_HASH, "payload.zst does not have MANIFEST's SHA-256");
	return 0;
}

/* The package is for exactly this file, and the bytes it replaces are as packed. */
static int check_target(const struct hp_image *img, const struct hp_manifest *m,
			struct hp_verified *v)
{
	char want[129], got[129];
	uint8_t h[32];

	if (img->machine != EM_X86_64)
		return fail(v, HP_V_TARGET,
			    "target is not x86-64 (e_machine %u), package is for %s", img->machine,
			    m->arch);
	hp_hex(m->build_id, m->build_id_len, want);
	hp_hex(img->build_id, img->build_id_len, got);
	if (img->build_id_len != m->build_id_len ||
	    memcmp(img->build_id, m->build_id, m->build_id_len))
		return fail(v, HP_V_TARGET, "target build-id %s is not the package's %s",
			    img->build_id_len ? got : "(none)", want);
	if (hp_sha256(img->file, img->len, h) < 0)
		return fail(v, HP_V_TROUBLE, "cannot hash the target");
	if (memcmp(h, m->target_sha256, 32)) {
		hp_hex(h, 32, got);
		hp_hex(m->target_sha256, 32, want);
		return fail(v, HP_V_TARGET,
			    "target SHA-256 %s is not the package's %s (same build-id)", got, want);
	}
	for (uint32_t i = 0; i < m->nfuncs; i++) {
		const struct hp_manifest_func *f = &m->funcs[i];
		const uint8_t *b = hp_image_bytes(img, f->offset, f->size);

		if (!b)
			return fail(v, HP_V_TARGET,
				    "replaced function %s (0x%llx, %u bytes) is "
				    "outside the target's file-backed image",
				    f->name, (unsigned long long)f->offset, f->size);
		if (hp_sha256(b, f->size, h) < 0)
			return fail(v, HP_V_TROUBLE, "cannot hash the target");
		if (memcmp(h, f->sha256, 32))
			return fail(v, HP_V_TARGET,
				    "baseline bytes of %s (0x%llx, %u bytes) are "
				    "not the package's",
				    f->name, (unsigned long long)f->offset, f->size);
	}
	return 0;
}

/* The replaced functions' baseline bytes in manifest order (checked already). */
static uint8_t *baseline_prefix(const struct hp_image *img, const struct hp_manifest *m,
				size_t *len)
{
	uint8_t *p;
	size_t n = 0;

	for (uint32_t i = 0; i < m->nfuncs; i++)
		n += m->funcs[i].size;
	p = malloc(n ? n : 1);
	if (!p)
		return NULL;
	n = 0;
	for (uint32_t i = 0; i < m->nfuncs; i++) {
		memcpy(p + n, hp_image_bytes(img, m->funcs[i].offset, m->funcs[i].size),
		       m->funcs[i].size);
		n += m->funcs[i].size;
	}
	*len = n;
	return p;
}

static int check_payload(const struct hp_hpk *k, const struct hp_manifest *m,
			 const struct hp_image *img, struct hp_verified *v)
{
	struct hp_error e;
	uint8_t *prefix = NULL, *raw = NULL, h[32];
	size_t prefix_len = 0;
	int ret = -1;

	if (m->compression == HP_COMP_ZSTD_BASELINE &&
	    !(prefix = baseline_prefix(img, m, &prefix_len)))
		return fail(v, HP_V_TROUBLE, "out of memory");
	if (hp_zstd_decompress(k->payload, k->payload_len, prefix, prefix_len,
			       (size_t)m->payload_raw_size, &raw, &e) < 0) {
		fail_format(v, e.code == HP_ELIMIT ? HP_V_PAYLOAD_SIZE : HP_V_PAYLOAD_FORMAT,
			    "payload.zst", &e);
		goto out;
	}
	if (hp_sha256(raw, (size_t)m->payload_raw_size, h) < 0) {
		fail(v, HP_V_TROUBLE, "cannot hash the payload");
		goto out;
	}
	if (memcmp(h, m->payload_raw_sha256, 32)) {
		fail(v, HP_V_PAYLOAD_HASH, "decompressed payload does not have MANIFEST's SHA-256");
		goto out;
	}
	if (hp_payload_decode(raw, (size_t)m->payload_raw_size, &v->payload, &e) < 0) {
		fail_format(v, HP_V_PAYLOAD_FORMAT, "payload", &e);
		goto out;
	}
	if (v->payload->nreplaced != m->nfuncs) {
		fail(v, HP_V_PAYLOAD_FORMAT, "payload replaces %u functions, MANIFEST lists %u",
		     v->payload->nreplaced, m->nfuncs);
		goto out;
	}
	v->payload_checked = true;
	ret = 0;
out:
	free(prefix);
	free(raw);
	return ret;
}

static int check_sequence(const struct hp_verify_opts *o, const struct hp_manifest *m,
			  struct hp_verified *v)
{
	if (m->sequence <= o->applied_seq)
		return fail(v, HP_V_SEQUENCE,
			    "package sequence %llu is not newer than the applied sequence %llu",
			    (unsigned long long)m->sequence, (unsigned long long)o->applied_seq);
	if (m->sequence < o->floor)
		return fail(v, HP_V_SEQUENCE, "package sequence %llu is below the floor %llu",
			    (unsigned long long)m->sequence, (unsigned long long)o->floor);
	v->sequence_checked = true;
	return 0;
}

/* ---- the pipeline ------------------------------------------------------------------------- */

int hp_verify(const uint8_t *pkg, size_t len, const struct hp_verify_opts *o,
	      struct hp_verified *out)
{
	int64_t now = o->now ? o->now : (int64_t)time(NULL);
	struct hp_trust *trust = NULL;
	struct hp_error e;
	struct hp_hpk k;
	char when[32];
	int cls;

	memset(out, 0, sizeof(*out));
	if (hp_trust_load(o->ca_file, o->crl_file, &trust, out->message, sizeof(out->message)) <
	    0) {
		out->cls = HP_V_TROUBLE;
		return -1;
	}
	/* 1. the container: three members, each a pointer into pkg */
	if (hp_hpk_read(pkg, len, &k, &e) < 0) {
		fail_format(out, HP_V_CONTAINER, "container", &e);
		goto fail;
	}
	/* 2, 3. MANIFEST's bytes are signed by a code-signing leaf of an anchor */
	if (!k.sig) {
		fail(out, HP_V_SIGNATURE, "package is not signed");
		goto fail;
	}
	cls = hp_cms_verify(trust, k.sig, k.sig_len, k.manifest, k.manifest_len, now, &out->signer,
			    out->message, sizeof(out->message));
	if (cls != HP_V_OK) {
		out->cls = cls;
		goto fail;
	}
	out->signed_ok = true;
	/* 4. what the signed text says */
	if (hp_manifest_parse(k.manifest, k.manifest_len, &out->manifest, &e) < 0) {
		fail_format(out, HP_V_MANIFEST, "MANIFEST", &e);
		goto fail;
	}
	if (out->manifest->has_expires && out->manifest->expires <= now) {
		hp_time_format(out->manifest->expires, when, sizeof(when));
		fail(out, HP_V_EXPIRED, "package expired at %s", when);
		goto fail;
	}
	/* 5. payload.zst is the one the MANIFEST pins */
	if (check_payload_bytes(&k, out->manifest, out) < 0)
		goto fail;
	/* 6. the package is for this baseline */
	if (o->target) {
		if (check_target(o->target, out->manifest, out) < 0)
			goto fail;
		out->target_checked = true;
	}
	/* 7. the payload decodes to what the MANIFEST promises */
	if (o->target || out->manifest->compression != HP_COMP_ZSTD_BASELINE)
		if (check_payload(&k, out->manifest, o->target, out) < 0)
			goto fail;
	/* 8. not older than what is applied */
	if (o->have_state && check_sequence(o, out->manifest, out) < 0)
		goto fail;
	hp_trust_free(trust);
	out->cls = HP_V_OK;
	return 0;
fail:
	hp_trust_free(trust);
	return -1;
}

void hp_verified_free(struct hp_verified *v)
{
	if (!v)
		return;
	hp_manifest_free(v->manifest);
	hp_payload_free(v->payload);
	v->manifest = NULL;
	v->payload = NULL;
}
