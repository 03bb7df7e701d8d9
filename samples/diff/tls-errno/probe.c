#include <stdio.h>
#include "api.h"

void probe(void)
{
	static const char *in[] = { "8080", "0", "65536", "80x", "", "100", "101" };
	unsigned base = np_calls();
	unsigned v;
	size_t i;
	int r;

	for (i = 0; i < sizeof in / sizeof in[0]; i++) {
		v = 12345;
		r = np_parse_port(in[i], &v);
		printf("port(\"%s\") = %d v=%u err=%d\n", in[i], r, v, (int)np_last_error());
		v = 12345;
		r = np_parse_percent(in[i], &v);
		printf("percent(\"%s\") = %d v=%u err=%d\n", in[i], r, v, (int)np_last_error());
	}
	printf("calls+ = %u\n", np_calls() - base);
}
