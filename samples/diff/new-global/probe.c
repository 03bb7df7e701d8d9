#include <stdio.h>
#include "api.h"

void probe(void)
{
	struct bucket b;
	unsigned long base = allowed_requests;
	int i, r;

	bucket_init(&b, 2, 5, 100);
	for (i = 0; i < 7; i++) {
		r = bucket_take(&b, 1, 100);
		printf("take(1, t=100) #%d = %d tokens=%u\n", i, r, b.tokens);
	}
	r = bucket_take(&b, 3, 101);
	printf("take(3, t=101) = %d tokens=%u\n", r, b.tokens);
	r = bucket_take(&b, 50, 200);
	printf("take(50, t=200) = %d tokens=%u\n", r, b.tokens);
	printf("allowed+ = %lu\n", allowed_requests - base);
}
