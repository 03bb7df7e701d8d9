/*
 * Signing a package in the same step as writing it (hppack --key): the
 * signer is hpsign's, so hppack signs exactly as hpsign --sign does.
 */
#ifndef HPPACK_SIGN_H
#define HPPACK_SIGN_H

#include <stddef.h>
#include <stdint.h>

#include "hppack/pack.h"

/* Detached CMS signature of the MANIFEST bytes; -1 after a message. */
int sign_manifest(const char *manifest, size_t len, const struct pack_opts *o, uint8_t **sig,
		  size_t *sig_len);

#endif
