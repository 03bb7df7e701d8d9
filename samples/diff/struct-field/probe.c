#include <stdio.h>
#include <stdint.h>
#include "api.h"

void probe(void)
{
	struct session *s = session_new(7, "192.0.2.10");

	if (s == NULL)
		return;
	printf("peer = %s\n", session_peer(s));
	printf("fd = %d\n", session_fd(s));
	printf("recv(1000) = %d\n", session_recv(s, 1000));
	printf("received = %zu\n", session_received(s));
	printf("recv(SIZE_MAX-500) = %d\n", session_recv(s, SIZE_MAX - 500));
	printf("received = %zu\n", session_received(s));
	printf("fd = %d\n", session_fd(s));
	session_free(s);
}
