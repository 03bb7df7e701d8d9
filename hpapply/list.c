/*
 * hpapply --list PID [--json]: what is applied, read from the state record
 * in the process (no ptrace attach, no stop: /proc/PID/mem only).
 */
#include <errno.h>
#include <json-c/json.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "hpapply/apply.h"
#include "format/hp.h"
#include "format/hpk.h"
#include "hpapply/proc.h"
#include "hpapply/record.h"
#include "hpapply/state.h"
#include "common/cli.h"
#include "common/mem.h"

static const char *image_path(const struct maps *m, uint64_t base)
{
	const struct mapping *mp = maps_find(m, base);

	return mp && mp->path[0] ? mp->path : "?";
}

/* What --list says: the record, and what became of each instance it names. */
struct view {
	pid_t pid;
	const struct state *s;
	const struct maps *m;
	const enum inst_state *st;
	bool any;     /* a record was found */
	bool applied; /* to an instance still loaded */
};

static void print_text(const struct view *v)
{
	const struct state *s = v->s;
	char hex[129], when[32];

	if (!v->applied) {
		printf("process %d: nothing applied", (int)v->pid);
		if (v->any && s->floor)
			printf(" (anti-rollback floor: sequence %llu)",
			       (unsigned long long)s->floor);
		printf("\n");
		for (uint32_t i = 0; v->any && s->seq && i < s->ninst; i++)
			printf("  stale      %s was applied to the instance at 0x%llx, %s since\n",
			       s->package_id, (unsigned long long)s->inst[i].base,
			       record_state_name(v->st[i]));
		return;
	}
	hp_hex(s->build_id, s->build_id_len, hex);
	if (hp_time_format(s->applied_at, when, sizeof(when)) < 0)
		snprintf(when, sizeof(when), "?");
	printf("process %d: %s applied\n", (int)v->pid, s->package_id);
	printf("  sequence   %llu (min-sequence %llu, floor %llu)\n", (unsigned long long)s->seq,
	       (unsigned long long)s->min_seq, (unsigned long long)s->floor);
	printf("  signer     %s\n", s->signer);
	for (uint32_t i = 0; i < s->ninst; i++)
		if (v->st[i] == INST_LIVE)
			printf("  baseline   %s at 0x%llx, build-id %s\n",
			       image_path(v->m, s->inst[i].base),
			       (unsigned long long)s->inst[i].base, hex);
		else
			printf("  stale      the instance at 0x%llx, %s since\n",
			       (unsigned long long)s->inst[i].base, record_state_name(v->st[i]));
	printf("  applied    %s\n", when);
	for (uint32_t i = 0; i < s->nr; i++)
		if (v->st[s->r[i].instance] == INST_LIVE)
			printf("  redirected %s at 0x%llx\n", s->r[i].name,
			       (unsigned long long)s->r[i].func);
}

static void print_json(const struct view *v)
{
	const struct state *s = v->s;
	struct json_object *o = json_object_new_object(), *funcs = json_object_new_array();
	char hex[129], when[32];

	json_object_object_add(o, "pid", json_object_new_int(v->pid));
	json_object_object_add(o, "applied", json_object_new_boolean(v->applied));
	json_object_object_add(o, "floor", json_object_new_int64(v->any ? (int64_t)s->floor : 0));
	if (v->any && s->seq) {
		struct json_object *inst = json_object_new_array();
		uint32_t first = s->ninst;

		hp_hex(s->build_id, s->build_id_len, hex);
		json_object_object_add(o, "package_id", json_object_new_string(s->package_id));
		json_object_object_add(o, "sequence", json_object_new_int64((int64_t)s->seq));
		json_object_object_add(o, "min_sequence",
				       json_object_new_int64((int64_t)s->min_seq));
		json_object_object_add(o, "signer", json_object_new_string(s->signer));
		for (uint32_t i = 0; i < s->ninst; i++) {
			struct json_object *e = json_object_new_object();

			if (v->st[i] == INST_LIVE && first == s->ninst)
				first = i;
			json_object_object_add(
				e, "path",
				json_object_new_string(v->st[i] == INST_LIVE
							       ? image_path(v->m, s->inst[i].base)
							       : ""));
			json_object_object_add(e, "base",
					       json_object_new_int64((int64_t)s->inst[i].base));
			json_object_object_add(e, "state",
					       json_object_new_string(record_state_name(v->st[i])));
			json_object_array_add(inst, e);
		}
		if (first < s->ninst)
			json_object_object_add(
				o, "baseline",
				json_object_new_string(image_path(v->m, s->inst[first].base)));
		json_object_object_add(o, "build_id", json_object_new_string(hex));
		json_object_object_add(o, "instances", inst);
		if (hp_time_format(s->applied_at, when, sizeof(when)) == 0)
			json_object_object_add(o, "applied_at", json_object_new_string(when));
		for (uint32_t i = 0; i < s->nr; i++) {
			struct json_object *f;

			if (v->st[s->r[i].instance] != INST_LIVE)
				continue;
			f = json_object_new_object();
			json_object_object_add(f, "name", json_object_new_string(s->r[i].name));
			json_object_object_add(f, "address",
					       json_object_new_int64((int64_t)s->r[i].func));
			json_object_array_add(funcs, f);
		}
	}
	json_object_object_add(o, "functions", funcs);
	puts(json_object_to_json_string_ext(o, JSON_C_TO_STRING_PRETTY |
						       JSON_C_TO_STRING_NOSLASHESCAPE));
	json_object_put(o);
}

enum outcome do_list(pid_t pid, bool json)
{
	struct maps m;
	struct state s;
	struct view v = {pid, &s, &m, NULL, false, false};
	enum inst_state *st = NULL;
	enum outcome out = OUTCOME_OK;
	uint64_t at = 0;
	char why[512];
	pid_t view;
	int mem, r;

	if (!proc_alive(pid)) {
		error("process %d: no such process", (int)pid);
		return OUTCOME_TROUBLE;
	}
	view = proc_view(pid);
	mem = proc_mem_open(view);
	if (mem < 0) {
		error("process %d: cannot read its memory: %s", (int)pid, strerror(errno));
		return OUTCOME_TROUBLE;
	}
	if (proc_maps(view, &m) < 0) {
		error("process %d: cannot read its mappings: %s", (int)pid, strerror(errno));
		close(mem);
		return OUTCOME_TROUBLE;
	}
	r = state_read(pid, mem, &m, &s, &at);
	if (r < 0)
		out = OUTCOME_TROUBLE;
	v.any = r == 0;
	if (v.any && !(st = xcalloc(s.ninst + 1, sizeof(*st))))
		out = OUTCOME_TROUBLE;
	/* what the record says is checked against the process, as before any apply */
	if (v.any && st) {
		r = record_check(view, mem, &m, &s, at, st, why, sizeof(why));
		if (r != 0) {
			if (r == 1)
				error("process %d: what is applied cannot be told: %s", (int)pid,
				      why);
			out = OUTCOME_TROUBLE;
		}
	}
	close(mem);
	v.st = st;
	v.applied = v.any && s.seq && st && record_live(&s, st) > 0;
	if (out == OUTCOME_OK) {
		if (json)
			print_json(&v);
		else
			print_text(&v);
	}
	free(st);
	state_free(&s);
	maps_free(&m);
	return out;
}
