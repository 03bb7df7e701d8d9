#include <stdio.h>
#include "api.h"

void probe(void)
{
	struct lru c;
	unsigned k;
	int v = 0, r;

	lru_init(&c);
	for (k = 1; k <= 6; k++)
		lru_put(&c, k * 7919u, (int)k);
	for (k = 1; k <= 6; k++) {
		r = lru_get(&c, k * 7919u, &v);
		printf("get(%u) = %d %d\n", k * 7919u, r, r == 0 ? v : 0);
	}
	lru_put(&c, 3 * 7919u, 33);
	r = lru_get(&c, 3 * 7919u, &v);
	printf("get(3*7919) = %d %d\n", r, v);
	printf("hits=%u misses=%u\n", c.hits, c.misses);
}
