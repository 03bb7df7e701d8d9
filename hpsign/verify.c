/*
 * The verification pipeline of a package (see verify.h for the order and
 * what each step establishes).  Each step reads only what earlier steps
 * checked: the signature is checked over the MANIFEST bytes before the
 * MANIFEST is parsed, the payload.zst bytes against the MANIFEST before they
 * are decompressed, the baseline bytes against the MANIFEST before they
 * serve as the decompression prefix.
 *
 * Two threads share the work without changing that order.  While this
 * thread checks the signature and the MANIFEST, a helper computes
 * payload.zst's SHA-256 (compared only in step 5); this thread meanwhile
 * takes the page faults of the decompression buffer and hashes the target
 * (reported only in step 6).  Once payload.zst matched, this thread
 * decompresses it while the helper hashes the raw bytes already produced,
 * so step 7 costs about the larger of decompression and hashing, not both.
 */
#include <elf.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "buf.h"
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

/* ---- hashing on the second core ----------------------------------------------------- */

/*
 * The SHA-256 of data[0..total), computed by a helper thread that reads
 * only data[0..avail): the owner grows avail as the bytes become final
 * (hasher_feed, the progress of a decompression).  The owner collects the
 * digest, or gives up on it, with hasher_finish() on every path; that joins
 * the thread.  Without a thread (pthread_create failed) hasher_finish()
 * hashes in the caller: slower, same result.
 */
struct hasher {
	pthread_mutex_t lock;
	pthread_cond_t more;
	const uint8_t *data;
	size_t total;
	size_t avail; /* under lock; only grows */
	bool stop;    /* under lock: the owner no longer wants the digest */
	bool threaded;
	int status; /* the thread's result: 0 when sha256 holds the digest */
	uint8_t sha256[32];
	pthread_t thread;
};

/* Bytes hashed between two looks at avail and stop. */
#define HASH_STEP ((size_t)1 << 20)

static void *hasher_run(void *arg)
{
	struct hasher *h = arg;
	struct hp_digest *d = hp_digest_new();
	size_t done = 0, n;
	int status = d ? 0 : -1;

	while (status == 0 && done < h->total) {
		pthread_mutex_lock(&h->lock);
		while (!h->stop && h->avail == done)
			pthread_cond_wait(&h->more, &h->lock);
		n = h->stop ? 0 : h->avail - done;
		pthread_mutex_unlock(&h->lock);
		if (!n) {
			status = -1;
			break;
		}
		n = n < HASH_STEP ? n : HASH_STEP;
		status = hp_digest_update(d, h->data + done, n);
		done += n;
	}
	if (status == 0)
		status = hp_digest_final(d, h->sha256);
	hp_digest_free(d);
	h->status = status;
	return NULL;
}

static void hasher_start(struct hasher *h, const uint8_t *data, size_t avail, size_t total)
{
	memset(h, 0, sizeof(*h));
	h->lock = (pthread_mutex_t)PTHREAD_MUTEX_INITIALIZER;
	h->more = (pthread_cond_t)PTHREAD_COND_INITIALIZER;
	h->data = data;
	h->avail = avail;
	h->total = total;
	h->threaded = pthread_create(&h->thread, NULL, hasher_run, h) == 0;
}

/* data[0..avail) is final: an hp_zstd_progress_fn. */
static void hasher_feed(void *arg, size_t avail)
{
	struct hasher *h = arg;

	pthread_mutex_lock(&h->lock);
	h->avail = avail;
	pthread_cond_signal(&h->more);
	pthread_mutex_unlock(&h->lock);
}

/*
 * The digest of data[0..total) into out: 0, or -1 when hashing failed or
 * when the owner gives up (or never fed all of it; out may then be NULL),
 * and the thread stops early.  Either way the thread is joined.
 */
static int hasher_finish(struct hasher *h, bool give_up, uint8_t out[32])
{
	int status;

	pthread_mutex_lock(&h->lock);
	give_up = give_up || h->avail != h->total;
	h->stop = give_up;
	pthread_cond_signal(&h->more);
	pthread_mutex_unlock(&h->lock);
	if (h->threaded) {
		pthread_join(h->thread, NULL);
		status = h->status;
	} else {
		status = give_up ? -1 : hp_sha256(h->data, h->total, h->sha256);
	}
	pthread_cond_destroy(&h->more);
	pthread_mutex_destroy(&h->lock);
	if (give_up || status < 0)
		return -1;
	memcpy(out, h->sha256, 32);
	return 0;
}

/* ---- steps ----------------------------------------------------------------------------- */

/* zh: payload.zst's SHA-256 being computed; finished here. */
static int check_payload_bytes(const struct hp_hpk *k, const struct hp_manifest *m,
			       struct hasher *zh, struct hp_verified *v)
{
	bool size_ok = k->payload_len == m->payload_size;
	uint8_t h[32];
	int hashed = hasher_finish(zh, !size_ok, h);

