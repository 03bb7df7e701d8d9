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
#include "hpapply/state.h"
#include "common/cli.h"
#include "common/mem.h"

static const char *image_path(const struct maps *m, uint64_t base)
{
	const struct mapping *mp = maps_find(m, base);

	return mp && mp->path[0] ? mp->path : "?";
}

static void print_text(pid_t pid, const struct state *s, const struct maps *m, bool any)
{
	char hex[129], when[32];

	if (!any || !s->seq) {
		printf("process %d: nothing applied", (int)pid);
		if (any && s->floor)
			printf(" (anti-rollback floor: sequence %llu)",
			       (unsigned long long)s->floor);
		printf("\n");
		return;
	}
	hp_hex(s->build_id, s->build_id_len, hex);
	if (hp_time_format(s->applied_at, when, sizeof(when)) < 0)
		snprintf(when, sizeof(when), "?");
	printf("process %d: %s applied\n", (int)pid, s->package_id);
	printf("  sequence   %llu (min-sequence %llu, floor %llu)\n", (unsigned long long)s->seq,
	       (unsigned long long)s->min_seq, (unsigned long long)s->floor);
	printf("  signer     %s\n", s->signer);
	printf("  baseline   %s at 0x%llx, build-id %s\n", image_path(m, s->image_base),
	       (unsigned long long)s->image_base, hex);
	printf("  applied    %s\n", when);
	for (uint32_t i = 0; i < s->nr; i++)
		printf("  redirected %s at 0x%llx\n", s->r[i].name,
		       (unsigned long long)s->r[i].func);
}

static void print_json(pid_t pid, const struct state *s, const struct maps *m, bool any)
{
	struct json_object *o = json_object_new_object(), *funcs = json_object_new_array();
	char hex[129], when[32];

	json_object_object_add(o, "pid", json_object_new_int(pid));
	json_object_object_add(o, "applied", json_object_new_boolean(any && s->seq));
	json_object_object_add(o, "floor", json_object_new_int64(any ? (int64_t)s->floor : 0));
	if (any && s->seq) {
		hp_hex(s->build_id, s->build_id_len, hex);
		json_object_object_add(o, "package_id", json_object_new_string(s->package_id));
		json_object_object_add(o, "sequence", json_object_new_int64((int64_t)s->seq));
		json_object_object_add(o, "min_sequence",
				       json_object_new_int64((int64_t)s->min_seq));
		json_object_object_add(o, "signer", json_object_new_string(s->signer));
		json_object_object_add(o, "baseline",
				       json_object_new_string(image_path(m, s->image_base)));
		json_object_object_add(o, "build_id", json_object_new_string(hex));
		if (hp_time_format(s->applied_at, when, sizeof(when)) == 0)
			json_object_object_add(o, "applied_at", json_object_new_string(when));
		for (uint32_t i = 0; i < s->nr; i++) {
			struct json_object *f = json_object_new_object();

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
	uint64_t at;
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
	close(mem);
	if (r >= 0) {
		if (json)
			print_json(pid, &s, &m, r == 0);
		else
			print_text(pid, &s, &m, r == 0);
	}
	state_free(&s);
	maps_free(&m);
	return r < 0 ? OUTCOME_TROUBLE : OUTCOME_OK;
}
