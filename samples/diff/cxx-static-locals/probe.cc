#include <cstdio>
#include "api.h"

/*
 * Whether each kind counts in its own counter, not how far: GET's counter
 * only ever goes up by 1 (under 1000 calls), PUT's and HEAD's by 1000 and
 * 1000000.  After a hotpatch GET and PUT must keep their running counters
 * and HEAD must get a new one, not the running counter of another kind.
 */
extern "C" void probe(void)
{
	int head = count_req(REQ_HEAD);

	std::printf("GET below 1000: %d\n", count_req(REQ_GET) < 1000);
	std::printf("PUT in thousands: %d\n", count_req(REQ_PUT) % 1000 == 0);
	std::printf("HEAD counted: %d, in millions: %d\n", head != 0, head % 1000000 == 0);
	std::printf("other = %d\n", count_req(7));
}
