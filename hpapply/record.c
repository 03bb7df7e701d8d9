/*
 * Checking the state record against the process.
 *
 * An instance is found again by its file (device and inode) mapped at its
 * base, with the mapping's offset 0; records of version 1 carry no file
 * identity, and the build-id decides there.  If it is mapped, each of its
 * redirects must read as the jump written, all of them (live), or as the
 * bytes the jump replaced, all of them (the object was loaded again at
 * the same address: it runs the baseline); anything else means something
 * else changed the code, and the record is not trusted at all.
 */
#include <stdio.h>
#include <string.h>

#include "hpapply/record.h"
#include "hpapply/target.h"
#include "common/cli.h"

/* Is all of [start, start + size) mapped by hpapply's own mappings? */
static bool all_ours(const struct maps *m, uint64_t start, uint64_t size)
{
	if (start + size < start)
		return false;
	for (uint64_t a = start; a < start + size;) {
		const struct mapping *mp = maps_find(m, a);

		if (!mp || !state_is_ours(mp))
			return false;
		a = mp->end;
	}
	return true;
}

/* Is instance i's file mapped at its base? -1 after a message. */
static int mapped(pid_t view, const struct maps *m, const struct state *s, uint32_t i)
{
	const struct instance *in = &s->inst[i];
	const struct mapping *mp = maps_find(m, in->base);
	struct loaded *v;
	size_t n;
	int r, found = 0;

	if (!mp || mp->start != in->base || mp->offset != 0)
		return 0;
	if (in->dev || in->inode)
		return mp->dev == in->dev && mp->inode == in->inode;
	/* version 1: the object with the record's build-id, at that base */
	r = target_find_all(view, m, s->build_id, s->build_id_len, &v, &n);
	if (r < 0)
		return -1;
	for (size_t k = 0; r == 0 && k < n && !found; k++)
		found = v[k].base == in->base;
	if (r == 0)
		objects_free(v, n);
	return found;
}

int record_check(pid_t view, int mem, const struct maps *m, const struct state *s, uint64_t at,
		 enum inst_state *st, char *why, size_t size)
{
	const struct mapping *rec = at ? maps_find(m, at) : NULL;

	if (at && (!rec || !state_is_ours(rec))) {
		snprintf(why, size, "its state record at 0x%llx is not in hpapply's mapping",
			 (unsigned long long)at);
		return 1;
	}
	for (uint32_t i = 0; i < s->ninst; i++) {
		size_t written = 0, saved = 0, nr = 0;
		int r = mapped(view, m, s, i);

		if (r < 0)
			return -1;
		st[i] = r ? INST_LIVE : INST_UNLOADED;
		for (uint32_t k = 0; r && k < s->nr; k++) {
			const struct redirect *rd = &s->r[k];
			uint8_t b[sizeof(rd->written)];

			if (rd->instance != i)
				continue;
			nr++;
			if (rd->len > sizeof(b) || proc_read(mem, rd->addr, b, rd->len) < 0) {
				snprintf(why, size,
					 "the state record says %s at 0x%llx is redirected, but "
					 "that "
					 "cannot be read",
					 rd->name, (unsigned long long)rd->addr);
				return 1;
			}
			if (!memcmp(b, rd->written, rd->len))
				written++;
			else if (!memcmp(b, rd->saved, rd->len))
				saved++;
			else {
				snprintf(
					why, size,
					"the state record says %s at 0x%llx is redirected, but the "
					"bytes there are not that redirect (changed by something "
					"else?)",
					rd->name, (unsigned long long)rd->addr);
				return 1;
			}
		}
		if (written == nr)
			continue;
		if (saved == nr) {
			st[i] = INST_RELOADED;
			continue;
		}
		snprintf(why, size,
			 "the state record says the functions of the instance at 0x%llx are "
			 "redirected, but only %zu of its %zu redirects are in place (changed by "
			 "something else?)",
			 (unsigned long long)s->inst[i].base, written, nr);
		return 1;
	}
	for (uint32_t i = 0; i < s->nregions; i++)
		if (!all_ours(m, s->regions[i].start, s->regions[i].size)) {
			snprintf(why, size,
				 "the state record names 0x%llx-0x%llx as the applied package's "
				 "code, "
				 "but that is not hpapply's mapping",
				 (unsigned long long)s->regions[i].start,
				 (unsigned long long)(s->regions[i].start + s->regions[i].size));
			return 1;
		}
	return 0;
}

size_t record_live(const struct state *s, const enum inst_state *st)
{
	size_t n = 0;

	for (uint32_t i = 0; i < s->ninst; i++)
		n += st[i] == INST_LIVE;
	return n;
}

const char *record_state_name(enum inst_state st)
{
	switch (st) {
	case INST_LIVE:
		return "patched";
	case INST_UNLOADED:
		return "unloaded";
	default:
		return "loaded again";
	}
}