	if (!size_ok)
		return fail(v, HP_V_PAYLOAD_SIZE, "payload.zst has %zu bytes, MANIFEST says %llu",
			    k->payload_len, (unsigned long long)m->payload_size);
	if (hashed < 0)
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

/*
 * raw: raw_size bytes to decompress into, owned by the caller.  The raw
 * SHA-256 is computed on the second core while the frame is decompressed
 * here, each piece once zstd has finished it; it is compared, and the
 * payload parsed, only once the whole frame decompressed as declared.
 */
static int check_payload(const struct hp_hpk *k, const struct hp_manifest *m,
			 const struct hp_image *img, uint8_t *raw, struct hp_verified *v)
{
	size_t raw_size = (size_t)m->payload_raw_size, prefix_len = 0;
	struct hasher rh;
	struct hp_error e;
	uint8_t *prefix = NULL, h[32];
	int unpacked, hashed, ret = -1;

	if (m->compression == HP_COMP_ZSTD_BASELINE &&
	    !(prefix = baseline_prefix(img, m, &prefix_len)))
		return fail(v, HP_V_TROUBLE, "out of memory");
	hasher_start(&rh, raw, 0, raw_size);
	unpacked = hp_zstd_decompress_into(k->payload, k->payload_len, prefix, prefix_len, raw,
					   raw_size, hasher_feed, &rh, &e);
	hashed = hasher_finish(&rh, unpacked < 0, h);
	if (unpacked < 0) {
		fail_format(v, e.code == HP_ELIMIT ? HP_V_PAYLOAD_SIZE : HP_V_PAYLOAD_FORMAT,
			    "payload.zst", &e);
		goto out;
	}
	if (hashed < 0) {
		fail(v, HP_V_TROUBLE, "cannot hash the payload");
		goto out;
	}
	if (memcmp(h, m->payload_raw_sha256, 32)) {
		fail(v, HP_V_PAYLOAD_HASH, "decompressed payload does not have MANIFEST's SHA-256");
		goto out;
	}
	if (hp_payload_decode(raw, raw_size, &v->payload, &e) < 0) {
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

/* Steps 2 to 4: MANIFEST's bytes are signed by a code-signing leaf of an anchor, and parse. */
static int check_signed_manifest(const struct hp_trust *trust, const struct hp_hpk *k, int64_t now,
				 struct hp_verified *out)
{
	struct hp_error e;
	char when[32];
	int cls;

	if (!k->sig)
		return fail(out, HP_V_SIGNATURE, "package is not signed");
	cls = hp_cms_verify(trust, k->sig, k->sig_len, k->manifest, k->manifest_len, now,
			    &out->signer, out->message, sizeof(out->message));
	if (cls != HP_V_OK) {
		out->cls = cls;
		return -1;
	}
	out->signed_ok = true;
	if (hp_manifest_parse(k->manifest, k->manifest_len, &out->manifest, &e) < 0)
		return fail_format(out, HP_V_MANIFEST, "MANIFEST", &e);
	if (out->manifest->has_expires && out->manifest->expires <= now) {
		hp_time_format(out->manifest->expires, when, sizeof(when));
		return fail(out, HP_V_EXPIRED, "package expired at %s", when);
	}
	return 0;
}

int hp_verify(const uint8_t *pkg, size_t len, const struct hp_verify_opts *o,
	      struct hp_verified *out)
{
	int64_t now = o->now ? o->now : (int64_t)time(NULL);
	struct hp_trust *trust = NULL;
	struct hasher zh;
	struct hp_error e;
	struct hp_hpk k;
	uint8_t *raw = NULL;
	bool hashing = false, unpack;
	int target_ret = 0;
	size_t raw_size;

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
	/* payload.zst's SHA-256 on the second core, compared in step 5 */
	hasher_start(&zh, k.payload, k.payload_len, k.payload_len);
	hashing = true;
	/* 2, 3, 4. the signed MANIFEST */
	if (check_signed_manifest(trust, &k, now, out) < 0)
		goto fail;
	/*
	 * Meanwhile, what needs the MANIFEST only: the page faults of the
	 * buffer step 7 decompresses into, and the target's hashes (a target
	 * failure stays in *out unless step 5 fails first and overwrites it).
	 */
	unpack = o->target || out->manifest->compression != HP_COMP_ZSTD_BASELINE;
	raw_size = (size_t)out->manifest->payload_raw_size;
	if (unpack) {
		raw = hp_alloc_large(raw_size);
		if (!raw) {
			fail(out, HP_V_TROUBLE, "out of memory");
			goto fail;
		}
		hp_prefault(raw, raw_size);
	}
	if (o->target)
		target_ret = check_target(o->target, out->manifest, out);
	/* 5. payload.zst is the one the MANIFEST pins */
	hashing = false;
	if (check_payload_bytes(&k, out->manifest, &zh, out) < 0)
		goto fail;
	/* 6. the package is for this baseline */
	if (target_ret < 0)
		goto fail;
	out->target_checked = o->target != NULL;
	/* 7. the payload decodes to what the MANIFEST promises */
	if (unpack && check_payload(&k, out->manifest, o->target, raw, out) < 0)
		goto fail;
	/* 8. not older than what is applied */
	if (o->have_state && check_sequence(o, out->manifest, out) < 0)
		goto fail;
	free(raw);
	hp_trust_free(trust);
	out->cls = HP_V_OK;
	return 0;
fail:
	if (hashing)
		hasher_finish(&zh, true, NULL);
	free(raw);
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
