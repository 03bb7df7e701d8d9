/*
 * The outcome of an operation that can refuse.  Such an operation returns
 * it (no side flag says "refused"), after saying why once, where it found
 * out; the tool's main() turns it into the exit status, which has the same
 * numbers for hppack and hpapply: 0 done, 1 refused, 2 trouble.
 */
#ifndef HP_COMMON_OUTCOME_H
#define HP_COMMON_OUTCOME_H

enum outcome {
	OUTCOME_OK = 0,	     /* done as asked */
	OUTCOME_REFUSED = 1, /* not done, for a reason already said; nothing was changed */
	OUTCOME_TROUBLE = 2, /* could not be done: unreadable input, a failing system call */
};

/* The worse of two outcomes: trouble over refused over ok. */
static inline enum outcome outcome_worst(enum outcome a, enum outcome b)
{
	return a > b ? a : b;
}

#endif
