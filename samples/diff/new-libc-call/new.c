/*
 * apikey.c - validation of the API keys sent in the X-Api-Key header.
 * Keys are 32 lowercase hex digits.
 */
#include <string.h>
#include "api.h"

#define KEY_LEN 32

int apikey_well_formed(const char *key)
{
	size_t i;

	for (i = 0; i < KEY_LEN; i++)
		if (!((key[i] >= '0' && key[i] <= '9') || (key[i] >= 'a' && key[i] <= 'f')))
			return 0;
	return key[KEY_LEN] == '\0';
}

/* 1 if the presented key matches; time does not depend on where they differ. */
int apikey_check(const char *presented, const char *expected)
{
	size_t i;
	unsigned char diff = 0;

	/* strnlen: the presented key comes from the network and may be huge */
	if (strnlen(presented, KEY_LEN + 1) != KEY_LEN || !apikey_well_formed(expected))
		return 0;
	for (i = 0; i < KEY_LEN; i++)
		diff |= (unsigned char)(presented[i] ^ expected[i]);
	return diff == 0;
}

/* "0123...cdef" -> "0123************************cdef" for the logs */
void apikey_mask(const char *key, char *out, size_t n)
{
	size_t len = strlen(key), i;

	if (n == 0)
		return;
	for (i = 0; i < len && i + 1 < n; i++)
		out[i] = i < 4 || i + 4 >= len ? key[i] : '*';
	out[i] = '\0';
}
