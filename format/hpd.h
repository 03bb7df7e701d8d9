/*
 * The .hpd file: what hpdiff found between a baseline object and its fixed
 * build, and everything hppack needs to turn that into a package.
 *
 * A .hpd holds the changed and new functions' code, the new data and
 * read-only constants that code needs, and for every place in that code
 * that points outside itself a relocation naming its target: an existing
 * symbol of the baseline object, a symbol the object imports, or a function
 * or data item of the same .hpd.  For each replaced function it also holds
 * the baseline object's code of that function, so hppack can prove the
 * baseline binary was built from that object.  Finally it keeps hpdiff's
 * findings (what changed and why, what cannot be hotpatched), so a .hpd
 * written for a "not hotpatchable" result still explains itself.
 *
 * The byte layout is specified in docs/format.md; this header is the
 * in-memory model.  All strings are NUL-terminated copies; every array is
 * owned by the struct and released by hp_hpd_free().
 */
#ifndef HP_HPD_H
#define HP_HPD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "format/hp.h"

#define HP_HPD_MAJOR 1
#define HP_HPD_MINOR 2 /* 1.1: aliases; 1.2: the LTO flag; 1.0 and 1.1 files are read too */

/* Header flags. */
#define HP_HPD_F_UNPATCHABLE 0x1u /* some finding cannot be hotpatched */
/*
 * Since 1.2: an object of the pair also holds link-time optimisation's
 * intermediate code (-ffat-lto-objects).  A baseline linked with LTO was
 * compiled from that, not from the objects' machine code.
 */
#define HP_HPD_F_LTO   0x2u
#define HP_HPD_F_KNOWN 0x3u
/* The flags a file of minor version `minor` may have. */
#define HP_HPD_F_KNOWN_IN(minor) ((minor) < 2 ? HP_HPD_F_UNPATCHABLE : HP_HPD_F_KNOWN)

/* Reader limits: inputs beyond them are rejected with HP_ELIMIT. */
#define HP_HPD_MAX_FILE	 (1u << 30)
#define HP_HPD_MAX_NAME	 65536u
#define HP_HPD_MAX_TEXT	 65536u
#define HP_HPD_MAX_COUNT (1u << 20)
#define HP_HPD_MAX_CODE	 (64u << 20)
#define HP_HPD_MAX_BSS	 (1u << 30) /* zero-initialised data carries no bytes */
#define HP_HPD_MAX_ALIGN 4096u

/* Binding of a symbol or emitted item. */
enum hp_bind {
	HP_BIND_LOCAL = 0, /* file-local: scoped by the .hpd's source file */
	HP_BIND_GLOBAL = 1,
	HP_BIND_WEAK = 2,
};

/* Where a named reference target lives. */
enum hp_sym_kind {
	HP_SYM_BASE = 1,  /* defined by the baseline object itself */
	HP_SYM_UNDEF = 2, /* imported by the object: another object or a library */
};

enum hp_sym_type {
	HP_STYPE_NOTYPE = 0,
	HP_STYPE_FUNC = 1,
	HP_STYPE_OBJECT = 2,
	HP_STYPE_TLS = 3,
};

struct hp_sym {
	uint8_t kind; /* enum hp_sym_kind */
	uint8_t bind; /* enum hp_bind */
	uint8_t type; /* enum hp_sym_type */
	char *name;   /* symbol name in the baseline object */
};

/* What a relocation points at. */
enum hp_target_kind {
	HP_TGT_SYM = 1,	 /* syms[target] */
	HP_TGT_FUNC = 2, /* the emitted code of funcs[target] */
	HP_TGT_DATA = 3, /* data[target] */
};

struct hp_reloc {
	uint32_t offset;     /* of the field, from the start of the code or data */
	uint32_t type;	     /* ELF relocation type of the header's machine */
	uint8_t target_kind; /* enum hp_target_kind */
	uint32_t target;     /* index into syms, funcs or data */
	int64_t addend;
};

enum hp_func_status {
	HP_FUNC_CHANGED = 1, /* replaces the baseline function base_name */
	HP_FUNC_NEW = 2,     /* new code, reached only from emitted code */
};

