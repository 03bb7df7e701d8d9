#include <cstdio>
#include "api.h"

/*
 * The first call stores the scaling lambda; after a hotpatch the stored
 * std::function must run the scaling lambda's new code, as the fixed
 * build's does.
 */
extern "C" void probe(void)
{
	static const int in[] = {5, 400, -2};

	for (int v : in)
		std::printf("ops_run(%d, 3) = %d\n", v, ops_run(v, 3));
}
