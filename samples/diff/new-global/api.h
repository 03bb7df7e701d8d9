/* ratelimit: per-client token buckets */
#ifndef RATELIMIT_API_H
#define RATELIMIT_API_H

struct bucket {
	unsigned tokens;	/* current tokens, <= burst */
	unsigned burst;		/* bucket size */
	unsigned rate;		/* tokens added per second */
	unsigned long last;	/* time of last refill, seconds */
};

extern unsigned long allowed_requests;

void bucket_init(struct bucket *b, unsigned rate, unsigned burst, unsigned long now);
int bucket_take(struct bucket *b, unsigned cost, unsigned long now);
#endif
