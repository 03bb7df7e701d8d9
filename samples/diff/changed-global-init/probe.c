#include <stdio.h>
#include <string.h>
#include "api.h"

void probe(void)
{
	struct admit_state st;
	unsigned ip;
	int i, ok = 0;

	memset(&st, 0, sizeof st);
	for (i = 0; i < 200; i++) {
		ip = (unsigned)i * 2654435761u;
		ok += conn_admit(&st, ip >> 7);
	}
	printf("admitted(200) = %d\n", ok);
	printf("headroom = %d\n", conn_headroom(&st));
	conn_release(&st, 0);
	printf("headroom(after release) = %d\n", conn_headroom(&st));
}
