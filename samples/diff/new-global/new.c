/*
 * ratelimit.c - token-bucket rate limiting of client requests.  Time is
 * passed in by the caller (seconds since start) so the code stays testable.
 */
#include "api.h"

unsigned long allowed_requests;
unsigned long rejected_requests;	/* new: exported to the stats page */

void bucket_init(struct bucket *b, unsigned rate, unsigned burst, unsigned long now)
{
	b->rate = rate;
	b->burst = burst;
	b->tokens = burst;
	b->last = now;
}

static void refill(struct bucket *b, unsigned long now)
{
	unsigned long add;

	if (now <= b->last)
		return;
	add = (now - b->last) * b->rate;
	if (add > b->burst - b->tokens)
		b->tokens = b->burst;
	else
		b->tokens += (unsigned)add;
	b->last = now;
}

/* Take cost tokens; 1 = allowed, 0 = rate limited. */
int bucket_take(struct bucket *b, unsigned cost, unsigned long now)
{
	refill(b, now);
	if (b->tokens < cost) {
		rejected_requests++;
		return 0;
	}
	b->tokens -= cost;
	allowed_requests++;
	return 1;
}
