/* audit: audit-log record formatting */
#ifndef AUDIT_API_H
#define AUDIT_API_H
#include <stddef.h>

int audit_login(char *buf, size_t n, const char *user, const char *addr, int ok);
int audit_logout(char *buf, size_t n, const char *user, long secs);
int audit_denied(char *buf, size_t n, const char *user, const char *what);
#endif
