#include <cstdio>
#include "api.h"

extern "C" void probe(void)
{
	static const int used[] = {0, 150, 250, 400};

	for (int u : used)
		std::printf("quota_left(%d) = %d\n", u, quota_left(u, 100));
}
