// Exceptions through patched code (tests/cli/hpdiff_exceptions.sh).
// FIX=1 changes functions exceptions pass through or are caught in;
// FIX=2 changes only leaf(), which calls nothing (and is long enough for
// the redirect).
#include <stdexcept>

#ifndef FIX
#define FIX 0
#endif

/* not inlined: pass() only calls it, so exceptions pass through pass() */
__attribute__((noinline)) int check(int v)
{
	if (v > (FIX == 1 ? 50 : 100))
		throw std::out_of_range("too big");
	return v * 2;
}

int pass(int v)
{
	return check(v) + (FIX == 1 ? 2 : 1);
}

int guarded(int v)
{
	try {
		return check(v);
	} catch (const std::exception &) {
		return FIX == 1 ? -2 : -1;
	}
}

int leaf(int v)
{
	return v * v - (FIX == 2 ? 4 : 3) * v + 11;
}
