/*
 * probe: what a client of a server feels while a command runs against it.
 *
 *   probe PORT REQUEST WARMUP_MS -- COMMAND [ARG...]
 *
 * Connects to 127.0.0.1:PORT and sends REQUEST (a line) as soon as the
 * previous reply arrived, for WARMUP_MS first (the normal latency), then
 * while COMMAND runs (started by fork and exec, its output to the probe's
 * stderr), until it exits.  Prints one line:
 *
 *   normal_p50_us normal_max_us during_max_us during_requests status
 *
 * during_max_us is the longest wait for one reply while the command ran:
 * the longest request the client saw.  status is the command's exit
 * status (128+N if killed by signal N).  Exit status: 0, or 2 if the
 * server could not be reached or a reply did not arrive within 10 s.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static long long now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000000000ll + ts.tv_nsec;
}

/* One request and its whole reply line; its latency in ns, or -1. */
static long long ask(int fd, const char *req, size_t len)
{
	long long t0 = now_ns();
	char buf[512];
	size_t got = 0;

	if (write(fd, req, len) != (ssize_t)len)
		return -1;
	for (;;) {
		struct pollfd p = {.fd = fd, .events = POLLIN};
		ssize_t n;

		if (poll(&p, 1, 10000) <= 0)
			return -1;
		n = read(fd, buf + got, sizeof(buf) - got);
		if (n <= 0)
			return -1;
		got += (size_t)n;
		if (memchr(buf, '\n', got))
			return now_ns() - t0;
		if (got == sizeof(buf))
			return -1;
	}
}

static int cmp_ll(const void *a, const void *b)
{
	long long x = *(const long long *)a, y = *(const long long *)b;

	return (x > y) - (x < y);
}

int main(int argc, char **argv)
{
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	static long long warm[1 << 20];
	size_t nwarm = 0, nduring = 0, len;
	long long during_max = 0, end;
	char req[256];
	int fd, one = 1, st;
	pid_t pid;

	if (argc < 6 || strcmp(argv[4], "--")) {
		fprintf(stderr, "usage: probe PORT REQUEST WARMUP_MS -- COMMAND [ARG...]\n");
		return 2;
	}
	a.sin_port = htons((unsigned short)atoi(argv[1]));
	len = (size_t)snprintf(req, sizeof(req), "%s\n", argv[2]);
	fd = socket(AF_INET, SOCK_STREAM, 0);
	if (fd < 0 || connect(fd, (struct sockaddr *)&a, sizeof(a))) {
		fprintf(stderr, "probe: cannot connect to port %s: %s\n", argv[1], strerror(errno));
		return 2;
	}
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	end = now_ns() + atoll(argv[3]) * 1000000ll;
	while (now_ns() < end && nwarm < sizeof(warm) / sizeof(warm[0])) {
		long long t = ask(fd, req, len);

		if (t < 0)
			return fprintf(stderr, "probe: no reply before the command\n"), 2;
		warm[nwarm++] = t;
	}
	qsort(warm, nwarm, sizeof(warm[0]), cmp_ll);
	pid = fork();
	if (pid == 0) {
		dup2(2, 1);
		execvp(argv[5], argv + 5);
		_exit(127);
	}
	if (pid < 0)
		return perror("probe: fork"), 2;
	for (;;) {
		long long t = ask(fd, req, len);
		pid_t w;

		if (t < 0) {
			fprintf(stderr, "probe: no reply while the command ran\n");
			waitpid(pid, &st, 0);
			return 2;
		}
		nduring++;
		if (t > during_max)
			during_max = t;
		w = waitpid(pid, &st, WNOHANG);
		if (w == pid)
			break;
	}
	printf("%lld %lld %lld %zu %d\n", nwarm ? warm[nwarm / 2] / 1000 : 0,
	       nwarm ? warm[nwarm - 1] / 1000 : 0, during_max / 1000, nduring,
	       WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st));
	return 0;
}
