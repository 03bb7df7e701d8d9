/*
 * Loaded ELF objects of the target: found through /proc/PID/maps, read
 * through /proc/PID/map_files (the file actually mapped, even if the path
 * was replaced on disk since), identified by build-id.
 */
#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "arch/arch.h"
#include "format/hp.h"
#include "hpapply/target.h"
#include "common/cli.h"
#include "common/mem.h"

#define PAGE 4096ull

static bool is_file_mapping(const struct mapping *m)
{
	return m->path[0] == '/' && strncmp(m->path, "/memfd:", 7) && m->inode;
}

/* ELF header and program headers of an object, read from its first mapping. */
static int read_headers(int mem, const struct mapping *m, Elf64_Ehdr *eh, Elf64_Phdr *ph,
			size_t *nph)
{
	if (m->perms[0] != 'r' || proc_read(mem, m->start, eh, sizeof(*eh)) < 0 ||
	    memcmp(eh->e_ident, ELFMAG, SELFMAG) || eh->e_ident[EI_CLASS] != ELFCLASS64 ||
	    eh->e_phentsize != sizeof(Elf64_Phdr) || eh->e_phnum > 64 ||
	    eh->e_phoff + (uint64_t)eh->e_phnum * sizeof(Elf64_Phdr) > m->end - m->start)
		return -1;
	*nph = eh->e_phnum;
	return proc_read(mem, m->start + eh->e_phoff, ph, *nph * sizeof(*ph));
}

int target_objects(pid_t pid, const struct maps *m, struct loaded **out, size_t *n)
{
	uint64_t entry = proc_auxv(pid, AT_ENTRY);
	struct loaded *v = NULL;
	int mem = proc_mem_open(pid);

	*out = NULL;
	*n = 0;
	if (mem < 0)
		return error("process %d: cannot open its memory: %s", (int)pid, strerror(errno));
	for (size_t i = 0; i < m->n; i++) {
		const struct mapping *mp = &m->v[i];
		Elf64_Ehdr eh;
		Elf64_Phdr ph[64];
		size_t nph;
		struct loaded *l;
		bool seen = false;

		if (!is_file_mapping(mp) || mp->offset != 0)
			continue;
		for (size_t k = 0; k < *n && !seen; k++)
			seen = !strcmp(v[k].path, mp->path) && v[k].base == mp->start;
		if (seen || read_headers(mem, mp, &eh, ph, &nph) < 0)
			continue;
		l = xrealloc(v, (*n + 1) * sizeof(*v));
		if (!l)
			goto fail;
		v = l;
		l = &v[(*n)++];
		memset(l, 0, sizeof(*l));
		l->path = xstrdup(mp->path);
		if (!l->path)
			goto fail;
		l->base = mp->start;
		l->lo = mp->start;
		l->hi = mp->end;
		l->dev = mp->dev;
		l->inode = mp->inode;
		/* the object's other mappings follow, same path */
		for (size_t k = i + 1;
		     k < m->n && !strcmp(m->v[k].path, mp->path) && m->v[k].offset != 0; k++)
			l->hi = m->v[k].end;
		l->is_main = entry >= l->lo && entry < l->hi;
	}
	close(mem);
	/* The program first: it comes first in symbol lookup too. */
	for (size_t i = 1; i < *n; i++) {
		if (v[i].is_main) {
			struct loaded t = v[i];

			memmove(v + 1, v, i * sizeof(*v));
			v[0] = t;
			break;
		}
	}
	*out = v;
	return 0;
fail:
	close(mem);
	objects_free(v, *n);
	*n = 0;
	return -1;
}

void loaded_free(struct loaded *l)
{
	free(l->path);
	free(l->file);
	memset(l, 0, sizeof(*l));
}

void objects_free(struct loaded *v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		loaded_free(&v[i]);
	free(v);
}

int target_find_all(pid_t pid, const struct maps *m, const uint8_t *build_id, size_t len,
		    struct loaded **out, size_t *n)
{
	struct loaded *v;
	size_t nv, k = 0;

