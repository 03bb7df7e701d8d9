/*
 * The numbers a C++ compiler chooses inside mangled names, found so that
 * correlation does not take them for identity.
 *
 * A C++ name can carry numbers that say where something is, not what it
 * is: the second lambda of setup(int) is `Z5setupiEUliE0_` (g++, and
 * clang++ for inline functions) or `Z5setupiE3$_1` (clang++, counted over
 * the whole file); the second block-scope static `n` of count_req(int) is
 * `_ZZ9count_reqiE1n_0` (a discriminator); an unnamed local type is
 * `Ut0_`.  Adding a lambda or a static before the others renumbers them
 * all, so two objects can use one name for two different things.
 *
 * cxx_scan() walks the mangled name far enough to find these numbers: it
 * skips source names by their length, follows the nesting of the grammar
 * (N...E, I...E, Z...E, Ul...E and the like), and never needs to
 * understand the rest.  It does not fail on names it does not know: an
 * unknown construct is stepped over one character at a time, so the worst
 * a strange name can do is look numbered when it is not, which only sends
 * it through the identity rules of correlate.c.
 */
#ifndef HPDIFF_CXXNAME_H
#define HPDIFF_CXXNAME_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define CXX_MAX_NUMS 8 /* numbers kept per closure, outermost first */

/* A closure type (lambda, unnamed local type) a name mentions. */
struct cxx_closure {
	char *id;  /* its enclosing function and itself: "Z5setupiEUliE0_" */
	char *cls; /* id without the numbers: "Z5setupiEUliE_" */
	/* the numbers in id, outermost first: its place among its siblings */
	uint32_t num[CXX_MAX_NUMS];
	uint8_t nnum;
};

struct cxx_name {
	char *key;     /* the name without compiler-chosen numbers */
	bool local;    /* a block-scope entity (_ZZ..., _ZGVZ...): numbered by place */
	bool numbered; /* key differs from the name, or local */
	uint32_t disc; /* the entity's discriminator: 0 none, n + 1 for _n */
	struct cxx_closure *closures; /* in the order the name mentions them */
	size_t nclosures;
};

/*
 * Scan one symbol name.  A name that is not mangled C++ (no "_Z" prefix)
 * gets key = name and nothing else.  Returns 0, or -1 when out of memory
 * (message said, *out empty).
 */
int cxx_scan(const char *name, struct cxx_name *out);
void cxx_name_free(struct cxx_name *n);
/*
 * Guard variables: the guard of a block-scope static "_ZZ5limitiE6cached"
 * is "_ZGVZ5limitiE6cached".  Each returns a new string, or NULL when the
 * name is not of that kind (or out of memory, message said).
 */
char *cxx_guard_of(const char *var);
char *cxx_guarded_by(const char *guard);
/* The function a closure is local to, as a symbol ("_Z5setupi"), or its class if none. */
char *cxx_closure_scope(const struct cxx_closure *c);
/* Compare two closures' places: numbers outermost first (for sorting). */
int cxx_closure_order(const struct cxx_closure *a, const struct cxx_closure *b);

#endif
