/*
 * /proc/PID: maps, task list, mem, comm, auxv, map_files.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "format/hp.h"
#include "hpapply/proc.h"
#include "common/cli.h"
#include "common/mem.h"

int proc_maps(pid_t pid, struct maps *m)
{
	char path[64], *line = NULL;
	size_t cap = 0, vcap = 0;
	FILE *f;

	memset(m, 0, sizeof(*m));
	snprintf(path, sizeof(path), "/proc/%d/maps", (int)pid);
	f = fopen(path, "re");
	if (!f)
		return -1;
	while (getline(&line, &cap, f) > 0) {
		struct mapping *e;
		unsigned long long start, end, off, inode;
		unsigned major, minor;
		char perms[8];
		int pos = 0;

		if (sscanf(line, "%llx-%llx %7s %llx %x:%x %llu %n", &start, &end, perms, &off,
			   &major, &minor, &inode, &pos) < 7)
			continue;
		if (grow_array(&m->v, &vcap, m->n, sizeof(*m->v), 64) < 0)
			goto fail;
		e = &m->v[m->n];
		e->start = start;
		e->end = end;
		e->offset = off;
		e->dev = makedev(major, minor);
		e->inode = inode;
		memcpy(e->perms, perms, 4);
		e->perms[4] = 0;
		line[strcspn(line, "\n")] = 0;
		e->path = xstrdup(pos ? line + pos : "");
		if (!e->path)
			goto fail;
		m->n++;
	}
	free(line);
	fclose(f);
	return 0;
fail:
	free(line);
	fclose(f);
	maps_free(m);
	errno = ENOMEM;
	return -1;
}

void maps_free(struct maps *m)
{
	for (size_t i = 0; i < m->n; i++)
		free(m->v[i].path);
	free(m->v);
	memset(m, 0, sizeof(*m));
}

const struct mapping *maps_find(const struct maps *m, uint64_t addr)
{
	for (size_t i = 0; i < m->n; i++)
		if (addr >= m->v[i].start && addr < m->v[i].end)
			return &m->v[i];
	return NULL;
}

static int cmp_mapping(const void *a, const void *b)
{
	const struct mapping *x = a, *y = b;

	return x->start < y->start ? -1 : x->start > y->start;
}

int maps_copy_reserved(const struct maps *m, const struct region_span *r, size_t n,
		       struct maps *out)
{
	memset(out, 0, sizeof(*out));
	out->v = xcalloc(m->n + n + 1, sizeof(*out->v));
	if (!out->v)
		return -1;
	for (size_t i = 0; i < m->n + n; i++) {
		struct mapping *e = &out->v[out->n];

		if (i < m->n)
			*e = m->v[i];
		else
			*e = (struct mapping){
				r[i - m->n].start, r[i - m->n].end, 0, "---p", 0, 0, NULL};
		e->path = xstrdup(i < m->n ? m->v[i].path : "");
		out->n++;
		if (!e->path) {
			maps_free(out);
			return -1;
		}
	}
	sort(out->v, out->n, sizeof(*out->v), cmp_mapping);
	return 0;
}

static int cmp_pid(const void *a, const void *b)
{
	pid_t x = *(const pid_t *)a, y = *(const pid_t *)b;

	return x < y ? -1 : x > y;
}

int proc_tasks(pid_t pid, pid_t **tids, size_t *n)
{
	char path[64];
	struct dirent *de;
	size_t cap = 0;
	DIR *d;

	*tids = NULL;
	*n = 0;
	snprintf(path, sizeof(path), "/proc/%d/task", (int)pid);
	d = opendir(path);
	if (!d)
		return -1;
	while ((de = readdir(d))) {
		long t = strtol(de->d_name, NULL, 10);

		if (t <= 0)
			continue;
		if (grow_array(tids, &cap, *n, sizeof(**tids), 16) < 0) {
			closedir(d);
			return -1;
		}
		(*tids)[(*n)++] = (pid_t)t;
	}
	closedir(d);
	sort(*tids, *n, sizeof(**tids), cmp_pid);
	return 0;
}

int proc_mem_open(pid_t pid)
{
	char path[64];

	snprintf(path, sizeof(path), "/proc/%d/mem", (int)pid);
	return open(path, O_RDWR | O_CLOEXEC);
}

int proc_read(int fd, uint64_t addr, void *buf, size_t n)
{
	size_t done = 0;

	while (done < n) {
		ssize_t r = pread(fd, (char *)buf + done, n - done, (off_t)(addr + done));

		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0) {
			if (r == 0)
				errno = EIO;
			return -1;
		}
		done += (size_t)r;
	}
	return 0;
}

int proc_write(int fd, uint64_t addr, const void *buf, size_t n)
{
	size_t done = 0;

	while (done < n) {
		ssize_t r = pwrite(fd, (const char *)buf + done, n - done, (off_t)(addr + done));

		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0) {
			if (r == 0)
				errno = EIO;
			return -1;
		}
		done += (size_t)r;
	}
	return 0;
}

const char *proc_comm(pid_t pid, pid_t tid, char *buf, size_t size)
{
	char path[64];
	FILE *f;

	snprintf(buf, size, "?");
	snprintf(path, sizeof(path), "/proc/%d/task/%d/comm", (int)pid, (int)tid);
	f = fopen(path, "re");
	if (f) {
		if (fgets(buf, (int)size, f))
			buf[strcspn(buf, "\n")] = 0;
		fclose(f);
	}
	return buf;
}

uint64_t proc_auxv(pid_t pid, uint64_t type)
{
	char path[64];
	uint64_t pair[2], v = 0;
	int fd;

	snprintf(path, sizeof(path), "/proc/%d/auxv", (int)pid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return 0;
	while (read(fd, pair, sizeof(pair)) == (ssize_t)sizeof(pair) && pair[0]) {
		if (pair[0] == type) {
			v = pair[1];
			break;
		}
	}
	close(fd);
	return v;
}

int proc_map_file(pid_t pid, const struct mapping *m, uint8_t **data, size_t *len)
{
	char path[96];
	struct hp_error e;

	/* The file actually mapped, even if its path was replaced on disk since. */
	snprintf(path, sizeof(path), "/proc/%d/map_files/%llx-%llx", (int)pid,
		 (unsigned long long)m->start, (unsigned long long)m->end);
	if (hp_read_file(path, 1ull << 31, data, len, &e) < 0) {
		errno = e.sys_errno ? e.sys_errno : EIO;
		return -1;
	}
	return 0;
}

