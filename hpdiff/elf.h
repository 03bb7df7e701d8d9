/*
 * A relocatable object file as hpdiff sees it: sections, symbols and
 * relocations, cross-linked and validated, with lookups by name and by
 * address.  elf.c is the only user of libelf.
 *
 * Everything points into the object's image (the caller's buffer), which
 * must outlive the struct elf.
 */
#ifndef HPDIFF_ELF_H
#define HPDIFF_ELF_H

#include <elf.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct symbol;

struct reloc {
	uint64_t offset; /* in the section the relocation applies to */
	uint32_t type;	 /* the machine's relocation type (arch.h answers questions about it) */
	struct symbol *sym;
	int64_t addend;
};

struct section {
	unsigned int index;
	const char *name;
	uint32_t type;	/* SHT_* */
	uint64_t flags; /* SHF_* */
	uint64_t size, align, entsize;
	uint32_t link, info;  /* sh_link, sh_info */
	const uint8_t *data;  /* NULL for SHT_NOBITS */
	struct reloc *relocs; /* relocations applying here, sorted by offset */
	size_t nrelocs;
	struct symbol **syms; /* defined functions and objects here, sorted by value */
	size_t nsyms;
	struct symbol *secsym; /* the STT_SECTION symbol, if any */
	struct section *twin;  /* same section in the other object */
};

struct symbol {
	unsigned int index;
	const char *name;    /* "" for section symbols */
	uint8_t type;	     /* STT_* */
	uint8_t bind;	     /* STB_* */
	uint16_t shndx;	     /* raw st_shndx */
	struct section *sec; /* defining section; NULL if undefined, absolute or common */
	uint64_t value, size;
	struct symbol *alias_of; /* canonical symbol at the same address, or NULL */
	struct symbol *twin;	 /* the matching symbol in the other object */
	void *priv;		 /* the differ's per-symbol record */
};

struct elf {
	const char *name; /* for messages: "dir/x.o" or "libc.a(x.o)" */
	const uint8_t *image;
	size_t size;
	uint16_t machine; /* e_machine, one arch_supported() accepts: every arch.h question's */
	struct section *secs;
	size_t nsecs;
	struct symbol *syms;
	size_t nsyms;
	const char *srcfile; /* name of the first STT_FILE symbol, or NULL */
	/*
	 * Also holds link-time optimisation's intermediate code beside the
	 * machine code (gcc or clang -ffat-lto-objects): a program linked with
	 * LTO holds code made from that, not this object's code.
	 */
	bool fat_lto;
	struct symbol **by_name; /* open-addressing hash of named symbols */
	size_t by_name_cap;
	void *handle; /* libelf descriptor */
};

/*
 * Parse and validate a 64-bit little-endian ET_REL object held in memory,
 * of a machine arch_supported() accepts.  An LTO intermediate object (LLVM
 * bitcode, or an ELF object holding only gcc's or LLVM's intermediate code)
 * is refused: it has no machine code to compare.  On failure, prints
 * "hpdiff: NAME: problem" and returns -1 with *elf released.
 */
int elf_open(struct elf *elf, const char *name, const uint8_t *image, size_t size);
void elf_close(struct elf *elf);

/* Is `image` an ar archive (by magic)? */
bool elf_is_archive(const uint8_t *image, size_t size);

/* Is `image` a thin ar archive ("!<thin>"), which names its members' files? */
bool elf_is_thin_archive(const uint8_t *image, size_t size);

/*
 * The paths a thin archive names, as recorded (relative to the archive's
 * directory unless absolute), to `cb`.  Returns 0, or -1 after printing a
 * message naming `name` (or what cb returned).
 */
int elf_thin_archive_members(const char *name, const uint8_t *image, size_t size,
			     int (*cb)(void *arg, const char *member), void *arg);

/*
 * What tells apart objects that share a name in one archive: the source
 * file (first STT_FILE) and the names of the symbols the object defines
 * for other objects, as "file\nname\nname..." (names sorted), malloc'ed.
 * NULL when the bytes are not an object this can read, or out of memory:
 * never a message (comparing the object says what is wrong with it).
 */
char *elf_identity(const uint8_t *image, size_t size);

/*
 * Iterate the members of an ar archive held in memory.  `cb` gets each
 * regular member's name and bytes (the symbol index and the long-name table
 * are not members).  A final odd padding byte is optional, as in GNU ar.
 * Returns 0, or -1 after printing a message naming `name` (or what cb
 * returned).
 */
int elf_archive_members(const char *name, const uint8_t *image, size_t size,
			int (*cb)(void *arg, const char *member, const uint8_t *data, size_t len),
			void *arg);

struct symbol *find_symbol_by_name(const struct elf *elf, const char *name);

/*
 * The defined function or object symbol whose extent [value, value+size)
 * holds `off` in `sec`; aliases resolve to their canonical symbol.  If none
 * holds it, a symbol ending exactly at `off` (a one-past-the-end pointer).
 */
struct symbol *find_symbol_containing(const struct section *sec, uint64_t off);

/* First relocation of `sec` whose field starts in [off, off + len). */
struct reloc *find_reloc(const struct section *sec, uint64_t off, uint64_t len);

static inline bool is_exec_sec(const struct section *s)
{
	return s && (s->flags & SHF_EXECINSTR) && s->type == SHT_PROGBITS;
}

static inline bool is_func_sym(const struct symbol *s)
{
	return s->type == STT_FUNC && s->sec && is_exec_sec(s->sec);
}

static inline bool is_data_sym(const struct symbol *s)
{
	return (s->type == STT_OBJECT || s->type == STT_TLS) && (s->sec || s->shndx == SHN_COMMON);
}

static inline bool is_local_sym(const struct symbol *s)
{
	return s->bind == STB_LOCAL;
}

static inline bool is_undef_sym(const struct symbol *s)
{
	return s->shndx == SHN_UNDEF && s->index != 0;
}

static inline bool is_writable_sec(const struct section *s)
{
	return s && (s->flags & SHF_WRITE);
}

/* Safe on empty tables (a NULL array plus zero is undefined behaviour). */
#define for_each_sec(elf, s)                                                                       \
	for (struct section *s = (elf)->nsecs ? (elf)->secs : NULL,                                \
			    *s##_end = s ? s + (elf)->nsecs : NULL;                                \
	     s && s < s##_end; s++)
#define for_each_sym(elf, s)                                                                       \
	for (struct symbol *s = (elf)->nsyms ? (elf)->syms : NULL,                                 \
			   *s##_end = s ? s + (elf)->nsyms : NULL;                                 \
	     s && s < s##_end; s++)

#endif
