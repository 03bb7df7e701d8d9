/*
 * The state hppack's stages share while they bind .hpd files to one
 * baseline and build the package's payload.  pack.c runs the stages in
 * order; one file each: load.c, names.c, find.c, place.c, resolve.c,
 * build.c (writing), and refuse.c for the reasons a package is refused.
 *
 * A stage that can refuse returns its outcome (common/outcome.h) after
 * saying every reason it found, through refuse(); one that cannot returns
 * 0 or -1.  Trouble stops a stage at once, a refusal does not.
 */
#ifndef HPPACK_PACKER_H
#define HPPACK_PACKER_H

#include <stdbool.h>
#include <stdint.h>

#include "arch/arch.h"
#include "hppack/baseline.h"
#include "hppack/pack.h"
#include "format/hpd.h"
#include "format/hpk.h"
#include "common/outcome.h"

/* Baseline symbols of one name looked at, at most. */
#define MAX_CANDIDATES 16
/* An .hpd item the payload does not carry: the baseline's own is used. */
#define NO_ITEM UINT32_MAX

/* The baseline lookup of one .hpd symbol (struct input's lookup). */
struct sym_lookup {
	const struct bsym *s;
	size_t n;
	bool done;
};

/* An item an input defines under a name (its own or an alias). */
struct named {
	const char *name;
	uint32_t in;	/* into p->in */
	uint32_t kind;	/* HP_TGT_FUNC or HP_TGT_DATA */
	uint32_t index; /* into the input's funcs or data */
};

struct input {
	const char *path;
	struct hp_hpd *h;
	uint32_t *code_of;  /* .hpd function -> payload code, or NO_ITEM when bound */
	int64_t *fbound_of; /* .hpd function -> image offset of the baseline's, if bound */
	uint32_t *data_of;  /* .hpd data -> payload data, or NO_ITEM when bound */
	/*
	 * .hpd data -> image offset of the baseline's own instance, for a "new"
	 * global variable the baseline already has (moved between objects), else -1.
	 */
	int64_t *bound_of;
	/* .hpd data -> its block is an earlier input's (the same global, place.c) */
	bool *shared;
	/* .hpd function -> the baseline function it was proven to replace, or NULL */
	const struct bsym **replaces;
	/* .hpd function -> the bytes it replaces from its start (redirect_span() in find.c) */
	uint32_t *span;
	/*
	 * Per function (data item) i, the aliases naming it, in the alias
	 * table's order: aliases[falias[falias_at[i]]] up to falias_at[i + 1].
	 */
	uint32_t *falias_at, *falias, *dalias_at, *dalias;
	/* per .hpd symbol, its baseline lookup once made (after find_replaced set group) */
	struct sym_lookup *lookup;
	char *scope;  /* the STT_FILE name its locals are filed under in the baseline */
	size_t group; /* baseline STT_FILE group its replaced functions were found in */
};

struct packer {
	struct baseline *b;
	struct input *in;
	size_t nin;
	uint16_t machine; /* the baseline's, and every .hpd's */
	struct hp_payload pl;
	size_t cap_code, cap_data, cap_imports;
	struct hp_manifest_func *funcs; /* replaced functions, sorted by offset at the end */
	uint32_t *func_code;		/* their code blocks */
	uint32_t nfuncs;
	char *tools; /* "hpdiff 0.1.0, hppack 0.1.0" */
	/* the new globals of every input by name and alias, sorted (see pack_index_names) */
	struct named *named;
	size_t nnamed;
	/*
	 * Refusals printed, each once (a symbol may be used many times): a hash
	 * set of nsaid messages in cap_said entries (a power of two), NULL free.
	 */
	char **said;
	size_t nsaid, cap_said;
};

/* ---- the stages, in the order pack() runs them ---------------------------------- */

/*
 * Read the n .hpd files into p->in, sorted by object, and p->tools.
 * Refused when one is marked not hotpatchable or two are of one object.
 */
