#include <cstdio>
#include "api.h"

/* A session opened before a hotpatch would have the old layout: open one per call. */
extern "C" void probe(void)
{
	void *s = session_open(1);

	for (int i = 0; i < 5; i++)
		std::printf("bump = %d\n", session_bump(s));
	std::printf("calls = %d\n", session_calls(s));
	session_close(s);
}
