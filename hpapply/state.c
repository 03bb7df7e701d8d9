/*
 * The state record: encoded field by field, little-endian (format/buf.h),
 * read back strictly: it sits in the target's memory, which others with
 * ptrace rights can change, so it is untrusted input like any file.
 *
 *   0  "HPSTATE\0"   8  committed u8   9 version u8 (1 or 2)   10 reserved u16
 *   12 length u32    16 generation u64 ... fields ... zero padding to a page
 *
 * Version 2 (hpapply 0.2) names every instance the package patches: where
 * version 1 has the image base (u64), it has a count (u32) and per
 * instance its base, device and inode (u64 each); each redirect ends with
 * the index of its instance (u32).  Version 1 records (written by hpapply
 * 0.1, in processes still running) decode as one instance with device
 * and inode 0, and are written back as version 1 (the fuzz target checks
 * that decoding and encoding give the same bytes).
 *
 * The last field, after the regions, is a u32 that must be 0: it was the
 * count of a second region list ("retired" regions) that no version of
 * hpapply ever filled.  It stays so that records written by earlier
 * versions, in processes still running, keep decoding.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "format/buf.h"
#include "hpapply/state.h"
#include "common/cli.h"
#include "common/mem.h"

static const uint8_t magic[8] = {'H', 'P', 'S', 'T', 'A', 'T', 'E', 0};

#define MAX_ITEMS 65536u
#define MAX_TEXT  (4u << 20)

static void put_regions(struct hp_wbuf *wb, const struct region *r, uint32_t n)
{
	hp_put_u32(wb, n);
	for (uint32_t i = 0; i < n; i++) {
		hp_put_u64(wb, r[i].start);
		hp_put_u64(wb, r[i].size);
	}
}

int state_encode(const struct state *s, uint8_t **out, size_t *len)
{
	uint8_t version = s->version ? s->version : STATE_VERSION;
	struct hp_wbuf wb;
	size_t body;

	if (version == 1 && (s->ninst > 1 || (s->ninst && (s->inst[0].dev || s->inst[0].inode))))
		return error("a version 1 state record holds one instance, with no file identity");
	hp_wbuf_init(&wb);
	hp_put_bytes(&wb, magic, 8);
	hp_put_u8(&wb, 0);
	hp_put_u8(&wb, version);
	hp_put_u16(&wb, 0);
	hp_put_u32(&wb, 0); /* length, patched below */
	hp_put_u64(&wb, s->generation);
	hp_put_u64(&wb, s->floor);
	hp_put_u64(&wb, s->seq);
	hp_put_u64(&wb, s->min_seq);
	hp_put_i64(&wb, s->applied_at);
	hp_put_str(&wb, s->package_id ? s->package_id : "");
	hp_put_str(&wb, s->signer ? s->signer : "");
	hp_put_str(&wb, s->manifest ? s->manifest : "");
	hp_put_u32(&wb, s->build_id_len);
	hp_put_bytes(&wb, s->build_id, s->build_id_len);
	if (version == 1) {
		hp_put_u64(&wb, s->ninst ? s->inst[0].base : 0);
	} else {
		hp_put_u32(&wb, s->ninst);
		for (uint32_t i = 0; i < s->ninst; i++) {
			hp_put_u64(&wb, s->inst[i].base);
			hp_put_u64(&wb, s->inst[i].dev);
			hp_put_u64(&wb, s->inst[i].inode);
		}
	}
	hp_put_u32(&wb, s->nr);
	for (uint32_t i = 0; i < s->nr; i++) {
		const struct redirect *r = &s->r[i];

		hp_put_u64(&wb, r->addr);
		hp_put_u8(&wb, r->len);
		hp_put_bytes(&wb, r->saved, 16);
		hp_put_bytes(&wb, r->written, 16);
		hp_put_u64(&wb, r->func);
		hp_put_u64(&wb, r->func_size);
		hp_put_str(&wb, r->name ? r->name : "");
		if (version != 1)
			hp_put_u32(&wb, r->instance);
	}
	put_regions(&wb, s->regions, s->nregions);
	hp_put_zeros(&wb, 4); /* reserved: the never-used retired region count */
	body = wb.len;
	hp_patch_u32(&wb, 12, (uint32_t)body);
	hp_put_zeros(&wb, (4096 - body % 4096) % 4096);
	if (wb.failed || body > STATE_MAX) {
		hp_wbuf_free(&wb);
		return error("out of memory");
	}
	*out = hp_wbuf_take(&wb, len);
	return 0;
}

