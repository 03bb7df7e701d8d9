/*
 * `hpsign --verify` output: the human summary of a valid package and the
 * JSON form of any verdict (json-c's one user in hpsign).
 */
#include <inttypes.h>
#include <json-c/json.h>
#include <string.h>

#include "hpsign/report.h"

static void time_text(int64_t t, char *buf, size_t size)
{
	if (hp_time_format(t, buf, size) < 0)
		snprintf(buf, size, "%" PRId64, t);
}

struct counts {
	uint32_t replaced, new_code, data, imports;
};

static struct counts count(const struct hp_verified *v)
{
	struct counts c = {0, 0, 0, 0};

	c.replaced = v->manifest ? v->manifest->nfuncs : 0;
	if (v->payload) {
		c.new_code = v->payload->ncode - v->payload->nreplaced;
		c.data = v->payload->ndata;
		c.imports = v->payload->nimports;
	}
	return c;
}

void hp_report_text(FILE *f, const char *pkg_file, const char *target_file,
		    const struct hp_verified *v)
{
	const struct hp_signer_info *s = &v->signer;
	const struct hp_manifest *m = v->manifest;
	struct counts c = count(v);
	char a[32], b[32], id[129], sha[65];

	fprintf(f, "%s: valid\n", pkg_file);
	time_text(s->not_before, a, sizeof(a));
	time_text(s->not_after, b, sizeof(b));
	fprintf(f, "  signer      %s\n", s->subject);
	fprintf(f, "  issuer      %s\n", s->issuer);
	fprintf(f, "  serial      %s\n", s->serial);
	fprintf(f, "  validity    %s to %s\n", a, b);
	fprintf(f, "  key         %s, signature %s, chain of %d to %s\n", s->key, s->digest,
		s->chain_len, s->anchor);
	hp_hex(m->build_id, m->build_id_len, id);
	hp_hex(m->target_sha256, 32, sha);
	fprintf(f, "  target      %s (%s)\n", m->target_name, m->arch);
	fprintf(f, "  build-id    %s\n", id);
	fprintf(f, "  sha256      %s\n", sha);
	if (v->target_checked)
		fprintf(f, "  checked     against %s: build-id, SHA-256, replaced bytes\n",
			target_file);
	else
		fprintf(f, "  checked     not against a target (pass --target)\n");
	fprintf(f, "  package     %s, %s\n", m->package_id, m->tools);
	fprintf(f, "  sequence    %" PRIu64 ", min-sequence %" PRIu64 ", %s\n", m->sequence,
		m->min_sequence, m->cumulative ? "cumulative" : "not cumulative");
	time_text(m->created, a, sizeof(a));
	if (m->has_expires)
		time_text(m->expires, b, sizeof(b));
	fprintf(f, "  created     %s, expires %s\n", a, m->has_expires ? b : "never");
	if (m->fixes)
		fprintf(f, "  fixes       %s\n", m->fixes);
	fprintf(f, "  payload     %s, %" PRIu64 " bytes, %" PRIu64 " raw\n",
		m->compression == HP_COMP_ZSTD_BASELINE ? "zstd+baseline" : "zstd", m->payload_size,
		m->payload_raw_size);
	if (v->payload)
		fprintf(f,
			"  changes     %u replaced, %u new functions, %u data items, %u imports\n",
			c.replaced, c.new_code, c.data, c.imports);
	else
		fprintf(f, "  changes     %u replaced (new functions and data unknown)\n",
			c.replaced);
	for (uint32_t i = 0; i < m->nfuncs; i++)
		fprintf(f, "    replace   %s at 0x%" PRIx64 ", %u bytes\n", m->funcs[i].name,
			m->funcs[i].offset, m->funcs[i].size);
	if (!v->payload_checked)
		fprintf(f, "%s\n", HP_NOTE_UNCHECKED);
}

/* ---- JSON ----------------------------------------------------------------------------- */

static void add_str(json_object *o, const char *key, const char *v)
{
	json_object_object_add(o, key, json_object_new_string(v));
}

static void add_time(json_object *o, const char *key, int64_t t)
{
	char buf[32];

	time_text(t, buf, sizeof(buf));
	add_str(o, key, buf);
}

