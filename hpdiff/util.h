/*
 * Small helpers the tools' code uses: messages and checked allocation.
 * Every tool links this file; each main() sets its name.
 *
 * Messages go to stderr as "hpdiff: ..." lines, lower-case, no trailing
 * period, naming the file first.  error() returns -1 so callers can write
 * `return error(...)`.
 */
#ifndef HPDIFF_UTIL_H
#define HPDIFF_UTIL_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

int error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Silence error() and warn() (for in-process tests and fuzzing). */
void set_quiet(int quiet);
/* The name messages start with ("hpdiff" unless set). */
void set_progname(const char *name);

/* malloc/calloc/realloc/strdup that print "out of memory" and return NULL. */
void *xmalloc(size_t n);
void *xcalloc(size_t n, size_t size);
void *xrealloc(void *p, size_t n);
char *xstrdup(const char *s);
/*
 * Make room for element n of a growing array.  arrayp is the address of
 * the array's pointer (a T **, NULL array allowed), *cap the elements
 * allocated, item the size of one.  If n < *cap nothing changes; else
 * the capacity doubles (from first if it is 0) until it is above n and
 * the new elements are zeroed.  On failure, an allocation too large
 * included, says "out of memory" and returns -1 with the array and *cap
 * as they were.
 */
int grow_array(void *arrayp, size_t *cap, size_t n, size_t item, size_t first);
/* printf into a new string; NULL on failure. */
char *xasprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/*
 * A bad option or argument: the message as error() says it, then "Try
 * '<name> --help' for more information." on stderr.  Returns -1.
 */
int usage_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/*
 * After getopt_long() returned ':' or '?' for argv: the problem in words,
 * naming the option as it was written ("unknown option '-x'", "option
 * '--json' takes no argument", "option '-o' needs an argument").
 */
void option_problem(int c, char *const argv[], char *buf, size_t size);

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

/*
 * Addends come from untrusted objects: combine them with wrap-around
 * arithmetic (defined behaviour), never signed overflow.
 */
static inline int64_t wadd(int64_t a, int64_t b)
{
	return (int64_t)((uint64_t)a + (uint64_t)b);
}

static inline int64_t wsub(int64_t a, int64_t b)
{
	return (int64_t)((uint64_t)a - (uint64_t)b);
}

/* qsort that accepts an empty (possibly NULL) array, which qsort itself does not. */
static inline void sort(void *base, size_t n, size_t size, int (*cmp)(const void *, const void *))
{
	if (n > 1)
		qsort(base, n, size, cmp);
}

#endif
