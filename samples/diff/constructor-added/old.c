/*
 * squares.c - squares, computed on each call.
 */
#include "api.h"

int square_of(int i)
{
	return (i & 15) * (i & 15);
}