struct hp_func {
	uint8_t status;	 /* enum hp_func_status */
	uint8_t bind;	 /* enum hp_bind */
	uint32_t align;	 /* power of two */
	char *name;	 /* name in the fixed object */
	char *base_name; /* CHANGED: name of the replaced baseline function; else "" */
	char *section;	 /* section in the fixed object (".text.unlikely"), informative */
	char *source;	 /* "file.c:42" from DWARF, or "" */
	uint8_t *code;
	uint32_t size;
	struct hp_reloc *relocs; /* sorted by offset, fields do not overlap */
	uint32_t nrelocs;
	/* CHANGED only: the baseline object's code and relocations. */
	uint8_t *old_code;
	uint32_t old_size;
	struct hp_reloc *old_relocs; /* targets are HP_TGT_SYM only */
	uint32_t nold_relocs;
};

enum hp_data_kind {
	HP_DATA_VAR = 1,    /* new writable variable with initial bytes */
	HP_DATA_BSS = 2,    /* new zero-initialised writable variable */
	HP_DATA_RODATA = 3, /* read-only bytes: constants, literals, jump tables */
};

struct hp_data {
	uint8_t kind; /* enum hp_data_kind */
	uint8_t bind; /* enum hp_bind */
	uint32_t align;
	char *name; /* variable name, or a description for anonymous constants */
	uint64_t size;
	uint8_t *init; /* size bytes; NULL for HP_DATA_BSS */
	struct hp_reloc *relocs;
	uint32_t nrelocs;
};

enum hp_note_subject {
	HP_NOTE_FUNC = 1,
	HP_NOTE_DATA = 2,
	HP_NOTE_OBJECT = 3,
};

enum hp_note_status {
	HP_NOTE_CHANGED = 1,
	HP_NOTE_NEW = 2,
	HP_NOTE_REMOVED = 3,
};

/* One finding of the differ, as the report showed it. */
struct hp_note {
	uint8_t subject; /* enum hp_note_subject */
	uint8_t status;	 /* enum hp_note_status */
	bool patchable;
	char *name;
	char *reason;
};

/*
 * Another global or weak name of an emitted function or data item (a
 * symbol of NEW at the same place, such as glibc's hidden `_rseq_offset`
 * for `__rseq_offset`): other objects may refer to the item by it.
 */
struct hp_alias {
	uint8_t kind;	/* HP_TGT_FUNC or HP_TGT_DATA */
	uint8_t bind;	/* HP_BIND_GLOBAL or HP_BIND_WEAK */
	uint32_t index; /* into funcs or data */
	char *name;
};

struct hp_hpd {
	uint16_t major, minor;
	uint32_t flags;		/* HP_HPD_F_* */
	uint16_t machine;	/* ELF e_machine of both objects */
	char *tool;		/* "hpdiff 0.1.0" */
	char *object;		/* object name as hpdiff was given it */
	char *source;		/* source file the object was built from ("" if unknown) */
	uint8_t old_sha256[32]; /* of the baseline object file */
	uint8_t new_sha256[32]; /* of the fixed object file */
	struct hp_sym *syms;
	uint32_t nsyms;
	struct hp_func *funcs;
	uint32_t nfuncs;
	struct hp_data *data;
	uint32_t ndata;
	struct hp_note *notes;
	uint32_t nnotes;
	struct hp_alias *aliases; /* since 1.1 */
	uint32_t naliases;
};

/*
 * Serialise a .hpd.  Fails with HP_ENOMEM, or HP_EVALUE/HP_ERANGE when the
 * model does not satisfy what the reader will check (so a writer can never
 * produce a file its own reader rejects).  *out is malloc'ed.
 */
int hp_hpd_encode(const struct hp_hpd *h, uint8_t **out, size_t *len, struct hp_error *e);

/*
 * Parse and validate a .hpd held in memory.  Strict: every reserved field
 * zero, every index and offset in range, relocations sorted, known
 * relocation types only, checksum verified, nothing after the trailer.
 */
int hp_hpd_decode(const uint8_t *buf, size_t len, struct hp_hpd **out, struct hp_error *e);

/* Check a model the way the decoder would (used by encode and by tests). */
int hp_hpd_validate(const struct hp_hpd *h, struct hp_error *e);

/* Release symbols, functions, data and aliases, keeping the header and notes. */
void hp_hpd_drop_code(struct hp_hpd *h);

void hp_hpd_free(struct hp_hpd *h);

#endif
