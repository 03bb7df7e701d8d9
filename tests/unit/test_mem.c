/*
 * The shared helpers of common/mem.c: grow_array, the one way the tools grow an
 * array (doubling, zeroed tail, an oversized request refused, not wrapped).
 */
#include <criterion/criterion.h>
#include <stdint.h>
#include <stdlib.h>

#include "common/cli.h"
#include "common/mem.h"

struct item {
	uint64_t a, b;
};

static void quiet(void)
{
	set_quiet(1);
}

TestSuite(grow_array, .init = quiet);

Test(grow_array, starts_at_first_doubles_and_zeroes_the_new_tail)
{
	struct item *v = NULL;
	size_t n = 0, cap = 0;

	for (; n < 100; n++) {
		size_t before = cap;

		cr_assert_eq(grow_array(&v, &cap, n, sizeof(*v), 16), 0);
		cr_assert_gt(cap, n);
		if (n < before)
			cr_assert_eq(cap, before, "grew with room left");
		else
			cr_assert_eq(cap, before ? before * 2 : 16);
		for (size_t i = n; i < cap; i++)
			cr_assert(v[i].a == 0 && v[i].b == 0, "element %zu not zeroed", i);
		v[n] = (struct item){n + 1, n + 2};
	}
	cr_assert_eq(cap, 128);
	for (size_t i = 0; i < n; i++)
		cr_assert(v[i].a == i + 1 && v[i].b == i + 2, "element %zu lost", i);
	free(v);
}

Test(grow_array, an_oversized_array_is_refused_and_left_as_it_was)
{
	struct item *v = NULL;
	size_t cap = 0, big;

	cr_assert_eq(grow_array(&v, &cap, 0, sizeof(*v), 4), 0);
	cr_assert_eq(cap, 4);
	v[3].a = 7;

	/* cap * item would wrap */
	big = SIZE_MAX / sizeof(*v) / 2 + 1;
	cap = big;
	cr_assert_eq(grow_array(&v, &cap, big, sizeof(*v), 4), -1);
	cr_assert_eq(cap, big);
	cr_assert_eq(v[3].a, 7);

	/* doubling cap would wrap */
	cap = SIZE_MAX / 2 + 1;
	cr_assert_eq(grow_array(&v, &cap, cap, 1, 4), -1);
	cr_assert_eq(cap, SIZE_MAX / 2 + 1);
	cr_assert_eq(v[3].a, 7);
	free(v);
}
