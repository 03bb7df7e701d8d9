/* reply: line-protocol reply formatting */
#ifndef REPLY_API_H
#define REPLY_API_H
#include <stddef.h>

int reply_ok(char *buf, size_t n);
int reply_int(char *buf, size_t n, long v);
int reply_error(char *buf, size_t n, int code, const char *detail);
int reply_bulk(char *buf, size_t n, const char *data, size_t len);
#endif
