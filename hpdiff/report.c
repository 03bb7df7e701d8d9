/*
 * What hpdiff tells people: a short human summary, the JSON report, and
 * the disassembly diff of --show.  Reports of one object pair are built in
 * memory so parallel workers can be printed in input order.
 */
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hpdiff/diff.h"
#include "hpdiff/report.h"
#include "common/cli.h"
#include "common/mem.h"

static const char *status_name(enum status s)
{
	static const char *const names[] = {"same", "changed", "new", "removed"};

	return names[s];
}

const char *diff_status(const struct diff *d)
{
	if (d->unpatchable)
		return "unpatchable";
	return d->differs ? "changed" : "same";
}

/* ---- human summary ------------------------------------------------------ */

static void line(FILE *f, const char *what, enum status st, const char *name, bool unpatchable,
		 const char *reason, const char *source)
{
	fprintf(f, "  %-4s %-8s %s", what, status_name(st), name);
	if (source)
		fprintf(f, " [%s]", source);
	if (unpatchable)
		fprintf(f, ": NOT HOTPATCHABLE");
	if (reason && reason[0])
		fprintf(f, ": %s", reason);
	fputc('\n', f);
}

/* Did every object present carry DWARF (so type layouts were checked)? */
static bool dwarf_checked(const struct diff *d)
{
	return (!d->old.elf.handle || d->old.dwarf) && (!d->new.elf.handle || d->new.dwarf);
}

void report_text(FILE *f, const struct diff *d)
{
	if (!d->differs) {
		fprintf(f, "%s: no change\n", d->name);
		return;
	}
	fprintf(f, "%s: %s\n", d->name,
		d->unpatchable ? "differs, NOT hotpatchable" : "differs, hotpatchable");
	if (d->analysed && !dwarf_checked(d))
		fprintf(f, "  note: no DWARF, so type layout changes were not checked\n");
	for_each_finding(d, fd)
		fprintf(f, "  %s%s: %s\n", fd->unpatchable ? "NOT HOTPATCHABLE: " : "", fd->name,
			fd->reason);
	for_each_func(&d->new, fn) if (fn->status != ST_SAME)
		line(f, "func", fn->status, fn->sym->name, fn->unpatchable, fn->reason, fn->source);
	for_each_func(&d->old, fn) if (fn->status == ST_REMOVED)
		line(f, "func", fn->status, fn->sym->name, false, NULL, NULL);
	for_each_data(&d->new, x) if (x->status != ST_SAME)
		line(f, "data", x->status, x->sym->name, x->unpatchable, x->reason, NULL);
	for_each_data(&d->old, x) if (x->status == ST_REMOVED)
		line(f, "data", x->status, x->sym->name, false, NULL, NULL);
}

/* ---- JSON --------------------------------------------------------------------- */

static void add_str(struct json_object *o, const char *key, const char *val)
{
	if (val)
		json_object_object_add(o, key, json_object_new_string(val));
}

static struct json_object *func_json(const struct func *fn)
{
	struct json_object *o = json_object_new_object();
	const struct func *old = fn->status == ST_REMOVED ? fn : fn->twin;
	const struct func *cur = fn->status == ST_REMOVED ? NULL : fn;

	add_str(o, "name", fn->sym->name);
	add_str(o, "status", status_name(fn->status));
	json_object_object_add(o, "hotpatchable", json_object_new_boolean(!fn->unpatchable));
	add_str(o, "reason", fn->reason ? fn->reason : "");
	if (old && cur && strcmp(old->sym->name, cur->sym->name))
		add_str(o, "old_name", old->sym->name);
	if (cur)
		add_str(o, "section", cur->sym->sec->name);
	if (old)
		json_object_object_add(o, "old_size", json_object_new_int64((int64_t)old->size));
	if (cur)
		json_object_object_add(o, "new_size", json_object_new_int64((int64_t)cur->size));
	if (cur && cur->diff_off >= 0)
		json_object_object_add(o, "diff_offset", json_object_new_int64(cur->diff_off));
	add_str(o, "source", fn->source);
	return o;
}

static struct json_object *data_json(const struct dobj *x)
{
	struct json_object *o = json_object_new_object();

	add_str(o, "name", x->sym->name);
	add_str(o, "status", status_name(x->status));
	json_object_object_add(o, "hotpatchable", json_object_new_boolean(!x->unpatchable));
	add_str(o, "reason", x->reason ? x->reason : "");
	json_object_object_add(o, "size", json_object_new_int64((int64_t)x->size));
	if (x->sec)
		add_str(o, "section", x->sec->name);
	return o;
}

