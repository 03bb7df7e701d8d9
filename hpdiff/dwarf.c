/*
 * Reading DWARF with libdwarf (the only file that uses it): where each
 * function is in the source, and every named struct and union with its
 * members and the functions and variables whose types reach it.
 *
 * Relocatable objects leave their .debug_* sections unrelocated (string
 * offsets, addresses and CU references are all zero plus an addend), so
 * libdwarf is fed through its object-access interface with copies of those
 * sections that we relocated ourselves, from the same validated model of
 * the object the differ uses.  That also works for archive members, which
 * exist only in memory.
 */
#include <dwarf.h>
#include <libdwarf.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "arch/arch.h"
#include "hpdiff/diff.h"
#include "hpdiff/dwarf.h"
#include "common/cli.h"
#include "common/mem.h"

#define MAX_DEPTH 64	/* DIE nesting and type chains followed */
#define MAX_TYPES 65536 /* structs and unions per object: more is an error */

/* ---- feeding libdwarf ------------------------------------------------------- */

struct access {
	struct object *o;
	uint8_t **relocated; /* per section: our relocated copy, or NULL */
};

/*
 * The debug sections libdwarf gets to see: what names, types and line
 * tables need.  Range, location, frame and macro sections stay hidden; we
 * never use them, and libdwarf 20210528 mishandles some malformed ones
 * (a double free in its .debug_rnglists loader, found by fuzz_object).
 */
static bool is_debug(const struct section *s)
{
	static const char *const wanted[] = {
		".debug_info",	   ".debug_abbrev",	 ".debug_str",	".debug_line",
		".debug_line_str", ".debug_str_offsets", ".debug_addr",
	};

	for (size_t i = 0; i < ARRAY_SIZE(wanted); i++)
		if (!strcmp(s->name, wanted[i]))
			return true;
	return false;
}

/*
 * Sections libdwarf reads the contents of: the debug sections above, and
 * every section group.  libdwarf numbers the groups of an object while it
 * walks the section headers, reading each SHT_GROUP's member list as it
 * meets it; when it cannot, it stops numbering there.  Once it has put
 * .debug_info in the base group, a group it cannot read after that leaves
 * the base group unchosen, and no unit is found: clang++ -O0 -g puts the
 * first COMDAT group (DW.ref.__gxx_personality_v0) after .debug_info in
 * any object with a global std::string, which was "malformed DWARF".
 */
static bool is_served(const struct section *s)
{
	return is_debug(s) || s->type == SHT_GROUP;
}

/*
 * Every section as it is (type, size, entry size, link, info), so that
 * libdwarf's view of the object is complete; the ones it need not read
 * are renamed out of its way (is_debug()).  Relocation sections keep their
 * types and links, but libdwarf applies nothing without a relocation
 * method: load_section() serves sections relocated already.
 */
static int get_section_info(void *obj, Dwarf_Half i, Dwarf_Obj_Access_Section *ret, int *err)
{
	struct access *a = obj;
	const struct section *s;

	(void)err;
	if (i >= a->o->elf.nsecs)
		return DW_DLV_NO_ENTRY;
	s = &a->o->elf.secs[i];
	memset(ret, 0, sizeof(*ret));
	ret->type = s->type;
	ret->size = s->size;
	ret->name = is_served(s) ? s->name : ".hpdiff.unused";
	ret->link = s->link;
	ret->info = s->info;
	ret->entrysize = s->entsize;
	return DW_DLV_OK;
}

static Dwarf_Endianness get_byte_order(void *obj)
{
	(void)obj;
	return DW_OBJECT_LSB;
}

static Dwarf_Small get_length_size(void *obj)
{
	(void)obj;
	return 4;
}

static Dwarf_Small get_pointer_size(void *obj)
{
	(void)obj;
	return 8;
}

static Dwarf_Unsigned get_section_count(void *obj)
{
	return ((struct access *)obj)->o->elf.nsecs;
}

/*
 * Apply the section's relocations to a copy: in debug sections they are
 * absolute (S + A) 32- or 64-bit values, S being the symbol's offset in
 * its own section (each section starts at 0 in a relocatable object).
 */
static uint8_t *relocate(uint16_t machine, const struct section *s)
{
	uint8_t *p = xmalloc(s->size ? s->size : 1);

	if (!p)
		return NULL;
	memcpy(p, s->data, s->size);
	for (size_t i = 0; i < s->nrelocs; i++) {
		const struct reloc *r = &s->relocs[i];
		const struct hp_reloc_desc *d = hp_reloc_describe(machine, r->type);
		uint64_t v =
			(r->sym->type == STT_SECTION ? 0 : r->sym->value) + (uint64_t)r->addend;
		int width;

		/* absolute and DTP-relative fields; PC-relative and others do not occur in .debug_*
		 */
		if (!d || (d->calc != HP_CALC_ABS && d->calc != HP_CALC_DTPOFF))
			continue;
		width = d->size;
		if (r->offset + (uint64_t)width > s->size)
			continue;
		for (int k = 0; k < width; k++)
			p[r->offset + k] = (uint8_t)(v >> (8 * k));
	}
	return p;
}

static int load_section(void *obj, Dwarf_Half i, Dwarf_Small **data, int *err)
{
	struct access *a = obj;
	const struct section *s;

	(void)err;
	if (i >= a->o->elf.nsecs)
		return DW_DLV_NO_ENTRY;
	s = &a->o->elf.secs[i];
	if (!s->data || !is_served(s))
		return DW_DLV_NO_ENTRY;
	if (!s->nrelocs || !is_debug(s)) {
		*data = (Dwarf_Small *)s->data;
		return DW_DLV_OK;
	}
	if (!a->relocated[i])
		a->relocated[i] = relocate(a->o->elf.machine, s);
	if (!a->relocated[i])
		return DW_DLV_ERROR;
	*data = a->relocated[i];
	return DW_DLV_OK;
}

static const Dwarf_Obj_Access_Methods methods = {
	get_section_info, get_byte_order, get_length_size, get_pointer_size, get_section_count,
	load_section,	  NULL,
};

/* ---- collected facts ---------------------------------------------------------- */

struct use {
	Dwarf_Off type; /* the DIE a function or variable refers to */
	char *user;
	uint8_t kind;  /* enum dwarf_use */
	bool external; /* the user has external linkage */
};

/* A struct or union DIE and its index in di->types. */
struct type_at {
	Dwarf_Off off;
	size_t index;
};

