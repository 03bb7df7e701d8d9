#include <cstdio>
#include "api.h"

/* The arrays are larger than the count passed: reading past n stays inside them. */
extern "C" void probe(void)
{
	static const int ints[8] = {10, 11, 12, 13, 14, 15, 16, 17};
	static const double doubles[8] = {0.5, 1.5, 2.5, 3.5, 4.5, 5.5, 6.5, 7.5};

	for (std::size_t i = 1; i < 7; i += 2) {
		std::printf("view_pair_int(4, %zu) = %d\n", i, view_pair_int(ints, 4, i));
		std::printf("view_pair_double(4, %zu) = %.1f\n", i,
			    view_pair_double(doubles, 4, i));
	}
}
