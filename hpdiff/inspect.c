/*
 * hpdiff --inspect FILE.hpd: what a .hpd holds, for people and scripts.
 * A .hpd written for a "not hotpatchable" result carries only the
 * findings; this is how a release engineer reads them later.
 */
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>

#include "arch/arch.h"
#include "format/hpd.h"
#include "hpdiff/inspect.h"
#include "common/cli.h"
#include "common/mem.h"

static const char *bind_name(uint8_t b)
{
	return b == HP_BIND_LOCAL ? "local" : b == HP_BIND_WEAK ? "weak" : "global";
}

static const char *data_kind(uint8_t k)
{
	return k == HP_DATA_VAR ? "data" : k == HP_DATA_BSS ? "bss" : "rodata";
}

static const char *note_status(uint8_t s)
{
	return s == HP_NOTE_NEW ? "new" : s == HP_NOTE_REMOVED ? "removed" : "changed";
}

static const char *note_subject(uint8_t s)
{
	return s == HP_NOTE_FUNC ? "func" : s == HP_NOTE_DATA ? "data" : "type";
}

/* "sym counter.0 (local)", "func check_len", "data string literal in ..." */
static void target_text(const struct hp_hpd *h, const struct hp_reloc *r, char *buf, size_t size)
{
	switch (r->target_kind) {
	case HP_TGT_SYM:
		snprintf(buf, size, "%s %s (%s)",
			 h->syms[r->target].kind == HP_SYM_BASE ? "baseline" : "import",
			 h->syms[r->target].name, bind_name(h->syms[r->target].bind));
		break;
	case HP_TGT_FUNC:
		snprintf(buf, size, "new code of %s", h->funcs[r->target].name);
		break;
	default:
		snprintf(buf, size, "new %s", h->data[r->target].name);
		break;
	}
}

static struct json_object *relocs_json(const struct hp_hpd *h, const struct hp_reloc *r, uint32_t n)
{
	struct json_object *a = json_object_new_array();
	char name[32], target[512];

	for (uint32_t i = 0; i < n; i++) {
		struct json_object *o = json_object_new_object();

		target_text(h, &r[i], target, sizeof(target));
		json_object_object_add(o, "offset", json_object_new_int64(r[i].offset));
		json_object_object_add(o, "type",
				       json_object_new_string(hp_reloc_name(h->machine, r[i].type,
									    name, sizeof(name))));
		json_object_object_add(o, "target", json_object_new_string(target));
		json_object_object_add(o, "addend", json_object_new_int64(r[i].addend));
		json_object_array_add(a, o);
	}
	return a;
}

/* The aliases of item index of the kind, as a JSON array of names. */
static struct json_object *aliases_json(const struct hp_hpd *h, uint8_t kind, uint32_t index)
{
	struct json_object *a = json_object_new_array();

	for (uint32_t i = 0; i < h->naliases; i++)
		if (h->aliases[i].kind == kind && h->aliases[i].index == index)
			json_object_array_add(a, json_object_new_string(h->aliases[i].name));
	return a;
}

static void print_aliases(FILE *f, const struct hp_hpd *h, uint8_t kind, uint32_t index)
{
	for (uint32_t i = 0; i < h->naliases; i++)
		if (h->aliases[i].kind == kind && h->aliases[i].index == index)
			fprintf(f, "      also named %s (%s)\n", h->aliases[i].name,
				bind_name(h->aliases[i].bind));
}

static struct json_object *to_json(const struct hp_hpd *h)
{
	struct json_object *root = json_object_new_object();
	struct json_object *funcs = json_object_new_array(), *data = json_object_new_array();
	struct json_object *notes = json_object_new_array();
	char hex[65];

