/*
 * Why a thread cannot be stopped, from what the kernel shows.
 *
 * PTRACE_INTERRUPT stops a thread when it next leaves the kernel or is
 * woken from an interruptible sleep.  Three ordinary states keep it from
 * that for as long as they last:
 *
 *   frozen      the cgroup v2 freezer (cgroup.freeze) parks a thread in the
 *               kernel; a ptrace stop still happens, but the thread freezes
 *               again before it runs a single instruction, so a system call
 *               run through it never completes.  The v1 freezer leaves it in
 *               uninterruptible sleep.  Either lasts until someone thaws it.
 *   vfork       the parent waits (state D, in kernel_clone) until its child
 *               calls exec or exits; meanwhile the child runs in the
 *               parent's memory, out of hpapply's reach.
 *   sleep       any other uninterruptible sleep (state D): a FUSE or NFS
 *               request, disk I/O.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "hpapply/blockers.h"
#include "hpapply/proc.h"
#include "common/mem.h"

#ifndef KCMP_VM
#define KCMP_VM 1
#endif

/* The first line of a small file, without its newline; false if unreadable. */
static bool read_line(const char *path, char *buf, size_t size)
{
	FILE *f = fopen(path, "re");
	bool ok;

	if (!f)
		return false;
	ok = fgets(buf, (int)size, f) != NULL;
	fclose(f);
	if (ok)
		buf[strcspn(buf, "\n")] = 0;
	return ok;
}

/*
 * Where a cgroup hierarchy is mounted: cgroup2 (v1_controller NULL) or the
 * v1 hierarchy holding that controller.  Its mount point and the root of
 * the hierarchy it shows, from /proc/self/mountinfo.
 */
static bool cgroup_mount(const char *v1_controller, char *dir, size_t dsize, char *root,
			 size_t rsize)
{
	char *line = NULL;
	size_t cap = 0;
	bool found = false;
	FILE *f = fopen("/proc/self/mountinfo", "re");

	if (!f)
		return false;
	while (!found && getline(&line, &cap, f) > 0) {
		char r[512], mnt[512], type[64], opts[512];
		const char *sep = strstr(line, " - ");

		if (!sep || sscanf(line, "%*s %*s %*s %511s %511s", r, mnt) != 2 ||
		    sscanf(sep + 3, "%63s %*s %511s", type, opts) != 2)
			continue;
		if (v1_controller ? strcmp(type, "cgroup") != 0 : strcmp(type, "cgroup2") != 0)
			continue;
		if (v1_controller) {
			bool has = false;
			char *save;

			for (char *o = strtok_r(opts, ",", &save); o && !has;
			     o = strtok_r(NULL, ",", &save))
				has = !strcmp(o, v1_controller);
			if (!has)
				continue;
		}
		snprintf(dir, dsize, "%s", mnt);
		snprintf(root, rsize, "%s", r);
		found = true;
	}
	free(line);
	fclose(f);
	return found;
}

/*
 * The directory of the process's cgroup in a hierarchy: "0::/a/b" lines
 * for cgroup2, "N:freezer,...:/a/b" for the v1 freezer.
 */
static bool cgroup_dir(pid_t view, bool v2, char *out, size_t size)
{
	char path[64], *line = NULL, mnt[512], root[512];
	size_t cap = 0;
	bool found = false;
	FILE *f;

	if (!cgroup_mount(v2 ? NULL : "freezer", mnt, sizeof(mnt), root, sizeof(root)))
		return false;
	snprintf(path, sizeof(path), "/proc/%d/cgroup", (int)view);
	f = fopen(path, "re");
	if (!f)
		return false;
	while (!found && getline(&line, &cap, f) > 0) {
		char *ctl = strchr(line, ':'), *cg = ctl ? strchr(ctl + 1, ':') : NULL, *save;
		size_t rlen = strcmp(root, "/") ? strlen(root) : 0;
		bool mine = false;

		if (!cg)
			continue;
		*ctl++ = 0;
		*cg++ = 0;
		cg[strcspn(cg, "\n")] = 0;
		if (v2) {
			mine = !strcmp(line, "0") && !*ctl;
		} else {
			for (char *o = strtok_r(ctl, ",", &save); o && !mine;
			     o = strtok_r(NULL, ",", &save))
				mine = !strcmp(o, "freezer");
		}
		/* the path is relative to our namespace's root, the mount shows `root` of it */
		if (!mine || strncmp(cg, root, rlen) || (cg[rlen] && cg[rlen] != '/'))
			continue;
		snprintf(out, size, "%s%s", mnt, cg + rlen);
		found = true;
	}
	free(line);
	fclose(f);
	return found;
}

