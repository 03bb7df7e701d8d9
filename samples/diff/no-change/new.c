/*
 * lru.c - a tiny least-recently-used cache for DNS answers
 * (key = hash of the name, value = index of the address).
 *
 * The search is linear on purpose: LRU_SLOTS is small.
 */
#include <string.h>
#include "api.h"

void lru_init(struct lru *c)
{
	memset(c, 0, sizeof *c);
}

static int lru_find(const struct lru *c, unsigned key)
{
	unsigned i;

	for (i = 0; i < c->used; i++)
		if (c->keys[i] == key)
			return (int)i;
	return -1;
}

int lru_get(struct lru *c, unsigned key, int *val)
{
	int i = lru_find(c, key);

	if (i < 0) {	/* not cached */
		c->misses++;
		return -1;
	}

	c->hits++;
	c->stamp[i] = ++c->clock;
	*val = c->vals[i];
	return 0;
}

void lru_put(struct lru *c, unsigned key, int val)
{
	int i = lru_find(c, key);
	unsigned j,   victim = 0;   /* slot to reuse */

	if (i < 0) {
		if (c->used < LRU_SLOTS) {
			victim = c->used++;
		} else {
			for (j = 1; j < LRU_SLOTS; j++)
				if (c->stamp[j] < c->stamp[victim])
					victim = j;
		}
		i = (int)victim;
		c->keys[i] = key;
	}
	c->vals[i] = val;
	c->stamp[i] = ++c->clock;
}
