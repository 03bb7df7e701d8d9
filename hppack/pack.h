/*
 * Building a package: from .hpd files and the baseline binary to the
 * payload and the list of replaced functions.
 */
#ifndef HPPACK_PACK_H
#define HPPACK_PACK_H

#include <stdbool.h>
#include <stdint.h>

#include "hppack/baseline.h"
#include "format/hpd.h"
#include "format/hpk.h"

/* hppack's exit statuses (docs/hppack.1). */
enum pack_status {
	PACK_OK = 0,	  /* package written */
	PACK_REFUSED = 1, /* the inputs do not make a package for this baseline */
	PACK_TROUBLE = 2, /* usage, I/O, malformed input */
};

struct input {
	const char *path;
	struct hp_hpd *h;
	uint32_t *code_of; /* .hpd function -> payload code, or NO_ITEM when bound */
	int64_t *fbound_of; /* .hpd function -> image offset of the baseline's, if bound */
	uint32_t *data_of; /* .hpd data -> payload data, or NO_ITEM when bound */
	/*
	 * .hpd data -> image offset of the baseline's own instance, for a "new"
	 * global variable the baseline already has (moved between objects), else -1.
	 */
	int64_t *bound_of;
	/* .hpd function -> the baseline function it was proven to replace, or NULL */
	const struct bsym **replaces;
	/*
	 * Per function (data item) i, the aliases naming it, in the alias
	 * table's order: aliases[falias[falias_at[i]]] up to falias_at[i + 1].
	 */
	uint32_t *falias_at, *falias, *dalias_at, *dalias;
	/* per .hpd symbol, its baseline lookup once made (after find_replaced set group) */
	struct sym_lookup *lookup;
	char *scope;	   /* the STT_FILE name its locals are filed under in the baseline */
	size_t group;	   /* baseline STT_FILE group its replaced functions were found in */
};

struct packer {
	struct baseline *b;
	struct input *in;
	size_t nin;
	uint16_t machine; /* the baseline's, and every .hpd's */
	struct hp_payload pl;
	size_t cap_code, cap_data, cap_imports;
	struct hp_manifest_func *funcs; /* replaced functions, sorted by offset at the end */
	uint32_t *func_code;		 /* their code blocks */
	uint32_t nfuncs;
	char *tools; /* "hpdiff 0.1.0, hppack 0.1.0" */
	int status;  /* worst enum pack_status so far */
	/* the new globals of every input by name and alias, sorted (see index_names) */
	struct named *named;
	size_t nnamed;
	/*
	 * Refusals printed, each once (a symbol may be used many times): a hash
	 * set of nsaid messages in cap_said entries (a power of two), NULL free.
	 */
	char **said;
	size_t nsaid, cap_said;
};

/* Read and check the .hpd files; PACK_OK or the status to exit with. */
int pack_load_inputs(struct packer *p, char **paths, int n);

/*
 * Resolve everything against the baseline: replaced functions found and
 * proven, every reference turned into an image offset, a placed item, an
 * import or a constant.  Fills p->pl and p->funcs.
 */
int pack_resolve(struct packer *p);

void pack_free(struct packer *p);

#endif
