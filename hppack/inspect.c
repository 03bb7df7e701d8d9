/*
 * hppack --inspect PKG [--baseline FILE] [--json]: what a package holds.
 *
 * This reads; it does not verify (hpsign --verify does).  A payload
 * compressed against the baseline can only be opened with --baseline.
 */
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "arch/arch.h"
#include "format/hpk.h"
#include "format/image.h"
#include "hppack/inspect.h"
#include "common/cli.h"
#include "common/mem.h"

struct opened {
	uint8_t *buf;
	size_t len;
	struct hp_hpk pkg;
	struct hp_manifest *m;
	uint16_t machine;      /* of the manifest's arch: the relocation types' numbering */
	struct hp_payload *pl; /* NULL when it needs the baseline and none was given */
	const char *why_closed;
};

static const char *ptarget(const struct hp_payload *pl, const struct hp_preloc *r, char *buf,
			   size_t size)
{
	switch (r->target) {
	case HP_PT_IMAGE:
		snprintf(buf, size, "baseline+0x%llx", (unsigned long long)r->target_off);
		break;
	case HP_PT_CODE:
		snprintf(buf, size, "code %s", pl->code[r->index].name);
		break;
	case HP_PT_DATA:
		snprintf(buf, size, "data %s", pl->data[r->index].name);
		break;
	case HP_PT_IMPORT:
		snprintf(buf, size, "import %s", pl->imports[r->index].name);
		break;
	default:
		snprintf(buf, size, "constant %lld", (long long)r->target_off);
		break;
	}
	return buf;
}

/* The prefix a zstd+baseline payload was compressed against. */
static uint8_t *prefix_from(const struct hp_manifest *m, const char *path, size_t *len)
{
	struct hp_image img;
	struct hp_error e;
	uint8_t *file, *prefix = NULL;
	size_t flen;
	char msg[200];

	if (hp_read_file(path, 1ull << 31, &file, &flen, &e) < 0) {
		error("%s: %s", path, hp_error_text(&e, msg, sizeof(msg)));
		return NULL;
	}
	if (hp_image_parse(file, flen, &img, &e) < 0) {
		error("%s: %s", path, hp_error_text(&e, msg, sizeof(msg)));
		goto out;
	}
	for (uint32_t i = 0; i < m->nfuncs; i++) {
		const uint8_t *b = hp_image_bytes(&img, m->funcs[i].offset, m->funcs[i].size);
		uint8_t h[32];

		if (!b || hp_sha256(b, m->funcs[i].size, h) < 0 ||
		    memcmp(h, m->funcs[i].sha256, 32)) {
			error("%s: %s's bytes differ from the package's baseline: wrong --baseline",
			      path, m->funcs[i].name);
			goto out;
		}
	}
	prefix = hp_baseline_prefix(&img, m->funcs, m->nfuncs, len, &e);
	if (!prefix)
		error("%s: %s", path, hp_error_text(&e, msg, sizeof(msg)));
out:
	free(file);
	return prefix;
}

static int open_package(struct opened *o, const char *path, const char *baseline)
{
	struct hp_error e;
	char msg[200];
	uint8_t *raw = NULL, *prefix = NULL;
	size_t prefix_len = 0;

	memset(o, 0, sizeof(*o));
	if (hp_read_file(path, HP_HPK_MAX_FILE, &o->buf, &o->len, &e) < 0)
		return error("%s: %s", path, hp_error_text(&e, msg, sizeof(msg)));
	if (hp_hpk_read(o->buf, o->len, &o->pkg, &e) < 0 ||
	    hp_manifest_parse(o->pkg.manifest, o->pkg.manifest_len, &o->m, &e) < 0)
		return error("%s: not a valid package: %s", path,
			     hp_error_text(&e, msg, sizeof(msg)));
	o->machine = arch_machine(o->m->arch);
	if (o->m->compression == HP_COMP_ZSTD_BASELINE) {
		if (!baseline) {
			o->why_closed = "compressed against the baseline: give --baseline FILE";
			return 0;
		}
		prefix = prefix_from(o->m, baseline, &prefix_len);
		if (!prefix)
			return -1;
	}
	if (hp_zstd_decompress(o->pkg.payload, o->pkg.payload_len, prefix, prefix_len,
			       o->m->payload_raw_size, &raw, &e) < 0 ||
	    hp_payload_decode(raw, o->m->payload_raw_size, &o->pl, &e) < 0) {
		free(prefix);
		free(raw);
		return error("%s: unreadable payload: %s", path,
			     hp_error_text(&e, msg, sizeof(msg)));
	}
	free(prefix);
	free(raw);
	if (hp_payload_matches_manifest(o->pl, o->m, &e) < 0)
		return error("%s: not a valid package: %s", path,
			     hp_error_text(&e, msg, sizeof(msg)));
	return 0;
}

