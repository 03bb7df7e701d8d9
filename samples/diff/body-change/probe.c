#include <stdio.h>
#include "api.h"

void probe(void)
{
	static const unsigned in[] = { 120, 80, 300, 95, 410, 60, 75, 220, 130, 90 };
	struct latwin w;
	size_t i;

	latwin_init(&w);
	printf("avg(empty) = %u\n", latwin_avg(&w));
	for (i = 0; i < 3; i++)
		latwin_push(&w, in[i]);
	printf("sum(3) = %lu\n", latwin_sum(&w));
	printf("avg(3) = %u\n", latwin_avg(&w));
	printf("max(3) = %u\n", latwin_max(&w));
	for (; i < sizeof in / sizeof in[0]; i++)
		latwin_push(&w, in[i]);
	printf("sum(10) = %lu\n", latwin_sum(&w));
	printf("avg(10) = %u\n", latwin_avg(&w));
	printf("max(10) = %u\n", latwin_max(&w));
	printf("over(100) = %d\n", latwin_over(&w, 100));
}
