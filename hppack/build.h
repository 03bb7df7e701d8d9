/*
 * Writing the package file from a resolved packer.
 */
#ifndef HPPACK_BUILD_H
#define HPPACK_BUILD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "hppack/pack.h"

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

/* Payload, compression, MANIFEST, container, signature, atomic write. */
int pack_write(struct packer *p, const struct pack_opts *o);

#endif
