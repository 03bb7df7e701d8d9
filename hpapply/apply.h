/*
 * The three things hpapply does to a process: apply a package, revert it,
 * and list what is applied.
 */
#ifndef HPAPPLY_APPLY_H
#define HPAPPLY_APPLY_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "common/outcome.h"

struct apply_opts {
	pid_t pid;
	const char *package;
	const char *ca, *crl;
	bool verbose;
};

struct apply_result {
	int64_t pause_ns; /* how long every thread was stopped for the commit */
	char summary[4096];
};

/*
 * Each returns its outcome, having said why when it is not OUTCOME_OK.
 * Refused: the process is untouched (invalid package, wrong baseline,
 * bytes differ, sequence not newer, a thread stayed busy in what would be
 * replaced, nothing to revert).  Trouble: no such process, no permission,
 * a failing system call.  On OUTCOME_OK, res->summary says what was done.
 */
enum outcome do_apply(const struct apply_opts *a, struct apply_result *res);
enum outcome do_revert(pid_t pid, bool verbose, struct apply_result *res);
/* Print what is applied to pid (text or JSON); never refuses. */
enum outcome do_list(pid_t pid, bool json);

#endif
