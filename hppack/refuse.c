/*
 * Refusals: each reason hppack refuses the package for, said once (a
 * symbol may be used many times), naming the .hpd and the function or
 * symbol.  hppack says every reason it finds, not only the first.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hppack/packer.h"
#include "common/cli.h"
#include "common/mem.h"

static size_t hash_str(const char *s)
{
	uint64_t h = 14695981039346656037ull; /* FNV-1a */

	for (; *s; s++)
		h = (h ^ (uint8_t)*s) * 1099511628211ull;
	return (size_t)h;
}

/* Where msg is in the set of refusals said, else the free entry it would take. */
static char **said_at(char **set, size_t cap, const char *msg)
{
	size_t i = hash_str(msg) & (cap - 1);

	while (set[i] && strcmp(set[i], msg))
		i = (i + 1) & (cap - 1);
	return &set[i];
}

/* Remember msg as said; on failure it may only be said again. */
static void remember_said(struct packer *p, const char *msg)
{
	char *copy;

	if ((p->nsaid + 1) * 2 > p->cap_said) {
		size_t cap = p->cap_said ? p->cap_said * 2 : 64;
		char **set = xcalloc(cap, sizeof(*set));

		if (!set)
			return;
		for (size_t i = 0; i < p->cap_said; i++)
			if (p->said[i])
				*said_at(set, cap, p->said[i]) = p->said[i];
		free(p->said);
		p->said = set;
		p->cap_said = cap;
	}
	if ((copy = xstrdup(msg))) {
		*said_at(p->said, p->cap_said, msg) = copy;
		p->nsaid++;
	}
}

enum outcome refuse(struct packer *p, const char *fmt, ...)
{
	char msg[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (p->nsaid && *said_at(p->said, p->cap_said, msg))
		return OUTCOME_REFUSED;
	error("%s", msg);
	remember_said(p, msg);
	return OUTCOME_REFUSED;
}
