/*
 * SHA-256 through OpenSSL's EVP interface: the one place libhpformat
 * touches libcrypto, and the one SHA-256 of the toolchain.
 */
#include <stdlib.h>

#include <openssl/err.h>
#include <openssl/evp.h>

#include "format/hp.h"

struct hp_sha256 {
	EVP_MD_CTX *ctx;
};

struct hp_sha256 *hp_sha256_new(void)
{
	struct hp_sha256 *s = malloc(sizeof(*s));

	if (!s)
		return NULL;
	s->ctx = EVP_MD_CTX_new();
	if (!s->ctx || !EVP_DigestInit_ex(s->ctx, EVP_sha256(), NULL)) {
		hp_sha256_free(s);
		ERR_clear_error();
		return NULL;
	}
	return s;
}

int hp_sha256_update(struct hp_sha256 *s, const void *p, size_t n)
{
	return EVP_DigestUpdate(s->ctx, p, n) ? 0 : -1;
}

int hp_sha256_final(struct hp_sha256 *s, uint8_t out[32])
{
	unsigned int n = 0;

	return EVP_DigestFinal_ex(s->ctx, out, &n) && n == 32 ? 0 : -1;
}

void hp_sha256_free(struct hp_sha256 *s)
{
	if (!s)
		return;
	EVP_MD_CTX_free(s->ctx);
	free(s);
}

int hp_sha256(const void *data, size_t len, uint8_t out[32])
{
	struct hp_sha256 *s = hp_sha256_new();
	int status = s ? 0 : -1;

	if (status == 0)
		status = hp_sha256_update(s, data, len);
	if (status == 0)
		status = hp_sha256_final(s, out);
	hp_sha256_free(s);
	return status;
}
