/* lru: fixed-size LRU cache of small integer values */
#ifndef LRU_API_H
#define LRU_API_H

#define LRU_SLOTS 4

struct lru {
	unsigned keys[LRU_SLOTS];
	int vals[LRU_SLOTS];
	unsigned long stamp[LRU_SLOTS];
	unsigned long clock;
	unsigned used;
	unsigned hits, misses;
};

void lru_init(struct lru *c);
int lru_get(struct lru *c, unsigned key, int *val);
void lru_put(struct lru *c, unsigned key, int val);
#endif
