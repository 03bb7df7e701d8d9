#include <stdio.h>
#include <string.h>
#include "api.h"

static void one(const char *line, size_t outlen)
{
	char out[64];	/* always large enough: outlen is what we *claim* */
	size_t len = strlen(line);
	int r;

	memset(out, 0, sizeof out);
	r = reqline_method(line, len, out, outlen);
	printf("method(\"%s\", %zu) = %d \"%s\"\n", line, outlen, r, r >= 0 ? out : "");
	memset(out, 0, sizeof out);
	r = reqline_target(line, len, out, outlen);
	printf("target(\"%s\", %zu) = %d \"%s\"\n", line, outlen, r, r >= 0 ? out : "");
	printf("version(\"%s\") = %d\n", line, reqline_version(line, len));
}

void probe(void)
{
	one("GET /index.html HTTP/1.1", 16);
	one("OPTIONS * HTTP/1.0", 4);
	one("PROPPATCH /dav/x HTTP/1.1", 8);
	one("BAD", 16);
}
