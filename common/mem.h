/*
 * Checked allocation and small arithmetic helpers every tool uses.  An
 * allocation that fails says "out of memory" through error() and returns
 * NULL (or -1).
 */
#ifndef HP_COMMON_MEM_H
#define HP_COMMON_MEM_H

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
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
