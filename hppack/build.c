/*
 * Turning a resolved packer into package bytes: payload, compression,
 * MANIFEST, container, optional signature, atomic output.
 *
 * Reproducible: everything comes from the inputs and SOURCE_DATE_EPOCH, so
 * the same inputs give a byte-identical unsigned package.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "arch/arch.h"
#include "hppack/packer.h"
#include "common/cli.h"
#include "common/mem.h"

#define ZSTD_LEVEL 19

/*
 * Compress the raw payload; where it is smaller, against the baseline's
 * replaced functions (new code is mostly old code, and the loader has the
 * old code once it has checked its hashes).
 */
static int compress_payload(const struct packer *p, const uint8_t *raw, size_t len,
			    struct hp_manifest *m, uint8_t **out, size_t *out_len)
{
	struct hp_error e;
	char msg[200];
	uint8_t *plain = NULL, *delta = NULL, *prefix;
	size_t plain_len = 0, delta_len = 0, prefix_len = 0;

	if (hp_zstd_compress(raw, len, NULL, 0, ZSTD_LEVEL, &plain, &plain_len, &e) < 0)
		return error("compressing the payload: %s", hp_error_text(&e, msg, sizeof(msg)));
	prefix = hp_baseline_prefix(&p->b->img, p->funcs, p->nfuncs, &prefix_len, &e);
	if (!prefix) {
		free(plain);
		return error("compressing the payload: %s", hp_error_text(&e, msg, sizeof(msg)));
	}
	if (prefix_len &&
	    hp_zstd_compress(raw, len, prefix, prefix_len, ZSTD_LEVEL, &delta, &delta_len, &e) < 0)
		delta = NULL;
	free(prefix);
	if (delta && delta_len < plain_len) {
		free(plain);
		m->compression = HP_COMP_ZSTD_BASELINE;
		*out = delta;
		*out_len = delta_len;
	} else {
		free(delta);
		m->compression = HP_COMP_ZSTD;
		*out = plain;
		*out_len = plain_len;
	}
	return 0;
}

/* Compare with the package this one follows: same target, newer, cumulative. */
static enum outcome check_previous(const struct hp_manifest *m, const char *path)
{
	struct hp_manifest *prev = NULL;
	struct hp_error e;
	struct hp_hpk pkg;
	uint8_t *buf;
	size_t len;
	char msg[200];
	enum outcome ret = OUTCOME_OK;

	if (hp_read_file(path, HP_HPK_MAX_FILE, &buf, &len, &e) < 0) {
		error("%s: %s", path, hp_error_text(&e, msg, sizeof(msg)));
		return OUTCOME_TROUBLE;
	}
	if (hp_hpk_read(buf, len, &pkg, &e) < 0 ||
	    hp_manifest_parse(pkg.manifest, pkg.manifest_len, &prev, &e) < 0) {
		error("%s: not a valid package: %s", path, hp_error_text(&e, msg, sizeof(msg)));
		free(buf);
		return OUTCOME_TROUBLE;
	}
	if (prev->build_id_len != m->build_id_len ||
	    memcmp(prev->build_id, m->build_id, m->build_id_len) ||
	    memcmp(prev->target_sha256, m->target_sha256, 32)) {
		error("%s: the previous package is for another baseline", path);
		ret = OUTCOME_REFUSED;
	} else if (m->sequence <= prev->sequence) {
		error("sequence %llu is not newer than %s's %llu", (unsigned long long)m->sequence,
		      path, (unsigned long long)prev->sequence);
		ret = OUTCOME_REFUSED;
	} else if (m->min_sequence < prev->min_sequence) {
		error("min-sequence %llu is below %s's %llu", (unsigned long long)m->min_sequence,
		      path, (unsigned long long)prev->min_sequence);
		ret = OUTCOME_REFUSED;
	}
	/* Cumulative: every function the previous package fixed is fixed again. */
	for (uint32_t i = 0; ret == OUTCOME_OK && i < prev->nfuncs; i++) {
		bool kept = false;

		for (uint32_t k = 0; k < m->nfuncs && !kept; k++)
			kept = m->funcs[k].offset == prev->funcs[i].offset;
		if (!kept) {
			error("%s replaced %s, which this package does not: a package holds every "
			      "fix since the baseline",
			      path, prev->funcs[i].name);
			ret = OUTCOME_REFUSED;
		}
	}
	hp_manifest_free(prev);
	free(buf);
	return ret;
}

static int fill_manifest(struct packer *p, const struct pack_opts *o, struct hp_manifest *m)
{
	memset(m, 0, sizeof(*m));
	m->package_id = o->id ? xstrdup(o->id)
			      : xasprintf("%s-%llu", p->b->name, (unsigned long long)o->seq);
	m->arch = xstrdup(arch_name(p->machine)); /* supported: baseline_load checked */
	m->target_name = xstrdup(p->b->name);
	memcpy(m->build_id, p->b->img.build_id, p->b->img.build_id_len);
	m->build_id_len = p->b->img.build_id_len;
	memcpy(m->target_sha256, p->b->sha256, 32);
	m->sequence = o->seq;
	m->min_sequence = o->min_seq;
	m->cumulative = true;
	m->created = o->created;
	m->has_expires = o->has_expires;
	m->expires = o->expires;
	m->tools = xstrdup(p->tools);
	m->fixes = o->fixes ? xstrdup(o->fixes) : NULL;
	m->funcs = p->funcs; /* borrowed: p keeps ownership */
	m->nfuncs = p->nfuncs;
	return m->package_id && m->arch && m->target_name && m->tools && (!o->fixes || m->fixes)
		       ? 0
		       : -1;
}