static void close_package(struct opened *o)
{
	hp_payload_free(o->pl);
	hp_manifest_free(o->m);
	free(o->buf);
}

static struct json_object *relocs_json(const struct opened *op, const struct hp_preloc *r,
				       uint32_t n)
{
	struct json_object *a = json_object_new_array();
	char t[320], name[32];

	for (uint32_t i = 0; i < n; i++) {
		struct json_object *o = json_object_new_object();

		json_object_object_add(o, "offset", json_object_new_int64(r[i].offset));
		json_object_object_add(o, "type",
				       json_object_new_string(hp_reloc_name(op->machine, r[i].type,
									    name, sizeof(name))));
		json_object_object_add(
			o, "target", json_object_new_string(ptarget(op->pl, &r[i], t, sizeof(t))));
		json_object_object_add(o, "addend", json_object_new_int64(r[i].addend));
		json_object_array_add(a, o);
	}
	return a;
}

static struct json_object *to_json(const struct opened *o)
{
	const struct hp_manifest *m = o->m;
	struct json_object *root = json_object_new_object(), *funcs = json_object_new_array();
	char hex[129], when[32];

	json_object_object_add(root, "package_id", json_object_new_string(m->package_id));
	json_object_object_add(root, "target", json_object_new_string(m->target_name));
	hp_hex(m->build_id, m->build_id_len, hex);
	json_object_object_add(root, "build_id", json_object_new_string(hex));
	hp_hex(m->target_sha256, 32, hex);
	json_object_object_add(root, "target_sha256", json_object_new_string(hex));
	json_object_object_add(root, "sequence", json_object_new_int64((int64_t)m->sequence));
	json_object_object_add(root, "min_sequence",
			       json_object_new_int64((int64_t)m->min_sequence));
	hp_time_format(m->created, when, sizeof(when));
	json_object_object_add(root, "created", json_object_new_string(when));
	if (m->has_expires && hp_time_format(m->expires, when, sizeof(when)) == 0)
		json_object_object_add(root, "expires", json_object_new_string(when));
	if (m->fixes)
		json_object_object_add(root, "fixes", json_object_new_string(m->fixes));
	json_object_object_add(root, "tools", json_object_new_string(m->tools));
	json_object_object_add(root, "signed", json_object_new_boolean(o->pkg.sig != NULL));
	json_object_object_add(root, "package_size", json_object_new_int64((int64_t)o->len));
	json_object_object_add(root, "payload_size",
			       json_object_new_int64((int64_t)m->payload_size));
	json_object_object_add(root, "payload_raw_size",
			       json_object_new_int64((int64_t)m->payload_raw_size));
	json_object_object_add(root, "compression",
			       json_object_new_string(m->compression == HP_COMP_ZSTD_BASELINE
							      ? "zstd+baseline"
							      : "zstd"));
	for (uint32_t i = 0; i < m->nfuncs; i++) {
		struct json_object *f = json_object_new_object();

		json_object_object_add(f, "name", json_object_new_string(m->funcs[i].name));
		json_object_object_add(f, "baseline_offset",
				       json_object_new_int64((int64_t)m->funcs[i].offset));
		json_object_object_add(f, "old_size", json_object_new_int64(m->funcs[i].size));
		if (o->pl) {
			const struct hp_pcode *c = &o->pl->code[o->pl->replaced[i]];

			json_object_object_add(f, "new_size", json_object_new_int64(c->size));
			json_object_object_add(f, "references",
					       relocs_json(o, c->relocs, c->nrelocs));
		}
		json_object_array_add(funcs, f);
	}
	json_object_object_add(root, "functions", funcs);
	if (!o->pl) {
		json_object_object_add(root, "payload", json_object_new_string(o->why_closed));
		return root;
	}
	struct json_object *news = json_object_new_array(), *data = json_object_new_array();
	struct json_object *imports = json_object_new_array();
	for (uint32_t i = 0; i < o->pl->ncode; i++) {
		const struct hp_pcode *c = &o->pl->code[i];
		struct json_object *f;

		if (c->kind != HP_PCODE_NEW)
			continue;
		f = json_object_new_object();
		json_object_object_add(f, "name", json_object_new_string(c->name));
		json_object_object_add(f, "size", json_object_new_int64(c->size));
		json_object_object_add(f, "references", relocs_json(o, c->relocs, c->nrelocs));
		json_object_array_add(news, f);
	}
	for (uint32_t i = 0; i < o->pl->ndata; i++) {
		const struct hp_pdata *d = &o->pl->data[i];
		struct json_object *f = json_object_new_object();
		static const char *const kinds[] = {"", "data", "bss", "rodata"};

		json_object_object_add(f, "name", json_object_new_string(d->name));
		json_object_object_add(f, "kind", json_object_new_string(kinds[d->kind]));
		json_object_object_add(f, "size", json_object_new_int64((int64_t)d->size));
		json_object_object_add(f, "references", relocs_json(o, d->relocs, d->nrelocs));
		json_object_array_add(data, f);
	}
	for (uint32_t i = 0; i < o->pl->nimports; i++)
		json_object_array_add(imports, json_object_new_string(o->pl->imports[i].name));
	json_object_object_add(root, "new_functions", news);
	json_object_object_add(root, "data", data);
	json_object_object_add(root, "imports", imports);
	return root;
}

