/*
 * Making a package: from .hpd files and the baseline binary they patch to
 * a .hpk file (pack.c runs the stages; packer.h is their shared state).
 */
#ifndef HPPACK_PACK_H
#define HPPACK_PACK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/outcome.h"

struct pack_opts {
	const char *baseline, *symbols, *out;
	const char *id, *fixes, *previous;
	const char *key, *cert, *chain; /* sign in the same step when key is set */
	uint64_t seq, min_seq;
	bool has_expires;
	int64_t expires, created;
	bool verbose;
	/* Detached CMS signature over the MANIFEST bytes (main.c provides it). */
	int (*sign)(const char *manifest, size_t len, const struct pack_opts *o, uint8_t **sig,
		    size_t *sig_len);
};

/*
 * Bind the n .hpd files at paths to the baseline o->baseline and write the
 * package o->out.  Returns OUTCOME_OK when it is written, OUTCOME_REFUSED
 * after saying every reason the inputs do not make a package for this
 * baseline (or --previous forbids it), OUTCOME_TROUBLE after saying what
 * failed.  Nothing is written unless OUTCOME_OK.
 */
enum outcome pack(char **paths, size_t n, const struct pack_opts *o);

#endif
