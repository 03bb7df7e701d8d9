/*
 * A program for hpapply's tests: worker threads call score() in a loop,
 * one thread may spin inside spin() forever (a function that never
 * returns), and each line on stdin prints what score() and version()
 * answer now.  With BUSY_SIGNALS set in the environment, a SIGUSR1
 * handler makes system calls of its own (a signal stream while hpapply
 * works must not confuse its remote calls).  Built three times: the baseline (FIX 0), a fix of score()
 * (FIX 1), and a fix of score() and version() (FIX 2).
 */
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
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

int main(int argc, char **argv)
{
	int workers = argc > 1 ? atoi(argv[1]) : 4;
	char line[64];
	pthread_t t;

	if (getenv("BUSY_SIGNALS"))
		signal(SIGUSR1, on_usr1);
	for (int i = 0; i < workers; i++)
		pthread_create(&t, NULL, worker, NULL);
	if (argc > 2)
		pthread_create(&t, NULL, spinner, NULL);
	while (fgets(line, sizeof(line), stdin)) {
		printf("score(500) = %d, version = %s\n--\n", score(500), version());
		fflush(stdout);
	}
	stop = 1;
	return 0;
}