/*
 * What the manifest writer refused.  The id, --fixes and the baseline's
 * file name come from the command line: bad usage (trouble), said in its
 * terms; anything else comes from the inputs (refused).
 */
static enum outcome manifest_refusal(const struct packer *p, const struct pack_opts *o,
				     const struct hp_error *e)
{
	static const char ident[] = "letters, digits, '.', '_', '+' or '-', not starting "
				    "with '.' or '-', at most 128";
	char msg[200];

	if (!strcmp(e->what, "package-id") && o->id) {
		error("--id '%s': a package id is %s", o->id, ident);
		return OUTCOME_TROUBLE;
	}
	/* the default id is the file name and the sequence number */
	if (!strcmp(e->what, "package-id") || !strcmp(e->what, "target-name")) {
		error("%s: the file name '%s' cannot name the target (%s): copy or link the "
		      "baseline under such a name",
		      p->b->path, p->b->name, ident);
		return OUTCOME_TROUBLE;
	}
	if (!strcmp(e->what, "fixes")) {
		error("--fixes: one line of printable UTF-8 text, without leading or trailing "
		      "spaces, up to 4080 bytes");
		return OUTCOME_TROUBLE;
	}
	error("writing MANIFEST: %s", hp_error_text(e, msg, sizeof(msg)));
	return e->code == HP_EVALUE ? OUTCOME_REFUSED : OUTCOME_TROUBLE;
}

static void release_manifest(struct hp_manifest *m)
{
	free(m->package_id);
	free(m->arch);
	free(m->target_name);
	free(m->tools);
	free(m->fixes);
}

enum outcome pack_write(struct packer *p, const struct pack_opts *o)
{
	struct hp_manifest m;
	struct hp_hpk pkg = {0};
	struct hp_error e;
	uint8_t *raw = NULL, *zst = NULL, *sig = NULL, *out = NULL;
	size_t raw_len = 0, zst_len = 0, sig_len = 0, out_len = 0, text_len = 0;
	char *text = NULL, msg[200];
	enum outcome ret = OUTCOME_TROUBLE;

	if (fill_manifest(p, o, &m) < 0)
		goto out;
	if (hp_payload_encode(&p->pl, &raw, &raw_len, &e) < 0) {
		error("encoding the payload: %s", hp_error_text(&e, msg, sizeof(msg)));
		goto out;
	}
	if (compress_payload(p, raw, raw_len, &m, &zst, &zst_len) < 0)
		goto out;
	m.payload_raw_size = raw_len;
	m.payload_size = zst_len;
	if (hp_sha256(raw, raw_len, m.payload_raw_sha256) < 0 ||
	    hp_sha256(zst, zst_len, m.payload_sha256) < 0)
		goto out;
	if (o->previous && (ret = check_previous(&m, o->previous)) != OUTCOME_OK)
		goto out;
	ret = OUTCOME_TROUBLE;
	if (hp_manifest_write(&m, &text, &text_len, &e) < 0) {
		ret = manifest_refusal(p, o, &e);
		goto out;
	}
	pkg.manifest = (const uint8_t *)text;
	pkg.manifest_len = text_len;
	pkg.payload = zst;
	pkg.payload_len = zst_len;
	pkg.mtime = (uint64_t)o->created;
	if (o->key) {
		if (o->sign(text, text_len, o, &sig, &sig_len) < 0)
			goto out;
		pkg.sig = sig;
		pkg.sig_len = sig_len;
	}
	if (hp_hpk_write(&pkg, &out, &out_len, &e) < 0) {
		error("writing the package: %s", hp_error_text(&e, msg, sizeof(msg)));
		goto out;
	}
	if (hp_write_file_atomic(o->out, out, out_len, 0666, &e) < 0) {
		error("%s: %s", o->out, hp_error_text(&e, msg, sizeof(msg)));
		goto out;
	}
	if (o->verbose)
		printf("%s: %s for %s (build-id %zu bytes), sequence %llu, %u functions, payload "
		       "%zu bytes (%zu raw, %s), package %zu bytes%s\n",
		       o->out, m.package_id, m.target_name, m.build_id_len,
		       (unsigned long long)m.sequence, m.nfuncs, zst_len, raw_len,
		       m.compression == HP_COMP_ZSTD_BASELINE ? "zstd against the baseline"
							      : "zstd",
		       out_len, sig ? ", signed" : ", unsigned");
	ret = OUTCOME_OK;
out:
	release_manifest(&m);
	free(raw);
	free(zst);
	free(sig);
	free(out);
	free(text);
	return ret;
}
