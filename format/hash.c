/*
 * SHA-256 through OpenSSL's EVP interface: the one place libhpformat
 * touches libcrypto.
 */
#include <openssl/evp.h>

#include "hp.h"

int hp_sha256(const void *data, size_t len, uint8_t out[32])
{
	unsigned int n = 0;

	if (!EVP_Digest(data, len, out, &n, EVP_sha256(), NULL) || n != 32)
		return -1;
	return 0;
}
