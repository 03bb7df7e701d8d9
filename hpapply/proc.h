/*
 * A process seen through /proc: its mappings, threads, memory and files.
 * Reading needs the same permission as ptrace (root, or the same user
 * where the kernel allows it); nothing here attaches or stops anything.
 */
#ifndef HPAPPLY_PROC_H
#define HPAPPLY_PROC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

struct mapping {
	uint64_t start, end, offset;
	char perms[5]; /* "r-xp" */
	uint64_t dev;  /* makedev(major, minor) of the file's device */
	uint64_t inode;
	char *path; /* "" for anonymous mappings; "[stack]", "/memfd:x (deleted)" */
};

struct maps {
	struct mapping *v;
	size_t n;
};

struct region_span {
	uint64_t start, end;
};

int proc_maps(pid_t pid, struct maps *m);
void maps_free(struct maps *m);
/* The mapping holding addr, or NULL. */
const struct mapping *maps_find(const struct maps *m, uint64_t addr);
/*
 * A copy of m (into *out) with [start, end) taken as an anonymous mapping,
 * in address order: an address chosen but not mapped yet, that nothing
 * else may be given.  -1 if out of memory.
 */
int maps_copy_reserved(const struct maps *m, const struct region_span *r, size_t n,
		       struct maps *out);

/* Thread ids of pid, sorted. */
int proc_tasks(pid_t pid, pid_t **tids, size_t *n);

/* Open /proc/PID/mem read-write; -1 with errno. */
int proc_mem_open(pid_t pid);
/* Whole reads and writes at an address; -1 with errno (EIO for unmapped). */
int proc_read(int memfd, uint64_t addr, void *buf, size_t n);
int proc_write(int memfd, uint64_t addr, const void *buf, size_t n);

/* The thread's command name ("worker"), in buf. */
const char *proc_comm(pid_t pid, pid_t tid, char *buf, size_t size);
/* One auxiliary vector entry (AT_ENTRY ...), 0 if absent. */
uint64_t proc_auxv(pid_t pid, uint64_t type);
/* Read the whole file a mapping maps (through /proc/PID/map_files), malloc'ed. */
int proc_map_file(pid_t pid, const struct mapping *m, uint8_t **data, size_t *len);
/* Does the process exist? */
bool proc_alive(pid_t pid);
/*
 * The thread's state letter from /proc/PID/task/TID/stat ('R', 'S', 'D',
 * 'Z' ...), or 0 if it is gone.
 */
char proc_thread_state(pid_t pid, pid_t tid);
/* Is the process gone, or every thread of it ended (a zombie, or dead)? */
bool proc_ended(pid_t pid);
/*
 * Whose /proc entry shows the process: pid itself, or, once its main
 * thread has ended (pthread_exit in main leaves it a zombie whose maps,
 * mem and fd entries are empty), a thread that still runs.  /proc/TID
 * shows the same process as /proc/PID for any of its threads.
 */
pid_t proc_view(pid_t pid);

#endif
