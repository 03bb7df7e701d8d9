/*
 * Pairing inputs.  A build system calls hpdiff per object, per static
 * library or per tree; all three become a list of object pairs here.
 * Members of archives are paired by name (and, for the duplicate names ar
 * allows, by occurrence); files of trees by relative path.  An object on one
 * side only is still a pair, with the other side absent.
 */
#include <dirent.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "hpdiff/elf.h"
#include "format/hp.h"
#include "hpdiff/input.h"
#include "common/cli.h"
#include "common/mem.h"

#define MAX_INPUT_SIZE (4ull << 30)

static const char *base_name(const char *path)
{
	const char *slash = strrchr(path, '/');

	return slash ? slash + 1 : path;
}

static struct job *new_job(struct jobs *js)
{
	if (grow_array(&js->v, &js->cap, js->n, sizeof(*js->v), 64) < 0)
		return NULL;
	memset(&js->v[js->n], 0, sizeof(js->v[0]));
	return &js->v[js->n++];
}

static int keep_buffer(struct jobs *js, uint8_t *buf)
{
	uint8_t **v = xrealloc(js->buffers, (js->nbuffers + 1) * sizeof(*v));

	if (!v) {
		free(buf);
		return -1;
	}
	js->buffers = v;
	js->buffers[js->nbuffers++] = buf;
	return 0;
}

static int read_input(const char *path, uint8_t **data, size_t *len)
{
	struct hp_error e;
	char msg[160];

	if (hp_read_file(path, MAX_INPUT_SIZE, data, len, &e) == 0)
		return 0;
	return error("%s: %s", path, hp_error_text(&e, msg, sizeof(msg)));
}

/* "dir/x.o" -> "OUT/dir/x.hpd"; "libfoo.a" member "m.o" -> "OUT/libfoo/m.hpd" */
static char *out_path(const char *outdir, const char *rel, const char *member, int dup)
{
	const char *base = member ? member : rel;
	size_t n = strlen(base);
	char *stem, *dir = NULL, *p;

	if (n > 2 && !strcmp(base + n - 2, ".o"))
		n -= 2;
	stem = dup > 1 ? xasprintf("%.*s-%d", (int)n, base, dup) : xasprintf("%.*s", (int)n, base);
	if (!stem)
		return NULL;
	if (member && rel) {
		size_t r = strlen(rel);

		if (r > 2 && !strcmp(rel + r - 2, ".a"))
			r -= 2;
		dir = xasprintf("%.*s/", (int)r, rel);
	}
	p = xasprintf("%s/%s%s.hpd", outdir, dir ? dir : "", stem);
	free(stem);
	free(dir);
	return p;
}

/* ---- archives ------------------------------------------------------------ */

struct member {
	char *name;
	int dup; /* occurrence of this name in the archive, from 1 */
	const uint8_t *data;
	size_t len;
};

struct members {
	struct member *v;
	size_t n, cap;
	struct member **sorted; /* by (name, dup), for lookups */
};

static int add_member(void *arg, const char *name, const uint8_t *data, size_t len)
{
	struct members *m = arg;

	if (grow_array(&m->v, &m->cap, m->n, sizeof(*m->v), 256) < 0)
		return -1;
	m->v[m->n] = (struct member){xstrdup(name), 0, data, len};
	if (!m->v[m->n].name)
		return -1;
	m->n++;
	return 0;
}

static int cmp_member_key(const void *a, const void *b)
{
	const struct member *x = *(struct member *const *)a, *y = *(struct member *const *)b;
	int c = strcmp(x->name, y->name);

	return c ? c : (x->dup > y->dup) - (x->dup < y->dup);
}

static int cmp_member(const void *a, const void *b)
{
	const struct member *x = *(struct member *const *)a, *y = *(struct member *const *)b;
	int c = strcmp(x->name, y->name);

	if (c)
		return c;
	if (x->dup != y->dup)
		return x->dup < y->dup ? -1 : 1;
	return (x > y) - (x < y); /* same name: archive order (x, y point into one array) */
}