enum blocker blockers_frozen(pid_t pid, pid_t view, char *why, size_t size)
{
	char dir[1024], file[1100], v[64];

	/* v2: the cgroup or any ancestor asked to freeze (cgroup.freeze 1) */
	if (cgroup_dir(view, true, dir, sizeof(dir))) {
		char mnt[512], root[512];
		size_t stop = 0;

		if (cgroup_mount(NULL, mnt, sizeof(mnt), root, sizeof(root)))
			stop = strlen(mnt);
		for (size_t len = strlen(dir); len > stop;) {
			snprintf(file, sizeof(file), "%.*s/cgroup.freeze", (int)len, dir);
			if (read_line(file, v, sizeof(v)) && !strcmp(v, "1")) {
				snprintf(why, size,
					 "process %d is in a frozen cgroup (%.*s/cgroup.freeze is "
					 "1): "
					 "none of its threads can run until it is thawed",
					 (int)pid, (int)len, dir);
				return BLOCK_FROZEN;
			}
			while (len > stop && dir[len - 1] != '/')
				len--;
			if (len > stop)
				len--; /* the '/' */
		}
	}
	/* v1: freezer.state shows FREEZING or FROZEN, its parents' freezing included */
	if (cgroup_dir(view, false, dir, sizeof(dir))) {
		snprintf(file, sizeof(file), "%s/freezer.state", dir);
		if (read_line(file, v, sizeof(v)) && strcmp(v, "THAWED")) {
			snprintf(why, size,
				 "process %d is in a frozen cgroup (%s is %s): none of its threads "
				 "can run until it is thawed",
				 (int)pid, file, v);
			return BLOCK_FROZEN;
		}
	}
	return BLOCK_NONE;
}

/* A child of the thread that shares the process's memory: a vfork() child. */
static pid_t vfork_child(pid_t pid, pid_t tid)
{
	char path[96], *line = NULL;
	size_t cap = 0;
	pid_t found = 0;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/task/%d/children", (int)pid, (int)tid);
	f = fopen(path, "re");
	if (!f)
		return 0;
	if (getline(&line, &cap, f) > 0) {
		char *save;

		for (char *p = strtok_r(line, " \n", &save); p && !found;
		     p = strtok_r(NULL, " \n", &save)) {
			pid_t c = (pid_t)strtol(p, NULL, 10);

			if (c > 0 && syscall(SYS_kcmp, (int)tid, (int)c, KCMP_VM, 0, 0) == 0)
				found = c;
		}
	}
	free(line);
	fclose(f);
	return found;
}

enum blocker blockers_thread(pid_t pid, pid_t tid, char *why, size_t size)
{
	char path[96], buf[512], wchan[128], comm[32];
	const char *st;
	pid_t child;

	snprintf(path, sizeof(path), "/proc/%d/task/%d/stat", (int)pid, (int)tid);
	if (!read_line(path, buf, sizeof(buf)) || !(st = strrchr(buf, ')')) || st[1] != ' ' ||
	    st[2] != 'D')
		return BLOCK_NONE;
	proc_comm(pid, tid, comm, sizeof(comm));
	child = vfork_child(pid, tid);
	if (child) {
		snprintf(why, size,
			 "thread %d (%s) is in vfork(): it waits while its child %d runs in the "
			 "process's memory, until the child calls exec or exits",
			 (int)tid, comm, (int)child);
		return BLOCK_VFORK;
	}
	snprintf(path, sizeof(path), "/proc/%d/task/%d/wchan", (int)pid, (int)tid);
	if (!read_line(path, wchan, sizeof(wchan)) || !wchan[0] || !strcmp(wchan, "0"))
		snprintf(wchan, sizeof(wchan), "the kernel");
	snprintf(why, size, "thread %d (%s) is in uninterruptible sleep (state D, in %s)", (int)tid,
		 comm, wchan);
	return BLOCK_SLEEP;
}

enum blocker blockers_threads(pid_t pid, char *why, size_t size)
{
	enum blocker b = BLOCK_NONE;
	pid_t *tids;
	size_t n;

	if (proc_tasks(pid, &tids, &n) < 0)
		return BLOCK_NONE;
	/* vfork first: a child running in the process's memory says the most */
	for (size_t i = 0; i < n; i++) {
		char w[256];
		enum blocker t = blockers_thread(pid, tids[i], w, sizeof(w));

		if (t != BLOCK_NONE && (b == BLOCK_NONE || t == BLOCK_VFORK) && b != BLOCK_VFORK) {
			b = t;
			snprintf(why, size, "%s", w);
		}
	}
	free(tids);
	return b;
}
