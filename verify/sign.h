/*
 * Signing hotpatch packages: the MANIFEST.sig member, a detached DER CMS
 * SignedData over the exact MANIFEST bytes, with the signer certificate and
 * its intermediates embedded (never the anchor), SHA-256 (SHA-384 for a
 * P-384 key), no S/MIME capabilities attribute.
 *
 * A signer refuses at load time what a verifier would refuse later: a key
 * or certificate of a weak or unsupported algorithm, a certificate without
 * extendedKeyUsage codeSigning, a CA or self-signed certificate, one outside
 * its validity, a key that does not match the certificate.
 */
#ifndef HP_SIGN_H
#define HP_SIGN_H

#include <stddef.h>
#include <stdint.h>

struct hp_signer;

struct hp_signer_opts {
	/*
	 * A PEM private key file, or a PKCS#11 URI ("pkcs11:token=T;object=O;
	 * pin-value=P" or with "?pin-value=P") used through OpenSSL's ENGINE
	 * "pkcs11" (Debian package libengine-pkcs11-openssl).
	 */
	const char *key;
	const char *cert;	   /* PEM signer certificate */
	const char *chain;	   /* optional PEM intermediates (self-signed ones skipped) */
	const char *pass_file;	   /* optional: passphrase of a PEM key (first line) */
	const char *pkcs11_module; /* optional: PKCS#11 module for the engine */
	int64_t now;		   /* for the validity check; 0 = now */
};

/* Load and check; -1 with a message naming the file at fault. */
int hp_signer_load(const struct hp_signer_opts *o, struct hp_signer **out, char *msg, size_t size);
void hp_signer_free(struct hp_signer *s);

/* The DER signature of content[0..len); *der is malloc'ed. */
int hp_signer_sign(const struct hp_signer *s, const uint8_t *content, size_t len, uint8_t **der,
		   size_t *der_len, char *msg, size_t size);

/*
 * Add or replace the signature of the package pkg[0..len): the container is
 * parsed strictly, and rewritten with the same MANIFEST, payload.zst and
 * time and the new MANIFEST.sig, so everything but the signature member is
 * byte-identical.  *out is malloc'ed.
 */
int hp_sign_package(const struct hp_signer *s, const uint8_t *pkg, size_t len, uint8_t **out,
		    size_t *out_len, char *msg, size_t size);

/* Wipe a secret (a PIN, a passphrase) so the compiler cannot drop it. */
void hp_wipe(void *p, size_t n);

#endif
