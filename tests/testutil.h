/*
 * Helpers shared by the Criterion tests: running a tool and capturing its
 * output, reading files, temporary directories.  Header-only so each test
 * stays a single translation unit.
 */
#ifndef HP_TESTUTIL_H
#define HP_TESTUTIL_H

#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

extern char **environ;

/* How long tu_run lets a tool run; the slowest takes seconds. */
#ifndef TU_RUN_TIMEOUT_S
#define TU_RUN_TIMEOUT_S 300
#endif

struct run {
	int status; /* exit status, or 128 + signal */
	char *out;  /* stdout, NUL-terminated */
	char *err;  /* stderr */
};

static inline char *tu_slurp_fd(int fd)
{
	size_t len = 0, cap = 4096;
	char *buf = malloc(cap);
	ssize_t n;

	while (buf && (n = read(fd, buf + len, cap - len - 1)) > 0) {
		len += (size_t)n;
		if (cap - len < 2) {
			char *b = realloc(buf, cap *= 2);

			if (!b) {
				free(buf);
				return NULL;
			}
			buf = b;
		}
	}
	if (buf)
		buf[len] = 0;
	return buf;
}

/* Run argv (argv[0] a path) with stdout and stderr captured in temp files. */
static inline struct run tu_run(char *const argv[])
{
	struct run r = {-1, NULL, NULL};
	char outp[] = "/tmp/hptest-out-XXXXXX", errp[] = "/tmp/hptest-err-XXXXXX";
	int ofd = mkstemp(outp), efd = mkstemp(errp), st;
	posix_spawn_file_actions_t fa;
	pid_t pid;

	cr_assert(ofd >= 0 && efd >= 0);
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_adddup2(&fa, ofd, 1);
	posix_spawn_file_actions_adddup2(&fa, efd, 2);
	cr_assert(posix_spawn(&pid, argv[0], &fa, NULL, argv, environ) == 0, "cannot run %s",
		  argv[0]);
	posix_spawn_file_actions_destroy(&fa);
	/* a tool that hangs is a failure, not a test run that never ends */
	for (int waited_ms = 0;; waited_ms += 2) {
		pid_t w = waitpid(pid, &st, WNOHANG);

		cr_assert(w >= 0, "waitpid: %s", strerror(errno));
		if (w == pid)
			break;
		if (waited_ms >= TU_RUN_TIMEOUT_S * 1000) {
			kill(pid, SIGKILL);
			waitpid(pid, &st, 0);
			cr_assert_fail("%s still running after %d s: killed", argv[0],
				       TU_RUN_TIMEOUT_S);
		}
		usleep(2000);
	}
	r.status = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
	lseek(ofd, 0, SEEK_SET);
	lseek(efd, 0, SEEK_SET);
	r.out = tu_slurp_fd(ofd);
	r.err = tu_slurp_fd(efd);
	close(ofd);
	close(efd);
	unlink(outp);
	unlink(errp);
	return r;
}

static inline void tu_run_free(struct run *r)
{
	free(r->out);
	free(r->err);
}

static inline char *tu_read(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	char *buf;
	long n;

	if (!f)
		return NULL;
	fseek(f, 0, SEEK_END);
	n = ftell(f);
	fseek(f, 0, SEEK_SET);
	buf = malloc((size_t)n + 1);
	if (buf && fread(buf, 1, (size_t)n, f) != (size_t)n) {
		free(buf);
		buf = NULL;
	}
	fclose(f);
	if (buf) {
		buf[n] = 0;
		if (len)
			*len = (size_t)n;
	}
	return buf;
}

/* tu_read, and the test fails when the file cannot be read. */
static inline char *tu_read_ok(const char *path, size_t *len)
{
	char *buf = tu_read(path, len);

	cr_assert(buf, "cannot read %s", path);
	return buf;
}

static inline void tu_write(const char *path, const void *data, size_t len)
{
	FILE *f = fopen(path, "wb");

	cr_assert(f, "cannot create %s", path);
	cr_assert(fwrite(data, 1, len, f) == len);
	cr_assert(fclose(f) == 0);
}

/* A fresh temporary directory (not removed: tests run in throwaway /tmp). */
static inline char *tu_tmpdir(void)
{
	char tmpl[] = "/tmp/hptest-XXXXXX";
	char *d = mkdtemp(tmpl);

	cr_assert(d);
	return strdup(d);
}

/* dir/name, malloc'd. */
static inline char *tu_path(const char *dir, const char *name)
{
	char *p = malloc(strlen(dir) + strlen(name) + 2);

	cr_assert(p);
	sprintf(p, "%s/%s", dir, name);
	return p;
}

static inline int tu_exists(const char *path)
{
	struct stat st;

	return stat(path, &st) == 0;
}

/* Remove a directory tree made by a test. */
static inline void tu_rmtree(const char *dir)
{
	char cmd[4200];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	if (system(cmd) != 0)
		fprintf(stderr, "cannot remove %s\n", dir);
}

#endif