static json_object *signer_json(const struct hp_signer_info *s)
{
	json_object *o = json_object_new_object();

	add_str(o, "subject", s->subject);
	add_str(o, "issuer", s->issuer);
	add_str(o, "serial", s->serial);
	add_time(o, "not_before", s->not_before);
	add_time(o, "not_after", s->not_after);
	add_str(o, "key", s->key);
	add_str(o, "digest", s->digest);
	json_object_object_add(o, "chain_length", json_object_new_int(s->chain_len));
	add_str(o, "anchor", s->anchor);
	return o;
}

static json_object *manifest_json(const struct hp_verified *v)
{
	const struct hp_manifest *m = v->manifest;
	json_object *o = json_object_new_object(), *fs = json_object_new_array();
	struct counts c = count(v);
	char hex[129];

	add_str(o, "package_id", m->package_id);
	add_str(o, "arch", m->arch);
	add_str(o, "target_name", m->target_name);
	hp_hex(m->build_id, m->build_id_len, hex);
	add_str(o, "build_id", hex);
	hp_hex(m->target_sha256, 32, hex);
	add_str(o, "target_sha256", hex);
	json_object_object_add(o, "sequence", json_object_new_uint64(m->sequence));
	json_object_object_add(o, "min_sequence", json_object_new_uint64(m->min_sequence));
	json_object_object_add(o, "cumulative", json_object_new_boolean(m->cumulative));
	add_time(o, "created", m->created);
	if (m->has_expires)
		add_time(o, "expires", m->expires);
	else
		json_object_object_add(o, "expires", NULL);
	add_str(o, "tools", m->tools);
	json_object_object_add(o, "fixes", m->fixes ? json_object_new_string(m->fixes) : NULL);
	add_str(o, "compression",
		m->compression == HP_COMP_ZSTD_BASELINE ? "zstd+baseline" : "zstd");
	json_object_object_add(o, "payload_size", json_object_new_uint64(m->payload_size));
	json_object_object_add(o, "payload_raw_size", json_object_new_uint64(m->payload_raw_size));
	for (uint32_t i = 0; i < m->nfuncs; i++) {
		json_object *f = json_object_new_object();

		add_str(f, "name", m->funcs[i].name);
		json_object_object_add(f, "offset", json_object_new_uint64(m->funcs[i].offset));
		json_object_object_add(f, "size", json_object_new_uint64(m->funcs[i].size));
		hp_hex(m->funcs[i].sha256, 32, hex);
		add_str(f, "sha256", hex);
		json_object_array_add(fs, f);
	}
	json_object_object_add(o, "replaced", fs);
	if (v->payload) {
		json_object_object_add(o, "new_functions", json_object_new_int64(c.new_code));
		json_object_object_add(o, "data", json_object_new_int64(c.data));
		json_object_object_add(o, "imports", json_object_new_int64(c.imports));
	}
	return o;
}

int hp_report_json(FILE *f, const char *pkg_file, const char *target_file,
		   const struct hp_verified *v)
{
	json_object *o = json_object_new_object();
	int ret;

	if (!o)
		return -1;
	add_str(o, "package", pkg_file);
	json_object_object_add(o, "valid", json_object_new_boolean(v->cls == HP_V_OK));
	add_str(o, "class", hp_vclass_name(v->cls));
	add_str(o, "message",
		v->cls == HP_V_OK && !v->payload_checked ? HP_NOTE_UNCHECKED : v->message);
	json_object_object_add(o, "signer", v->signed_ok ? signer_json(&v->signer) : NULL);
	json_object_object_add(o, "manifest", v->manifest ? manifest_json(v) : NULL);
	json_object_object_add(o, "target",
			       target_file ? json_object_new_string(target_file) : NULL);
	json_object_object_add(o, "target_checked", json_object_new_boolean(v->target_checked));
	json_object_object_add(o, "payload_checked", json_object_new_boolean(v->payload_checked));
	ret = fprintf(f, "%s\n",
		      json_object_to_json_string_ext(o, JSON_C_TO_STRING_PRETTY |
								JSON_C_TO_STRING_NOSLASHESCAPE)) < 0
		      ? -1
		      : 0;
	json_object_put(o);
	return ret;
}
