/*
 * The differ's model of one object pair.
 *
 * Each object is broken into functions (struct func), named data
 * (struct dobj) and anonymous read-only pieces (struct piece: a string
 * literal, a merged constant, a jump table).  Every field of a function or
 * data item that points elsewhere is a reference (struct ref) to a target
 * (struct target) named by identity, not by address: "helper+0", "the
 * string "bad header"", "+0x40 inside this function".  References come from
 * relocations and, where the assembler resolved a call, jump or RIP-relative
 * load inside one section, from decoding the instruction.
 *
 * Two functions are the same iff their instruction streams are the same
 * with reference fields masked and their references name equal targets.
 */
#ifndef HPDIFF_DIFF_H
#define HPDIFF_DIFF_H

#include <stdbool.h>
#include <stdint.h>

#include "hpdiff/elf.h"
#include "arch/arch.h"

struct dwarf_info;

enum status {
	ST_SAME = 0,
	ST_CHANGED,
	ST_NEW,
	ST_REMOVED,
};

enum target_kind {
	T_NONE = 0,
	T_SELF,	   /* inside the referencing function: off from its start */
	T_FUNC,	   /* another function of the object */
	T_DATA,	   /* a named data object of the object */
	T_UNDEF,   /* by name: a symbol the object imports (or an absolute one), or an IFUNC */
	T_PIECE,   /* anonymous read-only bytes, compared by content */
	T_SECTION, /* a section offset no symbol covers (last resort) */
};

struct func;
struct dobj;
struct piece;

struct target {
	uint8_t kind; /* enum target_kind */
	struct func *func;
	struct dobj *data;
	struct symbol *sym; /* T_UNDEF */
	struct piece *piece;
	struct section *sec; /* T_SECTION */
	int64_t off;	     /* offset inside the target */
};

/*
 * A field that points elsewhere.  The relocation addend is off + adj:
 * `adj` is the part that depends on the field's own position (-4 for a
 * rel32 at the end of an instruction), `off` the offset inside the target.
 */
struct ref {
	uint32_t off;  /* field offset from the start of the function or data item */
	uint8_t size;  /* field width */
	uint32_t type; /* relocation type; arch_reloc_pcrel_type() for decoded fields */
	bool implicit; /* the object has no relocation here (decoded) */
	bool branch;   /* the displacement of a direct call or jump */
	int64_t adj;
	struct target t;
};

struct object;

struct func {
	struct symbol *sym; /* canonical symbol */
	struct object *obj;
	uint64_t off, size; /* extent inside sym->sec */
	const uint8_t *code;
	struct insn *insns;
	long ninsns; /* -1: bytes that do not decode (compared as bytes) */
	struct ref *refs;
	size_t nrefs;
	struct func *twin;
	char *key; /* name without clone numbers: "foo.isra" */
	enum status status;
	char *reason; /* why it changed (or cannot be patched) */
	bool unpatchable;
	long diff_off; /* first differing offset in this function, or -1 */
	int emit;      /* index in the .hpd functions, or -1 */
	char *source;  /* "file.c:42" from DWARF, or NULL */
	/*
	 * Executable bytes no sized function symbol covers (object.c): code up
	 * to the next symbol or the section's end, named by the label it starts
	 * at (assembly without .type/.size, a top-level asm block), or unnamed.
	 */
	bool unsized;
	bool unnamed; /* unsized, starts at no symbol: sym is made up, not the object's */
	/* Emitted code when short branches had to be widened (widen.c). */
	uint8_t *wcode;
	uint32_t wsize;
	uint32_t *wmap; /* old offset -> new offset, size + 1 entries; NULL if not widened */
};

struct dobj {
	struct symbol *sym;
	struct object *obj;
	struct section *sec; /* NULL for common symbols */
	uint64_t off, size;
	struct ref *refs; /* pointers in the initial value */
	size_t nrefs;
	struct dobj *twin;
	char *key;
	enum status status;
	bool unpatchable;
	char *reason;
	int emit;	     /* index in the .hpd data, or -1 */
	struct func **users; /* functions referencing it */
	size_t nusers;
};

