/*
 * What is applied to a process, kept in the process itself: a memfd mapping
 * named "hpapply-state" holding one record.  It lives and dies with the
 * process (a restarted process runs the baseline again), and only someone
 * allowed to ptrace the process can read or change it, as with its code.
 *
 * Each apply or revert writes a new record in a new mapping with a higher
 * generation; the commit stub sets its `committed` byte as its last write.
 * The current state is the committed record with the highest generation;
 * anything else named hpapply-* is left over from an interrupted run.
 *
 * A package applies to every instance of its baseline in the process (a
 * library loaded twice, under two names or in two dlmopen namespaces):
 * the record names each instance by its load address and the device and
 * inode of its file, and each redirect says which instance it patches.
 */
#ifndef HPAPPLY_STATE_H
#define HPAPPLY_STATE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "hpapply/proc.h"

#define STATE_COMMITTED_AT 8 /* offset of the committed byte */
#define STATE_MAX	   (16u << 20)

struct redirect {
	uint32_t instance; /* index into state.inst */
	uint64_t addr;	   /* where the jump is written */
	uint8_t len;	   /* bytes written (<= 16) */
	uint8_t saved[16]; /* the baseline's bytes there */
	uint8_t written[16];
	uint64_t func, func_size; /* the replaced function */
	char *name;
};

struct region {
	uint64_t start, size;
};

/* One loaded instance of the baseline that the applied package patches. */
struct instance {
	uint64_t base;	     /* runtime address of image offset 0 */
	uint64_t dev, inode; /* of the mapped file; 0 in version 1 records */
};

#define STATE_VERSION 2

struct state {
	uint8_t version; /* of the record decoded; 0: the current one, when encoding */
	uint64_t generation;
	uint64_t floor;	       /* no package with a lower sequence may be applied */
	uint64_t seq, min_seq; /* of the applied package; seq 0: nothing applied */
	int64_t applied_at;
	char *package_id, *signer, *manifest; /* "" when nothing is applied */
	uint8_t build_id[64];
	uint32_t build_id_len;
	/* version 1 names one instance, with no device and inode */
	struct instance *inst;
	uint32_t ninst;
	struct redirect *r;
	uint32_t nr;
	struct region *regions; /* the applied package's code and data */
	uint32_t nregions;
};

/*
 * Encode (committed byte 0), in s->version's layout (0: the current one;
 * 1 holds one instance); *out is malloc'ed, its size a page multiple.
 */
int state_encode(const struct state *s, uint8_t **out, size_t *len);
/* Strict decode; -1 if malformed. */
int state_decode(const uint8_t *buf, size_t len, struct state *s);
void state_free(struct state *s);

/*
 * Find the current state of pid: 0 and *s filled (with *at the mapping),
 * 1 if nothing was ever applied, -1 after a message.
 */
int state_read(pid_t pid, int mem, const struct maps *m, struct state *s, uint64_t *at);

/* Is this mapping one of hpapply's (state, package or operation)? */
bool state_is_ours(const struct mapping *m);

#endif
