/* pathutil: request path normalisation */
#ifndef PATHUTIL_API_H
#define PATHUTIL_API_H
#include <stddef.h>

int path_normalize(const char *in, char *out, size_t n);
int path_is_safe(const char *path);
#endif