struct piece {
	struct object *obj;
	struct section *sec;
	uint64_t off, size;
	struct ref *refs; /* relocated fields (jump table entries) */
	size_t nrefs;
	bool refs_built;
	int emit;	    /* index in the .hpd data, or -1 */
	struct piece *next; /* hash chain */
};

/* Sorted start offsets of anonymous pieces of a read-only section. */
struct bounds {
	uint64_t *v;
	size_t n;
	bool built;
};

struct object {
	struct elf elf;
	const char *name;
	uint8_t sha256[32];
	struct func *funcs;
	size_t nfuncs;
	struct dobj *data;
	size_t ndata;
	struct piece **pieces; /* hash by (section, offset) */
	size_t piece_cap, npieces;
	struct bounds *bounds; /* per section index */
	struct dwarf_info *dwarf;
	/* funcs[ranges, nfuncs) are the unsized ones, by section and offset */
	size_t ranges;
	struct symbol *made_syms; /* the symbols of unnamed unsized code */
	size_t nmade_syms;
};

/* An object-level finding (for example a type layout change). */
struct finding {
	char *name;
	char *reason;
	bool unpatchable;
};

struct diff {
	const char *name; /* the pair as reported: "x.o", "libc.a(printf.o)" */
	struct object old, new;
	uint16_t machine; /* both objects' e_machine (the .hpd's) */
	bool analysed;	  /* compared in full (not byte-identical) */
	bool differs;
	bool unpatchable;
	struct finding *findings;
	size_t nfindings;
};

/* ---- iterators ---------------------------------------------------------- */