static struct region *get_regions(struct hp_rbuf *rb, uint32_t *n)
{
	struct region *r;

	*n = hp_get_count(rb, MAX_ITEMS, "regions");
	if (rb->failed || !*n)
		return NULL;
	if ((uint64_t)*n * 16 > hp_rbuf_left(rb)) {
		hp_rbuf_fail(rb, HP_ETRUNC, "regions");
		*n = 0;
		return NULL;
	}
	r = calloc(*n, sizeof(*r));
	if (!r) {
		hp_rbuf_fail(rb, HP_ENOMEM, "regions");
		*n = 0;
		return NULL;
	}
	for (uint32_t i = 0; i < *n; i++) {
		r[i].start = hp_get_u64(rb, "region start");
		r[i].size = hp_get_u64(rb, "region size");
	}
	return r;
}

/* Version 1: one image base; version 2: the instances. */
static void get_instances(struct hp_rbuf *rb, struct state *s)
{
	uint32_t n = 1;

	if (s->version != 1) {
		n = hp_get_count(rb, MAX_ITEMS, "instances");
		if (!rb->failed && (uint64_t)n * 24 > hp_rbuf_left(rb))
			hp_rbuf_fail(rb, HP_ETRUNC, "instances");
	}
	if (rb->failed || !n)
		return;
	s->inst = calloc(n, sizeof(*s->inst));
	if (!s->inst) {
		hp_rbuf_fail(rb, HP_ENOMEM, "instances");
		return;
	}
	s->ninst = n;
	for (uint32_t i = 0; i < n; i++) {
		s->inst[i].base = hp_get_u64(rb, "image base");
		if (s->version != 1) {
			s->inst[i].dev = hp_get_u64(rb, "device");
			s->inst[i].inode = hp_get_u64(rb, "inode");
		}
	}
}

