/*
 * A second shared library for hpapply's tests: libscore.so (FIX 2) calls
 * it, so a package of that fix imports help_sign.  Loaded again into each
 * dlmopen namespace, unlike the C library.
 */
int help_sign(int x);

int help_sign(int x)
{
	return x > 0 ? 1 : -1;
}
