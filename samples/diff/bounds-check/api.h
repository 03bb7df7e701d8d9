/* reqline: HTTP request-line tokenizer */
#ifndef REQLINE_API_H
#define REQLINE_API_H
#include <stddef.h>

int reqline_method(const char *buf, size_t len, char *out, size_t outlen);
int reqline_target(const char *buf, size_t len, char *out, size_t outlen);
int reqline_version(const char *buf, size_t len);
#endif