/* Number duplicate names by occurrence and index members for lookup. */
static int index_members(struct members *m)
{
	m->sorted = xcalloc(m->n, sizeof(*m->sorted));
	if (!m->sorted)
		return -1;
	for (size_t i = 0; i < m->n; i++)
		m->sorted[i] = &m->v[i];
	sort(m->sorted, m->n, sizeof(*m->sorted), cmp_member);
	for (size_t i = 0; i < m->n; i++)
		m->sorted[i]->dup = i && !strcmp(m->sorted[i - 1]->name, m->sorted[i]->name)
					    ? m->sorted[i - 1]->dup + 1
					    : 1;
	return 0;
}

static void free_members(struct members *m)
{
	for (size_t i = 0; i < m->n; i++)
		free(m->v[i].name);
	free(m->v);
	free(m->sorted);
}

static const struct member *find_member(const struct members *m, const char *name, int dup)
{
	struct member key = {(char *)name, dup, NULL, 0}, *kp = &key, **hit;

	if (!m->n)
		return NULL;
	hit = bsearch(&kp, m->sorted, m->n, sizeof(*m->sorted), cmp_member_key);
	return hit ? *hit : NULL;
}

/* A member in reports and messages: "lib.a(m.o)", the second of two same-named "lib.a(m.o#2)". */
static char *member_name(const char *ar, const struct member *m)
{
	return m->dup > 1 ? xasprintf("%s(%s#%d)", ar, m->name, m->dup)
			  : xasprintf("%s(%s)", ar, m->name);
}

static int member_job(struct jobs *js, const char *rel, const char *oldar, const char *newar,
		      const struct member *a, const struct member *b, const char *outdir)
{
	const struct member *m = a ? a : b;
	struct job *j = new_job(js);

	if (!j)
		return -1;
	j->name = member_name(rel, m);
	j->old_name = a ? member_name(oldar, a) : NULL;
	j->new_name = b ? member_name(newar, b) : NULL;
	if (a) {
		j->old = a->data;
		j->old_len = a->len;
	}
	if (b) {
		j->new = b->data;
		j->new_len = b->len;
	}
	if (outdir)
		j->out = out_path(outdir, js->single ? NULL : rel, m->name, m->dup);
	if (!j->name || (a && !j->old_name) || (b && !j->new_name) || (outdir && !j->out))
		return -1;
	return 0;
}

/* Pair the members of two archives (either may be NULL: absent side). */
static int archive_jobs(struct jobs *js, const char *rel, const char *oldp, uint8_t *oldbuf,
			size_t oldlen, const char *newp, uint8_t *newbuf, size_t newlen,
			const char *outdir)
{
	struct members mo = {0}, mn = {0};
	int ret = -1;

	if ((oldbuf && keep_buffer(js, oldbuf) < 0) || (newbuf && keep_buffer(js, newbuf) < 0))
		return -1;
	if (oldbuf && elf_archive_members(oldp, oldbuf, oldlen, add_member, &mo) < 0)
		goto out;
	if (newbuf && elf_archive_members(newp, newbuf, newlen, add_member, &mn) < 0)
		goto out;
	if (index_members(&mo) < 0 || index_members(&mn) < 0)
		goto out;
	for (size_t i = 0; i < mo.n; i++)
		if (member_job(js, rel, oldp, newp, &mo.v[i],
			       find_member(&mn, mo.v[i].name, mo.v[i].dup), outdir) < 0)
			goto out;
	for (size_t i = 0; i < mn.n; i++)
		if (!find_member(&mo, mn.v[i].name, mn.v[i].dup) &&
		    member_job(js, rel, oldp, newp, NULL, &mn.v[i], outdir) < 0)
			goto out;
	ret = 0;
out:
	free_members(&mo);
	free_members(&mn);
	return ret;
}

/* ---- directories ------------------------------------------------------------ */

struct paths {
	char **v;
	size_t n, cap;
};

static bool wanted(const char *name)
{
	size_t n = strlen(name);

	return n > 2 && name[n - 2] == '.' && (name[n - 1] == 'o' || name[n - 1] == 'a');
}

/* Directories on the way down, to notice symbolic link loops. */
struct visit {
	dev_t dev;
	ino_t ino;
	const struct visit *up;
};

