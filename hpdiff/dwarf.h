/*
 * What hpdiff takes from DWARF: where each function is in the source, and
 * the layout of every struct, class and union (in namespaces and classes
 * too, with its base classes) with the functions and variables that use
 * it, named by their symbols.  dwarf.c is the only libdwarf user; a missing or unreadable
 * .debug_info simply means no DWARF (with a warning if it was unreadable).
 */
#ifndef HPDIFF_DWARF_H
#define HPDIFF_DWARF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct object;

struct dmember {
	char *name;		       /* "" for anonymous members */
	char *type;		       /* type name as written: "unsigned int", "struct conn *" */
	uint64_t offset;	       /* byte offset */
	uint64_t size;		       /* byte size of the member's type */
	uint32_t bit_offset, bit_size; /* bit-fields; 0 otherwise */
	bool base;		       /* a base class: name is its type, "struct base" */
};

/* How a user reaches a type. */
enum dwarf_use {
	USE_BODY = 0,	   /* a local variable of the function (or of code inlined into it) */
	USE_SIGNATURE = 1, /* a parameter or the return value of the function */
	USE_VARIABLE = 2,  /* a variable holds it (or points to it) */
};

/* A function or variable whose type reaches a struct or union. */
struct duser {
	const char *name; /* one of dwarf_info.names */
	uint8_t kind;	  /* enum dwarf_use: how its first use to get there does */
	bool external;	  /* it has external linkage */
};

struct dtype {
	char *name; /* "struct conn", "class net::peer", "union value", or a typedef's name */
	int is_union;
	bool closure; /* a lambda's closure type: never named through a typedef */
	uint64_t size;
	struct dmember *members;
	size_t nmembers;
	struct duser *users; /* in the order the walk first met them */
	size_t nusers;
};

/*
 * A C++ closure type (a lambda's), defined in a function: unnamed, so not
 * among the types; its captures are its members.
 */
struct dclosure {
	char *scope;  /* the function it is defined in, by symbol: "_Z5setupi" */
	char *layout; /* size and members: "4: __k int @0" */
};

struct dwarf_info {
	struct dtype *types; /* one per distinct name, sorted by name */
	size_t ntypes;
	struct dclosure *closures; /* in the order of the DWARF */
	size_t nclosures;
	struct dloc *locs; /* function locations, sorted by name */
	size_t nlocs;
	char **names; /* the users' names, each once: dtype.users point here */
	size_t nnames;
};

struct dloc {
	char *name;
	char *where; /* "parse.c:42" */
};

/* *out is NULL when the object has no DWARF; -1 (message printed) if unreadable. */
int dwarf_load(struct object *o, struct dwarf_info **out);
void dwarf_free(struct dwarf_info *di);
/* "file.c:42" (malloc'ed) for a function by symbol name, or by clone key. */
char *dwarf_func_location(const struct dwarf_info *di, const char *name, const char *key);
/* The layout of a named type, or NULL. */
const struct dtype *dwarf_find_type(const struct dwarf_info *di, const char *name);

#endif