/* The struct or union (index in di->types, or -1) a type leads to, steps away. */
struct link {
	long type;
	int steps;
};

/* A type some user reaches, and the first of the user's uses that does. */
struct reached {
	size_t type;
	size_t use;
};

/*
 * finish() follows the uses one user (one name) at a time: `mark` says
 * which user last reached each type and `depth` how shallow that was.
 */
struct reach_state {
	size_t *mark;	/* per type: the current user's number if it reached it */
	uint8_t *depth; /* per type: the shallowest depth the current user reached it at */
	size_t user;	/* the current user's number, from 1 */
	size_t use;	/* the use being followed (index in walker.uses) */
	struct reached *found;
	size_t nfound, cap_found;
};

struct walker {
	Dwarf_Debug dbg;
	struct dwarf_info *di;
	/* the unit's line table, and its file names by DWARF file number */
	Dwarf_Line_Context lines;
	const char **files;
	Dwarf_Signed nfiles;
	struct use *uses;
	size_t nuses, cap_uses;
	/*
	 * struct/union DIE offsets, index-aligned with di->types as the walk
	 * made it.  ntype_off is di->ntypes until finish() drops unnamed and
	 * duplicate types (and di goes to the caller), but these arrays keep
	 * the walk's numbering and are freed by their own count.
	 */
	Dwarf_Off *type_off;
	size_t ntype_off;
	struct type_at *by_off;	  /* type_off sorted, for type_index(); built by finish() */
	Dwarf_Off **member_types; /* per type: DIEs of its members' types */
	size_t *nmember_types;
	struct link **links;   /* per type: where its members' types lead; by finish() */
	struct alias *aliases; /* typedefs, applied once every type is known */
	size_t naliases;
	/*
	 * DIEs the walk may still visit.  Every DIE takes at least a byte of
	 * .debug_info, so a well-formed tree never runs out; DW_AT_sibling
	 * links that point back into a subtree would otherwise revisit it
	 * without end.
	 */
	uint64_t budget;
	bool failed;
	bool too_many_types; /* more than MAX_TYPES: the layout check cannot be done */
	/* finish(): the user being followed, and what its uses reached */
	struct reach_state reach;
};

struct alias {
	char *name;
	Dwarf_Off type;
};

static void drop_err(struct walker *w, Dwarf_Error *err)
{
	if (*err) {
		dwarf_dealloc_error(w->dbg, *err);
		*err = NULL;
	}
}

static bool get_udata(struct walker *w, Dwarf_Die die, Dwarf_Half an, Dwarf_Unsigned *v)
{
	Dwarf_Attribute at;
	Dwarf_Error err = NULL;
	bool ok = false;

	if (dwarf_attr(die, an, &at, &err) != DW_DLV_OK) {
		drop_err(w, &err);
		return false;
	}
	if (dwarf_formudata(at, v, &err) == DW_DLV_OK) {
		ok = true;
	} else {
		Dwarf_Signed s;

		drop_err(w, &err);
		if (dwarf_formsdata(at, &s, &err) == DW_DLV_OK && s >= 0) {
			*v = (Dwarf_Unsigned)s;
			ok = true;
		}
	}
	drop_err(w, &err);
	dwarf_dealloc_attribute(at);
	return ok;
}

static bool get_ref(struct walker *w, Dwarf_Die die, Dwarf_Half an, Dwarf_Off *off)
{
	Dwarf_Attribute at;
	Dwarf_Error err = NULL;
	bool ok;

	if (dwarf_attr(die, an, &at, &err) != DW_DLV_OK) {
		drop_err(w, &err);
		return false;
	}
	ok = dwarf_global_formref(at, off, &err) == DW_DLV_OK;
	drop_err(w, &err);
	dwarf_dealloc_attribute(at);
	return ok;
}

static bool has_attr(struct walker *w, Dwarf_Die die, Dwarf_Half an)
{
	Dwarf_Bool b = 0;
	Dwarf_Error err = NULL;

	if (dwarf_hasattr(die, an, &b, &err) != DW_DLV_OK)
		drop_err(w, &err);
	return b;
}

static char *die_name(struct walker *w, Dwarf_Die die)
{
	char *name = NULL;
	Dwarf_Error err = NULL;

	if (dwarf_diename(die, &name, &err) != DW_DLV_OK) {
		drop_err(w, &err);
		return NULL;
	}
	return name; /* points into the string section: not ours to free */
}

static Dwarf_Die die_at(struct walker *w, Dwarf_Off off)
{
	Dwarf_Die die = NULL;
	Dwarf_Error err = NULL;

	if (dwarf_offdie_b(w->dbg, off, 1, &die, &err) != DW_DLV_OK) {
		drop_err(w, &err);
		return NULL;
	}
	return die;
}

static Dwarf_Half die_tag(struct walker *w, Dwarf_Die die)
{
	Dwarf_Half tag = 0;
	Dwarf_Error err = NULL;

	if (dwarf_tag(die, &tag, &err) != DW_DLV_OK)
		drop_err(w, &err);
	return tag;
}

/*
 * The DIE a definition completes: its declaration (DW_AT_specification,
 * C++ members and namespace functions) or, for an inlined or out-of-line
 * instance, its abstract origin.  NULL if none.
 */
static Dwarf_Die origin_of(struct walker *w, Dwarf_Die die)
{
	Dwarf_Off off;

	if (!get_ref(w, die, DW_AT_specification, &off) &&
	    !get_ref(w, die, DW_AT_abstract_origin, &off))
		return NULL;
	return die_at(w, off);
}

/*
 * The symbol name of a function or variable: its DW_AT_linkage_name (C++:
 * "_ZNK7session4leftEv"), else its name, wherever along its declarations
 * either is.  Points into the string section, or NULL.
 */
static const char *symbol_name(struct walker *w, Dwarf_Die die, int depth)
{
	Dwarf_Attribute at;
	Dwarf_Error err = NULL;
	char *s = NULL;
	Dwarf_Die o;
	const char *n;

	for (Dwarf_Half an = DW_AT_linkage_name; an;
	     an = an == DW_AT_linkage_name ? DW_AT_MIPS_linkage_name : 0) {
		if (dwarf_attr(die, an, &at, &err) != DW_DLV_OK) {
			drop_err(w, &err);
			continue;
		}
		if (dwarf_formstring(at, &s, &err) != DW_DLV_OK) {
			drop_err(w, &err);
			s = NULL;
		}
		dwarf_dealloc_attribute(at);
		if (s)
			return s;
	}
	if (depth > 4 || !(o = origin_of(w, die)))
		return die_name(w, die);
	n = symbol_name(w, o, depth + 1);
	dwarf_dealloc_die(o);
	return n ? n : die_name(w, die);
}

