/*
 * Pairing inputs.  A build system calls hpdiff per object, per static
 * library or per tree; all three become a list of object pairs here.
 * Members of archives are paired by name (and, for the duplicate names ar
 * allows, by occurrence); files of trees by relative path.  An object on one
 * side only is still a pair, with the other side absent.
 */
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
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
	char *id;		   /* elf_identity(), for members whose name is not unique */
	const struct member *twin; /* the member of the other archive it pairs with */
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
	m->v[m->n] = (struct member){xstrdup(name), 0, data, len, NULL, NULL};
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
	for (size_t i = 0; i < m->n; i++) {
		free(m->v[i].name);
		free(m->v[i].id);
	}
	free(m->v);
	free(m->sorted);
}

/* The members named `name`: m->sorted[*first, *first + return), in archive order. */
static size_t members_named(const struct members *m, const char *name, size_t *first)
{
	struct member key = {(char *)name, 0, NULL, 0, NULL, NULL}, *kp = &key;
	size_t lo = 0, hi = m->n, n = 0;

	while (lo < hi) { /* the first of (name, dup) >= (name, 0) */
		size_t mid = lo + (hi - lo) / 2;

		if (cmp_member_key(&m->sorted[mid], &kp) < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	*first = lo;
	while (lo + n < m->n && !strcmp(m->sorted[lo + n]->name, name))
		n++;
	return n;
}

static void twin_members(struct member *a, struct member *b)
{
	a->twin = b;
	b->twin = a;
}

/* The number of names two identities share ("file\nname\n...", names sorted). */
static size_t shared_names(const char *x, const char *y)
{
	size_t n = 0;

	x = strchr(x, '\n');
	y = strchr(y, '\n');
	while (x && y) {
		size_t lx = strcspn(x + 1, "\n"), ly = strcspn(y + 1, "\n");
		int c = strncmp(x + 1, y + 1, lx < ly ? lx : ly);

		if (!c)
			c = (lx > ly) - (lx < ly);
		n += c == 0;
		if (c <= 0)
			x = strchr(x + 1, '\n');
		if (c >= 0)
			y = strchr(y + 1, '\n');
	}
	return n;
}

/* Is o[i] and n[j] each other's only best match by shared defined names? */
static bool mutual_best(struct member **o, size_t no, struct member **n, size_t nn, size_t i,
			size_t j)
{
	size_t s = shared_names(o[i]->id, n[j]->id);

	if (!s)
		return false;
	for (size_t k = 0; k < nn; k++)
		if (k != j && !n[k]->twin && shared_names(o[i]->id, n[k]->id) >= s)
			return false;
	for (size_t k = 0; k < no; k++)
		if (k != i && !o[k]->twin && shared_names(o[k]->id, n[j]->id) >= s)
			return false;
	return true;
}

static size_t count_unpaired(struct member **v, size_t n, struct member **last)
{
	size_t c = 0;

	for (size_t i = 0; i < n; i++)
		if (!v[i]->twin) {
			c++;
			*last = v[i];
		}
	return c;
}

/*
 * Pair members that share a name (ar allows it: src/a/util.o and
 * src/b/util.o both go in as util.o), by what they are rather than by
 * where they are, which a rebuilt archive may change: identical bytes; the
 * same identity (source file and defined symbols) when only one member of
 * each side has it; the most defined symbols in common; a last pair left
 * alone.  When several remain that nothing tells apart, the comparison
 * would be a guess: -1 after saying so.
 */
static int pair_same_named(const char *oldar, const char *newar, struct member **o, size_t no,
			   struct member **n, size_t nn)
{
	struct member *lo = NULL, *ln = NULL;
	bool again = true;

	for (size_t i = 0; i < no; i++)
		if (!o[i]->id && !(o[i]->id = elf_identity(o[i]->data, o[i]->len)))
			goto by_order; /* not an object: the comparison says so */
	for (size_t j = 0; j < nn; j++)
		if (!n[j]->id && !(n[j]->id = elf_identity(n[j]->data, n[j]->len)))
			goto by_order;
	for (size_t i = 0; i < no; i++)
		for (size_t j = 0; j < nn && !o[i]->twin; j++)
			if (!n[j]->twin && o[i]->len == n[j]->len &&
			    !memcmp(o[i]->data, n[j]->data, o[i]->len))
				twin_members(o[i], n[j]);
	for (size_t i = 0; i < no; i++) {
		size_t ko = 0, kn = 0, jn = 0;

		for (size_t k = 0; k < no; k++)
			ko += !o[k]->twin && !strcmp(o[k]->id, o[i]->id);
		for (size_t k = 0; k < nn; k++)
			if (!n[k]->twin && !strcmp(n[k]->id, o[i]->id))
				kn++, jn = k;
		if (!o[i]->twin && ko == 1 && kn == 1)
			twin_members(o[i], n[jn]);
	}
	while (again) {
		again = false;
		for (size_t i = 0; i < no; i++)
			for (size_t j = 0; j < nn && !o[i]->twin; j++)
				if (!n[j]->twin && mutual_best(o, no, n, nn, i, j)) {
					twin_members(o[i], n[j]);
					again = true;
				}
	}
	if (count_unpaired(o, no, &lo) == 1 && count_unpaired(n, nn, &ln) == 1)
		twin_members(lo, ln);
	if (count_unpaired(o, no, &lo) > 1 && count_unpaired(n, nn, &ln) > 1)
		return error("%s and %s: %zu and %zu members are named %s, and nothing tells which "
			     "is which (they changed, and their source file names and the symbols "
			     "they define are the same), while their order in an archive may "
			     "change; give them different names (ar keeps only the file name of a "
			     "path)",
			     oldar, newar, no, nn, o[0]->name);
	return 0;
by_order:
	for (size_t i = 0; i < no && i < nn; i++)
		if (!o[i]->twin && !n[i]->twin)
			twin_members(o[i], n[i]);
	return 0;
}

/*
 * Pair the members of two archives: by name, and where a name is not
 * unique in either, by pair_same_named().  Sets each member's twin.
 */
static int pair_members(const char *oldar, const char *newar, struct members *mo,
			struct members *mn)
{
	size_t i = 0;

	while (i < mo->n) {
		const char *name = mo->sorted[i]->name;
		size_t fo, fn, no = members_named(mo, name, &fo), nn = members_named(mn, name, &fn);

		if (no == 1 && nn == 1)
			twin_members(mo->sorted[fo], mn->sorted[fn]);
		else if (no && nn &&
			 pair_same_named(oldar, newar, mo->sorted + fo, no, mn->sorted + fn, nn) <
				 0)
			return -1;
		i = fo + no;
	}
	return 0;
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
	if (index_members(&mo) < 0 || index_members(&mn) < 0 ||
	    pair_members(oldp, newp, &mo, &mn) < 0)
		goto out;
	for (size_t i = 0; i < mo.n; i++)
		if (member_job(js, rel, oldp, newp, &mo.v[i], mo.v[i].twin, outdir) < 0)
			goto out;
	for (size_t i = 0; i < mn.n; i++)
		if (!mn.v[i].twin && member_job(js, rel, oldp, newp, NULL, &mn.v[i], outdir) < 0)
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

/* ---- thin archives ------------------------------------------------------------ */

/*
 * A thin archive (ar T) holds the paths of its members, not the objects:
 * there is nothing in it to compare.  In a tree its members are usually the
 * tree's own object files, which are compared as such: then the archive is
 * skipped, with a warning.  A member outside the tree, or not a .o file,
 * would not be compared at all: that is an error.
 */
struct thin_walk {
	const char *path;    /* the archive */
	const char *root;    /* the tree, resolved (realpath) */
	const char *ardir;   /* the archive's directory */
	const char *outside; /* first member outside the tree, or NULL */
	char member[PATH_MAX];
};

static bool is_object_name(const char *p)
{
	size_t n = strlen(p);

	return n > 2 && !strcmp(p + n - 2, ".o");
}

static int thin_member_in_tree(void *arg, const char *member)
{
	struct thin_walk *w = arg;
	char *path, real[PATH_MAX];
	size_t n = strlen(w->root);
	bool inside;

	if (w->outside)
		return 0;
	path = member[0] == '/' ? xstrdup(member) : xasprintf("%s/%s", w->ardir, member);
	if (!path)
		return -1;
	inside = is_object_name(member) && realpath(path, real) && !strncmp(real, w->root, n) &&
		 real[n] == '/';
	free(path);
	if (!inside) {
		snprintf(w->member, sizeof(w->member), "%s", member);
		w->outside = w->member;
	}
	return 0;
}

/* Is the thin archive `path` of tree `root` one to skip?  0 yes (warned), -1 error. */
static int thin_in_tree(const char *root, const char *path, const uint8_t *buf, size_t len)
{
	struct thin_walk w = {.path = path};
	char rootreal[PATH_MAX];
	char *dir = xstrdup(path), *slash;
	int ret;

	if (!dir)
		return -1;
	slash = strrchr(dir, '/');
	if (slash)
		*slash = 0;
	w.ardir = slash ? dir : ".";
	w.root = realpath(root, rootreal) ? rootreal : root;
	ret = elf_thin_archive_members(path, buf, len, thin_member_in_tree, &w);
	free(dir);
	if (ret < 0)
		return -1;
	if (w.outside)
		return error(
			"%s: thin archive: its member %s is not an object file of the tree, so "
			"it would not be compared; hpdiff compares objects, not the paths a "
			"thin archive holds: keep the members in the tree, or build a normal "
			"archive (ar rc, without T)",
			path, w.outside);
	warn("%s: thin archive: its members are compared as the object files of the tree", path);
	return 0;
}

/*
 * Thin archives at rel of the trees (either side may be absent): 1 when
 * they were skipped, 0 when neither is thin, -1 on error.
 */
static int thin_pair(const char *old, const char *new, const char *op, const uint8_t *ob, size_t ol,
		     const char *np, const uint8_t *nb, size_t nl)
{
	bool to = op && elf_is_thin_archive(ob, ol), tn = np && elf_is_thin_archive(nb, nl);

	if (!to && !tn)
		return 0;
	if (op && np && to != tn)
		return error("%s is a thin archive and %s is not: build both trees alike",
			     to ? op : np, to ? np : op);
	if ((to && thin_in_tree(old, op, ob, ol) < 0) || (tn && thin_in_tree(new, np, nb, nl) < 0))
		return -1;
	return 1;
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
		ret = thin_pair(old, new, op, ob, ol, np, nb, nl);
		if (ret != 0) {
			free(ob);
			free(nb);
			ret = ret < 0 ? -1 : 0;
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
	for (int side = 0; side < 2; side++) {
		const char *path = side ? new : old;

		if (!elf_is_thin_archive(side ? nb : ob, side ? nl : ol))
			continue;
		free(ob);
		free(nb);
		return error(
			"%s: thin archive: it holds the paths of its members, not the objects; "
			"compare the build trees, whose object files its members are (hpdiff "
			"OLD_DIR NEW_DIR), or normal archives (ar rc, without T)",
			path);
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
