/*
 * httpload: bounded HTTP/1.1 load on a loopback server, counting failures.
 *
 *   httpload PORT PATH STOPFILE [CONNS] [PAUSE_US]
 *
 * CONNS threads (default 4) each send `GET PATH` on a keep-alive connection
 * to 127.0.0.1:PORT, wait for the whole reply (Content-Length), pause
 * PAUSE_US microseconds (default 1000: bounded load), and again, until
 * STOPFILE exists.  A reply that is not `HTTP/1.1 200`, a connection error
 * or no reply within 10 s is a failed request; the connection is then made
 * again.  A connection the server closes cleanly between requests is
 * reconnected without counting a failure (nginx closes keep-alive
 * connections after keepalive_requests).  At the end prints one line:
 *
 *   requests N failed N max_ms X
 *
 * max_ms is the longest any single request took.  Exit status: 0, or 2 on
 * usage error.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

static int port;
static const char *path;
static const char *stopfile;
static long pause_us = 1000;
static atomic_long requests, failed, max_ns;

static long long now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000000000ll + ts.tv_nsec;
}

static int connect_lo(void)
{
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((unsigned short)port)};
	int fd = socket(AF_INET, SOCK_STREAM, 0);

	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (fd < 0)
		return -1;
	if (connect(fd, (struct sockaddr *)&a, sizeof(a)) != 0) {
		close(fd);
		return -1;
	}
	return fd;
}

/* 1 a 200 reply read whole, 0 a failure, -1 closed before any byte. */
static int one(int fd, const char *req, size_t len)
{
	char buf[65536];
	size_t got = 0;
	long long t0 = now_ns();

	if (send(fd, req, len, MSG_NOSIGNAL) != (ssize_t)len)
		return -1;
	for (;;) {
		struct pollfd p = {.fd = fd, .events = POLLIN};
		char *end, *cl;
		ssize_t n;

		if (poll(&p, 1, 10000) <= 0)
			return 0;
		n = read(fd, buf + got, sizeof(buf) - 1 - got);
		if (n <= 0)
			return got == 0 ? -1 : 0;
		got += (size_t)n;
		buf[got] = '\0';
		end = strstr(buf, "\r\n\r\n");
		if (!end)
			continue;
		cl = strcasestr(buf, "\r\nContent-Length:");
		if (!cl || cl > end)
			return 0;
		if (got < (size_t)(end + 4 - buf) + strtoul(cl + 17, NULL, 10))
			continue;
		long long dt = now_ns() - t0;
		long cur = atomic_load(&max_ns);
		while (dt > cur && !atomic_compare_exchange_weak(&max_ns, &cur, (long)dt))
			;
		return strncmp(buf, "HTTP/1.1 200", 12) == 0;
	}
}

static void *worker(void *arg)
{
	char req[512];
	int len = snprintf(req, sizeof(req), "GET %s HTTP/1.1\r\nHost: localhost\r\n\r\n", path);
	int fd = -1;
	struct stat st;

	(void)arg;
	while (stat(stopfile, &st) != 0) {
		int r;

		if (fd < 0 && (fd = connect_lo()) < 0) {
			atomic_fetch_add(&requests, 1);
			atomic_fetch_add(&failed, 1);
			usleep(100000);
			continue;
		}
		r = one(fd, req, (size_t)len);
		if (r == -1) {
			/* Closed between requests: reconnect and ask again. */
			close(fd);
			fd = connect_lo();
			r = fd < 0 ? 0 : one(fd, req, (size_t)len);
		}
		atomic_fetch_add(&requests, 1);
		if (r != 1) {
			atomic_fetch_add(&failed, 1);
			if (fd >= 0)
				close(fd);
			fd = -1;
		}
		if (pause_us > 0)
			usleep((useconds_t)pause_us);
	}
	if (fd >= 0)
		close(fd);
	return NULL;
}

int main(int argc, char **argv)
{
	int conns = 4;
	pthread_t t[64];

	if (argc < 4 || argc > 6) {
		fprintf(stderr, "usage: httpload PORT PATH STOPFILE [CONNS] [PAUSE_US]\n");
		return 2;
	}
	port = atoi(argv[1]);
	path = argv[2];
	stopfile = argv[3];
	if (argc > 4)
		conns = atoi(argv[4]);
	if (argc > 5)
		pause_us = atol(argv[5]);
	if (port <= 0 || conns <= 0 || conns > 64) {
		fprintf(stderr, "httpload: bad PORT or CONNS\n");
		return 2;
	}
	for (int i = 0; i < conns; i++)
		pthread_create(&t[i], NULL, worker, NULL);
	for (int i = 0; i < conns; i++)
		pthread_join(t[i], NULL);
	printf("requests %ld failed %ld max_ms %.1f\n", atomic_load(&requests), atomic_load(&failed),
	       (double)atomic_load(&max_ns) / 1e6);
	return 0;
}