bool proc_alive(pid_t pid)
{
	char path[64];
	struct stat st;

	snprintf(path, sizeof(path), "/proc/%d", (int)pid);
	return stat(path, &st) == 0;
}

char proc_thread_state(pid_t pid, pid_t tid)
{
	char path[64], buf[512], *st;
	char state = 0;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/task/%d/stat", (int)pid, (int)tid);
	f = fopen(path, "re");
	if (!f)
		return 0;
	/* the command name may hold anything, ')' included: the state follows the last one */
	if (fgets(buf, sizeof(buf), f) && (st = strrchr(buf, ')')) && st[1] == ' ')
		state = st[2];
	fclose(f);
	return state;
}

static bool ended_state(char st)
{
	return !st || st == 'Z' || st == 'X' || st == 'x';
}

/* The first thread of pid that has not ended, or 0. */
static pid_t live_thread(pid_t pid)
{
	pid_t *tids, live = 0;
	size_t n;

	if (proc_tasks(pid, &tids, &n) < 0)
		return 0;
	for (size_t i = 0; i < n && !live; i++)
		if (!ended_state(proc_thread_state(pid, tids[i])))
			live = tids[i];
	free(tids);
	return live;
}

bool proc_ended(pid_t pid)
{
	return !live_thread(pid);
}

pid_t proc_view(pid_t pid)
{
	pid_t live;

	if (!ended_state(proc_thread_state(pid, pid)))
		return pid;
	live = live_thread(pid);
	return live ? live : pid;
}
