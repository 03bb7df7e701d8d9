/*
 * A shared library for hpapply's tests: the package's baseline is this
 * library (libscore.so) loaded in a process, not the program itself.
 * FIX 1 bounds lib_score(); FIX 2 does the same through a call to
 * help_sign() of libhelp.so (progs/libhelp.c), so that its package imports
 * a symbol from another library.
 */
int help_sign(int x);

#ifndef FIX
#define FIX 0
#endif

static unsigned long used;

__attribute__((noinline)) int lib_score(int x)
{
	used++;
#if FIX >= 2
	if (x < 0 || x > 100)
		return help_sign(-x);
#elif FIX >= 1
	if (x < 0 || x > 100)
		return -1;
#endif
	return x * 3;
}

unsigned long lib_used(void)
{
	return used;
}
