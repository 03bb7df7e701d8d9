/*
 * The baseline binary a package patches, as hppack needs it: the image
 * (format/image.h), its symbol table with file-local symbols scoped by the
 * STT_FILE entry they follow, and where the binary already reaches other
 * modules: PLT entries and GOT slots by symbol name, TLS offset slots.
 * baseline.c is hppack's only libelf user.
 */
#ifndef HPPACK_BASELINE_H
#define HPPACK_BASELINE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "format/image.h"

struct bsym {
	const char *name;
	const char *file; /* STT_FILE scope of a local symbol; NULL for globals */
	size_t group;	  /* which STT_FILE entry it follows (telling same-named files apart) */
	uint64_t value, size;
	uint8_t type, bind;
	bool defined;
};

/* Where the binary reaches a symbol through a table. */
struct bslot {
	const char *name;
	uint64_t vaddr;
};

struct baseline {
	const char *path;
	const char *name; /* basename, for the manifest */
	uint8_t *file;
	size_t len;
	uint8_t sha256[32];
	struct hp_image img;
	struct bsym *syms;
	size_t nsyms;
	struct bsym **by_name; /* sorted by (name, file) */
	struct bslot *plt;     /* PLT entry by imported name */
	size_t nplt;
	struct bslot *got; /* GOT slot (GLOB_DAT / JUMP_SLOT) by name */
	size_t ngot;
	struct bslot *exports; /* defined dynamic symbols (not hidden versions) by name */
	size_t nexports;
	struct bslot *tls_got; /* initial-exec TLS slots (ARCH_DYN_TPOFF) by name or offset */
	size_t ntls_got;
	uint64_t *bounds; /* symbol values and code section starts and ends, sorted */
	size_t nbounds;
	const char **files; /* the STT_FILE names of the symbol table, sorted */
	size_t nfiles;
	/*
	 * Why the binary was linked with link-time optimisation ("its symbols
	 * are filed under ld-temp.o, ..."), or NULL when nothing says so.
	 */
	const char *lto;
	char **owned_keys; /* slot names made here (IFUNC keys) */
	size_t nowned;
	void *sym_elf, *bin_elf; /* libelf descriptors */
	uint8_t *sym_file;	 /* --baseline-symbols file, if any */
};

/*
 * Load the baseline binary and its symbols (from symbols_path if not NULL:
 * a separate debug file with the same build-id); b->img.machine is one
 * arch_supported().  Prints a message naming the file and returns -1 on
 * failure.
 */
int baseline_load(struct baseline *b, const char *path, const char *symbols_path);
void baseline_free(struct baseline *b);

/*
 * Defined symbols named `name`: globals when file is NULL (or, if there is
 * no such global, the hidden ones the linker made local), else locals of
 * that source file.  Returns how many (up to max) were stored in out.
 */
size_t baseline_find(const struct baseline *b, const char *name, const char *file,
		     const struct bsym **out, size_t max);

/*
 * vaddr of the binary's own definition of a dynamic symbol it exports, or
 * 0: what the loader binds that name to in the binary's processes (the
 * binary comes first in the lookup).  A program's copy of a library
 * variable (a copy relocation: `stderr`, listed in the symbol table as
 * `stderr@GLIBC_2.2.5`) is found here.
 */
uint64_t baseline_export(const struct baseline *b, const char *name);
/* Does the symbol table have an STT_FILE entry `file` (a source file linked in)? */
bool baseline_has_file(const struct baseline *b, const char *file);

/* vaddr of the PLT entry / GOT slot through which the binary reaches name, or 0. */
uint64_t baseline_plt(const struct baseline *b, const char *name);
uint64_t baseline_got(const struct baseline *b, const char *name);
/*
 * For an IFUNC the binary defines itself: the PLT entry and the slot
 * (IRELATIVE) through which the binary calls the implementation, or 0.
 */
uint64_t baseline_ifunc_plt(const struct baseline *b, const struct bsym *s);
uint64_t baseline_ifunc_slot(const struct baseline *b, const struct bsym *s);

/*
 * The first address after addr where a symbol (of any type or size) or an
 * executable section begins, or an executable section ends: how far the
 * bytes after a function are nobody's.  0 if there is none.
 */
uint64_t baseline_next_bound(const struct baseline *b, uint64_t addr);

/* vaddr of the initial-exec TLS slot for a TLS symbol, or 0. */
uint64_t baseline_tls_slot(const struct baseline *b, const struct bsym *s);

/* Thread-pointer offset of a TLS symbol of an executable (arch_tls_tp_offset). */
int64_t baseline_tpoff(const struct baseline *b, const struct bsym *s);

#endif
