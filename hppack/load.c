/*
 * Loading: the .hpd files, decoded and sorted by object, and the baseline
 * binary, which must be for the machine the .hpd files are for.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hppack/packer.h"
#include "common/cli.h"
#include "common/mem.h"

#define MAX_HPD (1ull << 30)

static int cmp_input(const void *a, const void *b)
{
	const struct input *x = a, *y = b;
	int c = strcmp(x->h->object, y->h->object);

	/* by content, not by the paths given: objects of the same name in different directories */
	if (!c)
		c = strcmp(x->h->source, y->h->source);
	if (!c)
		c = memcmp(x->h->old_sha256, y->h->old_sha256, sizeof(x->h->old_sha256));
	return c ? c : memcmp(x->h->new_sha256, y->h->new_sha256, sizeof(x->h->new_sha256));
}

static void print_refusals(const struct input *in)
{
	for (uint32_t i = 0; i < in->h->nnotes; i++) {
		const struct hp_note *n = &in->h->notes[i];

		if (!n->patchable)
			error("%s: %s: not hotpatchable: %s", in->path, n->name, n->reason);
	}
}

/*
 * The STT_FILE name under which the linked baseline lists the object's
 * locals: its source file; for an object without STT_FILE symbols (glibc's
 * libc.a, assembly without .file) GNU ld files them under the object's own
 * name, the archive member's for a library: "libc.a(malloc.o)" -> "malloc.o".
 */
static char *local_scope(const struct hp_hpd *h)
{
	const char *o = h->object, *open = strrchr(o, '('), *slash;
	size_t n = strlen(o);

	if (h->source[0])
		return xstrdup(h->source);
	if (open && n > 2 && o[n - 1] == ')' && open[1] != ')')
		return xasprintf("%.*s", (int)(o + n - 1 - (open + 1)), open + 1);
	slash = strrchr(o, '/');
	return xstrdup(slash ? slash + 1 : o);
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* "hpdiff 0.1.0, hppack 0.1.0": every tool that made the inputs, once, sorted. */
static int collect_tools(struct packer *p)
{
	const char **v = xcalloc(p->nin + 1, sizeof(*v));
	size_t n = 0, len = 0;

	if (!v)
		return -1;
	for (size_t i = 0; i < p->nin; i++) {
		bool seen = false;

		for (size_t k = 0; k < n; k++)
			seen |= !strcmp(v[k], p->in[i].h->tool);
		if (!seen)
			v[n++] = p->in[i].h->tool;
	}
	v[n++] = "hppack " HP_VERSION;
	sort(v, n, sizeof(*v), cmp_str);
	for (size_t i = 0; i < n; i++)
		len += strlen(v[i]) + 2;
	p->tools = xcalloc(len + 1, 1);
	if (!p->tools) {
		free(v);
		return -1;
	}
	for (size_t i = 0; i < n; i++) {
		if (i)
			strcat(p->tools, ", ");
		strcat(p->tools, v[i]);
	}
	free(v);
	return 0;
}

enum outcome pack_load_inputs(struct packer *p, char **paths, size_t n)
{
	enum outcome out = OUTCOME_OK;

	p->in = xcalloc(n, sizeof(*p->in));
	if (!p->in)
		return OUTCOME_TROUBLE;
	for (size_t i = 0; i < n; i++) {
		struct input *in = &p->in[p->nin];
		struct hp_error e;
		char msg[200];
		uint8_t *buf;
		size_t len;

		if (hp_read_file(paths[i], MAX_HPD, &buf, &len, &e) < 0) {
			error("%s: %s", paths[i], hp_error_text(&e, msg, sizeof(msg)));
			return OUTCOME_TROUBLE;
		}
		if (hp_hpd_decode(buf, len, &in->h, &e) < 0) {
			free(buf);
			error("%s: not a valid .hpd file: %s", paths[i],
			      hp_error_text(&e, msg, sizeof(msg)));
			return OUTCOME_TROUBLE;
		}
		free(buf);
		in->path = paths[i];
		p->nin++;
		in->scope = local_scope(in->h);
		if (!in->scope)
			return OUTCOME_TROUBLE;
		if (in->h->flags & HP_HPD_F_UNPATCHABLE) {
			print_refusals(in);
			out = refuse(p, "%s: %s has changes that cannot be hotpatched", paths[i],
				     in->h->object);
		}
	}
	for (size_t i = 0; i < p->nin; i++)
		for (size_t k = i + 1; k < p->nin; k++)
			/*
			 * The same baseline object twice (two fixes of it, or one .hpd
			 * given twice).  Objects that only share a name, such as
			 * src/a/util.o and src/b/util.o, are different objects.
			 */
			if (!memcmp(p->in[i].h->old_sha256, p->in[k].h->old_sha256,
				    sizeof(p->in[i].h->old_sha256)))
				out = refuse(p, "%s and %s describe the same object (%s)",
					     p->in[i].path, p->in[k].path, p->in[i].h->object);
	/* The package does not depend on the order of the arguments. */
	sort(p->in, p->nin, sizeof(*p->in), cmp_input);
	if (collect_tools(p) < 0)
		return OUTCOME_TROUBLE;
	return out;
}

int pack_load_baseline(struct packer *p, const char *path, const char *symbols)
{
	if (baseline_load(p->b, path, symbols) < 0)
		return -1;
	p->machine = p->b->img.machine;
	for (size_t i = 0; i < p->nin; i++)
		if (p->in[i].h->machine != p->machine)
			return error("%s is for %s, but %s is a binary for %s", p->in[i].path,
				     arch_name(p->in[i].h->machine), p->b->path,
				     arch_name(p->machine));
	return 0;
}
