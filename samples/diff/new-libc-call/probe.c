#include <stdio.h>
#include "api.h"

void probe(void)
{
	static const char good[] = "0123456789abcdef0123456789abcdef";
	static const char other[] = "0123456789abcdef0123456789abcdee";
	static const char shorty[] = "abc";
	char masked[40];

	printf("check(good, good) = %d\n", apikey_check(good, good));
	printf("check(other, good) = %d\n", apikey_check(other, good));
	printf("check(abc, abc) = %d\n", apikey_check(shorty, shorty));
	printf("well_formed(good) = %d\n", apikey_well_formed(good));
	printf("well_formed(abc) = %d\n", apikey_well_formed("abc\0padding-padding-padding-pad"));
	apikey_mask(good, masked, sizeof masked);
	printf("mask(good) = %s\n", masked);
	apikey_mask(good, masked, 10);
	printf("mask(good, 10) = %s\n", masked);
}