/*
 * Does the DIE or a declaration it completes carry the flag?  The
 * definition of a C++ member or namespace function is a DIE of its own
 * whose DW_AT_external sits on the declaration inside the class.
 */
static bool origin_has(struct walker *w, Dwarf_Die die, Dwarf_Half an, int depth)
{
	Dwarf_Die o;
	bool yes;

	if (has_attr(w, die, an))
		return true;
	if (depth > 4 || !(o = origin_of(w, die)))
		return false;
	yes = origin_has(w, o, an, depth + 1);
	dwarf_dealloc_die(o);
	return yes;
}

/* DW_AT_type of a DIE, following its abstract origin when it has none. */
static bool die_type(struct walker *w, Dwarf_Die die, Dwarf_Off *type, int depth)
{
	Dwarf_Off off;
	Dwarf_Die o;
	bool ok;

	if (get_ref(w, die, DW_AT_type, type))
		return true;
	if (depth > 4 || !get_ref(w, die, DW_AT_abstract_origin, &off))
		return false;
	o = die_at(w, off);
	if (!o)
		return false;
	ok = die_type(w, o, type, depth + 1);
	dwarf_dealloc_die(o);
	return ok;
}

/* ---- type names ----------------------------------------------------------------- */

/* C spelling of a type DIE: "const char *", "struct conn", "int[16]". */
static char *type_name(struct walker *w, Dwarf_Off off, int depth)
{
	Dwarf_Die die;
	Dwarf_Half tag;
	Dwarf_Off inner;
	char *n, *in = NULL, *s = NULL;
	Dwarf_Unsigned count;

	if (depth > MAX_DEPTH)
		return xstrdup("...");
	die = die_at(w, off);
	if (!die)
		return xstrdup("?");
	tag = die_tag(w, die);
	n = die_name(w, die);
	if (tag != DW_TAG_structure_type && tag != DW_TAG_class_type && tag != DW_TAG_union_type &&
	    tag != DW_TAG_enumeration_type && tag != DW_TAG_array_type && n) {
		s = xstrdup(n);
		goto out;
	}
	in = get_ref(w, die, DW_AT_type, &inner) ? type_name(w, inner, depth + 1) : xstrdup("void");
	switch (tag) {
	case DW_TAG_pointer_type:
		s = xasprintf("%s *", in);
		break;
	case DW_TAG_const_type:
		s = xasprintf("const %s", in);
		break;
	case DW_TAG_volatile_type:
		s = xasprintf("volatile %s", in);
		break;
	case DW_TAG_restrict_type:
		s = xasprintf("%s restrict", in);
		break;
	case DW_TAG_structure_type:
		s = xasprintf("struct %s", n ? n : "<anonymous>");
		break;
	case DW_TAG_class_type:
		s = xasprintf("class %s", n ? n : "<anonymous>");
		break;
	case DW_TAG_union_type:
		s = xasprintf("union %s", n ? n : "<anonymous>");
		break;
	case DW_TAG_enumeration_type:
		s = xasprintf("enum %s", n ? n : "<anonymous>");
		break;
	case DW_TAG_array_type: {
		Dwarf_Die sub = NULL;
		Dwarf_Error err = NULL;

		count = 0;
		if (dwarf_child(die, &sub, &err) == DW_DLV_OK) {
			if (!get_udata(w, sub, DW_AT_count, &count) &&
			    get_udata(w, sub, DW_AT_upper_bound, &count))
				count++;
			dwarf_dealloc_die(sub);
		}
		drop_err(w, &err);
		s = xasprintf("%s[%llu]", in, (unsigned long long)count);
		break;
	}
	case DW_TAG_subroutine_type:
		s = xasprintf("%s (*)()", in);
		break;
	default:
		s = xstrdup(in);
		break;
	}
out:
	free(in);
	dwarf_dealloc_die(die);
	return s ? s : xstrdup("?");
}

/* ---- structs and unions -------------------------------------------------------------- */

static int cmp_type_at(const void *a, const void *b)
{
	const struct type_at *x = a, *y = b;

	if (x->off != y->off)
		return x->off < y->off ? -1 : 1;
	return x->index < y->index ? -1 : x->index > y->index;
}

/*
 * Index in di->types of the struct or union at DIE offset off, or -1: the
 * first such type, should two share an offset.  Only after build_by_off().
 */
