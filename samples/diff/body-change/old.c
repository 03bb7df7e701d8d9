/*
 * latwin.c - fixed-size moving window of request latencies, used by the
 * health checker to decide whether a backend is too slow.
 */
#include <string.h>
#include "api.h"

void latwin_init(struct latwin *w)
{
	memset(w, 0, sizeof *w);
}

void latwin_push(struct latwin *w, unsigned usec)
{
	w->samples[w->head] = usec;
	w->head = (w->head + 1) % LATWIN_SIZE;
	if (w->count < LATWIN_SIZE)
		w->count++;
}

/* Index of the i-th oldest sample. */
static size_t slot(const struct latwin *w, size_t i)
{
	return (w->head + LATWIN_SIZE - w->count + i) % LATWIN_SIZE;
}

unsigned long latwin_sum(const struct latwin *w)
{
	unsigned long sum = 0;
	size_t i;

	/* BUG: skips the most recent sample */
	for (i = 0; i + 1 < w->count; i++)
		sum += w->samples[slot(w, i)];
	return sum;
}

unsigned latwin_avg(const struct latwin *w)
{
	if (w->count == 0)
		return 0;
	return (unsigned)(latwin_sum(w) / w->count);
}

unsigned latwin_max(const struct latwin *w)
{
	unsigned max = 0;
	size_t i;

	for (i = 0; i < w->count; i++) {
		unsigned v = w->samples[slot(w, i)];
		if (v > max)
			max = v;
	}
	return max;
}

/* Number of samples above limit. */
int latwin_over(const struct latwin *w, unsigned limit)
{
	int n = 0;
	size_t i;

	for (i = 0; i < w->count; i++)
		if (w->samples[slot(w, i)] > limit)
			n++;
	return n;
}
