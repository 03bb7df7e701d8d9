#include <cstdio>
#include "api.h"

extern "C" void probe(void)
{
	std::printf("banner: %s\n", banner_text());
	for (std::size_t i = 0; i < 4; i++)
		std::printf("limit %zu: %zu\n", i, banner_limit(i));
}