static void print_relocs(const struct opened *o, const struct hp_preloc *r, uint32_t n)
{
	char t[320], name[32];

	for (uint32_t i = 0; i < n; i++)
		printf("      +0x%-5x %-22s %s %+lld\n", r[i].offset,
		       hp_reloc_name(o->machine, r[i].type, name, sizeof(name)),
		       ptarget(o->pl, &r[i], t, sizeof(t)), (long long)r[i].addend);
}

static void to_text(const struct opened *o)
{
	const struct hp_manifest *m = o->m;
	char hex[129], when[32];

	hp_hex(m->build_id, m->build_id_len, hex);
	hp_time_format(m->created, when, sizeof(when));
	printf("package %s (%s), %zu bytes\n", m->package_id,
	       o->pkg.sig ? "signed, not verified here" : "unsigned", o->len);
	printf("  target      %s, build-id %s\n", m->target_name, hex);
	hp_hex(m->target_sha256, 32, hex);
	printf("  sha256      %s\n", hex);
	printf("  sequence    %llu (min-sequence %llu), created %s",
	       (unsigned long long)m->sequence, (unsigned long long)m->min_sequence, when);
	if (m->has_expires && hp_time_format(m->expires, when, sizeof(when)) == 0)
		printf(", expires %s", when);
	printf("\n  tools       %s\n", m->tools);
	if (m->fixes)
		printf("  fixes       %s\n", m->fixes);
	printf("  payload     %llu bytes (%llu raw, %s)\n", (unsigned long long)m->payload_size,
	       (unsigned long long)m->payload_raw_size,
	       m->compression == HP_COMP_ZSTD_BASELINE ? "zstd against the baseline" : "zstd");
	for (uint32_t i = 0; i < m->nfuncs; i++) {
		printf("  replaces    %s at baseline+0x%llx, %u bytes", m->funcs[i].name,
		       (unsigned long long)m->funcs[i].offset, m->funcs[i].size);
		if (o->pl) {
			const struct hp_pcode *c = &o->pl->code[o->pl->replaced[i]];

			printf(" -> %u bytes\n", c->size);
			print_relocs(o, c->relocs, c->nrelocs);
		} else {
			printf("\n");
		}
	}
	if (!o->pl) {
		printf("  (payload not opened: %s)\n", o->why_closed);
		return;
	}
	for (uint32_t i = 0; i < o->pl->ncode; i++) {
		const struct hp_pcode *c = &o->pl->code[i];

		if (c->kind != HP_PCODE_NEW)
			continue;
		printf("  new code    %s, %u bytes\n", c->name, c->size);
		print_relocs(o, c->relocs, c->nrelocs);
	}
	for (uint32_t i = 0; i < o->pl->ndata; i++) {
		const struct hp_pdata *d = &o->pl->data[i];
		static const char *const kinds[] = {"", "data", "bss", "rodata"};

		printf("  new %-7s %s, %llu bytes\n", kinds[d->kind], d->name,
		       (unsigned long long)d->size);
		print_relocs(o, d->relocs, d->nrelocs);
	}
	for (uint32_t i = 0; i < o->pl->nimports; i++)
		printf("  import      %s%s\n", o->pl->imports[i].name,
		       o->pl->imports[i].weak ? " (weak)" : "");
}

int inspect_package(const char *path, const char *baseline, bool json)
{
	struct opened o;
	int ret = open_package(&o, path, baseline);

	if (ret == 0) {
		if (json) {
			struct json_object *j = to_json(&o);

			puts(json_object_to_json_string_ext(
				j, JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_NOSLASHESCAPE));
			json_object_put(j);
		} else {
			to_text(&o);
		}
	}
	close_package(&o);
	return ret;
}