static long type_index(const struct walker *w, Dwarf_Off off)
{
	size_t lo = 0, hi = w->ntype_off;

	while (lo < hi) { /* the first entry whose offset is not below off */
		size_t mid = lo + (hi - lo) / 2;

		if (w->by_off[mid].off < off)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo < w->ntype_off && w->by_off[lo].off == off ? (long)w->by_off[lo].index : -1;
}

static int build_by_off(struct walker *w)
{
	w->by_off = xmalloc((w->ntype_off + 1) * sizeof(*w->by_off));
	if (!w->by_off)
		return -1;
	for (size_t i = 0; i < w->ntype_off; i++)
		w->by_off[i] = (struct type_at){w->type_off[i], i};
	sort(w->by_off, w->ntype_off, sizeof(*w->by_off), cmp_type_at);
	return 0;
}

/* Size in bytes of the type at off (following typedefs, qualifiers, arrays). */
static uint64_t type_size(struct walker *w, Dwarf_Off off, int depth)
{
	Dwarf_Die die = die_at(w, off);
	Dwarf_Unsigned size = 0;
	Dwarf_Off inner;

	if (!die || depth > MAX_DEPTH)
		goto out;
	if (get_udata(w, die, DW_AT_byte_size, &size))
		goto out;
	if (die_tag(w, die) == DW_TAG_pointer_type) {
		size = 8;
		goto out;
	}
	if (get_ref(w, die, DW_AT_type, &inner))
		size = type_size(w, inner, depth + 1);
out:
	if (die)
		dwarf_dealloc_die(die);
	return size;
}

/* A member, or a base class (DW_TAG_inheritance), named by its type. */
static int add_member(struct walker *w, struct dtype *t, Dwarf_Die m, bool base)
{
	struct dmember *v = xrealloc(t->members, (t->nmembers + 1) * sizeof(*v));
	struct dmember *mm;
	Dwarf_Unsigned u = 0;
	Dwarf_Off type;
	const char *n = die_name(w, m);

	if (!v)
		return -1;
	t->members = v;
	mm = &v[t->nmembers++];
	memset(mm, 0, sizeof(*mm));
	mm->name = xstrdup(n ? n : "");
	if (get_udata(w, m, DW_AT_data_member_location, &u))
		mm->offset = u;
	if (get_udata(w, m, DW_AT_data_bit_offset, &u)) {
		mm->offset = u / 8;
		mm->bit_offset = (uint32_t)(u % 8);
	}
	if (get_udata(w, m, DW_AT_bit_size, &u))
		mm->bit_size = (uint32_t)u;
	if (get_ref(w, m, DW_AT_type, &type)) {
		size_t ti = (size_t)(t - w->di->types);
		Dwarf_Off *mt =
			xrealloc(w->member_types[ti], (w->nmember_types[ti] + 1) * sizeof(*mt));

		if (!mt)
			return -1;
		w->member_types[ti] = mt;
		mt[w->nmember_types[ti]++] = type;
		mm->type = type_name(w, type, 0);
		mm->size = type_size(w, type, 0);
	} else {
		mm->type = xstrdup("?");
	}
	if (base && mm->name && mm->type) {
		free(mm->name);
		mm->name = xstrdup(mm->type);
		mm->base = true;
	}
	return mm->name && mm->type ? 0 : -1;
}

/*
 * A struct, class or union, named by its kind and its name qualified by
 * the namespaces and classes around it ("struct net::peer", "class
 * conn", "struct outer::inner"); `scope` is that qualification ("net::").
 */
static int add_type(struct walker *w, Dwarf_Die die, Dwarf_Off off, Dwarf_Half tag,
		    const char *scope)
{
	struct dwarf_info *di = w->di;
	struct dtype *t;
	Dwarf_Die child = NULL;
	Dwarf_Error err = NULL;
	Dwarf_Unsigned size = 0;
	const char *n = die_name(w, die);
	int rc;

	if (has_attr(w, die, DW_AT_declaration))
		return 0;
	/*
	 * Dropping the rest would let their layout changes pass unchecked:
	 * note it, and dwarf_load() refuses the object.
	 */
	if (di->ntypes >= MAX_TYPES) {
		w->too_many_types = true;
		return 0;
	}
	get_udata(w, die, DW_AT_byte_size, &size);
	t = xrealloc(di->types, (di->ntypes + 1) * sizeof(*t));
	if (!t)
		return -1;
	di->types = t;
	t = &di->types[di->ntypes++];
	memset(t, 0, sizeof(*t));
	t->is_union = tag == DW_TAG_union_type;
	t->size = size;
	t->name = n ? xasprintf("%s %s%s",
				t->is_union		   ? "union"
				: tag == DW_TAG_class_type ? "class"
							   : "struct",
				scope, n)
		    : NULL;
	Dwarf_Off *v = xrealloc(w->type_off, (w->ntype_off + 1) * sizeof(*v));
	Dwarf_Off **mt = v ? xrealloc(w->member_types, (w->ntype_off + 1) * sizeof(*mt)) : NULL;
	size_t *nmt = mt ? xrealloc(w->nmember_types, (w->ntype_off + 1) * sizeof(*nmt)) : NULL;

	if (v)
		w->type_off = v;
	if (mt)
		w->member_types = mt;
	if (!nmt)
		return -1;
	w->nmember_types = nmt;
	w->member_types[w->ntype_off] = NULL;
	w->nmember_types[w->ntype_off] = 0;
	w->type_off[w->ntype_off++] = off;
	rc = dwarf_child(die, &child, &err);
	drop_err(w, &err);
	while (rc == DW_DLV_OK) {
		Dwarf_Die next = NULL;

		Dwarf_Half ct = die_tag(w, child);

		if ((ct == DW_TAG_member || ct == DW_TAG_inheritance) &&
		    add_member(w, t, child, ct == DW_TAG_inheritance) < 0) {
			dwarf_dealloc_die(child);
			return -1;
		}
		rc = dwarf_siblingof_b(w->dbg, child, 1, &next, &err);
		drop_err(w, &err);
		dwarf_dealloc_die(child);
		child = next;
	}
	return 0;
}

/* ---- closures --------------------------------------------------------------------------- */

/* A lambda's closure type: an unnamed class with an operator(). */
static bool is_closure(struct walker *w, Dwarf_Die die)
{
	Dwarf_Die child = NULL;
	Dwarf_Error err = NULL;
	bool found = false;
	int rc = dwarf_child(die, &child, &err);

	drop_err(w, &err);
	while (rc == DW_DLV_OK && !found) {
		Dwarf_Die next = NULL;
		const char *n = die_tag(w, child) == DW_TAG_subprogram ? die_name(w, child) : NULL;

		found = n && !strcmp(n, "operator()");
		rc = dwarf_siblingof_b(w->dbg, child, 1, &next, &err);
		drop_err(w, &err);
		dwarf_dealloc_die(child);
		child = next;
	}
	if (child)
		dwarf_dealloc_die(child);
	return found;
}

/* Record closure type t (just added) of function `scope`: its size and captures. */
static int add_closure(struct walker *w, const struct dtype *t, const char *scope)
{
	struct dwarf_info *di = w->di;
	struct dclosure *v = xrealloc(di->closures, (di->nclosures + 1) * sizeof(*v));
	char *layout;

	if (!v)
		return -1;
	di->closures = v;
	layout = xasprintf("%llu:", (unsigned long long)t->size);
	for (size_t i = 0; layout && i < t->nmembers; i++) {
		const struct dmember *m = &t->members[i];
		char *n = xasprintf("%s %s %s @%llu/%u", layout, m->name, m->type,
				    (unsigned long long)m->offset, m->bit_offset);

		free(layout);
		layout = n;
	}
	v[di->nclosures].scope = xstrdup(scope);
	v[di->nclosures].layout = layout;
	if (!v[di->nclosures].scope || !layout) {
		free(v[di->nclosures].scope);
		free(layout);
		return -1;
	}
	di->nclosures++;
	return 0;
}

/* ---- uses ---------------------------------------------------------------------------- */

static int add_use(struct walker *w, Dwarf_Off type, const char *user, uint8_t kind, bool external)
{
	if (grow_array(&w->uses, &w->cap_uses, w->nuses, sizeof(*w->uses), 64) < 0)
		return -1;
	w->uses[w->nuses] = (struct use){type, xstrdup(user), kind, external};
	if (!w->uses[w->nuses].user)
		return -1;
	w->nuses++;
	return 0;
}

static int add_loc(struct walker *w, Dwarf_Die die, const char *name)
{
	struct dwarf_info *di = w->di;
	Dwarf_Unsigned file = 0, line = 0;
	struct dloc *v;
	const char *path, *base;

	if (!get_udata(w, die, DW_AT_decl_file, &file) ||
	    !get_udata(w, die, DW_AT_decl_line, &line)) {
		Dwarf_Die o =
			origin_of(w, die); /* a C++ definition may leave them to its declaration */
		bool ok = o && get_udata(w, o, DW_AT_decl_file, &file) &&
			  get_udata(w, o, DW_AT_decl_line, &line);

		if (o)
			dwarf_dealloc_die(o);
		if (!ok)
			return 0;
	}
	if (file >= (Dwarf_Unsigned)w->nfiles || !w->files[file])
		return 0;
	path = w->files[file];
	base = strrchr(path, '/');
	v = xrealloc(di->locs, (di->nlocs + 1) * sizeof(*v));
	if (!v)
		return -1;
	di->locs = v;
	v[di->nlocs].name = xstrdup(name);
	v[di->nlocs].where = xasprintf("%s:%llu", base ? base + 1 : path, (unsigned long long)line);
	if (!v[di->nlocs].name || !v[di->nlocs].where)
		return -1;
	di->nlocs++;
	return 0;
}

static int walk(struct walker *w, Dwarf_Die die, const char *func, bool ext, bool direct, int depth,
		const char *scope);

/* `direct`: the children are the subprogram's own (its parameters are its signature). */
static int walk_children(struct walker *w, Dwarf_Die die, const char *func, bool ext, bool direct,
			 int depth, const char *scope)
{
	Dwarf_Die child = NULL;
	Dwarf_Error err = NULL;
	int rc = dwarf_child(die, &child, &err);

	drop_err(w, &err);
	while (rc == DW_DLV_OK) {
		Dwarf_Die next = NULL;
		Dwarf_Off at = 0, next_at = 0;

		if (walk(w, child, func, ext, direct, depth + 1, scope) < 0) {
			dwarf_dealloc_die(child);
			return -1;
		}
		rc = dwarf_siblingof_b(w->dbg, child, 1, &next, &err);
		drop_err(w, &err);
		/* a sibling lies after its elder: anything else is a loop */
		if (rc == DW_DLV_OK &&
		    (dwarf_dieoffset(child, &at, &err) != DW_DLV_OK ||
		     dwarf_dieoffset(next, &next_at, &err) != DW_DLV_OK || next_at <= at)) {
			drop_err(w, &err);
			dwarf_dealloc_die(next);
			next = NULL;
			rc = DW_DLV_ERROR;
		}
		dwarf_dealloc_die(child);
		child = next;
		if (w->failed && child) { /* out of budget: stop here */
			dwarf_dealloc_die(child);
			return 0;
		}
	}
	if (rc == DW_DLV_ERROR)
		w->failed = true;
	return 0;
}

/*
 * The children of a namespace or of a class, struct or union, with their
 * names qualified by it: "net::" + "peer".  An anonymous namespace is
 * "(anonymous namespace)::", as compilers print it.
 */
static int walk_scope(struct walker *w, Dwarf_Die die, const char *func, bool ext, int depth,
		      const char *scope)
{
	const char *n = die_name(w, die);
	char *inner = xasprintf("%s%s::", scope, n ? n : "(anonymous namespace)");
	int ret;

	if (!inner)
		return -1;
	ret = walk_children(w, die, func, ext, false, depth, inner);
	free(inner);
	return ret;
}

static int walk(struct walker *w, Dwarf_Die die, const char *func, bool ext, bool direct, int depth,
		const char *scope)
{
	Dwarf_Half tag = die_tag(w, die);
	Dwarf_Off off = 0, type;
	Dwarf_Error err = NULL;
	char *name;

	if (depth > MAX_DEPTH)
		return 0;
	if (w->budget == 0) {
		w->failed = true;
		return 0;
	}
	w->budget--;
	if (dwarf_dieoffset(die, &off, &err) != DW_DLV_OK)
		drop_err(w, &err);
	switch (tag) {
	case DW_TAG_structure_type:
	case DW_TAG_class_type:
	case DW_TAG_union_type: {
		size_t before = w->di->ntypes;

		if (add_type(w, die, off, tag, scope) < 0)
			return -1;
		if (!die_name(w, die) && w->di->ntypes > before && is_closure(w, die)) {
			struct dtype *t = &w->di->types[w->di->ntypes - 1];

			t->closure = true;
			if (func && add_closure(w, t, func) < 0)
				return -1;
		}
	}
		/* its nested types: struct outer { struct inner { ... } in; } */
		if (die_name(w, die))
			return walk_scope(w, die, func, ext, depth, scope);
		break;
	case DW_TAG_namespace:
		return walk_scope(w, die, func, ext, depth, scope);
	case DW_TAG_subprogram:
		/*
		 * Users are named by their symbols (C++ linkage names) so that
		 * typelayout.c finds them among the object's functions.  A
		 * member function's `this` is one of its parameters: an
		 * exported method passes its class across the object's
		 * boundary like any exported function.
		 */
		name = (char *)symbol_name(w, die, 0);
		if (!name || has_attr(w, die, DW_AT_declaration))
			break;
		ext = origin_has(w, die, DW_AT_external, 0);
		if (!func && (die_name(w, die) || has_attr(w, die, DW_AT_specification)) &&
		    add_loc(w, die, name) < 0)
			return -1;
		if (die_type(w, die, &type, 0) && add_use(w, type, name, USE_SIGNATURE, ext) < 0)
			return -1;
		return walk_children(w, die, name, ext, true, depth, scope);
	case DW_TAG_formal_parameter:
	case DW_TAG_variable:
		if (!die_type(w, die, &type, 0))
			break;
		if (func) {
			bool sig = tag == DW_TAG_formal_parameter && direct;

			if (add_use(w, type, func, sig ? USE_SIGNATURE : USE_BODY, ext) < 0)
				return -1;
		} else if (tag == DW_TAG_variable) {
			name = (char *)symbol_name(w, die, 0);
			if (name && add_use(w, type, name, USE_VARIABLE,
					    origin_has(w, die, DW_AT_external, 0)) < 0)
				return -1;
		}
		break;
	case DW_TAG_typedef:
		/* typedef struct { ... } conn_t;  names the anonymous struct "conn_t". */
		name = die_name(w, die);
		if (name && get_ref(w, die, DW_AT_type, &type)) {
			struct alias *a = xrealloc(w->aliases, (w->naliases + 1) * sizeof(*a));

			if (!a)
				return -1;
			w->aliases = a;
			a[w->naliases].type = type;
			a[w->naliases].name = xasprintf("%s%s", scope, name);
			if (!a[w->naliases++].name)
				return -1;
		}
		break;
	default:
		break;
	}
	if (tag == DW_TAG_lexical_block || tag == DW_TAG_inlined_subroutine ||
	    tag == DW_TAG_compile_unit || tag == DW_TAG_partial_unit)
		return walk_children(w, die, func, ext, false, depth, scope);
	return 0;
}

/* ---- after the walk ------------------------------------------------------------------- */

/*
 * Where the type at off leads: following pointers, qualifiers, typedefs
 * and arrays (each a step) to a struct or union.  Each DIE has one
 * DW_AT_type at most, so this is a chain, looked up once per member or use
 * rather than each time a walk passes by.
 */
static struct link resolve(struct walker *w, Dwarf_Off off)
{
	for (int steps = 0; steps <= MAX_DEPTH; steps++) {
		long i = type_index(w, off);
		Dwarf_Die die;
		bool more;

		if (i >= 0)
			return (struct link){i, steps};
		die = die_at(w, off);
		if (!die)
			break;
		more = get_ref(w, die, DW_AT_type, &off);
		dwarf_dealloc_die(die);
		if (!more)
			break;
	}
	return (struct link){-1, 0};
}

/* Every struct's members, resolved: w->links[i] is index-aligned with member_types[i]. */
static int resolve_members(struct walker *w)
{
	w->links = xcalloc(w->ntype_off + 1, sizeof(*w->links));
	if (!w->links)
		return -1;
	for (size_t i = 0; i < w->ntype_off; i++) {
		w->links[i] = xmalloc((w->nmember_types[i] + 1) * sizeof(*w->links[i]));
		if (!w->links[i])
			return -1;
		for (size_t k = 0; k < w->nmember_types[i]; k++)
			w->links[i][k] = resolve(w, w->member_types[i][k]);
	}
	return 0;
}

/*
 * Which structs a type reaches: through pointers, qualifiers, typedefs and
 * arrays to a struct or union (l, found by resolve()), then through that
 * struct's members; `depth` counts every step, and nothing deeper than
 * MAX_DEPTH is followed.  Each type the current user reaches is noted once,
 * with the use that got there first; a type is followed again only when
 * reached at a shallower depth, so that MAX_DEPTH cuts every path at the
 * same length.
 */
static int reach(struct walker *w, struct link l, int depth)
{
	struct reach_state *r = &w->reach;
	long i = l.type;
	int ret = 0;

	if (i < 0 || depth + l.steps > MAX_DEPTH)
		return 0;
	depth += l.steps;
	if (r->mark[i] == r->user && r->depth[i] <= depth)
		return 0;
	if (r->mark[i] != r->user) {
		if (grow_array(&r->found, &r->cap_found, r->nfound, sizeof(*r->found), 64) < 0)
			return -1;
		r->found[r->nfound++] = (struct reached){(size_t)i, r->use};
		r->mark[i] = r->user;
	}
	r->depth[i] = (uint8_t)depth;
	for (size_t k = 0; k < w->nmember_types[i] && ret == 0; k++)
		ret = reach(w, w->links[i][k], depth + 1);
	return ret;
}

/* Uses by user name, each user's in the order the walk found them. */
static int cmp_use_by_user(const void *a, const void *b)
{
	const struct use *x = *(const struct use *const *)a, *y = *(const struct use *const *)b;
	int c = strcmp(x->user, y->user);

	if (c)
		return c;
	return x < y ? -1 : x > y;
}

/* By type, then by use: a type's users in the order of their first use. */
static int cmp_reached(const void *a, const void *b)
{
	const struct reached *x = a, *y = b;

	if (x->type != y->type)
		return x->type < y->type ? -1 : 1;
	return x->use < y->use ? -1 : x->use > y->use;
}

/*
 * Every type's users: the names whose uses reach it, each once, with the
 * kind and linkage of its first use that does, in the order of those
 * uses.  Following all the uses of one name together, rather than each use
 * on its own, walks each type once per user.
 */
static int collect_users(struct walker *w)
{
	struct dwarf_info *di = w->di;
	struct reach_state *r = &w->reach;
	const struct use **order = xmalloc((w->nuses + 1) * sizeof(*order));
	size_t *user_of = xmalloc((w->nuses + 1) * sizeof(*user_of)); /* per use: its name */
	int ret = 0;

	if (resolve_members(w) < 0)
		return -1;
	r->mark = xcalloc(di->ntypes + 1, sizeof(*r->mark));
	r->depth = xcalloc(di->ntypes + 1, sizeof(*r->depth));
	di->names = xmalloc((w->nuses + 1) * sizeof(*di->names));
	if (!order || !user_of || !r->mark || !r->depth || !di->names)
		goto fail;
	for (size_t i = 0; i < w->nuses; i++)
		order[i] = &w->uses[i];
	sort(order, w->nuses, sizeof(*order), cmp_use_by_user);
	for (size_t i = 0; i < w->nuses; i++) {
		if (i == 0 || strcmp(order[i - 1]->user, order[i]->user)) {
			di->names[di->nnames] = xstrdup(order[i]->user);
			if (!di->names[di->nnames++])
				goto fail;
			r->user++;
		}
		r->use = (size_t)(order[i] - w->uses);
		user_of[r->use] = di->nnames - 1;
		if (reach(w, resolve(w, order[i]->type), 0) < 0)
			goto fail;
	}
	sort(r->found, r->nfound, sizeof(*r->found), cmp_reached);
	for (size_t i = 0, end; i < r->nfound; i = end) {
		struct dtype *t = &di->types[r->found[i].type];

		for (end = i + 1; end < r->nfound && r->found[end].type == r->found[i].type; end++)
			;
		t->users = xmalloc((end - i) * sizeof(*t->users));
		if (!t->users)
			goto fail;
		for (size_t k = i; k < end; k++) {
			const struct use *u = &w->uses[r->found[k].use];

			t->users[t->nusers++] = (struct duser){di->names[user_of[r->found[k].use]],
							       u->kind, u->external};
		}
	}
out:
	free(order);
	free(user_of);
	free(r->found); /* a user per type reached: the bulk of the memory */
	r->found = NULL;
	r->nfound = r->cap_found = 0;
	return ret;
fail:
	ret = -1;
	goto out;
}

static int cmp_type(const void *a, const void *b)
{
	return strcmp(((const struct dtype *)a)->name, ((const struct dtype *)b)->name);
}

static int cmp_loc(const void *a, const void *b)
{
	return strcmp(((const struct dloc *)a)->name, ((const struct dloc *)b)->name);
}

static void free_type(struct dtype *t)
{
	for (size_t k = 0; k < t->nmembers; k++) {
		free(t->members[k].name);
		free(t->members[k].type);
	}
	free(t->members);
	free(t->users); /* the names are dwarf_info's */
	free(t->name);
}

/* Named types by name, the first of each name first. */
static int cmp_type_first(const void *a, const void *b)
{
	const struct dtype *x = *(const struct dtype *const *)a;
	const struct dtype *y = *(const struct dtype *const *)b;
	int c = strcmp(x->name, y->name);

	if (c)
		return c;
	return x < y ? -1 : x > y;
}

static int finish(struct walker *w)
{
	struct dwarf_info *di = w->di;
	struct dtype **named, *kept;
	size_t nnamed = 0, n = 0;

	if (build_by_off(w) < 0)
		return -1;
	for (size_t i = 0; i < w->naliases; i++) {
		long t = type_index(w, w->aliases[i].type);

		/*
		 * A closure type is not named by the typedefs of templates
		 * instantiated over it (std::remove_reference<...>::type):
		 * g++ spells every lambda of a function alike there, clang++
		 * by its line and column, so one name would stand for another
		 * lambda in the other object.  check_closures() covers them.
		 */
		if (t >= 0 && !di->types[t].name && !di->types[t].closure) {
			di->types[t].name = w->aliases[i].name;
			w->aliases[i].name = NULL;
		}
	}
	if (collect_users(w) < 0)
		return -1;
	/* Keep named types, the first of each name, sorted by name. */
	named = xmalloc((di->ntypes + 1) * sizeof(*named));
	kept = named ? xmalloc((di->ntypes + 1) * sizeof(*kept)) : NULL;
	if (!kept) {
		free(named);
		return -1;
	}
	for (size_t i = 0; i < di->ntypes; i++) {
		if (di->types[i].name)
			named[nnamed++] = &di->types[i];
		else
			free_type(&di->types[i]);
	}
	sort(named, nnamed, sizeof(*named), cmp_type_first);
	for (size_t i = 0; i < nnamed; i++) {
		if (n > 0 && !strcmp(kept[n - 1].name, named[i]->name))
			free_type(named[i]);
		else
			kept[n++] = *named[i];
	}
	free(named);
	free(di->types);
	di->types = kept;
	di->ntypes = n;
	sort(di->locs, di->nlocs, sizeof(*di->locs), cmp_loc);
	return 0;
}

static void walker_free(struct walker *w)
{
	for (size_t i = 0; i < w->nuses; i++)
		free(w->uses[i].user);
	free(w->uses);
	for (size_t i = 0; i < w->ntype_off; i++) {
		free(w->member_types[i]);
		if (w->links)
			free(w->links[i]);
	}
	free(w->member_types);
	free(w->links);
	free(w->nmember_types);
	free(w->type_off);
	free(w->by_off);
	free(w->reach.mark);
	free(w->reach.depth);
	free(w->reach.found);
	for (size_t i = 0; i < w->naliases; i++)
		free(w->aliases[i].name);
	free(w->aliases);
}

static void free_files(struct walker *w)
{
	free(w->files);
	if (w->lines)
		dwarf_srclines_dealloc_b(w->lines);
	w->lines = NULL;
	w->files = NULL;
	w->nfiles = 0;
}

/*
 * The unit's file names, indexed by DWARF file number (DWARF 5 numbers
 * from 0, earlier versions from 1).  Only the names are taken, never the
 * directories: dwarf_srcfiles() joins the two and, in the libdwarf Debian
 * 12 ships, reads past its directory array when a file names a directory
 * the table does not have (found by fuzz_object).  No line table is no
 * file:line, not an error.
 */
static int load_files(struct walker *w, Dwarf_Die cu)
{
	Dwarf_Unsigned version;
	Dwarf_Small tables;
	Dwarf_Signed base, count, end;
	Dwarf_Error err = NULL;

	if (dwarf_srclines_b(cu, &version, &tables, &w->lines, &err) != DW_DLV_OK) {
		drop_err(w, &err);
		w->lines = NULL;
		return 0;
	}
	if (dwarf_srclines_files_indexes(w->lines, &base, &count, &end, &err) != DW_DLV_OK ||
	    base < 0 || end <= base || end > (1 << 20)) {
		drop_err(w, &err);
		return 0;
	}
	w->files = xcalloc((size_t)end, sizeof(*w->files));
	if (!w->files)
		return -1;
	w->nfiles = end;
	for (Dwarf_Signed i = base; i < end; i++) {
		const char *name = NULL;
		Dwarf_Unsigned dir, mtime, size;
		Dwarf_Form_Data16 *md5;

		if (dwarf_srclines_files_data_b(w->lines, i, &name, &dir, &mtime, &size, &md5,
						&err) != DW_DLV_OK)
			drop_err(w, &err);
		else
			w->files[i] = name;
	}
	return 0;
}

static int walk_units(struct walker *w)
{
	for (int units = 0;; units++) {
		Dwarf_Unsigned hlen, abbrev_off, typeoff, next;
		Dwarf_Half version, asize, lsize, esize, cutype;
		Dwarf_Off abbrev;
		Dwarf_Sig8 sig;
		Dwarf_Die cu = NULL;
		Dwarf_Error err = NULL;
		int rc;

		(void)abbrev_off;
		rc = dwarf_next_cu_header_d(w->dbg, 1, &hlen, &version, &abbrev, &asize, &lsize,
					    &esize, &sig, &typeoff, &next, &cutype, &err);
		if (rc == DW_DLV_NO_ENTRY)
			return units ? 0 : -1; /* .debug_info with no unit in it */
		if (rc != DW_DLV_OK) {
			drop_err(w, &err);
			return -1;
		}
		if (dwarf_siblingof_b(w->dbg, NULL, 1, &cu, &err) != DW_DLV_OK) {
			drop_err(w, &err);
			return -1;
		}
		rc = load_files(w, cu);
		if (rc == 0)
			rc = walk(w, cu, NULL, false, false, 0, "");
		free_files(w);
		dwarf_dealloc_die(cu);
		if (rc < 0)
			return -1;
	}
}

/*
 * Is there debug info, and is it usable?  Any needed section compressed
 * (gcc -gz) or .debug_abbrev missing means the layout check cannot run.
 * So do type units (-fdebug-types-section): the types sit in .debug_types
 * or in further .debug_info sections of COMDAT groups, which libdwarf
 * shows one group at a time, and the unit's own DIEs name them only by
 * signature.  Read as usual, a struct that gained a member would simply
 * not be seen.
 */
static bool has_debug_info(const struct object *o, bool *compressed, bool *abbrev, bool *type_units)
{
	int info = 0;

	*compressed = *abbrev = *type_units = false;
	for (size_t i = 0; i < o->elf.nsecs; i++) {
		const struct section *s = &o->elf.secs[i];

		*type_units |= !strcmp(s->name, ".debug_types");
		if (!is_debug(s))
			continue;
		info += !strcmp(s->name, ".debug_info");
		*abbrev |= !strcmp(s->name, ".debug_abbrev");
		*compressed |= (s->flags & SHF_COMPRESSED) != 0;
	}
	*type_units |= info > 1;
	return info > 0;
}

/*
 * libdwarf keeps global state (found by ThreadSanitizer in its string
 * helpers: hpdiff crashed now and then comparing trees in parallel), so
 * one object's DWARF is read at a time; the rest of the work stays parallel.
 */
static pthread_mutex_t libdwarf_lock = PTHREAD_MUTEX_INITIALIZER;

static int dwarf_load_locked(struct object *o, struct dwarf_info **out);

int dwarf_load(struct object *o, struct dwarf_info **out)
{
	int ret;

	pthread_mutex_lock(&libdwarf_lock);
	ret = dwarf_load_locked(o, out);
	pthread_mutex_unlock(&libdwarf_lock);
	return ret;
}

static int dwarf_load_locked(struct object *o, struct dwarf_info **out)
{
	struct access a = {o, NULL};
	Dwarf_Obj_Access_Interface iface = {&a, &methods};
	struct walker w;
	Dwarf_Error err = NULL;
	bool compressed, abbrev, type_units;
	int ret = 0;

	*out = NULL;
	if (!has_debug_info(o, &compressed, &abbrev, &type_units))
		return 0;
	/*
	 * Debug info that is there but cannot be read is an error, not "no
	 * DWARF": ignoring it would report a struct layout change as patchable.
	 */
	if (compressed)
		return error("%s: compressed debug sections (-gz) are not supported; build the "
			     "objects without -gz",
			     o->name);
	if (!abbrev)
		return error("%s: malformed DWARF: .debug_info without .debug_abbrev", o->name);
	if (type_units)
		return error(
			"%s: DWARF type units (-fdebug-types-section) are not supported; build "
			"the objects without -fdebug-types-section",
			o->name);
	memset(&w, 0, sizeof(w));
	for (size_t i = 0; i < o->elf.nsecs; i++)
		if (!strcmp(o->elf.secs[i].name, ".debug_info"))
			w.budget += o->elf.secs[i].size;
	a.relocated = xcalloc(o->elf.nsecs, sizeof(*a.relocated));
	w.di = xcalloc(1, sizeof(*w.di));
	if (!a.relocated || !w.di) {
		ret = -1;
		goto out;
	}
	if (dwarf_object_init_b(&iface, NULL, NULL, DW_GROUPNUMBER_ANY, &w.dbg, &err) !=
	    DW_DLV_OK) {
		ret = error("%s: malformed DWARF: %s", o->name,
			    err ? dwarf_errmsg(err) : "no usable debug sections");
		if (err)
			dwarf_dealloc_error(NULL, err);
		goto out;
	}
	if (walk_units(&w) < 0 || w.failed) {
		ret = error("%s: malformed DWARF in .debug_info", o->name);
	} else if (w.too_many_types) {
		_Static_assert(MAX_TYPES == 65536, "the message gives the limit");
		ret = error("%s: more than 65536 struct and union types; the layout check "
			    "cannot cover them",
			    o->name);
	} else if (finish(&w) < 0) {
		ret = -1;
	} else {
		*out = w.di;
		w.di = NULL;
	}
	dwarf_object_finish(w.dbg, &err);
	if (err)
		dwarf_dealloc_error(NULL, err);
out:
	walker_free(&w);
	dwarf_free(w.di);
	for (size_t i = 0; a.relocated && i < o->elf.nsecs; i++)
		free(a.relocated[i]);
	free(a.relocated);
	return ret;
}

void dwarf_free(struct dwarf_info *di)
{
	if (!di)
		return;
	for (size_t i = 0; i < di->ntypes; i++)
		free_type(&di->types[i]);
	free(di->types);
	for (size_t i = 0; i < di->nlocs; i++) {
		free(di->locs[i].name);
		free(di->locs[i].where);
	}
	free(di->locs);
	for (size_t i = 0; i < di->nnames; i++)
		free(di->names[i]);
	free(di->names);
	for (size_t i = 0; i < di->nclosures; i++) {
		free(di->closures[i].scope);
		free(di->closures[i].layout);
	}
	free(di->closures);
	free(di);
}

static const struct dloc *find_loc(const struct dwarf_info *di, const char *name)
{
	struct dloc key = {(char *)name, NULL};

	if (!di->nlocs)
		return NULL;
	return bsearch(&key, di->locs, di->nlocs, sizeof(*di->locs), cmp_loc);
}

char *dwarf_func_location(const struct dwarf_info *di, const char *name, const char *key)
{
	const struct dloc *l;
	char *base;

	if (!di)
		return NULL;
	l = find_loc(di, name);
	if (!l) {
		/* A clone ("parse.isra.0") is described under its origin's name. */
		base = xstrdup(key ? key : name);
		if (!base)
			return NULL;
		if (strchr(base, '.'))
			*strchr(base, '.') = 0;
		l = find_loc(di, base);
		free(base);
	}
	return l ? xstrdup(l->where) : NULL;
}

const struct dtype *dwarf_find_type(const struct dwarf_info *di, const char *name)
{
	struct dtype key = {.name = (char *)name};

	if (!di || !di->ntypes)
		return NULL;
	return bsearch(&key, di->types, di->ntypes, sizeof(*di->types), cmp_type);
}
