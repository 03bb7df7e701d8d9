#include <stdio.h>
#include "api.h"

void probe(void)
{
	unsigned v;

	for (v = 1; v < 100000; v *= 7)
		printf("mix(%u) = %#x ok=%d\n", v, frame_mix(v), frame_ok(v, frame_mix(v)));
}
