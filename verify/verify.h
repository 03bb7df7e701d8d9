/*
 * libhpverify: verification of a hotpatch package (.hpk), the checks
 * `hpsign --verify` makes and `hpapply` makes again in-process before it
 * touches a process.
 *
 * Everything is checked from the one in-memory copy of the package the
 * caller passes; the CA and CRL files are read once, at the start of
 * hp_verify(); the target is the caller's in-memory copy of the baseline
 * file.  Nothing is re-read by path after it was checked.
 *
 * The checks run in this order and the first failure stops them, with its
 * class (enum hp_vclass) and a message:
 *
 *   1. container      strict ustar: MANIFEST, MANIFEST.sig, payload.zst
 *   2. signature      present; DER CMS SignedData that parses to exactly
 *                     MANIFEST.sig's bytes; one signer, detached, over the
 *                     exact MANIFEST bytes; algorithms acceptable [algorithm]
 *   3. chain          leaf and embedded intermediates up to an anchor of
 *                     ca_file [chain, expired, revoked, algorithm]; leaf
 *                     with extendedKeyUsage codeSigning, not a CA [key usage]
 *   4. manifest       strict canonical parse; `expires` after `now` [expired]
 *   5. payload        payload.zst size and SHA-256 as MANIFEST says
 *                     [payload size, payload hash]
 *   6. target         (only with opts->target) same build-id, same SHA-256
 *                     of the whole file, x86-64, each replaced function's
 *                     baseline bytes hash as MANIFEST says [target]
 *   7. decompression  bounded by payload-raw-size [payload size, payload
 *                     format], raw SHA-256 [payload hash], strict payload
 *                     parse, one replacement per MANIFEST function
 *                     [payload format]
 *   8. sequence       (only with opts->have_state) [sequence]
 *
 * Step 6 runs before 7 so that a `zstd+baseline` payload is only ever
 * decompressed against baseline bytes whose hashes were checked.  A
 * `zstd+baseline` package verified without a target cannot be decompressed:
 * it is still valid when steps 1-5 pass (the signed MANIFEST pins the
 * compressed bytes), with payload_checked false; callers must say so.
 *
 * The library never prints and never exits.  hp_verify() runs part of its
 * work (steps 2-4, and the raw hash during decompression) on one helper
 * thread of its own, joined before it returns; the failure reported is the
 * first in the order above, as if it ran alone.  A caller that must not
 * have threads started in it (for example after fork in a multi-threaded
 * program) should verify in a process of its own.
 */
#ifndef HP_VERIFY_H
#define HP_VERIFY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "format/hpk.h"
#include "format/image.h"

/* Why a package is not valid.  Values are stable; only append. */
enum hp_vclass {
	HP_V_OK = 0,
	HP_V_CONTAINER,	     /* not a strict .hpk archive */
	HP_V_SIGNATURE,	     /* unsigned, malformed signature, or it does not match */
	HP_V_CHAIN,	     /* signer not issued (through the embedded chain) by an anchor */
	HP_V_KEY_USAGE,	     /* leaf lacks codeSigning, is a CA, or may not sign */
	HP_V_EXPIRED,	     /* a certificate, a CRL or the package is outside its validity */
	HP_V_REVOKED,	     /* leaf or intermediate revoked by a CRL of crl_file */
	HP_V_ALGORITHM,	     /* weak or unsupported key, curve or digest */
	HP_V_MANIFEST,	     /* MANIFEST not in its strict canonical form */
	HP_V_PAYLOAD_SIZE,   /* payload.zst or its decompression not of the declared size */
	HP_V_PAYLOAD_HASH,   /* payload.zst or the raw payload not of the declared SHA-256 */
	HP_V_PAYLOAD_FORMAT, /* corrupt zstd frame or malformed payload */
	HP_V_TARGET,	     /* the package is not for this baseline file */
	HP_V_SEQUENCE,	     /* refused by the applied-sequence state (anti-rollback) */
	HP_V_TROUBLE,	     /* could not verify: unreadable CA or CRL file, out of memory */
};

/*
 * Stable lower-case name of a class, as `--json` prints it: "valid",
 * "container", "signature", "chain", "key usage", "expired", "revoked",
 * "algorithm", "manifest", "payload size", "payload hash", "payload format",
 * "target", "sequence", "trouble".
 */
const char *hp_vclass_name(int cls);

struct hp_verify_opts {
	const char *ca_file;	       /* PEM trust anchors (one or more); required */
	const char *crl_file;	       /* optional PEM CRLs: then every CA of the chain needs one */
	int64_t now;		       /* verification time, seconds since the epoch; 0 = now */
	const struct hp_image *target; /* optional: the baseline (whole file in memory) */
	/* hpapply's anti-rollback state: refuse sequence <= applied_seq or < floor */
	bool have_state;
	uint64_t applied_seq;
	uint64_t floor;
};

/* The signer, for display.  Strings are NUL-terminated, possibly truncated. */
struct hp_signer_info {
	char subject[256]; /* one-line RFC 2253 form */
	char issuer[256];
	char serial[80]; /* lower-case hex */
	int64_t not_before, not_after;
	char key[32];	  /* "ECDSA P-256", "RSA 3072" */
	char digest[16];  /* of the signature: "SHA-256" */
	int chain_len;	  /* certificates from leaf to anchor, both included */
	char anchor[256]; /* subject of the trust anchor */
};

struct hp_verified {
	int cls;		      /* enum hp_vclass: HP_V_OK when hp_verify returned 0 */
	char message[512];	      /* what failed (or, when valid, empty) */
	struct hp_manifest *manifest; /* parsed MANIFEST once step 4 passed, else NULL */
	struct hp_payload *payload;   /* decoded payload once step 7 passed, else NULL */
	bool payload_checked;	      /* steps 7 ran (false: zstd+baseline without target) */
	bool target_checked;	      /* step 6 ran and passed */
	bool sequence_checked;	      /* step 8 ran and passed */
	bool signed_ok;		      /* steps 2-3 passed: signer is filled in */
	struct hp_signer_info signer;
};

/*
 * Verify the package pkg[0..len).  Returns 0 when it is valid (out->cls
 * HP_V_OK), -1 otherwise with out->cls and out->message set.  In both
 * cases out holds whatever was established (manifest, signer, payload) and
 * must be released with hp_verified_free().  A manifest or payload handed
 * back with -1 is NOT trusted unless the failure came after its step.
 */
int hp_verify(const uint8_t *pkg, size_t len, const struct hp_verify_opts *o,
	      struct hp_verified *out);
void hp_verified_free(struct hp_verified *v);

#endif