	*out = NULL;
	*n = 0;
	if (target_objects(pid, m, &v, &nv) < 0)
		return -1;
	for (size_t i = 0; i < nv; i++) {
		const struct mapping *mp = maps_find(m, v[i].base);
		struct hp_error e;
		char msg[200];
		bool same = false;

		/* the same file mapped again (dlmopen): its bytes are read already */
		for (size_t j = 0; j < k && !same; j++)
			if (v[j].dev == v[i].dev && v[j].inode == v[i].inode && v[j].file) {
				v[i].file = xmalloc(v[j].len ? v[j].len : 1);
				if (!v[i].file)
					goto fail;
				memcpy(v[i].file, v[j].file, v[j].len);
				v[i].len = v[j].len;
				same = true;
			}
		if (!same && (!mp || proc_map_file(pid, mp, &v[i].file, &v[i].len) < 0))
			continue;
		if (hp_image_parse(v[i].file, v[i].len, &v[i].img, &e) < 0) {
			if (!same)
				warn("%s: %s", v[i].path, hp_error_text(&e, msg, sizeof(msg)));
			free(v[i].file);
			v[i].file = NULL;
			continue;
		}
		if (v[i].img.build_id_len != len || memcmp(v[i].img.build_id, build_id, len)) {
			free(v[i].file);
			v[i].file = NULL;
			continue;
		}
		/* image offsets count from the first segment's page */
		v[i].img.file = v[i].file;
		if (i != k) {
			struct loaded t = v[k];

			v[k] = v[i];
			v[i] = t;
		}
		k++;
	}
	/* the matches first, the rest freed */
	for (size_t i = k; i < nv; i++)
		loaded_free(&v[i]);
	if (!k) {
		free(v);
		return 1;
	}
	*out = v;
	*n = k;
	return 0;
fail:
	objects_free(v, nv);
	return -1;
}

int target_find(pid_t pid, const struct maps *m, const uint8_t *build_id, size_t len,
		struct loaded *out)
{
	struct loaded *v;
	size_t n;
	int r = target_find_all(pid, m, build_id, len, &v, &n);

	memset(out, 0, sizeof(*out));
	if (r != 0)
		return r;
	*out = v[0];
	out->img.file = out->file;
	memset(&v[0], 0, sizeof(v[0]));
	objects_free(v, n);
	return 0;
}

/* Does the area hold nothing (zeros) or a syscall stub of an earlier hpapply? */
static bool usable_slack(const uint8_t *b, size_t n)
{
	size_t i = 0;

	if (arch_is_syscall_stub(b, n))
		return true;
	while (i < n && !b[i])
		i++;
	return i == n;
}

int target_slack(pid_t pid, int mem, const struct maps *m, size_t size, uint64_t *at)
{
	struct loaded *v;
	size_t n;

	if (target_objects(pid, m, &v, &n) < 0)
		return -1;
	for (size_t i = 0; i < n; i++) {
		const struct mapping *first = maps_find(m, v[i].base);
		Elf64_Ehdr eh;
		Elf64_Phdr ph[64];
		size_t nph;
		uint64_t lowest = UINT64_MAX;

		if (!first || read_headers(mem, first, &eh, ph, &nph) < 0)
			continue;
		for (size_t k = 0; k < nph; k++)
			if (ph[k].p_type == PT_LOAD && ph[k].p_vaddr < lowest)
				lowest = ph[k].p_vaddr & ~(PAGE - 1);
		for (size_t k = 0; k < nph; k++) {
			uint64_t end, page_end;
			const struct mapping *mx;
			uint8_t buf[512];

			if (ph[k].p_type != PT_LOAD || !(ph[k].p_flags & PF_X))
				continue;
			end = v[i].base + ph[k].p_vaddr - lowest + ph[k].p_filesz;
			end = (end + 15) & ~15ull;
			page_end = (end + PAGE - 1) & ~(PAGE - 1);
			mx = maps_find(m, end);
			if (page_end - end < size || size > sizeof(buf) || !mx ||
			    mx->perms[2] != 'x' || mx->end < end + size)
				continue;
			if (proc_read(mem, end, buf, size) < 0 || !usable_slack(buf, size))
				continue;
			*at = end;
			objects_free(v, n);
			return 0;
		}
	}
	objects_free(v, n);
	return error("process %d: no free bytes after any executable segment for hpapply's stub",
		     (int)pid);
}
