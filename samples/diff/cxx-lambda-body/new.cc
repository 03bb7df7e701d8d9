/*
 * ops.cc - a value through a chain of steps.  The scaling step of the
 * first call is kept in a std::function for every later call, as a
 * handler table built at start-up would be.
 */
#include <functional>
#include "api.h"

static std::function<int(int)> first_scale;

/* not inlined, so that each step really goes through its std::function */
__attribute__((noinline)) static int step(const std::function<int(int)> &f, int v)
{
	return f(v);
}

int ops_run(int v, int k)
{
	/* the fix: the product saturates instead of overflowing */
	std::function<int(int)> scale = [k](int x) {
		long r = (long)x * k;
		return r > 1000 ? 1000 : (int)r;
	};
	std::function<int(int)> dec = [](int x) { return x - 1; };

	if (!first_scale)
		first_scale = scale;
	return step(dec, step(first_scale, v));
}
