/*
 * Resolving a package's imports in the target: the dynamic symbol tables
 * of its loaded objects, the program first, then in address order, the
 * first default-version definition winning (as the dynamic linker's
 * global scope would, for the usual case).  libelf is used here only.
 *
 * An IFUNC symbol names a resolver, not the function: the implementation
 * depends on the CPU.  When hpapply itself has the very same library
 * loaded (same build-id, as libc always is), its own dynamic linker has
 * made that choice for this CPU already, so the implementation's offset in
 * our copy is its offset in the target's.
 */
#include <dlfcn.h>
#include <elf.h>
#include <errno.h>
#include <gelf.h>
#include <libelf.h>
#include <link.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "format/image.h"
#include "hpapply/symbols.h"
#include "common/cli.h"
#include "common/mem.h"

struct self_lib {
	const uint8_t *build_id;
	size_t len;
	uint64_t base;
	const char *name;
	bool found;
};

static int find_self(struct dl_phdr_info *info, size_t size, void *arg)
{
	struct self_lib *want = arg;

	(void)size;
	for (int i = 0; i < info->dlpi_phnum; i++) {
		const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
		uint8_t id[HP_BUILD_ID_MAX];
		size_t len;

		if (ph->p_type != PT_NOTE)
			continue;
		len = hp_note_build_id((const uint8_t *)(info->dlpi_addr + ph->p_vaddr),
				       ph->p_memsz, id);
		if (len && len == want->len && !memcmp(id, want->build_id, len)) {
			want->base = info->dlpi_addr;
			want->name = info->dlpi_name;
			want->found = true;
			return 1;
		}
	}
	return 0;
}

/* The implementation an IFUNC resolves to, through our own copy of the library. */
static int resolve_ifunc(const struct loaded *l, const char *name, const GElf_Sym *s,
			 uint64_t *addr)
{
	struct self_lib want = {l->img.build_id, l->img.build_id_len, 0, NULL, false};
	void *h, *impl;

	dl_iterate_phdr(find_self, &want);
	if (!want.found)
		return error("%s is an IFUNC in %s, which hpapply has not loaded itself, so its "
			     "implementation for this CPU cannot be determined",
			     name, l->path);
	h = dlopen(want.name && want.name[0] ? want.name : NULL, RTLD_NOW | RTLD_NOLOAD);
	impl = h ? dlsym(h, name) : NULL;
	if (h)
		dlclose(h);
	if (!impl)
		return error("%s: cannot resolve IFUNC %s", l->path, name);
	(void)s;
	/* impl - want.base is its virtual address (dlpi_addr is the load bias) */
	*addr = l->base + ((uint64_t)impl - want.base - l->img.base);
	return 0;
}

/* Look name up in one object's .dynsym: 1 found, 0 not there, -1 error. */
static int lookup(struct loaded *l, const char *name, uint64_t *addr)
{
	Elf *e = elf_memory((char *)l->file, l->len);
	Elf_Scn *scn = NULL, *versym_scn = NULL;
	GElf_Shdr sh, dyn = {0};
	Elf_Data *d = NULL, *vd = NULL;
	int ret = 0;

	if (!e)
		return 0;
	while ((scn = elf_nextscn(e, scn))) {
		if (!gelf_getshdr(scn, &sh))
			continue;
		if (sh.sh_type == SHT_DYNSYM) {
			dyn = sh;
			d = elf_getdata(scn, NULL);
		} else if (sh.sh_type == SHT_GNU_versym) {
			versym_scn = scn;
		}
	}
	if (versym_scn)
		vd = elf_getdata(versym_scn, NULL);
	for (size_t i = 1; d && dyn.sh_entsize && i < dyn.sh_size / dyn.sh_entsize; i++) {
		GElf_Sym s;
		GElf_Versym v = 0;
		const char *n;

		if (!gelf_getsym(d, (int)i, &s) || s.st_shndx == SHN_UNDEF)
			continue;
		if (GELF_ST_BIND(s.st_info) != STB_GLOBAL && GELF_ST_BIND(s.st_info) != STB_WEAK)
			continue;
		n = elf_strptr(e, dyn.sh_link, s.st_name);
		if (!n || strcmp(n, name))
			continue;
		/* a hidden (non-default) version is not what an unversioned name binds to */
		if (vd && gelf_getversym(vd, (int)i, &v) && (v & 0x8000))
			continue;
		if (GELF_ST_TYPE(s.st_info) == STT_GNU_IFUNC)
			ret = resolve_ifunc(l, name, &s, addr) < 0 ? -1 : 1;
		else if (GELF_ST_TYPE(s.st_info) == STT_TLS)
			ret = error("%s: %s is thread-local; new code cannot import it", l->path,
				    name);
		else {
			/* l->base is where image offset 0 (virtual address img.base) is */
			*addr = l->base + (s.st_value - l->img.base);
			ret = 1;
		}
		break;
	}
	elf_end(e);
	return ret;
}

int symbols_resolve(pid_t pid, const struct maps *m, const struct hp_payload *pl, uint64_t *addrs)
{
	struct loaded *v = NULL;
	size_t n = 0;
	int ret = 0;

	if (!pl->nimports)
		return 0;
	if (elf_version(EV_CURRENT) == EV_NONE)
		return error("libelf initialisation failed");
	if (target_objects(pid, m, &v, &n) < 0)
		return -1;
	for (size_t i = 0; i < n; i++) {
		const struct mapping *mp = maps_find(m, v[i].base);
		struct hp_error e;

		if (!mp || proc_map_file(pid, mp, &v[i].file, &v[i].len) < 0 ||
		    hp_image_parse(v[i].file, v[i].len, &v[i].img, &e) < 0) {
			free(v[i].file);
			v[i].file = NULL;
		}
	}
	for (uint32_t k = 0; k < pl->nimports && ret == 0; k++) {
		int found = 0;

		for (size_t i = 0; i < n && !found; i++)
			if (v[i].file)
				found = lookup(&v[i], pl->imports[k].name, &addrs[k]);
		if (found < 0)
			ret = -1;
		else if (!found && pl->imports[k].weak)
			addrs[k] = 0; /* an absent weak symbol is null, as when linking */
		else if (!found)
			ret = error("process %d: %s is not defined by any loaded object", (int)pid,
				    pl->imports[k].name);
	}
	objects_free(v, n);
	return ret;
}