struct json_object *report_json(const struct diff *d)
{
	struct json_object *o = json_object_new_object();
	struct json_object *funcs = json_object_new_array();
	struct json_object *data = json_object_new_array();
	struct json_object *findings = json_object_new_array();

	add_str(o, "name", d->name);
	add_str(o, "status", diff_status(d));
	if (d->old.elf.srcfile)
		add_str(o, "source", d->old.elf.srcfile);
	/* Without DWARF on both sides, struct layout changes go unnoticed. */
	if (d->analysed)
		json_object_object_add(o, "dwarf", json_object_new_boolean(dwarf_checked(d)));
	for_each_func(&d->new, fn) if (fn->status != ST_SAME)
		json_object_array_add(funcs, func_json(fn));
	for_each_func(&d->old, fn) if (fn->status == ST_REMOVED)
		json_object_array_add(funcs, func_json(fn));
	for_each_data(&d->new, x) if (x->status != ST_SAME)
		json_object_array_add(data, data_json(x));
	for_each_data(&d->old, x) if (x->status == ST_REMOVED)
		json_object_array_add(data, data_json(x));
	for_each_finding(d, fd)
	{
		struct json_object *f = json_object_new_object();

		add_str(f, "name", fd->name);
		json_object_object_add(f, "hotpatchable",
				       json_object_new_boolean(!fd->unpatchable));
		add_str(f, "reason", fd->reason);
		json_object_array_add(findings, f);
	}
	json_object_object_add(o, "functions", funcs);
	json_object_object_add(o, "data", data);
	json_object_object_add(o, "findings", findings);
	return o;
}

/* ---- --show ----------------------------------------------------------------- */

struct listing {
	char **text; /* what is shown */
	char **key;  /* what is compared: masked bytes and reference targets */
	long n;
};

static void listing_free(struct listing *l)
{
	for (long i = 0; i < l->n; i++) {
		free(l->text[i]);
		free(l->key[i]);
	}
	free(l->text);
	free(l->key);
}

static int listing_build(const struct func *fn, struct listing *l)
{
	size_t r = 0;

	memset(l, 0, sizeof(*l));
	if (fn->ninsns <= 0)
		return 0;
	l->text = xcalloc((size_t)fn->ninsns, sizeof(char *));
	l->key = xcalloc((size_t)fn->ninsns, sizeof(char *));
	if (!l->text || !l->key)
		return -1;
	for (long i = 0; i < fn->ninsns; i++) {
		const struct insn *in = &fn->insns[i];
		char asmtext[128], refs[256] = "", all[256] = "", hex[64] = "", tn[128];
		size_t rl = 0, al = 0;

		const struct ref *branch = func_branch_ref(fn, i);

		func_insn_text_ref(fn, i, branch, asmtext, sizeof(asmtext));
		for (uint8_t k = 0; k < in->len && k < 16; k++)
			snprintf(hex + 2 * k, sizeof(hex) - 2 * k, "%02x", fn->code[in->off + k]);
		while (r < fn->nrefs && fn->refs[r].off < in->off)
			r++;
		for (size_t j = r; j < fn->nrefs && fn->refs[j].off < in->off + in->len; j++) {
			size_t at = 2 * (fn->refs[j].off - in->off);

			for (size_t k = 0; k < 2u * fn->refs[j].size && at + k < 32; k++)
				hex[at + k] = '.';
			target_name(&fn->refs[j].t, tn, sizeof(tn));
			/* compared: every target; shown as a comment: those not in the operand */
			al += (size_t)snprintf(all + al, al < sizeof(all) ? sizeof(all) - al : 0,
					       "%s%s", al ? ", " : "", tn);
			if (al >= sizeof(all))
				al = sizeof(all) - 1;
			if (&fn->refs[j] == branch)
				continue;
			rl += (size_t)snprintf(refs + rl, rl < sizeof(refs) ? sizeof(refs) - rl : 0,
					       "%s%s", rl ? ", " : "", tn);
			if (rl >= sizeof(refs))
				rl = sizeof(refs) - 1;
		}
		l->text[i] = rl ? xasprintf("%6x:  %-36s  # %s", in->off, asmtext, refs)
				: xasprintf("%6x:  %s", in->off, asmtext);
		l->key[i] = xasprintf("%s|%s", hex, all);
		l->n = i + 1;
		if (!l->text[i] || !l->key[i])
			return -1;
	}
	return 0;
}

