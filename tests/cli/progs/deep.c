/*
 * A program for hpapply's stack checks: a worker thread with a 64 MiB
 * stack calls entry() (the function the package replaces), which then
 * waits somewhere the check must see through:
 *
 *   d  entry() recurses through descend() 10000 levels deep (over 10 MiB
 *      of stack) and waits at the bottom
 *   a  entry() raises SIGUSR2, whose handler runs on an alternate signal
 *      stack and waits there
 *   s  entry() spins in its own code until SIGUSR2 arrives (sent by the
 *      main thread), whose handler runs on the alternate stack and waits:
 *      the interrupted pc is inside entry()
 *   r  the waiting worker is released: it returns through entry(), and
 *      the answer is "returned N" (N = 1000 * FIX + what it returned)
 *   x  "entry = N": entry() called now, returning 1000 * FIX
 *
 * Each answer ends with a line "--".  Built twice: FIX 0 and FIX 1.
 */
#define _GNU_SOURCE
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#ifndef FIX
#define FIX 0
#endif

#define DEPTH 10000

static int cmd_pipe[2], release_pipe[2], result_pipe[2];
static volatile int waiting, spinning;
static pthread_t worker_thread;

/* Block until the main thread says 'r'. */
__attribute__((noinline)) static void wait_release(void)
{
	char c;

	waiting = 1;
	while (read(release_pipe[0], &c, 1) < 0)
		;
	waiting = 0;
}

__attribute__((noinline)) int descend(int n)
{
	volatile char pad[1024];

	pad[0] = (char)n;
	if (n == 0)
		wait_release();
	else
		pad[1] = (char)descend(n - 1);
	return pad[0] + pad[1] * 0;
}

static void on_usr2(int sig)
{
	(void)sig;
	wait_release();
	spinning = 0;
}

__attribute__((noinline)) int entry(int mode)
{
	int r = 0;

	if (mode == 'd')
		r = descend(DEPTH) & 1;
	else if (mode == 'a')
		raise(SIGUSR2);
	else if (mode == 's')
		while (spinning)
			r++;
	return 1000 * FIX + (r ? 1 : 0);
}

static void *worker(void *arg)
{
	stack_t alt = {0};
	struct sigaction sa;
	char c;

	(void)arg;
	alt.ss_size = 1 << 16;
	alt.ss_sp = mmap(NULL, alt.ss_size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS,
			 -1, 0);
	if (alt.ss_sp == MAP_FAILED || sigaltstack(&alt, NULL) < 0) {
		perror("deep: sigaltstack");
		exit(1);
	}
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_usr2;
	sa.sa_flags = SA_ONSTACK;
	sigaction(SIGUSR2, &sa, NULL);
	while (read(cmd_pipe[0], &c, 1) == 1) {
		int r;

		if (c == 's')
			spinning = 1;
		r = entry(c);
		if (write(result_pipe[1], &r, sizeof(r)) < 0)
			exit(1);
	}
	return NULL;
}

int main(void)
{
	pthread_attr_t attr;
	char line[64];
	sigset_t usr2;

	if (pipe(cmd_pipe) || pipe(release_pipe) || pipe(result_pipe))
		return 1;
	/* only the worker takes SIGUSR2 */
	sigemptyset(&usr2);
	sigaddset(&usr2, SIGUSR2);
	pthread_attr_init(&attr);
	pthread_attr_setstacksize(&attr, 64 << 20);
	pthread_create(&worker_thread, &attr, worker, NULL);
	pthread_sigmask(SIG_BLOCK, &usr2, NULL);
	while (fgets(line, sizeof(line), stdin)) {
		char c = line[0];
		int r;

		if (c == 'd' || c == 'a' || c == 's') {
			if (write(cmd_pipe[1], &c, 1) < 0)
				return 1;
			if (c == 's') {
				usleep(20000); /* spinning in entry() by now */
				pthread_kill(worker_thread, SIGUSR2);
			}
			while (!waiting)
				usleep(1000);
			printf("waiting\n");
		} else if (c == 'r') {
			if (write(release_pipe[1], &c, 1) < 0 ||
			    read(result_pipe[0], &r, sizeof(r)) != sizeof(r))
				return 1;
			printf("returned %d\n", r);
		} else {
			printf("entry = %d\n", entry('x'));
		}
		printf("--\n");
		fflush(stdout);
	}
	return 0;
}
