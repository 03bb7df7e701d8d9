/* apikey: API key checks */
#ifndef APIKEY_API_H
#define APIKEY_API_H
#include <stddef.h>

int apikey_check(const char *presented, const char *expected);
int apikey_well_formed(const char *key);
void apikey_mask(const char *key, char *out, size_t n);
#endif
