/*
 * A stale return address: check() calls into libc, which leaves the return
 * address into check() on the stack; idle() then reuses that stack for a
 * buffer it never fully writes and waits.  Nothing will return into
 * check(), but a word on the stack says it might: hpapply must look closer
 * (unwind) and apply.  FIX 1 changes check().
 */
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#ifndef FIX
#define FIX 0
#endif

__attribute__((noinline)) size_t check(const char *s)
{
	return strlen(s) + 1 + FIX;
}

__attribute__((noinline)) int idle(void)
{
	volatile char buf[256];

	buf[0] = 0;
	pause();
	return buf[0];
}

int main(int argc, char **argv)
{
	size_t n;

	(void)argc;
	n = check(argv[0]);
	return idle() + (int)n;
}
