/*
 * Reading relocatable objects and ar archives with libelf (the only file
 * that uses it).  Everything hpdiff later trusts is checked here: the
 * header, every section's bytes inside the file, every symbol's section and
 * extent, every relocation's symbol and field.  A malformed object gets one
 * message naming the file and the problem.
 */
#include <ar.h>
#include <gelf.h>
#include <libelf.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "arch/arch.h"
#include "hpdiff/elf.h"
#include "common/cli.h"
#include "common/mem.h"

/* Upper bounds that keep a hostile object from costing unbounded memory. */
#define MAX_SECTIONS (1u << 20)
#define MAX_SYMBOLS  (1u << 24)

static uint64_t hash_name(const char *s)
{
	uint64_t h = 0xcbf29ce484222325ull;

	while (*s)
		h = (h ^ (uint8_t)*s++) * 0x100000001b3ull;
	return h;
}

static int build_name_hash(struct elf *elf)
{
	size_t cap = 16;

	while (cap < elf->nsyms * 2)
		cap *= 2;
	elf->by_name = xcalloc(cap, sizeof(*elf->by_name));
	if (!elf->by_name)
		return -1;
	elf->by_name_cap = cap;
	for_each_sym(elf, s)
	{
		size_t i;

		if (!s->name[0] || s->type == STT_SECTION || s->type == STT_FILE)
			continue;
		/* Keep the first definition of a name; globals come after locals. */
		for (i = hash_name(s->name) & (cap - 1); elf->by_name[i]; i = (i + 1) & (cap - 1))
			if (!strcmp(elf->by_name[i]->name, s->name))
				break;
		if (!elf->by_name[i] || (is_undef_sym(elf->by_name[i]) && !is_undef_sym(s)))
			elf->by_name[i] = s;
	}
	return 0;
}

struct symbol *find_symbol_by_name(const struct elf *elf, const char *name)
{
	if (!elf->by_name_cap)
		return NULL;
	for (size_t i = hash_name(name) & (elf->by_name_cap - 1); elf->by_name[i];
	     i = (i + 1) & (elf->by_name_cap - 1))
		if (!strcmp(elf->by_name[i]->name, name))
			return elf->by_name[i];
	return NULL;
}

struct symbol *find_symbol_containing(const struct section *sec, uint64_t off)
{
	size_t lo = 0, hi = sec->nsyms;
	struct symbol *end_match = NULL;

	/* Last symbol with value <= off, then walk back over overlapping ones. */
	while (lo < hi) {
		size_t mid = (lo + hi) / 2;

		if (sec->syms[mid]->value <= off)
			lo = mid + 1;
		else
			hi = mid;
	}
	for (size_t i = lo; i-- > 0;) {
		struct symbol *s = sec->syms[i];

		if (off < s->value + s->size || (!s->size && off == s->value))
			return s->alias_of ? s->alias_of : s;
		if (off == s->value + s->size && !end_match)
			end_match = s->alias_of ? s->alias_of : s;
		/* Symbols are sorted by value; stop once nothing earlier can reach. */
		if (i + 8 < lo)
			break;
	}
	return end_match;
}

struct reloc *find_reloc(const struct section *sec, uint64_t off, uint64_t len)
{
	size_t lo = 0, hi = sec->nrelocs;

