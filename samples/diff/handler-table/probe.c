#include <stdio.h>
#include "api.h"

static void run(const char *line)
{
	char out[80];
	int r = admin_exec(line, out, sizeof out);

	printf("exec(%s) = %d %s\n", line, r, out);
}

void probe(void)
{
	run("reset");
	run("help");
	run("inc 2");
	run("inc 2");
	run("get 2");
	run("inc -1");
	run("get 9");
	run("frobnicate");
}