int state_decode(const uint8_t *buf, size_t len, struct state *s)
{
	struct hp_rbuf rb;
	const uint8_t *p;
	uint32_t body;

	memset(s, 0, sizeof(*s));
	if (len < 24 || memcmp(buf, magic, 8) || buf[9] < 1 || buf[9] > STATE_VERSION || buf[10] ||
	    buf[11])
		return -1;
	s->version = buf[9];
	body = (uint32_t)buf[12] | (uint32_t)buf[13] << 8 | (uint32_t)buf[14] << 16 |
	       (uint32_t)buf[15] << 24;
	if (body < 24 || body > len)
		return -1;
	hp_rbuf_init(&rb, buf, body, NULL);
	hp_get_bytes(&rb, 16, "header");
	s->generation = hp_get_u64(&rb, "generation");
	s->floor = hp_get_u64(&rb, "floor");
	s->seq = hp_get_u64(&rb, "sequence");
	s->min_seq = hp_get_u64(&rb, "min-sequence");
	s->applied_at = hp_get_i64(&rb, "time");
	s->package_id = hp_get_str(&rb, 4096, true, "package id");
	s->signer = hp_get_str(&rb, 4096, true, "signer");
	s->manifest = hp_get_str(&rb, MAX_TEXT, true, "manifest");
	s->build_id_len = hp_get_u32(&rb, "build-id length");
	if (!rb.failed && s->build_id_len > sizeof(s->build_id))
		hp_rbuf_fail(&rb, HP_ELIMIT, "build-id");
	p = hp_get_bytes(&rb, s->build_id_len, "build-id");
	if (p)
		memcpy(s->build_id, p, s->build_id_len);
	get_instances(&rb, s);
	s->nr = hp_get_count(&rb, MAX_ITEMS, "redirects");
	/* addr 8, len 1, saved 16, written 16, func 8, size 8, name length 4 (, instance 4) */
	if (!rb.failed && (uint64_t)s->nr * (s->version == 1 ? 61 : 65) > hp_rbuf_left(&rb))
		hp_rbuf_fail(&rb, HP_ETRUNC, "redirects");
	if (!rb.failed && s->nr && !(s->r = calloc(s->nr, sizeof(*s->r))))
		hp_rbuf_fail(&rb, HP_ENOMEM, "redirects");
	/*
	 * state_free frees the names of s->r[0..nr): entries the loop below
	 * does not reach are zeroed, so nr may stay, unless there is no array.
	 */
	if (!s->r)
		s->nr = 0;
	for (uint32_t i = 0; i < s->nr && !rb.failed; i++) {
		struct redirect *r = &s->r[i];

		r->addr = hp_get_u64(&rb, "redirect");
		r->len = hp_get_u8(&rb, "redirect length");
		if (!rb.failed && r->len > 16)
			hp_rbuf_fail(&rb, HP_ELIMIT, "redirect length");
		if ((p = hp_get_bytes(&rb, 16, "saved bytes")))
			memcpy(r->saved, p, 16);
		if ((p = hp_get_bytes(&rb, 16, "written bytes")))
			memcpy(r->written, p, 16);
		r->func = hp_get_u64(&rb, "function");
		r->func_size = hp_get_u64(&rb, "function size");
		r->name = hp_get_str(&rb, 65536, true, "function name");
		if (s->version != 1)
			r->instance = hp_get_u32(&rb, "instance");
		if (!rb.failed && r->instance >= s->ninst)
			hp_rbuf_fail(&rb, HP_ELIMIT, "instance");
	}
	s->regions = get_regions(&rb, &s->nregions);
	hp_get_reserved(&rb, 4, "reserved region count");
	if (rb.failed || hp_rbuf_left(&rb)) {
		state_free(s);
		return -1;
	}
	return 0;
}

void state_free(struct state *s)
{
	free(s->package_id);
	free(s->signer);
	free(s->manifest);
	for (uint32_t i = 0; i < s->nr; i++)
		free(s->r[i].name);
	free(s->r);
	free(s->regions);
	free(s->inst);
	memset(s, 0, sizeof(*s));
}

static bool has_prefix(const char *s, const char *p)
{
	return !strncmp(s, p, strlen(p));
}

bool state_is_ours(const struct mapping *m)
{
	return has_prefix(m->path, "/memfd:hpapply");
}

int state_read(pid_t pid, int mem, const struct maps *m, struct state *s, uint64_t *at)
{
	bool found = false;

	memset(s, 0, sizeof(*s));
	for (size_t i = 0; i < m->n; i++) {
		const struct mapping *mp = &m->v[i];
		uint64_t size = mp->end - mp->start;
		struct state cand;
		uint8_t *buf;

		if (!has_prefix(mp->path, "/memfd:hpapply-state") || size > STATE_MAX)
			continue;
		buf = xmalloc(size);
		if (!buf)
			return -1;
		if (proc_read(mem, mp->start, buf, size) < 0) {
			free(buf);
			return error("process %d: cannot read its hpapply state: %s", (int)pid,
				     strerror(errno));
		}
		if (buf[STATE_COMMITTED_AT] == 1 && state_decode(buf, size, &cand) == 0) {
			if (!found || cand.generation > s->generation) {
				state_free(s);
				*s = cand;
				*at = mp->start;
				found = true;
			} else {
				state_free(&cand);
			}
		}
		free(buf);
	}
	return found ? 0 : 1;
}
