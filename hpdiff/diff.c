/*
 * Comparing one object pair, start to finish.  What holds after each stage:
 *
 *   load       both objects parsed and validated, of one machine, built from the
 *              same source
 *   analyse    every function decoded, every reference resolved to an identity
 *   correlate  functions, data and sections of both sides twinned where they match
 *   compare    every function and data object has a status and a reason; changed
 *              code that no sized function symbol covers is not hotpatchable
 *   startup    what changed in code that already ran once is not hotpatchable
 *   layouts    type layout changes (from DWARF) recorded as findings
 *   unwind     emitted code that exceptions need unwind information for is refused
 */
#include <stdlib.h>
#include <string.h>

#include "arch/arch.h"
#include "hpdiff/diff.h"
#include "hpdiff/dwarf.h"
#include "common/cli.h"
#include "common/mem.h"

int diff_add_finding(struct diff *d, const char *name, bool unpatchable, char *reason)
{
	struct finding *v = xrealloc(d->findings, (d->nfindings + 1) * sizeof(*v));

	if (!v || !reason) {
		free(reason);
		return -1;
	}
	d->findings = v;
	v[d->nfindings].name = xstrdup(name);
	v[d->nfindings].reason = reason;
	v[d->nfindings].unpatchable = unpatchable;
	if (!v[d->nfindings].name) {
		free(reason);
		return -1;
	}
	d->nfindings++;
	d->unpatchable |= unpatchable;
	return 0;
}

void diff_free(struct diff *d)
{
	dwarf_free(d->old.dwarf);
	dwarf_free(d->new.dwarf);
	object_free(&d->old);
	object_free(&d->new);
	for_each_finding(d, fd)
	{
		free(fd->name);
		free(fd->reason);
	}
	free(d->findings);
	memset(d, 0, sizeof(*d));
}

static int load_side(struct object *o, const char *name, const uint8_t *image, size_t size)
{
	if (!image) { /* the object exists on the other side only */
		memset(o, 0, sizeof(*o));
		o->name = name;
		return 0;
	}
	return object_load(o, name, image, size);
}

/*
 * The machine comes from the input: both objects' (one may be absent), the
 * one every arch.h question is asked about and the .hpd records.
 */
static int check_machines(struct diff *d)
{
	uint16_t a = d->old.elf.machine, b = d->new.elf.machine;

	if (a && b && a != b)
		return error("%s and %s were built for different machines (%s and %s)", d->old.name,
			     d->new.name, arch_name(a), arch_name(b));
	d->machine = a ? a : b;
	return 0;
}

static int check_sources(const struct diff *d)
{
	const char *a = d->old.elf.srcfile, *b = d->new.elf.srcfile;

	if (a && b && strcmp(a, b))
		return error("%s and %s were built from different source files (%s and %s)",
			     d->old.name, d->new.name, a, b);
	return 0;
}

static int attach_sources(struct object *o)
{
	if (!o->dwarf)
		return 0;
	for_each_func(o, f) if (f->status != ST_SAME) f->source =
		dwarf_func_location(o->dwarf, f->sym->name, f->key);
	return 0;
}

int diff_objects(struct diff *d, const char *name, const char *old_name, const uint8_t *old,
		 size_t old_len, const char *new_name, const uint8_t *new, size_t new_len)
{
	memset(d, 0, sizeof(*d));
	d->name = name;
	if (load_side(&d->old, old_name, old, old_len) < 0 ||
	    load_side(&d->new, new_name, new, new_len) < 0 || check_machines(d) < 0 ||
	    check_sources(d) < 0)
		return -1;
	/* Byte-identical objects: nothing can differ (most of a rebuilt library). */
	if (old && new &&old_len == new_len && !memcmp(old, new, old_len))
		return 0;
	if (old && dwarf_load(&d->old, &d->old.dwarf) < 0)
		return -1;
	if (new &&dwarf_load(&d->new, &d->new.dwarf) < 0)
		return -1;
	if ((old && object_analyse(&d->old) < 0) || (new &&object_analyse(&d->new) < 0))
		return -1;
	if (correlate(d) < 0 || compare(d) < 0 || refuse_unsized_code(d) < 0 ||
	    check_startup(d) < 0 || check_layouts(d) < 0 || check_unwind(d) < 0)
		return -1;
	d->analysed = true;
	d->differs |= d->nfindings > 0; /* so callers test differs alone */
	attach_sources(&d->new);
	attach_sources(&d->old);
	if (!old || !new)
		d->differs = true;
	return 0;
}