enum outcome pack_load_inputs(struct packer *p, char **paths, size_t n);

/*
 * Load the baseline into p->b and set p->machine, which every .hpd must be
 * for.  0, or -1 after a message.
 */
int pack_load_baseline(struct packer *p, const char *path, const char *symbols);

/* Alias lists, empty symbol lookups and the table of new globals; 0, or -1. */
int pack_index_names(struct packer *p);

/*
 * Refuse a baseline linked with link-time optimisation (p->b->lto): no
 * object's code is in it.  Returns OUTCOME_REFUSED.
 */
enum outcome pack_refuse_lto_baseline(struct packer *p);

/*
 * in->replaces: the baseline function each changed function replaces,
 * proven to have the OLD object's code.  Refused when one is missing or
 * does not have it.
 */
enum outcome pack_find(struct packer *p);

/*
 * in->code_of, in->data_of: a payload block per function and data item, or
 * the baseline's own.  Refused when a moved item changed.
 */
enum outcome pack_place(struct packer *p);

/* The placed blocks' references resolved.  Refused when one cannot be, safely. */
enum outcome pack_resolve(struct packer *p);

/*
 * p->funcs and the payload's replaced list, in the manifest's order (by
 * address).  A function several .hpd files replace the same way (a C++
 * inline function of a header) is replaced once; refused when they
 * replace it differently, or replace overlapping functions.
 */
enum outcome pack_list_replaced(struct packer *p);

/*
 * Payload, compression, MANIFEST, container, signature, atomic write.
 * Refused when --previous does not allow this package.
 */
enum outcome pack_write(struct packer *p, const struct pack_opts *o);

/* ---- shared by the stages ----------------------------------------------------- */

/* Say why the package is refused (each message once); returns OUTCOME_REFUSED. */
enum outcome refuse(struct packer *p, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* The STT_FILE scope an input's symbol of this binding is looked up in, or NULL. */
const char *scope_of(const struct input *in, uint8_t bind);

/*
 * The baseline symbol the input's hs (one of in->h->syms) names: a local by
 * the input's source file, else the first of the name.  *n is how many the
 * baseline has of that name (in that file); NULL when none, or a local is
 * ambiguous.  Looked up once per symbol, when in->group is known.
 */
const struct bsym *baseline_sym(const struct packer *p, const struct input *in,
				const struct hp_sym *hs, size_t *n);

/*
 * Name k of an item: 0 is its own name, then its aliases (list[at[item]]
 * up to at[item + 1], see struct input); NULL past the last.
 */
const char *nth_name(const struct hp_hpd *h, const char *name, const uint32_t *at,
		     const uint32_t *list, uint32_t item, uint32_t k);

/*
 * Are payload code blocks a and b the same replacement (comdat.c): the same
 * bytes, and every reference resolved to the same place, or to blocks that
 * are the same in turn?  false when not shown to be, after a bounded search.
 */
bool same_replacement(const struct packer *p, uint32_t a, uint32_t b);

/*
 * Drop every code block i with copy_of[i] != i, a copy of the kept block
 * copy_of[i], and the blocks only such copies reach; renumber every
 * reference to a block, and p->func_code.  The inputs' code_of and data_of
 * are not renumbered: nothing uses them any more.  0, or -1 when out of
 * memory.
 */
int drop_copies(struct packer *p, const uint32_t *copy_of);

/* The first of the new globals named so, in order of precedence, or NULL. */
const struct named *find_named(const struct packer *p, const char *name);

/*
 * A 4-byte S + A - P field: a direct call or jump, or a PC-relative
 * address.  It can point at the binary's PLT entry for a symbol instead.
 */
static inline bool pcrel32(uint16_t machine, uint32_t type)
{
	const struct hp_reloc_desc *d = hp_reloc_describe(machine, type);

	return d && d->calc == HP_CALC_PCREL && d->size == 4;
}

#endif
