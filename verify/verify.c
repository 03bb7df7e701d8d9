/*
 * The verification pipeline of a package (see verify.h for the order and
 * what each step establishes).  Each step reads only what earlier steps
 * checked: the signature is checked over the MANIFEST bytes before the
 * MANIFEST is parsed, the payload.zst bytes against the MANIFEST before they
 * are decompressed, the baseline bytes against the MANIFEST before they
 * serve as the decompression prefix.
 *
 * Two threads share the work without changing that order.  While this
 * thread hashes payload.zst (the hash is compared in step 5), a helper
 * checks the signature and the MANIFEST (steps 2 to 4), takes the page
 * faults of the buffer step 7 decompresses into and hashes the target
 * (reported in step 6).  Once payload.zst matched, this thread
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

#include "arch/arch.h"
#include "format/buf.h"
#include "verify/cms.h"
#include "verify/verify.h"

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

/* ---- the helper thread --------------------------------------------------------------- */

/*
 * The helper thread of one verification.  First it runs first(arg), while
 * the caller hashes payload.zst; then it computes the SHA-256 of the buffer
 * the caller assigns (helper_hash), reading only data[0..avail): the caller
 * grows avail as bytes become final (helper_feed, the progress of a
 * decompression).  One thread for both: one that has run wakes up at once
 * on the core it has, a new one may wait for the scheduler's next tick
 * (4 ms) to get a core when the caller keeps its own busy.
 *
 * The caller waits for first() with helper_wait_first() and ends the
 * helper with helper_finish() on every path, which joins it.  Without a
 * thread (pthread_create failed) first() runs in helper_start() and the
 * hash in helper_finish(): slower, same results.
 */
struct helper {
	pthread_mutex_t lock;
	pthread_cond_t cond;
	void (*first)(void *arg);
	void *arg;
	bool first_done; /* under lock */
	bool assigned;	 /* under lock: data and total are set */
	const uint8_t *data;
	size_t total;
	size_t avail; /* under lock; only grows */
	bool stop;    /* under lock: the caller no longer wants the digest */
	bool threaded;
	int status; /* the thread's result: 0 when sha256 holds the digest */
	uint8_t sha256[32];
	pthread_t thread;
};

/* Bytes hashed between two looks at avail and stop. */
#define HASH_STEP ((size_t)1 << 20)

/* The hash of phase two: 0 with h->sha256 filled, or -1 (stopped, or failed). */
static int helper_hash(struct helper *h)
{
	struct hp_sha256 *d = hp_sha256_new();
	size_t done = 0, n;
	int status = d ? 0 : -1;
	bool stop;

	while (status == 0) {
		pthread_mutex_lock(&h->lock);
		while (!h->stop && !(h->assigned && (h->avail > done || done == h->total)))
			pthread_cond_wait(&h->cond, &h->lock);
		stop = h->stop;
		n = h->avail - done;
		pthread_mutex_unlock(&h->lock);
		if (stop)
			status = -1;
		if (stop || !n) /* !n: all of data[0..total) is hashed */
			break;
		n = n < HASH_STEP ? n : HASH_STEP;
		status = hp_sha256_update(d, h->data + done, n);
		done += n;
	}
	if (status == 0)
		status = hp_sha256_final(d, h->sha256);
	hp_sha256_free(d);
	return status;
}

static void *helper_run(void *arg)
{
	struct helper *h = arg;

	h->first(h->arg);
	pthread_mutex_lock(&h->lock);
	h->first_done = true;
	pthread_cond_broadcast(&h->cond);
	pthread_mutex_unlock(&h->lock);
	h->status = helper_hash(h);
	return NULL;
}

static void helper_start(struct helper *h, void (*first)(void *), void *arg)
{
	memset(h, 0, sizeof(*h));
	h->lock = (pthread_mutex_t)PTHREAD_MUTEX_INITIALIZER;
	h->cond = (pthread_cond_t)PTHREAD_COND_INITIALIZER;
	h->first = first;
	h->arg = arg;
	h->threaded = pthread_create(&h->thread, NULL, helper_run, h) == 0;
	if (!h->threaded) {
		first(arg);
		h->first_done = true;
	}
}

static void helper_wait_first(struct helper *h)
{
	pthread_mutex_lock(&h->lock);
	while (!h->first_done)
		pthread_cond_wait(&h->cond, &h->lock);
	pthread_mutex_unlock(&h->lock);
}

