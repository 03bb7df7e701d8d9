/*
 * ratelimit.c - token-bucket rate limiting of client requests.  Time is
 * passed in by the caller (seconds since start) so the code stays testable.
 */
#include "api.h"

unsigned long allowed_requests;

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
	/* BUG: a request larger than the whole bucket is let through */
	if (b->tokens < cost && cost <= b->burst)
		return 0;
	if (b->tokens >= cost)
		b->tokens -= cost;
	else
		b->tokens = 0;
	allowed_requests++;
	return 1;
}
