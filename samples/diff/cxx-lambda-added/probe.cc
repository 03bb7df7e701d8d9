#include <cstdio>
#include "api.h"

/*
 * The first call stores the scaling lambda; after a hotpatch the stored
 * std::function must still scale (its invoker must not have become the
 * new clamping lambda's, which took its number).
 */
extern "C" void probe(void)
{
	static const int in[] = {5, 400, -2};

	for (int v : in)
		std::printf("ops_run(%d, 3) = %d\n", v, ops_run(v, 3));
}
