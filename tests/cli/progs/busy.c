/*
 * A program for hpapply's tests: worker threads call score() in a loop,
 * one thread may spin inside spin() forever (a function that never
 * returns), and each line on stdin prints what score() and version()
 * answer now.  With BUSY_SIGNALS set in the environment, a SIGUSR1
 * handler makes system calls of its own (a signal stream while hpapply
 * works must not confuse its remote calls).  seccomp, in every thread:
 * BUSY_DENY=CALL makes that system call (pwrite64, openat, memfd_create,
 * mmap) fail with EPERM, BUSY_KILL=CALL kills the process on it, BUSY_WX=1
 * kills it on an mmap or mprotect asking for write and exec at once;
 * BUSY_STRICT=1 puts the main thread alone in strict mode.
 * A line starting with 'm' first creates a memory file named as hpapply
 * names its own, and leaves it open (what a killed hpapply may leave).
 *
 * Shapes of processes that are hard to stop or to work in, each set by the
 * environment: BUSY_EXIT_MS=N, the main thread calls _exit(3) after N ms
 * (and reads nothing); BUSY_MAIN_EXIT=N, the main thread ends with
 * pthread_exit N ms after another thread began to serve stdin, or, with
 * N=traced, 50 ms after the process is first traced (hpapply attached);
 * BUSY_SPIN_MS=N, spin() returns N ms after the process is first traced;
 * BUSY_VFORK=1, a thread
 * calls vfork() and its child sleeps for a minute before _exit (the
 * thread waits in the kernel meanwhile); BUSY_STAT=PATH, a thread calls
 * stat(PATH) (on a file system that never answers, it sleeps
 * uninterruptibly).
 * Built three times: the baseline (FIX 0), a fix of score() (FIX 1), and
 * a fix of score() and version() (FIX 2).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <pthread.h>
#include <signal.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#ifndef FIX
#define FIX 0
#endif

volatile unsigned long calls;

__attribute__((noinline)) int score(int x)
{
	calls++;
#if FIX >= 1
	if (x < 0 || x > 100)
		return -1;
#endif
	return x * 2;
}

__attribute__((noinline)) const char *version(void)
{
#if FIX >= 2
	return "fixed twice";
#else
	return "baseline";
#endif
}

__attribute__((noinline)) void spin(volatile int *stop)
{
	while (!*stop)
#if FIX >= 1
		calls += 2;
#else
		calls++;
#endif
}

static volatile int stop;
static volatile sig_atomic_t signals;

static void on_usr1(int sig)
{
	(void)sig;
	signals++;
	getppid();
	getppid();
}

static void *worker(void *arg)
{
	(void)arg;
	for (;;) {
		score((int)(calls & 255));
		usleep(100);
	}
	return NULL;
}

static void *spinner(void *arg)
{
	(void)arg;
	spin(&stop);
	return NULL;
}

static void install(struct sock_filter *f, unsigned short n)
{
	struct sock_fprog prog = {n, f};

	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0 ||
	    prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &prog) < 0) {
		perror("busy: seccomp");
		exit(1);
	}
}

/*
 * From now on (threads created later inherit it), one system call ends in
 * `action`: SECCOMP_RET_ERRNO | EPERM (it fails), SECCOMP_RET_KILL_PROCESS.
 */
static void deny(const char *name, unsigned action)
{
	long nr = !strcmp(name, "pwrite64")	  ? SYS_pwrite64
		  : !strcmp(name, "openat")	  ? SYS_openat
		  : !strcmp(name, "memfd_create") ? SYS_memfd_create
		  : !strcmp(name, "mmap")	  ? SYS_mmap
						  : -1;
	struct sock_filter f[] = {
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, arch)),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, AUDIT_ARCH_X86_64, 1, 0),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr)),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, (unsigned)nr, 0, 1),
		BPF_STMT(BPF_RET | BPF_K, action),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
	};

	if (nr < 0) {
		fprintf(stderr, "busy: cannot deny %s\n", name);
		exit(1);
	}
	install(f, sizeof(f) / sizeof(f[0]));
}

/*
 * Memory never both writable and executable (as systemd's
 * MemoryDenyWriteExecute): mmap and mprotect with PROT_WRITE and PROT_EXEC
 * together kill the process.  hpapply never asks for both.
 */
