/*
 * squares.c - a lookup table of squares, filled by a constructor when the
 * program starts.
 */
#include "api.h"

static int table[16];

__attribute__((constructor)) static void fill_table(void)
{
	for (int i = 0; i < 16; i++)
		table[i] = i * i;
}

int square_of(int i)
{
	return table[i & 15];
}
