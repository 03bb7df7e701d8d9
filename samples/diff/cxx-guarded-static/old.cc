/*
 * quota.cc - how much of the quota is left.  The quota is computed from
 * the first caller's base, once, into a function-scope static (guarded
 * initialisation: __cxa_guard_acquire/__cxa_guard_release).
 */
#include "api.h"

int quota_left(int used, int base)
{
	static const int quota = base * 3;

	return used >= quota ? 0 : quota - used;
}