static void deny_wx(void)
{
	const unsigned wx = PROT_WRITE | PROT_EXEC;
	struct sock_filter f[] = {
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, arch)),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, AUDIT_ARCH_X86_64, 0, 6),
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr)),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_mmap, 1, 0),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_mprotect, 0, 3),
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, args[2])),
		BPF_STMT(BPF_ALU | BPF_AND | BPF_K, wx),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, wx, 1, 0),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_KILL_PROCESS),
	};

	install(f, sizeof(f) / sizeof(f[0]));
}

/*
 * The main thread in seccomp strict mode (read, write, _exit, sigreturn):
 * it serves stdin with those alone, formatting into a buffer.
 */
static void serve_strict(void)
{
	char in[64], out[128];

	if (prctl(PR_SET_SECCOMP, SECCOMP_MODE_STRICT) < 0) {
		perror("busy: strict mode");
		exit(1);
	}
	for (;;) {
		long n = syscall(SYS_read, 0, in, sizeof(in));
		int len;

		if (n <= 0)
			syscall(SYS_exit, 0);
		len = snprintf(out, sizeof(out), "score(500) = %d, version = %s\n--\n", score(500),
			       version());
		syscall(SYS_write, 1, out, (size_t)len);
	}
}

/* The child runs in the parent's memory until it exits: only system calls here. */
static void *vforker(void *arg)
{
	struct timespec minute = {60, 0};

	(void)arg;
	if (vfork() == 0) {
		syscall(SYS_nanosleep, &minute, NULL);
		syscall(SYS_exit, 0);
	}
	return NULL;
}

/* Wait until a tracer (hpapply) attaches: TracerPid in /proc/self/status. */
static void wait_traced(void)
{
	for (;;) {
		char line[128];
		int tracer = 0;
		FILE *f = fopen("/proc/self/status", "r");

		while (f && fgets(line, sizeof(line), f))
			if (sscanf(line, "TracerPid: %d", &tracer) == 1)
				break;
		if (f)
			fclose(f);
		if (tracer)
			return;
		usleep(1000);
	}
}

static void *stop_later(void *arg)
{
	wait_traced();
	usleep((useconds_t)atoi(arg) * 1000);
	stop = 1;
	return NULL;
}

static void *stat_path(void *arg)
{
	struct stat st;

	stat(arg, &st);
	return NULL;
}

static void *serve(void *arg)
{
	char line[64];

	(void)arg;
	while (fgets(line, sizeof(line), stdin)) {
		if (line[0] == 'm' && memfd_create("hpapply-op", MFD_CLOEXEC) < 0)
			perror("busy: memfd_create");
		printf("score(500) = %d, version = %s\n--\n", score(500), version());
		fflush(stdout);
	}
	stop = 1;
	return NULL;
}

int main(int argc, char **argv)
{
	int workers = argc > 1 ? atoi(argv[1]) : 4;
	pthread_t t;

	if (getenv("BUSY_SIGNALS"))
		signal(SIGUSR1, on_usr1);
	if (getenv("BUSY_DENY"))
		deny(getenv("BUSY_DENY"), SECCOMP_RET_ERRNO | EPERM);
	if (getenv("BUSY_KILL"))
		deny(getenv("BUSY_KILL"), SECCOMP_RET_KILL_PROCESS);
	if (getenv("BUSY_WX"))
		deny_wx();
	for (int i = 0; i < workers; i++)
		pthread_create(&t, NULL, worker, NULL);
	if (argc > 2)
		pthread_create(&t, NULL, spinner, NULL);
	if (getenv("BUSY_SPIN_MS"))
		pthread_create(&t, NULL, stop_later, getenv("BUSY_SPIN_MS"));
	if (getenv("BUSY_VFORK"))
		pthread_create(&t, NULL, vforker, NULL);
	if (getenv("BUSY_STAT"))
		pthread_create(&t, NULL, stat_path, getenv("BUSY_STAT"));
	if (getenv("BUSY_EXIT_MS")) {
		usleep((useconds_t)atoi(getenv("BUSY_EXIT_MS")) * 1000);
		_exit(3);
	}
	if (getenv("BUSY_STRICT"))
		serve_strict();
	if (getenv("BUSY_MAIN_EXIT")) {
		pthread_create(&t, NULL, serve, NULL);
		if (!strcmp(getenv("BUSY_MAIN_EXIT"), "traced")) {
			wait_traced();
			usleep(50000);
		}
		pthread_exit(NULL);
	}
	serve(NULL);
	return 0;
}
