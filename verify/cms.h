/*
 * The CMS and X.509 side of hpsign, behind types that do not show OpenSSL:
 * cms.c is the one file of hpsign that uses OpenSSL's X509, CMS, EVP and
 * ENGINE interfaces (hashing goes through format's hp_sha256, or
 * hp_sha256_new() and its kin when the bytes arrive in pieces).
 *
 *   trust anchors and CRLs   hp_trust_load(): read once, kept in memory
 *   verification             hp_cms_verify(): one DER signature over a
 *                            content, to a verdict (enum hp_vclass)
 *   signing                  struct hp_signer (sign.h): key, certificate
 *                            and chain, loaded and checked once
 */
#ifndef HP_CMS_H
#define HP_CMS_H

#include <stddef.h>
#include <stdint.h>

#include "verify/sign.h"
#include "verify/verify.h"

struct hp_hpk;
struct hp_manifest;
struct hp_trust;

/*
 * Read the PEM anchors of ca_file (certificates only, at least one) and,
 * when crl_file is not NULL, its PEM CRLs (at least one).  On failure
 * returns -1 with a message naming the file.
 */
int hp_trust_load(const char *ca_file, const char *crl_file, struct hp_trust **out, char *msg,
		  size_t size);
void hp_trust_free(struct hp_trust *t);

/*
 * Check that sig[0..sig_len) is a strict DER CMS SignedData, detached, by
 * one signer, over content[0..len), with acceptable algorithms, and that
 * the signer chains through the embedded certificates to an anchor of t at
 * time `now`, carries codeSigning and is no CA.  Returns HP_V_OK and fills
 * *info, or the failing class (enum hp_vclass) with a message.
 */
int hp_cms_verify(const struct hp_trust *t, const uint8_t *sig, size_t sig_len,
		  const uint8_t *content, size_t len, int64_t now, struct hp_signer_info *info,
		  char *msg, size_t size);

/*
 * In verify.c, for sign.c too (a package a verifier would refuse for its
 * payload is not signed): payload.zst of k has the size and SHA-256 that m
 * pins.  h is the SHA-256 of payload.zst, hashed the result of the
 * hp_sha256() that made it.  Returns HP_V_OK, or HP_V_PAYLOAD_SIZE,
 * HP_V_PAYLOAD_HASH or HP_V_TROUBLE with a message.
 */
int hp_payload_pinned(const struct hp_hpk *k, const struct hp_manifest *m, int hashed,
		      const uint8_t h[32], char *msg, size_t size);

#endif
