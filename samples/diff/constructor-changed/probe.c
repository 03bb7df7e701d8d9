#include <stdio.h>
#include "api.h"

void probe(void)
{
	for (int i = 0; i < 5; i++)
		printf("square_of(%d) = %d\n", i, square_of(i));
}
