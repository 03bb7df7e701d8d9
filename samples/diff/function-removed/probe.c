#include <stdio.h>
#include "api.h"

static void one(const char *in)
{
	char out[64];
	int r = path_normalize(in, out, sizeof out);

	if (r < 0)
		printf("normalize(%s) = %d\n", in, r);
	else
		printf("normalize(%s) = %d %s safe=%d\n", in, r, out, path_is_safe(out));
}

void probe(void)
{
	one("/index.html");
	one("//a/./b//c");
	one("/docs/%2e%2e/%2e%2e/etc/passwd");
	one("/a/../b");
	one("/100%25");
}