/* Every element of array[0, n) as T *x; safe on empty (NULL) arrays. */
#define for_each_in(array, n, T, x)                                                                \
	for (T *x = (n) ? (array) : NULL, *x##_end = x ? x + (n) : NULL; x && x < x##_end; x++)

/* The functions and named data of one side, in symbol table order. */
#define for_each_func(o, f) for_each_in((o)->funcs, (o)->nfuncs, struct func, f)
#define for_each_data(o, x) for_each_in((o)->data, (o)->ndata, struct dobj, x)
/* The references of a function, data item or piece, by field offset. */
#define for_each_ref(item, r)	for_each_in((item)->refs, (item)->nrefs, struct ref, r)
#define for_each_finding(d, fd) for_each_in((d)->findings, (d)->nfindings, struct finding, fd)

/* ---- predicates ----------------------------------------------------------- */

/* A direct call or jump: its PC-relative field is where control goes. */
static inline bool is_direct_branch(const struct insn *in)
{
	return in->type == INSN_CALL || in->type == INSN_JUMP || in->type == INSN_JUMP_COND;
}

/*
 * Data a program writes: a writable section's, a common symbol's (zeroed
 * storage the linker places), or thread-local.  The rest is constant.
 */
static inline bool is_writable_data(const struct dobj *x)
{
	return !x->sec || is_writable_sec(x->sec) || x->sym->type == STT_TLS;
}

/*
 * Can changed data be replaced by a copy?  Only a file-local constant:
 * nothing outside this object can read it, and each user of the old one
 * becomes a changed function (target_cmp() in compare.c) whose
 * replacement reads the copy.  A changed variable (is_writable_data())
 * never is: the running process keeps its current value, which a hotpatch
 * cannot re-initialise or resize (emit.c's refers_to_running_instance()
 * states the same rule for references).  Neither is a global constant,
 * which other objects may read.  compare.c makes the rest unpatchable.
 */
static inline bool is_replaceable_data(const struct dobj *old, const struct dobj *new)
{
	return !is_writable_data(old) && is_local_sym(old->sym) && is_local_sym(new->sym);
}

/* Changed data the .hpd replaces with a copy (is_replaceable_data() said yes). */
static inline bool is_replaced_data(const struct dobj *x)
{
	return x->status == ST_CHANGED && !x->unpatchable;
}

/*
 * Unsized code that changed or is new cannot be hotpatched: a hotpatch
 * replaces whole functions, and only a function symbol's size says where
 * one ends (object.c marks it, with the reason).
 */
static inline bool is_unsized_change(const struct func *f)
{
	return f->unsized && (f->status == ST_CHANGED || f->status == ST_NEW);
}

/* Emitted as new code: a changed or new function of the fixed object. */
static inline bool is_replaced_or_new(const struct func *f)
{
	return f->status == ST_CHANGED || f->status == ST_NEW;
}

/* object.c: building and analysing one side */
int object_load(struct object *o, const char *name, const uint8_t *image, size_t size);
void object_free(struct object *o);
/* Decode every function and build references for code and data. */
int object_analyse(struct object *o);
/* Mark every is_unsized_change() of d unpatchable, with the reason; 0, or -1. */
int refuse_unsized_code(struct diff *d);
struct func *func_of(const struct symbol *s);
struct dobj *dobj_of(const struct symbol *s);
/* References of the piece, built on first use. */
int piece_refs(struct object *o, struct piece *p);
/* Name a target for messages: "helper+0x4", "string \"bad\"". */
const char *target_name(const struct target *t, char *buf, size_t size);
/* The instruction of f holding byte off, or -1 (insns are sorted and do not overlap). */
long func_insn_at(const struct func *f, uint64_t off);
/* The reference that is instruction i's direct branch target, if any. */
const struct ref *func_branch_ref(const struct func *f, long i);
/*
 * Instruction i of f as assembly text; a direct call or jump shows its
 * target by name ("call helper") when a reference gives it, rather than the
 * address an unrelocated displacement points at.
 */
char *func_insn_text(const struct func *f, long i, char *buf, size_t size);
/* The same with the branch reference already found: func_branch_ref(f, i). */
char *func_insn_text_ref(const struct func *f, long i, const struct ref *branch, char *buf,
			 size_t size);
/* Clone-number-free key: "foo.constprop.0.isra.1" -> "foo.constprop.isra". */
char *clone_key(const char *name);
/* Length of the origin's name in a clone's: "foo.constprop.0" -> 3 ("foo"). */
size_t clone_origin_len(const char *name);

/* correlate.c: twins between the two objects */
int correlate(struct diff *d);

/* compare.c: statuses and reasons */
int compare(struct diff *d);
/*
 * Instruction i of a and j of b are the same: bytes outside reference
 * fields, references by target identity (twins).  Returns 1 or 0, -1 on
 * trouble (message said).  Branches inside a function compare as bytes.
 */
int insn_equal(const struct func *a, long i, const struct func *b, long j);

/*
 * startup.c: code that ran once, before the fix could be applied --
 * constructors (.init_array, .ctors), what only they reach, C++ dynamic
 * initialisers and guarded initialisation of function-scope statics.
 * Marks what changed there not hotpatchable.  Returns 0, -1 on trouble.
 */
int check_startup(struct diff *d);

/*
 * widen.c: rewrite f's code so that short (rel8) branches leaving it become
 * rel32 branches, which can reach wherever the function is placed.  Fills
 * f->wcode, f->wsize and f->wmap.  Returns 0; 1 with *why set (a static
 * string) if the code cannot be rewritten; -1 when out of memory.
 */
int widen_branches(struct func *f, const char **why);
/* Offset in the emitted code of offset `off` of f's object code. */
int64_t emitted_offset(const struct func *f, int64_t off);

/* typelayout.c: type layout changes found through DWARF */
int check_layouts(struct diff *d);

/*
 * unwindinfo.c: refuse emitted functions that need unwind information in
 * the process (an LSDA, or calls in code that uses exceptions): a package
 * cannot carry it yet.  Returns 0, or -1 when out of memory.
 */
int check_unwind(struct diff *d);

/*
 * diff.c: compare one pair held in memory.  `name` is the pair in reports;
 * old_name and new_name name each file in messages.  Either image may be
 * NULL for an object that exists on one side only.  Returns 0, or -1 after
 * printing a message naming the file (malformed or unsupported input).
 */
int diff_objects(struct diff *d, const char *name, const char *old_name, const uint8_t *old,
		 size_t old_len, const char *new_name, const uint8_t *new, size_t new_len);
/* Record an object-level finding; takes ownership of reason. */
int diff_add_finding(struct diff *d, const char *name, bool unpatchable, char *reason);
void diff_free(struct diff *d);

#endif