/* Phase two: hash data[0..total), of which data[0..avail) is final. */
static void helper_assign(struct helper *h, const uint8_t *data, size_t avail, size_t total)
{
	pthread_mutex_lock(&h->lock);
	h->data = data;
	h->total = total;
	h->avail = avail;
	h->assigned = true;
	pthread_cond_broadcast(&h->cond);
	pthread_mutex_unlock(&h->lock);
}

/* data[0..avail) is final: an hp_zstd_progress_fn. */
static void helper_feed(void *arg, size_t avail)
{
	struct helper *h = arg;

	pthread_mutex_lock(&h->lock);
	h->avail = avail;
	pthread_cond_broadcast(&h->cond);
	pthread_mutex_unlock(&h->lock);
}

/*
 * The digest of the assigned buffer into out: 0, or -1 when hashing failed
 * or the caller gives up (or never assigned or fed all of it; out may then
 * be NULL), and the helper stops early.  Either way it is joined.
 */
static int helper_finish(struct helper *h, bool give_up, uint8_t out[32])
{
	int status;

	pthread_mutex_lock(&h->lock);
	give_up = give_up || !h->assigned || h->avail != h->total;
	h->stop = give_up;
	pthread_cond_broadcast(&h->cond);
	pthread_mutex_unlock(&h->lock);
	if (h->threaded) {
		pthread_join(h->thread, NULL);
		status = h->status;
	} else {
		status = give_up ? -1 : hp_sha256(h->data, h->total, h->sha256);
	}
	pthread_cond_destroy(&h->cond);
	pthread_mutex_destroy(&h->lock);
	if (give_up || status < 0)
		return -1;
	memcpy(out, h->sha256, 32);
	return 0;
}

/* ---- steps ----------------------------------------------------------------------------- */

int hp_payload_pinned(const struct hp_hpk *k, const struct hp_manifest *m, int hashed,
		      const uint8_t h[32], char *msg, size_t size)
{
	if (k->payload_len != m->payload_size) {
		snprintf(msg, size, "payload.zst has %zu bytes, MANIFEST says %llu", k->payload_len,
			 (unsigned long long)m->payload_size);
		return HP_V_PAYLOAD_SIZE;
	}
	if (hashed < 0) {
		snprintf(msg, size, "cannot hash payload.zst");
		return HP_V_TROUBLE;
	}
	if (memcmp(h, m->payload_sha256, 32)) {
		snprintf(msg, size, "payload.zst does not have MANIFEST's SHA-256");
		return HP_V_PAYLOAD_HASH;
	}
	return HP_V_OK;
}

/* hashed, h: hp_sha256() of payload.zst, computed while steps 2 to 4 ran. */
static int check_payload_bytes(const struct hp_hpk *k, const struct hp_manifest *m, int hashed,
			       const uint8_t h[32], struct hp_verified *v)
{
	int cls = hp_payload_pinned(k, m, hashed, h, v->message, sizeof(v->message));

	if (cls == HP_V_OK)
		return 0;
	v->cls = cls;
	return -1;
}

/* The package is for exactly this file, and the bytes it replaces are as packed. */
static int check_target(const struct hp_image *img, const struct hp_manifest *m,
			struct hp_verified *v)
{
	char want[129], got[129];
	uint8_t h[32];

	if (img->machine != arch_machine(m->arch))
		return fail(v, HP_V_TARGET,
			    "target's machine (e_machine %u) is not %s, the package's",
			    img->machine, m->arch);
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

/*
 * raw: raw_size bytes to decompress into, owned by the caller.  The raw
 * SHA-256 is computed by the helper while the frame is decompressed here,
 * each piece once zstd has finished it; it is compared, and the payload
 * parsed, only once the whole frame decompressed as declared.  The helper
 * is finished here.
 */
static int check_payload(const struct hp_hpk *k, const struct hp_manifest *m,
			 const struct hp_image *img, uint8_t *raw, struct helper *helper,
			 struct hp_verified *v)
{
	size_t raw_size = (size_t)m->payload_raw_size, prefix_len = 0;
	struct hp_error e;
	uint8_t *prefix = NULL, h[32];
	int unpacked, hashed, ret = -1;