static int add_path(struct paths *out, char *sub)
{
	if (grow_array(&out->v, &out->cap, out->n, sizeof(*out->v), 64) < 0)
		return -1;
	out->v[out->n++] = sub;
	return 0;
}

/*
 * Collect the .o and .a files below root/rel.  Symbolic links are
 * followed; dangling ones and anything that is neither a regular file nor
 * a directory are skipped with a warning, loops are skipped.
 */
static int walk(const char *root, const char *rel, struct paths *out, const struct visit *up)
{
	char *dir = rel[0] ? xasprintf("%s/%s", root, rel) : xstrdup(root);
	struct dirent **ents = NULL;
	struct visit here;
	struct stat st;
	int n, ret = 0;

	if (!dir)
		return -1;
	if (stat(dir, &st) < 0) {
		ret = error("%s: %s", dir, strerror(errno));
		free(dir);
		return ret;
	}
	for (const struct visit *v = up; v; v = v->up) {
		if (v->dev == st.st_dev && v->ino == st.st_ino) {
			warn("%s: directory loop (symbolic link); skipped", dir);
			free(dir);
			return 0;
		}
	}
	here = (struct visit){st.st_dev, st.st_ino, up};
	n = scandir(dir, &ents, NULL, alphasort);
	if (n < 0) {
		ret = error("%s: cannot read directory: %s", dir, strerror(errno));
		free(dir);
		return ret;
	}
	for (int i = 0; i < n; i++) {
		const char *nm = ents[i]->d_name;
		char *path = NULL, *sub;

		if (ret < 0 || !strcmp(nm, ".") || !strcmp(nm, ".."))
			continue;
		sub = rel[0] ? xasprintf("%s/%s", rel, nm) : xstrdup(nm);
		path = sub ? xasprintf("%s/%s", root, sub) : NULL;
		if (!path) {
			ret = -1;
		} else if (stat(path, &st) < 0) {
			/* an object or archive that cannot be read: the trees cannot be compared */
			if (wanted(nm))
				ret = error("%s: %s", path, strerror(errno));
			else
				warn("%s: %s; skipped", path, strerror(errno));
		} else if (S_ISDIR(st.st_mode)) {
			ret = walk(root, sub, out, &here);
		} else if (S_ISREG(st.st_mode) && wanted(nm)) {
			ret = add_path(out, sub);
			if (ret == 0)
				sub = NULL;
		}
		free(sub);
		free(path);
	}
	for (int i = 0; i < n; i++)
		free(ents[i]);
	free(ents);
	free(dir);
	return ret;
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static void free_paths(struct paths *p)
{
	for (size_t i = 0; i < p->n; i++)
		free(p->v[i]);
	free(p->v);
}

static bool is_archive_name(const char *rel)
{
	size_t n = strlen(rel);

	return n > 2 && !strcmp(rel + n - 2, ".a");
}

static int tree_pair(struct jobs *js, const char *old, const char *new, const char *rel,
		     bool in_old, bool in_new, const char *outdir)
{
	char *op = in_old ? xasprintf("%s/%s", old, rel) : NULL;
	char *np = in_new ? xasprintf("%s/%s", new, rel) : NULL;
	struct job *j;
	int ret = -1;

	if ((in_old && !op) || (in_new && !np))
		goto out;
	if (is_archive_name(rel)) {
		uint8_t *ob = NULL, *nb = NULL;
		size_t ol = 0, nl = 0;

		if ((op && read_input(op, &ob, &ol) < 0) || (np && read_input(np, &nb, &nl) < 0)) {
			free(ob);
			goto out;
		}
		ret = archive_jobs(js, rel, op, ob, ol, np, nb, nl, outdir);
		goto out;
	}
	j = new_job(js);
	if (!j)
		goto out;
	j->name = xstrdup(rel);
	j->old_name = op;
	j->new_name = np;
	j->old_path = op ? xstrdup(op) : NULL;
	j->new_path = np ? xstrdup(np) : NULL;
	op = np = NULL;
	if (outdir)
		j->out = out_path(outdir, rel, NULL, 1);
	ret = j->name && (!outdir || j->out) ? 0 : -1;
out:
	free(op);
	free(np);
	return ret;
}

static int tree_jobs(struct jobs *js, const char *old, const char *new, const char *outdir)
{
	struct paths po = {0}, pn = {0};
	size_t i = 0, k = 0;
	int ret = -1;

	if (walk(old, "", &po, NULL) < 0 || walk(new, "", &pn, NULL) < 0)
		goto out;
	sort(po.v, po.n, sizeof(*po.v), cmp_str);
	sort(pn.v, pn.n, sizeof(*pn.v), cmp_str);
	while (i < po.n || k < pn.n) {
		int c = i == po.n ? 1 : k == pn.n ? -1 : strcmp(po.v[i], pn.v[k]);
		const char *rel = c <= 0 ? po.v[i] : pn.v[k];

		if (tree_pair(js, old, new, rel, c <= 0, c >= 0, outdir) < 0)
			goto out;
		i += c <= 0;
		k += c >= 0;
	}
	ret = 0;
out:
	free_paths(&po);
	free_paths(&pn);
	return ret;
}

/* ---- entry ------------------------------------------------------------------- */

/* "dir///" -> "dir", so messages say "dir/x.o"; "/" stays "/". */
static char *strip_slashes(const char *path)
{
	char *p = xstrdup(path);
	size_t n;

	if (!p)
		return NULL;
	n = strlen(p);
	while (n > 1 && p[n - 1] == '/')
		p[--n] = 0;
	return p;
}

int jobs_collect(struct jobs *js, const char *old, const char *new, const char *out)
{
	struct stat so, sn;
	uint8_t *ob = NULL, *nb = NULL;
	size_t ol, nl;
	bool ao, an;
	struct job *j;

	memset(js, 0, sizeof(*js));
	if (stat(old, &so) < 0)
		return error("%s: %s", old, strerror(errno));
	if (stat(new, &sn) < 0)
		return error("%s: %s", new, strerror(errno));
	if (S_ISDIR(so.st_mode) != S_ISDIR(sn.st_mode))
		return error("%s and %s: one is a directory and the other is not", old, new);
	if (S_ISDIR(so.st_mode)) {
		char *o = strip_slashes(old), *n = strip_slashes(new);
		int ret = o && n ? tree_jobs(js, o, n, out) : -1;

		free(o);
		free(n);
		return ret;
	}
	if (read_input(old, &ob, &ol) < 0)
		return -1;
	if (read_input(new, &nb, &nl) < 0) {
		free(ob);
		return -1;
	}
	ao = elf_is_archive(ob, ol);
	an = elf_is_archive(nb, nl);
	if (ao != an) {
		free(ob);
		free(nb);
		return error("%s and %s: one is an archive and the other is not", old, new);
	}
	if (ao) {
		js->single = true; /* outputs go straight into the -o directory */
		return archive_jobs(js, base_name(new), old, ob, ol, new, nb, nl, out);
	}
	if (keep_buffer(js, ob) < 0) {
		free(nb);
		return -1;
	}
	if (keep_buffer(js, nb) < 0)
		return -1;
	js->single = true;
	j = new_job(js);
	if (!j)
		return -1;
	/* Reports and the .hpd name the object, not where this build put it. */
	j->name = xstrdup(base_name(new));
	j->old_name = xstrdup(old);
	j->new_name = xstrdup(new);
	j->old = ob;
	j->old_len = ol;
	j->new = nb;
	j->new_len = nl;
	j->always_write = true;
	j->out = out ? xstrdup(out) : NULL;
	if (!j->name || !j->old_name || !j->new_name || (out && !j->out))
		return -1;
	return 0;
}

void jobs_free(struct jobs *js)
{
	for (size_t i = 0; i < js->n; i++) {
		struct job *j = &js->v[i];

		free(j->name);
		free(j->old_name);
		free(j->new_name);
		free(j->old_path);
		free(j->new_path);
		free(j->out);
		free(j->text);
		free(j->show);
		free(j->hpd);
	}
	free(js->v);
	for (size_t i = 0; i < js->nbuffers; i++)
		free(js->buffers[i]);
	free(js->buffers);
	memset(js, 0, sizeof(*js));
}