	json_object_object_add(root, "object", json_object_new_string(h->object));
	json_object_object_add(root, "source", json_object_new_string(h->source));
	json_object_object_add(root, "tool", json_object_new_string(h->tool));
	json_object_object_add(root, "hotpatchable",
			       json_object_new_boolean(!(h->flags & HP_HPD_F_UNPATCHABLE)));
	json_object_object_add(root, "fat_lto", json_object_new_boolean(h->flags & HP_HPD_F_LTO));
	hp_hex(h->old_sha256, 32, hex);
	json_object_object_add(root, "old_sha256", json_object_new_string(hex));
	hp_hex(h->new_sha256, 32, hex);
	json_object_object_add(root, "new_sha256", json_object_new_string(hex));
	for (uint32_t i = 0; i < h->nfuncs; i++) {
		const struct hp_func *f = &h->funcs[i];
		struct json_object *o = json_object_new_object();

		json_object_object_add(o, "name", json_object_new_string(f->name));
		json_object_object_add(
			o, "status",
			json_object_new_string(f->status == HP_FUNC_NEW ? "new" : "changed"));
		if (f->status == HP_FUNC_CHANGED)
			json_object_object_add(o, "replaces", json_object_new_string(f->base_name));
		json_object_object_add(o, "binding", json_object_new_string(bind_name(f->bind)));
		json_object_object_add(o, "size", json_object_new_int64(f->size));
		json_object_object_add(o, "old_size", json_object_new_int64(f->old_size));
		json_object_object_add(o, "source", json_object_new_string(f->source));
		json_object_object_add(o, "aliases", aliases_json(h, HP_TGT_FUNC, i));
		json_object_object_add(o, "references", relocs_json(h, f->relocs, f->nrelocs));
		json_object_array_add(funcs, o);
	}
	for (uint32_t i = 0; i < h->ndata; i++) {
		const struct hp_data *d = &h->data[i];
		struct json_object *o = json_object_new_object();

		json_object_object_add(o, "name", json_object_new_string(d->name));
		json_object_object_add(o, "kind", json_object_new_string(data_kind(d->kind)));
		json_object_object_add(o, "size", json_object_new_int64((int64_t)d->size));
		json_object_object_add(o, "aliases", aliases_json(h, HP_TGT_DATA, i));
		json_object_object_add(o, "references", relocs_json(h, d->relocs, d->nrelocs));
		json_object_array_add(data, o);
	}
	for (uint32_t i = 0; i < h->nnotes; i++) {
		const struct hp_note *n = &h->notes[i];
		struct json_object *o = json_object_new_object();

		json_object_object_add(o, "subject",
				       json_object_new_string(note_subject(n->subject)));
		json_object_object_add(o, "name", json_object_new_string(n->name));
		json_object_object_add(o, "status", json_object_new_string(note_status(n->status)));
		json_object_object_add(o, "hotpatchable", json_object_new_boolean(n->patchable));
		json_object_object_add(o, "reason", json_object_new_string(n->reason));
		json_object_array_add(notes, o);
	}
	json_object_object_add(root, "functions", funcs);
	json_object_object_add(root, "data", data);
	json_object_object_add(root, "notes", notes);
	return root;
}

static void print_relocs(FILE *f, const struct hp_hpd *h, const struct hp_reloc *r, uint32_t n)
{
	char name[32], target[512];

	for (uint32_t i = 0; i < n; i++) {
		target_text(h, &r[i], target, sizeof(target));
		fprintf(f, "      +0x%-5x %-22s %s %+lld\n", r[i].offset,
			hp_reloc_name(h->machine, r[i].type, name, sizeof(name)), target,
			(long long)r[i].addend);
	}
}

static void to_text(FILE *f, const struct hp_hpd *h)
{
	fprintf(f, "%s (from %s, by %s): %s\n", h->object, h->source[0] ? h->source : "?", h->tool,
		h->flags & HP_HPD_F_UNPATCHABLE ? "NOT hotpatchable" : "hotpatchable");
	if (h->flags & HP_HPD_F_LTO)
		fputs("  note: fat LTO objects: a baseline linked with LTO does not hold this "
		      "code\n",
		      f);
	for (uint32_t i = 0; i < h->nnotes; i++) {
		const struct hp_note *n = &h->notes[i];

		fprintf(f, "  %s %-8s %s%s%s%s\n", note_subject(n->subject), note_status(n->status),
			n->name, n->patchable ? "" : ": NOT HOTPATCHABLE", n->reason[0] ? ": " : "",
			n->reason);
	}
	for (uint32_t i = 0; i < h->nfuncs; i++) {
		const struct hp_func *fn = &h->funcs[i];

		fprintf(f, "  code %s (%s, %u bytes", fn->name,
			fn->status == HP_FUNC_NEW ? "new" : "replaces", fn->size);
		if (fn->status == HP_FUNC_CHANGED)
			fprintf(f, ", baseline %s %u bytes", fn->base_name, fn->old_size);
		fprintf(f, ")\n");
		print_aliases(f, h, HP_TGT_FUNC, i);
		print_relocs(f, h, fn->relocs, fn->nrelocs);
	}
	for (uint32_t i = 0; i < h->ndata; i++) {
		fprintf(f, "  %s %s (%llu bytes)\n", data_kind(h->data[i].kind), h->data[i].name,
			(unsigned long long)h->data[i].size);
		print_aliases(f, h, HP_TGT_DATA, i);
		print_relocs(f, h, h->data[i].relocs, h->data[i].nrelocs);
	}
}

int inspect_hpd(const char *path, bool json)
{
	struct hp_error e;
	struct hp_hpd *h;
	uint8_t *buf;
	size_t len;
	char msg[200];

	if (hp_read_file(path, HP_HPD_MAX_FILE, &buf, &len, &e) < 0)
		return error("%s: %s", path, hp_error_text(&e, msg, sizeof(msg)));
	if (hp_hpd_decode(buf, len, &h, &e) < 0) {
		free(buf);
		return error("%s: not a valid .hpd file: %s", path,
			     hp_error_text(&e, msg, sizeof(msg)));
	}
	free(buf);
	if (json) {
		struct json_object *o = to_json(h);

		puts(json_object_to_json_string_ext(o, JSON_C_TO_STRING_PRETTY |
							       JSON_C_TO_STRING_NOSLASHESCAPE));
		json_object_put(o);
	} else {
		to_text(stdout, h);
	}
	hp_hpd_free(h);
	return 0;
}
