/* latency window statistics: public interface */
#ifndef LATWIN_API_H
#define LATWIN_API_H
#include <stddef.h>

#define LATWIN_SIZE 8

struct latwin {
	unsigned samples[LATWIN_SIZE];
	size_t head;   /* next slot to write */
	size_t count;  /* number of valid samples, <= LATWIN_SIZE */
};

void latwin_init(struct latwin *w);
void latwin_push(struct latwin *w, unsigned usec);
unsigned long latwin_sum(const struct latwin *w);
unsigned latwin_avg(const struct latwin *w);
unsigned latwin_max(const struct latwin *w);
int latwin_over(const struct latwin *w, unsigned limit);
#endif
