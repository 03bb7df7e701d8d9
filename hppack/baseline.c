/*
 * Reading the baseline binary with libelf: symbols scoped by source file,
 * PLT entries and GOT slots by imported name, initial-exec TLS slots.
 *
 * A linked symbol table lists each input file's local symbols after an
 * STT_FILE entry with the source file's name, then all globals; that is how
 * "counter.0 of parse.c" is told from "counter.0 of lexer.c".
 */
#include <gelf.h>
#include <libelf.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "arch/arch.h"
#include "hppack/baseline.h"
#include "format/hp.h"
#include "common/cli.h"
#include "common/mem.h"

#define MAX_BINARY (1ull << 31)

static int cmp_bsym(const void *a, const void *b)
{
	const struct bsym *x = *(struct bsym *const *)a, *y = *(struct bsym *const *)b;
	int c = strcmp(x->name, y->name);

	if (c)
		return c;
	if (!x->file || !y->file)
		return !x->file - !y->file;
	return strcmp(x->file, y->file);
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

static int cmp_slot(const void *a, const void *b)
{
	return strcmp(((const struct bslot *)a)->name, ((const struct bslot *)b)->name);
}

static Elf_Scn *find_section(Elf *e, uint32_t type, const char *name, GElf_Shdr *sh)
{
	size_t shstrndx;
	Elf_Scn *scn = NULL;

	if (elf_getshdrstrndx(e, &shstrndx) < 0)
		return NULL;
	while ((scn = elf_nextscn(e, scn))) {
		const char *n;

		if (!gelf_getshdr(scn, sh) || sh->sh_type != type)
			continue;
		n = elf_strptr(e, shstrndx, sh->sh_name);
		if (!name || (n && !strcmp(n, name)))
			return scn;
	}
	return NULL;
}

static int add_bound(struct baseline *b, uint64_t v, size_t *cap)
{
	if (grow_array(&b->bounds, cap, b->nbounds, sizeof(*b->bounds), 64) < 0)
		return -1;
	b->bounds[b->nbounds++] = v;
	return 0;
}

/*
 * Where something begins or ends in the image, for baseline_next_bound():
 * the value of every defined symbol of the symbol table e (labels,
 * section symbols and zero-sized ones too) and the extent of every
 * executable section of the binary bin.
 */
static int load_bounds(struct baseline *b, Elf *e, Elf *bin)
{
	GElf_Shdr sh;
	Elf_Scn *scn = find_section(e, SHT_SYMTAB, NULL, &sh);
	Elf_Data *d = scn ? elf_getdata(scn, NULL) : NULL;
	size_t cap = 0;

	for (size_t i = 1; d && sh.sh_entsize && i < sh.sh_size / sh.sh_entsize; i++) {
		GElf_Sym s;

		if (!gelf_getsym(d, (int)i, &s) || s.st_shndx == SHN_UNDEF ||
		    s.st_shndx == SHN_ABS || GELF_ST_TYPE(s.st_info) == STT_FILE ||
		    GELF_ST_TYPE(s.st_info) == STT_TLS)
			continue;
		if (add_bound(b, s.st_value, &cap) < 0)
			return -1;
	}
	scn = NULL;
	while ((scn = elf_nextscn(bin, scn))) {
		if (!gelf_getshdr(scn, &sh) || !(sh.sh_flags & SHF_EXECINSTR) ||
		    !(sh.sh_flags & SHF_ALLOC))
			continue;
		if (add_bound(b, sh.sh_addr, &cap) < 0 ||
		    add_bound(b, sh.sh_addr + sh.sh_size, &cap) < 0)
			return -1;
	}
	sort(b->bounds, b->nbounds, sizeof(*b->bounds), cmp_u64);
	return 0;
}

/*
 * Link-time optimisation compiles the whole program at link time, from the
 * objects' intermediate code, into units of its own: their file symbol is
 * "ld-temp.o" (LLVM's linker plugin, lld), "<artificial>" (gcc, gold) or
 * empty (gcc through GNU ld, which otherwise gives an empty name only to the
 * last group, the symbols it made local itself).  The objects' own file
 * symbols are gone.  With DWARF, gcc's LTO units say "GNU GIMPLE" as their
 * producer.  Returns the evidence found, or NULL.
 */
static const char *lto_file_symbol(const char *name, bool last)
{
	if (!strcmp(name, "ld-temp.o"))
		return "its symbols are filed under ld-temp.o, the unit an LTO link makes";
	if (!strcmp(name, "<artificial>"))
		return "its symbols are filed under <artificial>, the unit gcc's LTO makes";
	if (!name[0] && !last)
		return "its symbols are filed under a nameless unit amid the objects', as gcc's "
		       "LTO makes";
	return NULL;
}

static const char *lto_producer(Elf *e)
{
	static const char gimple[] = "GNU GIMPLE ";
	GElf_Shdr sh;
	Elf_Scn *scn = find_section(e, SHT_PROGBITS, ".debug_str", &sh);
	Elf_Data *d = scn && !(sh.sh_flags & SHF_COMPRESSED) ? elf_getdata(scn, NULL) : NULL;

	if (d && d->d_buf && memmem(d->d_buf, d->d_size, gimple, sizeof(gimple) - 1))
		return "its debug information was produced by GNU GIMPLE, gcc's LTO";
	return NULL;
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

bool baseline_has_file(const struct baseline *b, const char *file)
{
	return b->nfiles && bsearch(&file, b->files, b->nfiles, sizeof(*b->files), cmp_str);
}

static int load_symtab(struct baseline *b, Elf *e, const char *path)
{
	GElf_Shdr sh;
	Elf_Scn *scn = find_section(e, SHT_SYMTAB, NULL, &sh);
	Elf_Data *d;
	const char *file = NULL;
	size_t n, group = 0;

	if (!scn)
		return error("%s: no symbol table; give the unstripped binary or its debug file "
			     "with --baseline-symbols",
			     path);
	d = elf_getdata(scn, NULL);
	if (!d || sh.sh_entsize != sizeof(Elf64_Sym))
		return error("%s: corrupt symbol table", path);
	n = sh.sh_size / sizeof(Elf64_Sym);
	b->syms = xcalloc(n, sizeof(*b->syms));
	b->by_name = xcalloc(n, sizeof(*b->by_name));
	b->files = xcalloc(n, sizeof(*b->files));
	if (!b->syms || !b->by_name || !b->files)
		return -1;
	for (size_t i = 1; i < n; i++) {
		GElf_Sym s;
		const char *name;
		struct bsym *bs;

		if (!gelf_getsym(d, (int)i, &s) || !(name = elf_strptr(e, sh.sh_link, s.st_name)))
			return error("%s: corrupt symbol %zu", path, i);
		if (GELF_ST_TYPE(s.st_info) == STT_FILE) {
			if (file && !b->lto)
				b->lto = lto_file_symbol(file, false);
			file = name;
			group = i;
			b->files[b->nfiles++] = name;
			continue;
		}
		if (!name[0] || GELF_ST_TYPE(s.st_info) == STT_SECTION)
			continue;
		bs = &b->syms[b->nsyms++];
		bs->name = name;
		bs->value = s.st_value;
		bs->size = s.st_size;
		bs->type = GELF_ST_TYPE(s.st_info);
		bs->bind = GELF_ST_BIND(s.st_info);
		bs->defined = s.st_shndx != SHN_UNDEF;
		bs->file = bs->bind == STB_LOCAL ? file : NULL;
		bs->group = bs->bind == STB_LOCAL ? group : 0;
	}
	if (file && !b->lto)
		b->lto = lto_file_symbol(file, true);
	if (!b->lto)
		b->lto = lto_producer(e);
	for (size_t i = 0; i < b->nsyms; i++)
		b->by_name[i] = &b->syms[i];
	sort(b->by_name, b->nsyms, sizeof(*b->by_name), cmp_bsym);
	sort(b->files, b->nfiles, sizeof(*b->files), cmp_str);
	return 0;
}

/* Name of dynamic symbol i of .dynsym (d, with header sh; d NULL if none), or NULL. */
static const char *dynsym_name(Elf *e, Elf_Data *d, const GElf_Shdr *sh, size_t i, GElf_Sym *out)
{
	if (!d || !i || i >= sh->sh_size / sizeof(Elf64_Sym) || !gelf_getsym(d, (int)i, out))
		return NULL;
	return elf_strptr(e, sh->sh_link, out->st_name);
}

static int add_slot(struct bslot **v, size_t *n, const char *name, uint64_t vaddr)
{
	struct bslot *w = xrealloc(*v, (*n + 1) * sizeof(**v));

	if (!w)
		return -1;
	w[*n].name = name;
	w[*n].vaddr = vaddr;
	*v = w;
	(*n)++;
	return 0;
}

/*
 * GOT slots from dynamic relocations: a symbol's address (by its name), an
 * IFUNC's implementation (by its resolver), a thread-local's TP offset.
 */
static int load_dynamic_relocs(struct baseline *b, Elf *e)
{
	Elf_Scn *scn = NULL;
	GElf_Shdr sh, dynsh;
	Elf_Scn *dynscn = find_section(e, SHT_DYNSYM, NULL, &dynsh);
	Elf_Data *dyn = dynscn ? elf_getdata(dynscn, NULL) : NULL;

	while ((scn = elf_nextscn(e, scn))) {
		Elf_Data *d;

		if (!gelf_getshdr(scn, &sh) || sh.sh_type != SHT_RELA || !(sh.sh_flags & SHF_ALLOC))
			continue;
		d = elf_getdata(scn, NULL);
		for (size_t i = 0; d && sh.sh_entsize && i < sh.sh_size / sh.sh_entsize; i++) {
			GElf_Rela r;
			GElf_Sym s;
			const char *name;
			enum arch_dyn_reloc kind;

			if (!gelf_getrela(d, (int)i, &r))
				break;
			kind = arch_dyn_reloc_kind(b->img.machine, (uint32_t)GELF_R_TYPE(r.r_info));
			name = dynsym_name(e, dyn, &dynsh, GELF_R_SYM(r.r_info), &s);
			if (kind == ARCH_DYN_SLOT && name) {
				if (add_slot(&b->got, &b->ngot, name, r.r_offset) < 0)
					return -1;
			} else if (kind == ARCH_DYN_IRELATIVE) {
				/* an IFUNC of the binary itself: keyed by its resolver */
				char *key =
					xasprintf("@ifunc:%llx", (unsigned long long)r.r_addend);

				if (!key || add_slot(&b->got, &b->ngot, key, r.r_offset) < 0)
					return -1;
				b->owned_keys = xrealloc(b->owned_keys,
							 (b->nowned + 1) * sizeof(*b->owned_keys));
				if (!b->owned_keys)
					return -1;
				b->owned_keys[b->nowned++] = key;
			} else if (kind == ARCH_DYN_TPOFF) {
				/* named: a global TLS symbol; unnamed: our own, by offset */
				char *key = name ? xstrdup(name)
						 : xasprintf("@%lld", (long long)r.r_addend);

				if (!key ||
				    add_slot(&b->tls_got, &b->ntls_got, key, r.r_offset) < 0)
					return -1;
			}
		}
	}
	sort(b->got, b->ngot, sizeof(*b->got), cmp_slot);
	sort(b->tls_got, b->ntls_got, sizeof(*b->tls_got), cmp_slot);
	return 0;
}

/*
 * The dynamic symbols the binary defines and exports, as the loader finds
 * them: global or weak, not a hidden version (hpapply looks imports up the
 * same way, the program first).
 */
static int load_exports(struct baseline *b, Elf *e)
{
	GElf_Shdr dynsh, vsh;
	Elf_Scn *dynscn = find_section(e, SHT_DYNSYM, NULL, &dynsh);
	Elf_Scn *vscn = find_section(e, SHT_GNU_versym, NULL, &vsh);
	Elf_Data *dyn = dynscn ? elf_getdata(dynscn, NULL) : NULL;
	Elf_Data *ver = vscn ? elf_getdata(vscn, NULL) : NULL;

	for (size_t i = 1; dyn && i < dynsh.sh_size / sizeof(Elf64_Sym); i++) {
		GElf_Sym s;
		GElf_Versym v = 0;
		const char *name = dynsym_name(e, dyn, &dynsh, i, &s);
		uint8_t bind = GELF_ST_BIND(s.st_info);

		if (!name || !name[0] || s.st_shndx == SHN_UNDEF ||
		    (bind != STB_GLOBAL && bind != STB_WEAK) || GELF_ST_TYPE(s.st_info) == STT_TLS)
			continue;
		if (ver && gelf_getversym(ver, (int)i, &v) && (v & 0x8000))
			continue;
		if (add_slot(&b->exports, &b->nexports, name, s.st_value) < 0)
			return -1;
	}
	sort(b->exports, b->nexports, sizeof(*b->exports), cmp_slot);
	return 0;
}

/*
 * PLT entries: each holds an indirect jump that reads the GOT slot of one
 * import (arch_plt_jump).  Layouts differ, so every such jump whose slot is
 * a GOT slot we know counts, and the patch calls the jump itself, which
 * behaves as the whole entry does.
 */
/* A GOT slot by address: b->got[at], the first in b->got of those at that address. */
struct slot_at {
	uint64_t vaddr;
	size_t at;
};

static int cmp_slot_at(const void *a, const void *b)
{
	const struct slot_at *x = a, *y = b;

	if (x->vaddr != y->vaddr)
		return x->vaddr < y->vaddr ? -1 : 1;
	return x->at < y->at ? -1 : x->at > y->at;
}

/* The name of the GOT slot at vaddr (the first in b->got, which is by name), or NULL. */
static const char *got_name_at(const struct baseline *b, const struct slot_at *v, uint64_t vaddr)
{
	size_t lo = 0, hi = b->ngot;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (v[mid].vaddr < vaddr)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo < b->ngot && v[lo].vaddr == vaddr ? b->got[v[lo].at].name : NULL;
}

static int load_plt(struct baseline *b, Elf *e, const char *secname)
{
	GElf_Shdr sh;
	Elf_Scn *scn = find_section(e, SHT_PROGBITS, secname, &sh);
	const uint8_t *code;
	struct slot_at *by_addr;
	int ret = 0;

	if (!scn)
		return 0;
	code = hp_image_bytes(&b->img, sh.sh_addr - b->img.base, sh.sh_size);
	if (!code)
		return 0;
	by_addr = xcalloc(b->ngot + 1, sizeof(*by_addr));
	if (!by_addr)
		return -1;
	for (size_t g = 0; g < b->ngot; g++)
		by_addr[g] = (struct slot_at){b->got[g].vaddr, g};
	sort(by_addr, b->ngot, sizeof(*by_addr), cmp_slot_at);
	for (uint64_t k = 0; k < sh.sh_size; k++) {
		uint64_t slot;
		size_t len = arch_plt_jump(b->img.machine, code + k, sh.sh_size - k, sh.sh_addr + k,
					   &slot);
		const char *name = len ? got_name_at(b, by_addr, slot) : NULL;

		if (!name)
			continue;
		if (add_slot(&b->plt, &b->nplt, name, sh.sh_addr + k) < 0) {
			ret = -1;
			break;
		}
		k += len - 1;
	}
	free(by_addr);
	return ret;
}

static int open_elf(const char *path, uint8_t *data, size_t len, Elf **out)
{
	*out = elf_memory((char *)data, len);
	if (!*out || elf_kind(*out) != ELF_K_ELF)
		return error("%s: not an ELF file", path);
	return 0;
}

int baseline_load(struct baseline *b, const char *path, const char *symbols_path)
{
	struct hp_error err;
	char msg[200];
	size_t slen = 0;
	Elf *e;

	memset(b, 0, sizeof(*b));
	b->path = path;
	b->name = strrchr(path, '/') ? strrchr(path, '/') + 1 : path;
	if (elf_version(EV_CURRENT) == EV_NONE)
		return error("libelf initialisation failed");
	if (hp_read_file(path, MAX_BINARY, &b->file, &b->len, &err) < 0)
		return error("%s: %s", path, hp_error_text(&err, msg, sizeof(msg)));
	if (hp_sha256(b->file, b->len, b->sha256) < 0)
		return error("%s: cannot hash", path);
	if (hp_image_parse(b->file, b->len, &b->img, &err) < 0)
		return error("%s: %s", path, hp_error_text(&err, msg, sizeof(msg)));
	if (!arch_supported(b->img.machine))
		return error("%s: not a binary for a machine hppack supports (e_machine %u)", path,
			     b->img.machine);
	if (!b->img.build_id_len)
		return error("%s: the binary has no build-id (link with --build-id)", path);
	if (open_elf(path, b->file, b->len, &e) < 0)
		return -1;
	b->bin_elf = e;
	if (symbols_path) {
		struct hp_image dbg;

		if (hp_read_file(symbols_path, MAX_BINARY, &b->sym_file, &slen, &err) < 0)
			return error("%s: %s", symbols_path, hp_error_text(&err, msg, sizeof(msg)));
		if (hp_image_parse(b->sym_file, slen, &dbg, &err) < 0)
			return error("%s: %s", symbols_path, hp_error_text(&err, msg, sizeof(msg)));
		if (dbg.build_id_len != b->img.build_id_len ||
		    memcmp(dbg.build_id, b->img.build_id, dbg.build_id_len))
			return error("%s: build-id differs from %s's: not its symbol file",
				     symbols_path, path);
		if (open_elf(symbols_path, b->sym_file, slen, &e) < 0)
			return -1;
		b->sym_elf = e;
	}
	if (load_symtab(b, b->sym_elf ? b->sym_elf : b->bin_elf,
			symbols_path ? symbols_path : path) < 0 ||
	    load_bounds(b, b->sym_elf ? b->sym_elf : b->bin_elf, b->bin_elf) < 0 ||
	    load_dynamic_relocs(b, b->bin_elf) < 0 || load_exports(b, b->bin_elf) < 0 ||
	    load_plt(b, b->bin_elf, ".plt") < 0 || load_plt(b, b->bin_elf, ".plt.sec") < 0)
		return -1;
	sort(b->plt, b->nplt, sizeof(*b->plt), cmp_slot);
	return 0;
}

void baseline_free(struct baseline *b)
{
	if (b->sym_elf)
		elf_end(b->sym_elf);
	if (b->bin_elf)
		elf_end(b->bin_elf);
	for (size_t i = 0; i < b->ntls_got; i++)
		free((char *)b->tls_got[i].name);
	for (size_t i = 0; i < b->nowned; i++)
		free(b->owned_keys[i]);
	free(b->owned_keys);
	free(b->tls_got);
	free(b->exports);
	free(b->bounds);
	free(b->got);
	free(b->plt);
	free(b->syms);
	free(b->by_name);
	free(b->files);
	free(b->sym_file);
	free(b->file);
	memset(b, 0, sizeof(*b));
}

/* Symbols named `name` in the (name, file) run of by_name: locals or not. */
static size_t find_run(const struct baseline *b, const char *name, const char *file, bool local,
		       const struct bsym **out, size_t max, size_t n)
{
	struct bsym key = {.name = name, .file = file};
	const struct bsym *kp = &key;
	size_t lo = 0, hi = b->nsyms;

	/* lower bound of (name, file) */
	while (lo < hi) {
		size_t mid = (lo + hi) / 2;

		if (cmp_bsym(&b->by_name[mid], &kp) < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	for (size_t i = lo; i < b->nsyms && !cmp_bsym(&b->by_name[i], &kp); i++) {
		const struct bsym *s = b->by_name[i];

		if (!s->defined || (s->bind == STB_LOCAL) != local)
			continue;
		if (n < max)
			out[n] = s;
		n++;
	}
	return n;
}

size_t baseline_find(const struct baseline *b, const char *name, const char *file,
		     const struct bsym **out, size_t max)
{
	size_t n;

	if (file)
		return find_run(b, name, file, true, out, max, 0);
	n = find_run(b, name, NULL, false, out, max, 0);
	/*
	 * The linker turns hidden and internal globals into locals, listed
	 * after an STT_FILE entry with an empty name (GNU ld does):
	 * `hid` of `__attribute__((visibility("hidden"))) int hid(int)` in a
	 * shared library, libc's internal functions in a static executable.
	 * An object's global is that symbol when no global has the name.
	 */
	if (!n)
		n = find_run(b, name, "", true, out, max, 0);
	return n;
}

static uint64_t find_slot(const struct bslot *v, size_t n, const char *name)
{
	struct bslot key = {name, 0};
	const struct bslot *hit = n ? bsearch(&key, v, n, sizeof(*v), cmp_slot) : NULL;

	return hit ? hit->vaddr : 0;
}

uint64_t baseline_export(const struct baseline *b, const char *name)
{
	return find_slot(b->exports, b->nexports, name);
}

uint64_t baseline_plt(const struct baseline *b, const char *name)
{
	return find_slot(b->plt, b->nplt, name);
}

uint64_t baseline_got(const struct baseline *b, const char *name)
{
	return find_slot(b->got, b->ngot, name);
}

uint64_t baseline_ifunc_plt(const struct baseline *b, const struct bsym *s)
{
	char key[48];

	snprintf(key, sizeof(key), "@ifunc:%llx", (unsigned long long)s->value);
	return find_slot(b->plt, b->nplt, key);
}

uint64_t baseline_ifunc_slot(const struct baseline *b, const struct bsym *s)
{
	char key[48];

	snprintf(key, sizeof(key), "@ifunc:%llx", (unsigned long long)s->value);
	return find_slot(b->got, b->ngot, key);
}

uint64_t baseline_next_bound(const struct baseline *b, uint64_t addr)
{
	size_t lo = 0, hi = b->nbounds;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (b->bounds[mid] <= addr)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo < b->nbounds ? b->bounds[lo] : 0;
}

uint64_t baseline_tls_slot(const struct baseline *b, const struct bsym *s)
{
	char key[32];
	uint64_t v = s->bind != STB_LOCAL ? find_slot(b->tls_got, b->ntls_got, s->name) : 0;

	if (v)
		return v;
	snprintf(key, sizeof(key), "@%lld", (long long)s->value);
	return find_slot(b->tls_got, b->ntls_got, key);
}

int64_t baseline_tpoff(const struct baseline *b, const struct bsym *s)
{
	return arch_tls_tp_offset(b->img.machine, s->value, b->img.tls_memsz, b->img.tls_align);
}
