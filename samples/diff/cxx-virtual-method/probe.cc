#include <cstdio>
#include "api.h"

extern "C" void probe(void)
{
	static const long scales[] = {1, -2};

	for (long sc : scales)
		for (int w = 0; w < 3; w++)
			std::printf("shape_area(%d, %ld) = %ld\n", w, sc, shape_area(w, sc));
}
