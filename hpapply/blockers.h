/*
 * What keeps a process's threads from stopping, as the kernel shows it,
 * read with nothing attached or stopped: a frozen cgroup (cgroup v2
 * cgroup.freeze, the v1 freezer), a thread in vfork() whose child runs in
 * the process's memory, a thread in uninterruptible sleep.
 */
#ifndef HPAPPLY_BLOCKERS_H
#define HPAPPLY_BLOCKERS_H

#include <stddef.h>
#include <sys/types.h>

enum blocker {
	BLOCK_NONE = 0,
	BLOCK_FROZEN, /* its cgroup is frozen, or being frozen: it stays so until thawed */
	BLOCK_VFORK,  /* a thread waits in vfork() while its child runs in the same memory */
	BLOCK_SLEEP,  /* a thread is in uninterruptible sleep (state D) */
};

/*
 * Is the process (read through /proc/VIEW, see proc_view) in a frozen or
 * freezing cgroup?  BLOCK_FROZEN with the cgroup named in why, or
 * BLOCK_NONE (also when it cannot be told: no cgroup file system mounted).
 */
enum blocker blockers_frozen(pid_t pid, pid_t view, char *why, size_t size);

/* Thread tid of pid: BLOCK_VFORK, BLOCK_SLEEP (with why) or BLOCK_NONE. */
enum blocker blockers_thread(pid_t pid, pid_t tid, char *why, size_t size);

/* The first thread of pid that BLOCK_VFORK or BLOCK_SLEEP holds, or BLOCK_NONE. */
enum blocker blockers_threads(pid_t pid, char *why, size_t size);

#endif