	if (m->compression == HP_COMP_ZSTD_BASELINE &&
	    !(prefix = hp_baseline_prefix(img, m->funcs, m->nfuncs, &prefix_len, &e))) {
		helper_finish(helper, true, NULL);
		return fail_format(v, HP_V_TROUBLE, "target", &e);
	}
	helper_assign(helper, raw, 0, raw_size);
	unpacked = hp_zstd_decompress_into(k->payload, k->payload_len, prefix, prefix_len, raw,
					   raw_size, helper_feed, helper, &e);
	hashed = helper_finish(helper, unpacked < 0, h);
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
	if (hp_payload_matches_manifest(v->payload, m, &e) < 0) {
		fail_format(v, HP_V_PAYLOAD_FORMAT, "payload", &e);
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

/* What the helper does first: steps 2 to 4, and what needs only them. */
struct signed_part {
	const struct hp_trust *trust;
	const struct hp_hpk *k;
	int64_t now;
	const struct hp_image *target;
	struct hp_verified *out;
	int ret;	/* steps 2 to 4: 0, or -1 and out says why */
	int target_ret; /* step 6 (reported after step 5, which overwrites *out) */
	bool unpack;	/* step 7 runs */
	uint8_t *raw;	/* then its buffer, page faults taken */
};

static int check_signed_manifest(struct signed_part *s)
{
	struct hp_verified *out = s->out;
	struct hp_error e;
	char when[32];
	int cls;

	if (!s->k->sig)
		return fail(out, HP_V_SIGNATURE, "package is not signed");
	cls = hp_cms_verify(s->trust, s->k->sig, s->k->sig_len, s->k->manifest, s->k->manifest_len,
			    s->now, &out->signer, out->message, sizeof(out->message));
	if (cls != HP_V_OK) {
		out->cls = cls;
		return -1;
	}
	out->signed_ok = true;
	if (hp_manifest_parse(s->k->manifest, s->k->manifest_len, &out->manifest, &e) < 0)
		return fail_format(out, HP_V_MANIFEST, "MANIFEST", &e);
	if (out->manifest->has_expires && out->manifest->expires <= s->now) {
		hp_time_format(out->manifest->expires, when, sizeof(when));
		return fail(out, HP_V_EXPIRED, "package expired at %s", when);
	}
	return 0;
}

static void check_signed_part(void *arg)
{
	struct signed_part *s = arg;
	const struct hp_manifest *m;

	s->ret = check_signed_manifest(s);
	if (s->ret < 0)
		return;
	m = s->out->manifest;
	s->unpack = s->target || m->compression != HP_COMP_ZSTD_BASELINE;
	if (s->unpack) {
		s->raw = hp_alloc_large((size_t)m->payload_raw_size);
		if (!s->raw) {
			s->ret = fail(s->out, HP_V_TROUBLE, "out of memory");
			return;
		}
		hp_prefault(s->raw, (size_t)m->payload_raw_size);
	}
	if (s->target)
		s->target_ret = check_target(s->target, m, s->out);
}

int hp_verify(const uint8_t *pkg, size_t len, const struct hp_verify_opts *o,
	      struct hp_verified *out)
{
	struct signed_part sp = {
		.now = o->now ? o->now : (int64_t)time(NULL), .target = o->target, .out = out};
	struct hp_trust *trust = NULL;
	struct helper helper;
	struct hp_error e;
	struct hp_hpk k;
	uint8_t zh[32];
	bool helping = false;
	int zhashed;

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
	/* 2, 3, 4. the signed MANIFEST, on the helper; payload.zst's hash here meanwhile */
	sp.trust = trust;
	sp.k = &k;
	helper_start(&helper, check_signed_part, &sp);
	helping = true;
	zhashed = hp_sha256(k.payload, k.payload_len, zh);
	helper_wait_first(&helper);
	if (sp.ret < 0)
		goto fail;
	/* 5. payload.zst is the one the MANIFEST pins */
	if (check_payload_bytes(&k, out->manifest, zhashed, zh, out) < 0)
		goto fail;
	/* 6. the package is for this baseline */
	if (sp.target_ret < 0)
		goto fail;
	out->target_checked = o->target != NULL;
	/* 7. the payload decodes to what the MANIFEST promises */
	helping = false;
	if (!sp.unpack)
		helper_finish(&helper, true, NULL);
	else if (check_payload(&k, out->manifest, o->target, sp.raw, &helper, out) < 0)
		goto fail;
	/* 8. not older than what is applied */
	if (o->have_state && check_sequence(o, out->manifest, out) < 0)
		goto fail;
	free(sp.raw);
	hp_trust_free(trust);
	out->cls = HP_V_OK;
	return 0;
fail:
	if (helping)
		helper_finish(&helper, true, NULL);
	free(sp.raw);
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
