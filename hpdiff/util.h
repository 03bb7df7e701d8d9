/*
 * Small helpers every hpdiff file uses: messages and checked allocation.
 *
 * Messages go to stderr as "hpdiff: ..." lines, lower-case, no trailing
 * period, naming the file first.  error() returns -1 so callers can write
 * `return error(...)`.
 */
#ifndef HPDIFF_UTIL_H
#define HPDIFF_UTIL_H

#include <stdarg.h>
#include <stddef.h>

int error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Silence warn() (for in-process tests and fuzzing). */
void set_quiet(int quiet);

/* malloc/calloc/realloc/strdup that print "out of memory" and return NULL. */
void *xmalloc(size_t n);
void *xcalloc(size_t n, size_t size);
void *xrealloc(void *p, size_t n);
char *xstrdup(const char *s);
/* printf into a new string; NULL on failure. */
char *xasprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

#endif
