#include <stdio.h>
#include <string.h>
#include "api.h"

void probe(void)
{
	static char big[5000];
	struct hdr_list l;
	char line[32];
	const struct hdr *h;
	int i, r;

	hdrs_reset(&l);
	for (i = 0; i < 12; i++) {
		snprintf(line, sizeof line, "X-Hdr-%d: v%d", i, i);
		r = hdrs_add(&l, line, strlen(line));
		printf("add(X-Hdr-%d) = %d n=%u\n", i, r, l.n);
	}
	h = hdrs_find(&l, "x-hdr-3");
	printf("find(x-hdr-3) = %s\n", h ? "found" : "NULL");
	h = hdrs_find(&l, "x-hdr-10");
	printf("find(x-hdr-10) = %s\n", h ? "found" : "NULL");

	hdrs_reset(&l);
	memset(big, 'a', sizeof big);
	memcpy(big, "Cookie: ", 8);
	printf("add(Cookie 5000) = %d\n", hdrs_add(&l, big, sizeof big));
	printf("add(:bad) = %d\n", hdrs_add(&l, ":bad", 4));
}
