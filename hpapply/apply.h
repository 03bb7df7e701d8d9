/*
 * The three things hpapply does to a process: apply a package, revert it,
 * and list what is applied.
 */
#ifndef HPAPPLY_APPLY_H
#define HPAPPLY_APPLY_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

/* Exit statuses (docs/hpapply.1). */
enum apply_status {
	APPLY_OK = 0,
	APPLY_REFUSED = 1, /* invalid package, wrong baseline, busy thread...: untouched */
	APPLY_TROUBLE = 2, /* no such process, no permission, bad usage */
};

struct apply_opts {
	pid_t pid;
	const char *package;
	const char *ca, *crl;
	bool verbose;
};

struct apply_result {
	int64_t pause_ns; /* how long every thread was stopped for the commit */
	char summary[512];
};

int do_apply(const struct apply_opts *a, struct apply_result *res);
int do_revert(pid_t pid, bool verbose, struct apply_result *res);
int do_list(pid_t pid, bool json);

#endif