/* Edit script between two listings: 0 same, 1 only old, 2 only new, in order. */
static int edit_script(const struct listing *a, const struct listing *b, char **ops, long *nops)
{
	long pre = 0, suf = 0, n, m;
	long *dp = NULL;
	char *v;
	long k = 0;

	while (pre < a->n && pre < b->n && !strcmp(a->key[pre], b->key[pre]))
		pre++;
	while (suf < a->n - pre && suf < b->n - pre &&
	       !strcmp(a->key[a->n - 1 - suf], b->key[b->n - 1 - suf]))
		suf++;
	n = a->n - pre - suf;
	m = b->n - pre - suf;
	v = xmalloc((size_t)(a->n + b->n) + 1);
	if (!v)
		return -1;
	for (long i = 0; i < pre; i++)
		v[k++] = 0;
	if (n && m && (n + 1) * (m + 1) <= 4000000) {
		/* LCS over the middle, from the end so the walk goes forward. */
		dp = xcalloc((size_t)((n + 1) * (m + 1)), sizeof(*dp));
		if (!dp) {
			free(v);
			return -1;
		}
		for (long i = n - 1; i >= 0; i--)
			for (long j = m - 1; j >= 0; j--)
				dp[i * (m + 1) + j] =
					!strcmp(a->key[pre + i], b->key[pre + j])
						? dp[(i + 1) * (m + 1) + j + 1] + 1
						: (dp[(i + 1) * (m + 1) + j] >
								   dp[i * (m + 1) + j + 1]
							   ? dp[(i + 1) * (m + 1) + j]
							   : dp[i * (m + 1) + j + 1]);
		for (long i = 0, j = 0; i < n || j < m;) {
			if (i < n && j < m && !strcmp(a->key[pre + i], b->key[pre + j])) {
				v[k++] = 0;
				i++;
				j++;
			} else if (i < n && (j == m || dp[(i + 1) * (m + 1) + j] >=
							       dp[i * (m + 1) + j + 1])) {
				v[k++] = 1; /* old lines first, as diff -u shows them */
				i++;
			} else {
				v[k++] = 2;
				j++;
			}
		}
		free(dp);
	} else {
		for (long i = 0; i < n; i++)
			v[k++] = 1;
		for (long j = 0; j < m; j++)
			v[k++] = 2;
	}
	for (long i = 0; i < suf; i++)
		v[k++] = 0;
	*ops = v;
	*nops = k;
	return 0;
}

#define CONTEXT 3

static void show_func(FILE *f, const struct func *a, const struct func *b)
{
	struct listing la, lb;
	char *ops = NULL;
	long nops = 0;

	fprintf(f, "@@ %s", b ? b->sym->name : a->sym->name);
	if (a && b && strcmp(a->sym->name, b->sym->name))
		fprintf(f, " (was %s)", a->sym->name);
	if (b && b->source)
		fprintf(f, " [%s]", b->source);
	fprintf(f, " @@\n");
	if ((a && listing_build(a, &la) < 0) || (b && listing_build(b, &lb) < 0))
		return;
	if (!a)
		memset(&la, 0, sizeof(la));
	if (!b)
		memset(&lb, 0, sizeof(lb));
	if ((a && a->ninsns < 0) || (b && b->ninsns < 0)) {
		fprintf(f, "  (code does not decode; compared as bytes)\n");
	} else if (edit_script(&la, &lb, &ops, &nops) == 0) {
		long ia = 0, ib = 0, last_shown = -1;

		for (long k = 0; k < nops; k++) {
			bool near = false;

			for (long c = k - CONTEXT; c <= k + CONTEXT; c++)
				near |= c >= 0 && c < nops && ops[c] != 0;
			if (ops[k] == 0 && !near) {
				ia++;
				ib++;
				continue;
			}
			if (last_shown >= 0 && last_shown != k - 1)
				fprintf(f, "  ...\n");
			last_shown = k;
			if (ops[k] == 0) {
				fprintf(f, "  %s\n", lb.text[ib]);
				ia++;
				ib++;
			} else if (ops[k] == 1) {
				fprintf(f, "- %s\n", la.text[ia++]);
			} else {
				fprintf(f, "+ %s\n", lb.text[ib++]);
			}
		}
		free(ops);
	}
	listing_free(&la);
	listing_free(&lb);
}

void report_show(FILE *f, const struct diff *d)
{
	for_each_func(&d->new, fn) if (is_replaced_or_new(fn)) show_func(f, fn->twin, fn);
	for_each_func(&d->old, fn) if (fn->status == ST_REMOVED) show_func(f, fn, NULL);
}