	while (lo < hi) {
		size_t mid = (lo + hi) / 2;

		if (sec->relocs[mid].offset < off)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (lo < sec->nrelocs && sec->relocs[lo].offset < off + len)
		return &sec->relocs[lo];
	return NULL;
}

static pthread_once_t version_once = PTHREAD_ONCE_INIT;
static bool version_ok;

static void version_init(void)
{
	version_ok = elf_version(EV_CURRENT) != EV_NONE;
}

static int init_libelf(void)
{
	pthread_once(&version_once, version_init);
	return version_ok ? 0 : error("libelf initialisation failed");
}

static int bad(const struct elf *elf, const char *what)
{
	return error("%s: %s", elf->name, what);
}

/* ---- link-time optimisation ---------------------------------------------- */

/*
 * What `-flto` makes of a source file is not machine code but the
 * compiler's intermediate code, compiled only when the program is linked,
 * across objects.  There is nothing to compare in it: an object holding
 * only that is trouble, never "no change".  The forms it takes:
 *   - LLVM bitcode: a raw bitcode file ("BC" C0 DE), or one inside a
 *     bitcode wrapper (DE C0 17 0B), as clang -flto writes it;
 *   - an ELF object with gcc's GIMPLE in .gnu.lto_* sections and, when slim
 *     (gcc's default), no machine code, which gcc marks with the common
 *     symbol __gnu_lto_slim;
 *   - an ELF object holding LLVM bitcode (.llvm.lto, .llvmbc) and no code
 *     or data of its own.
 * A fat object (-ffat-lto-objects) holds machine code as well, which is
 * compared; it is marked, because a program linked with LTO does not hold
 * that code (hppack says so).  clang's -fembed-bitcode (.llvmbc beside the
 * code) is not LTO: linkers use its machine code.
 */
static bool is_llvm_bitcode(const uint8_t *image, size_t size)
{
	static const uint8_t raw[4] = {'B', 'C', 0xc0, 0xde}, wrapper[4] = {0xde, 0xc0, 0x17, 0x0b};

	return size >= 4 && (!memcmp(image, raw, 4) || !memcmp(image, wrapper, 4));
}

static bool is_gcc_lto_section(const struct section *s)
{
	return !strncmp(s->name, ".gnu.lto_", 9);
}

static bool is_llvm_lto_section(const struct section *s)
{
	return !strcmp(s->name, ".llvm.lto") || !strcmp(s->name, ".llvmbc");
}

/* Does the object hold code or data of its own (bytes a program loads)? */
static bool has_loaded_bytes(const struct elf *elf)
{
	for_each_sec(elf, s) if ((s->flags & SHF_ALLOC) && s->size &&
				 !is_llvm_lto_section(s)) return true;
	return false;
}

/*
 * Refuse an LTO intermediate object; mark a fat one (elf->fat_lto).
 * After the sections and symbols are loaded.  0, or -1 after the message.
 */
static int check_lto(struct elf *elf)
{
	bool gimple = false, bitcode = false, llvm_fat = false;

	for_each_sec(elf, s)
	{
		gimple |= is_gcc_lto_section(s);
		bitcode |= is_llvm_lto_section(s);
		llvm_fat |= !strcmp(s->name, ".llvm.lto");
	}
	if (gimple && find_symbol_by_name(elf, "__gnu_lto_slim"))
		return error("%s: LTO intermediate object: build without -flto, or with "
			     "-ffat-lto-objects (it holds gcc's GIMPLE and no machine code)",
			     elf->name);
	if (bitcode && !has_loaded_bytes(elf))
		return error("%s: LTO intermediate object: build without -flto, or with "
			     "-ffat-lto-objects (it holds LLVM bitcode and no machine code)",
			     elf->name);
	elf->fat_lto = gimple || (llvm_fat && has_loaded_bytes(elf));
	return 0;
}

static int check_header(struct elf *elf, Elf *e)
{
	GElf_Ehdr eh;

	if (elf_kind(e) != ELF_K_ELF)
		return bad(elf, "not an ELF object file");
	if (!gelf_getehdr(e, &eh))
		return bad(elf, "truncated or corrupt ELF header");
	/* What this reader reads; which machines the tools know is arch.h's answer. */
	if (eh.e_ident[EI_CLASS] != ELFCLASS64)
		return bad(elf, "not a 64-bit ELF file");
	if (eh.e_ident[EI_DATA] != ELFDATA2LSB)
		return bad(elf, "not a little-endian ELF file");
	if (!arch_supported(eh.e_machine))
		return error("%s: unsupported machine (ELF e_machine %u)", elf->name, eh.e_machine);
	elf->machine = eh.e_machine;
	if (eh.e_type != ET_REL)
		return error("%s: not a relocatable object (ET_REL); hpdiff compares the .o "
			     "files of a build, not linked programs or libraries",
			     elf->name);
	if (eh.e_shoff > elf->size ||
	    (uint64_t)eh.e_shnum * eh.e_shentsize > elf->size - eh.e_shoff)
		return bad(elf, "section header table extends past the end of the file");
	return 0;
}

static int load_sections(struct elf *elf, Elf *e)
{
	size_t n, shstrndx;

	if (elf_getshdrnum(e, &n) < 0 || elf_getshdrstrndx(e, &shstrndx) < 0)
		return bad(elf, "corrupt section header table");
	if (n > MAX_SECTIONS)
		return bad(elf, "too many sections");
	elf->secs = xcalloc(n, sizeof(*elf->secs));
	if (!elf->secs)
		return -1;
	elf->nsecs = n;
	for (size_t i = 0; i < n; i++) {
		struct section *s = &elf->secs[i];
		Elf_Scn *scn = elf_getscn(e, i);
		GElf_Shdr sh;

		s->index = (unsigned int)i;
		if (!scn || !gelf_getshdr(scn, &sh))
			return bad(elf, "corrupt section header");
		s->name = i ? elf_strptr(e, shstrndx, sh.sh_name) : "";
		if (!s->name)
			return bad(elf, "section name outside the section name table");
		s->type = sh.sh_type;
		s->flags = sh.sh_flags;
		s->size = sh.sh_size;
		s->align = sh.sh_addralign;
		s->entsize = sh.sh_entsize;
		s->link = sh.sh_link;
		s->info = sh.sh_info;
		if (i && sh.sh_type != SHT_NOBITS && sh.sh_type != SHT_NULL) {
			Elf_Data *d;

			if (sh.sh_offset > elf->size || sh.sh_size > elf->size - sh.sh_offset)
				return error("%s: section %s extends past the end of the file",
					     elf->name, s->name);
			/* gcc -gz compresses debug info only; dwarf.c skips it */
			if ((sh.sh_flags & SHF_COMPRESSED) && strncmp(s->name, ".debug", 6))
				return error("%s: section %s is compressed, which is not supported",
					     elf->name, s->name);
			if (!(sh.sh_flags & SHF_COMPRESSED)) {
				d = elf_getdata(scn, NULL);
				if (!d || (d->d_size && !d->d_buf) || d->d_size != sh.sh_size)
					return error("%s: cannot read section %s", elf->name,
						     s->name);
				s->data = d->d_buf;
			}
		}
		/*
		 * Code is read from the file.  One rule for every way a section
		 * can lack bytes there (NOBITS, NULL, compressed debug info).
		 */
		if (i && (s->flags & SHF_EXECINSTR) && s->size && !s->data)
			return error("%s: section %s is executable but has no contents in the file",
				     elf->name, s->name);
	}
	return 0;
}

static int load_symbols(struct elf *elf, Elf *e, struct section *symtab)
{
	Elf_Scn *scn = elf_getscn(e, symtab->index);
	Elf_Data *d = elf_getdata(scn, NULL);
	GElf_Shdr sh;
	size_t n;

	if (!gelf_getshdr(scn, &sh) || !d || sh.sh_entsize != sizeof(Elf64_Sym))
		return bad(elf, "corrupt symbol table");
	if (sh.sh_link >= elf->nsecs || elf->secs[sh.sh_link].type != SHT_STRTAB)
		return bad(elf, "symbol table has no string table");
	n = sh.sh_size / sizeof(Elf64_Sym);
	if (n > MAX_SYMBOLS)
		return bad(elf, "too many symbols");
	elf->syms = xcalloc(n, sizeof(*elf->syms));
	if (!elf->syms)
		return -1;
	elf->nsyms = n;
	for (size_t i = 0; i < n; i++) {
		struct symbol *s = &elf->syms[i];
		GElf_Sym sym;

		if (!gelf_getsym(d, (int)i, &sym))
			return bad(elf, "corrupt symbol table");
		s->index = (unsigned int)i;
		s->name = elf_strptr(e, sh.sh_link, sym.st_name);
		if (!s->name)
			return error("%s: symbol %zu: name outside the string table", elf->name, i);
		s->type = GELF_ST_TYPE(sym.st_info);
		s->bind = GELF_ST_BIND(sym.st_info);
		s->shndx = sym.st_shndx;
		s->value = sym.st_value;
		s->size = sym.st_size;
		if (sym.st_shndx == SHN_XINDEX)
			return error("%s: symbol %s: extended section indexes are not supported",
				     elf->name, s->name);
		if (sym.st_shndx != SHN_UNDEF && sym.st_shndx < SHN_LORESERVE) {
			if (sym.st_shndx >= elf->nsecs)
				return error("%s: symbol %s: section index %u out of range",
					     elf->name, s->name, sym.st_shndx);
			s->sec = &elf->secs[sym.st_shndx];
			if (s->type != STT_SECTION &&
			    (s->value > s->sec->size || s->size > s->sec->size - s->value))
				return error("%s: symbol %s extends past the end of section %s",
					     elf->name, s->name, s->sec->name);
		}
		if (s->type == STT_SECTION && s->sec) {
			s->name = "";
			if (!s->sec->secsym)
				s->sec->secsym = s;
		}
		if (s->type == STT_FILE && !elf->srcfile && s->name[0])
			elf->srcfile = s->name;
	}
	return 0;
}

static int cmp_reloc(const void *a, const void *b)
{
	const struct reloc *x = a, *y = b;

	return x->offset < y->offset ? -1 : x->offset > y->offset;
}

static int load_relocs(struct elf *elf, Elf *e, struct section *rs, const struct section *symtab)
{
	Elf_Scn *scn = elf_getscn(e, rs->index);
	Elf_Data *d = elf_getdata(scn, NULL);
	struct section *target;
	GElf_Shdr sh;
	size_t n;

	if (!gelf_getshdr(scn, &sh) || !d || sh.sh_entsize != sizeof(Elf64_Rela))
		return error("%s: corrupt relocation section %s", elf->name, rs->name);
	if (sh.sh_link != symtab->index || sh.sh_info == 0 || sh.sh_info >= elf->nsecs)
		return error("%s: relocation section %s has a bad symbol table or target",
			     elf->name, rs->name);
	target = &elf->secs[sh.sh_info];
	if (target->relocs)
		return error("%s: section %s has two relocation sections", elf->name, target->name);
	/* Offsets count uncompressed bytes; dwarf.c refuses compressed debug info. */
	if (target->flags & SHF_COMPRESSED)
		return 0;
	n = sh.sh_size / sizeof(Elf64_Rela);
	target->relocs = xcalloc(n, sizeof(*target->relocs));
	if (!target->relocs)
		return -1;
	target->nrelocs = n;
	for (size_t i = 0; i < n; i++) {
		struct reloc *r = &target->relocs[i];
		GElf_Rela rela;
		size_t symi;

		if (!gelf_getrela(d, (int)i, &rela))
			return error("%s: corrupt relocation section %s", elf->name, rs->name);
		symi = GELF_R_SYM(rela.r_info);
		if (symi >= elf->nsyms ||
		    (symi == 0 && !arch_reloc_is_none(elf->machine, GELF_R_TYPE(rela.r_info))))
			return error("%s: relocation %zu of %s: bad symbol index %zu", elf->name, i,
				     target->name, symi);
		if (rela.r_offset >= target->size || target->size - rela.r_offset < 1)
			return error("%s: relocation %zu of %s: offset 0x%llx outside the section",
				     elf->name, i, target->name, (unsigned long long)rela.r_offset);
		r->offset = rela.r_offset;
		r->type = (uint32_t)GELF_R_TYPE(rela.r_info);
		r->sym = &elf->syms[symi];
		r->addend = rela.r_addend;
	}
	sort(target->relocs, n, sizeof(*target->relocs), cmp_reloc);
	return 0;
}

static int cmp_sym_value(const void *a, const void *b)
{
	const struct symbol *x = *(struct symbol *const *)a, *y = *(struct symbol *const *)b;

	if (x->value != y->value)
		return x->value < y->value ? -1 : 1;
	/* Prefer globals as the canonical name of an address, then larger extents. */
	if ((x->bind == STB_LOCAL) != (y->bind == STB_LOCAL))
		return x->bind == STB_LOCAL ? 1 : -1;
	if (x->size != y->size)
		return x->size > y->size ? -1 : 1;
	return x->index < y->index ? -1 : (int)(x->index > y->index);
}

/*
 * Index defined functions and objects per section, sorted by address, and
 * link aliases (same type, address and size) to one canonical symbol.
 */
static int index_section_symbols(struct elf *elf)
{
	for_each_sym(elf, s) if (s->sec && (s->type == STT_FUNC || s->type == STT_OBJECT ||
					    s->type == STT_TLS)) s->sec->nsyms++;
	for_each_sec(elf, sec)
	{
		if (!sec->nsyms)
			continue;
		sec->syms = xcalloc(sec->nsyms, sizeof(*sec->syms));
		if (!sec->syms)
			return -1;
		sec->nsyms = 0;
	}
	for_each_sym(elf, s) if (s->sec && (s->type == STT_FUNC || s->type == STT_OBJECT ||
					    s->type == STT_TLS)) s->sec->syms[s->sec->nsyms++] = s;
	for_each_sec(elf, sec)
	{
		sort(sec->syms, sec->nsyms, sizeof(*sec->syms), cmp_sym_value);
		for (size_t i = 1; i < sec->nsyms; i++) {
			struct symbol *a = sec->syms[i - 1], *b = sec->syms[i];
			struct symbol *canon = a->alias_of ? a->alias_of : a;

			if (a->value == b->value && a->size == b->size && a->type == b->type)
				b->alias_of = canon;
		}
	}
	return 0;
}

int elf_open(struct elf *elf, const char *name, const uint8_t *image, size_t size)
{
	struct section *symtab = NULL;
	Elf *e;

	memset(elf, 0, sizeof(*elf));
	elf->name = name;
	elf->image = image;
	elf->size = size;
	if (init_libelf() < 0)
		return -1;
	if (is_llvm_bitcode(image, size))
		return error("%s: LTO intermediate object: build without -flto, or with "
			     "-ffat-lto-objects (it is LLVM bitcode, not machine code)",
			     name);
	if (size < SELFMAG || memcmp(image, ELFMAG, SELFMAG))
		return bad(elf, "not an ELF object file");
	if (size < sizeof(Elf64_Ehdr))
		return bad(elf, "truncated ELF header");
	e = elf_memory((char *)image, size);
	if (!e)
		return error("%s: cannot read ELF file: %s", name, elf_errmsg(-1));
	elf->handle = e;
	if (check_header(elf, e) < 0 || load_sections(elf, e) < 0)
		goto fail;
	for_each_sec(elf, s)
	{
		if (s->type == SHT_SYMTAB) {
			if (symtab) {
				bad(elf, "more than one symbol table");
				goto fail;
			}
			symtab = s;
		}
		if (s->type == SHT_REL) {
			error("%s: section %s: REL relocations are not supported", name, s->name);
			goto fail;
		}
	}
	if (!symtab) {
		/*
		 * glibc's libc.a holds empty objects (stubs for compatibility
		 * names) with no symbol table: fine, nothing to compare.  Code
		 * or data without one is a stripped object.
		 */
		for_each_sec(elf, s)
		{
			if ((s->flags & SHF_ALLOC) && s->size) {
				error("%s: no symbol table (stripped object?)", name);
				goto fail;
			}
		}
	} else if (load_symbols(elf, e, symtab) < 0) {
		goto fail;
	}
	for_each_sec(elf, s)
	{
		if (s->type != SHT_RELA)
			continue;
		if (!symtab) {
			error("%s: relocation section %s but no symbol table", name, s->name);
			goto fail;
		}
		if (load_relocs(elf, e, s, symtab) < 0)
			goto fail;
	}
	if (index_section_symbols(elf) < 0 || build_name_hash(elf) < 0 || check_lto(elf) < 0)
		goto fail;
	return 0;
fail:
	elf_close(elf);
	return -1;
}

void elf_close(struct elf *elf)
{
	if (elf->secs)
		for_each_sec(elf, s)
		{
			free(s->relocs);
			free(s->syms);
		}
	free(elf->secs);
	free(elf->syms);
	free(elf->by_name);
	if (elf->handle)
		elf_end(elf->handle);
	memset(elf, 0, sizeof(*elf));
}

bool elf_is_archive(const uint8_t *image, size_t size)
{
	return size >= SARMAG && !memcmp(image, ARMAG, SARMAG);
}

bool elf_is_thin_archive(const uint8_t *image, size_t size)
{
	return size >= 8 && !memcmp(image, "!<thin>\n", 8);
}

/* ---- identity ------------------------------------------------------------ */

static int cmp_cstr(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* Join file and names (sorted here) into "file\nname\n...", or NULL. */
static char *join_identity(const char *file, const char **names, size_t n)
{
	size_t len = strlen(file) + 1;
	char *id, *w;

	sort(names, n, sizeof(*names), cmp_cstr);
	for (size_t i = 0; i < n; i++)
		len += strlen(names[i]) + 1;
	id = xmalloc(len + 1);
	if (!id)
		return NULL;
	w = id + sprintf(id, "%s", file);
	for (size_t i = 0; i < n; i++)
		w += sprintf(w, "\n%s", names[i]);
	return id;
}

char *elf_identity(const uint8_t *image, size_t size)
{
	const char *file = "", **names = NULL;
	Elf_Scn *scn = NULL;
	char *id = NULL;
	size_t n = 0, count;
	GElf_Shdr sh;
	Elf_Data *d;
	Elf *e;

	if (init_libelf() < 0 || size < SELFMAG || memcmp(image, ELFMAG, SELFMAG) ||
	    !(e = elf_memory((char *)image, size)))
		return NULL;
	while ((scn = elf_nextscn(e, scn)))
		if (gelf_getshdr(scn, &sh) && sh.sh_type == SHT_SYMTAB)
			break;
	d = scn ? elf_getdata(scn, NULL) : NULL;
	count = d && sh.sh_entsize == sizeof(Elf64_Sym) ? sh.sh_size / sizeof(Elf64_Sym) : 0;
	if (count > MAX_SYMBOLS || (count && !(names = xcalloc(count, sizeof(*names)))))
		goto out;
	for (size_t i = 1; i < count; i++) {
		GElf_Sym sym;
		const char *nm;

		if (!gelf_getsym(d, (int)i, &sym) || !(nm = elf_strptr(e, sh.sh_link, sym.st_name)))
			goto out;
		if (GELF_ST_TYPE(sym.st_info) == STT_FILE && !file[0])
			file = nm;
		else if (GELF_ST_BIND(sym.st_info) != STB_LOCAL && sym.st_shndx != SHN_UNDEF &&
			 nm[0])
			names[n++] = nm;
	}
	id = join_identity(file, names, n);
out:
	free(names);
	elf_end(e);
	return id;
}

/*
 * ar archives are read here rather than through libelf, so that every
 * malformation gets a precise message: the layout is simple and fixed
 * (System V / GNU: "!<arch>\n", then 60-byte headers, "//" holding long
 * names referenced as "/123", a "/" or "/SYM64/" symbol index, members
 * padded to an even size).
 */
struct ar_reader {
	const char *name;
	const uint8_t *image;
	size_t size;
	const char *longnames;
	size_t nlongnames;
};

static bool ar_number(const char *field, size_t width, uint64_t *v)
{
	size_t i = 0;

	*v = 0;
	while (i < width && field[i] == ' ')
		i++;
	if (i == width || field[i] < '0' || field[i] > '9')
		return false;
	for (; i < width && field[i] >= '0' && field[i] <= '9'; i++) {
		if (*v > (UINT64_MAX - 9) / 10)
			return false;
		*v = *v * 10 + (uint64_t)(field[i] - '0');
	}
	for (; i < width; i++)
		if (field[i] != ' ')
			return false;
	return true;
}

/* The member's name into buf; false if malformed. */
static bool ar_member_name(const struct ar_reader *ar, const char *raw, char *buf, size_t size)
{
	size_t n = 0;

	if (raw[0] == '/' && raw[1] >= '0' && raw[1] <= '9') {
		uint64_t off;
		const char *p;

		if (!ar_number(raw + 1, 15, &off) || !ar->longnames || off >= ar->nlongnames)
			return false;
		p = ar->longnames + off;
		while (off + n < ar->nlongnames && p[n] != '/' && p[n] != '\n')
			n++;
		if (off + n >= ar->nlongnames || p[n] != '/' || n == 0 || n >= size)
			return false;
		memcpy(buf, p, n);
	} else {
		while (n < 16 && raw[n] != '/')
			n++;
		if (n == 16 || n == 0)
			return false;
		memcpy(buf, raw, n);
	}
	buf[n] = 0;
	return !memchr(buf, 0, n);
}

int elf_archive_members(const char *name, const uint8_t *image, size_t size,
			int (*cb)(void *arg, const char *member, const uint8_t *data, size_t len),
			void *arg)
{
	struct ar_reader ar = {name, image, size, NULL, 0};
	size_t pos = SARMAG;

	if (!elf_is_archive(image, size))
		return error("%s: not an ar archive", name);
	while (pos < size) {
		const struct ar_hdr *h = (const struct ar_hdr *)(image + pos);
		char member[4096];
		uint64_t len;
		int ret;

		if (size - pos < sizeof(*h))
			return error("%s: truncated archive member header at offset %zu", name,
				     pos);
		if (memcmp(h->ar_fmag, ARFMAG, 2) || !ar_number(h->ar_size, 10, &len))
			return error("%s: corrupt archive member header at offset %zu", name, pos);
		pos += sizeof(*h);
		if (len > size - pos)
			return error("%s: archive member at offset %zu extends past the end of the "
				     "archive",
				     name, pos - sizeof(*h));
		if (!memcmp(h->ar_name, "// ", 3)) {
			ar.longnames = (const char *)image + pos;
			ar.nlongnames = len;
		} else if (!memcmp(h->ar_name, "/ ", 2) || !memcmp(h->ar_name, "/SYM64/ ", 8)) {
			/* the linker's symbol index */
		} else if (!ar_member_name(&ar, h->ar_name, member, sizeof(member))) {
			return error("%s: corrupt archive member name at offset %zu", name,
				     pos - sizeof(*h));
		} else if ((ret = cb(arg, member, image + pos, len)) < 0) {
			return ret;
		}
		pos += len + (len & 1);
	}
	return 0;
}

/*
 * A thin archive's member name is a path: "/N" points into the name table,
 * where it ends with "/\n" (the path itself holds slashes); a short one is
 * "name/" in the header.  False if malformed.
 */
static bool thin_member_name(const struct ar_reader *ar, const char *raw, char *buf, size_t size)
{
	uint64_t off;
	const char *p;
	size_t n = 0;

	if (raw[0] != '/' || raw[1] < '0' || raw[1] > '9')
		return ar_member_name(ar, raw, buf, size);
	if (!ar_number(raw + 1, 15, &off) || !ar->longnames || off >= ar->nlongnames)
		return false;
	p = ar->longnames + off;
	while (off + n + 1 < ar->nlongnames && !(p[n] == '/' && p[n + 1] == '\n'))
		n++;
	if (off + n + 1 >= ar->nlongnames || n == 0 || n >= size)
		return false;
	memcpy(buf, p, n);
	buf[n] = 0;
	return !memchr(buf, 0, n);
}

int elf_thin_archive_members(const char *name, const uint8_t *image, size_t size,
			     int (*cb)(void *arg, const char *member), void *arg)
{
	struct ar_reader ar = {name, image, size, NULL, 0};
	size_t pos = 8;

	if (!elf_is_thin_archive(image, size))
		return error("%s: not a thin archive", name);
	while (pos < size) {
		const struct ar_hdr *h = (const struct ar_hdr *)(image + pos);
		char member[4096];
		uint64_t len;
		int ret;

		if (size - pos < sizeof(*h))
			return error("%s: truncated archive member header at offset %zu", name,
				     pos);
		if (memcmp(h->ar_fmag, ARFMAG, 2) || !ar_number(h->ar_size, 10, &len))
			return error("%s: corrupt archive member header at offset %zu", name, pos);
		pos += sizeof(*h);
		/* Only the symbol index and the name table are held; members are named. */
		if (!memcmp(h->ar_name, "// ", 3) || !memcmp(h->ar_name, "/ ", 2) ||
		    !memcmp(h->ar_name, "/SYM64/ ", 8)) {
			if (len > size - pos)
				return error("%s: archive member at offset %zu extends past the "
					     "end of the archive",
					     name, pos - sizeof(*h));
			if (h->ar_name[1] == '/') {
				ar.longnames = (const char *)image + pos;
				ar.nlongnames = len;
			}
			pos += len + (len & 1);
		} else if (!thin_member_name(&ar, h->ar_name, member, sizeof(member))) {
			return error("%s: corrupt archive member name at offset %zu", name,
				     pos - sizeof(*h));
		} else if ((ret = cb(arg, member)) < 0) {
			return ret;
		}
	}
	return 0;
}
