/*
 * evloop: a single-threaded event-loop server, the shape of many real
 * services (one thread serves every client through epoll), for measuring
 * the stall a client feels while the server is patched.
 *
 *   evloop [--deep]      listens on 127.0.0.1, an ephemeral port, and
 *                        prints "port N" once it accepts connections
 *
 * Protocol: one request per line, one reply line each.
 *   PING        PONG
 *   GET i       the value of slot i of the table, or ERR range
 *   DEPTH       the deepest recursion the helper thread reached (--deep)
 *
 * The bug (this is the baseline): GET does not check i against the table's
 * size, so GET 64 and above read past it, into the secret that follows.
 *
 * --deep starts a helper thread that spends most of its time deep inside
 * descend(), a function the fix replaces too: a thread the patcher must
 * wait for, with a stack of thousands of frames.
 *
 * The image carries a few MB of read-only data (blob), so that anything
 * the patcher does per byte of the baseline shows.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define TABLE_SIZE 64
#define MAX_CLIENTS 64
#define LINE_MAX_LEN 256

struct store {
	long table[TABLE_SIZE];
	char secret[32];
};

static struct store store = {.secret = "admin-key-7f3a9c"};

/* Read-only padding: a baseline of a few MB, as real services have. */
const unsigned char evloop_blob[3u << 20] = {1};

static volatile long deepest;

struct client {
	int fd;
	size_t len;
	char buf[LINE_MAX_LEN];
};

__attribute__((noinline)) long lookup(const char *arg, char *out, size_t size)
{
	long i = strtol(arg, NULL, 10);

	if (i < 0)
		return snprintf(out, size, "ERR range\n");
	/* the bug: no upper bound */
	if (i >= TABLE_SIZE)
		return snprintf(out, size, "%.16s\n", (const char *)&store.table[i]);
	return snprintf(out, size, "%ld\n", store.table[i]);
}

/* The helper thread's recursion: depth frames, then a rest at the bottom. */
__attribute__((noinline)) long descend(long depth, long rest_ms)
{
	volatile char frame[64];

	frame[0] = (char)depth;
	if (depth > 0)
		return descend(depth - 1, rest_ms) + frame[0];
	struct timespec ts = {rest_ms / 1000, (rest_ms % 1000) * 1000000};
	nanosleep(&ts, NULL);
	return 1;
}

static void *deep_thread(void *arg)
{
	(void)arg;
	for (;;) {
		long d = 20000;

		descend(d, 200);
		deepest = d;
		struct timespec ts = {0, 20 * 1000000};
		nanosleep(&ts, NULL);
	}
	return NULL;
}

static size_t answer(const char *line, char *out, size_t size)
{
	long n;

	if (!strcmp(line, "PING"))
		n = snprintf(out, size, "PONG\n");
	else if (!strncmp(line, "GET ", 4))
		n = lookup(line + 4, out, size);
	else if (!strcmp(line, "DEPTH"))
		n = snprintf(out, size, "%ld\n", deepest);
	else
		n = snprintf(out, size, "ERR request\n");
	return n < 0 ? 0 : (size_t)n < size ? (size_t)n : size - 1;
}

/* Serve every complete line in c's buffer; -1 when the client is gone. */
static int serve(struct client *c)
{
	ssize_t got = read(c->fd, c->buf + c->len, sizeof(c->buf) - 1 - c->len);
	char *nl;

	if (got <= 0)
		return got < 0 && errno == EAGAIN ? 0 : -1;
	c->len += (size_t)got;
	c->buf[c->len] = '\0';
	while ((nl = strchr(c->buf, '\n'))) {
		char out[LINE_MAX_LEN];
		size_t n;

		*nl = '\0';
		n = answer(c->buf, out, sizeof(out));
		if (write(c->fd, out, n) != (ssize_t)n)
			return -1;
		c->len -= (size_t)(nl + 1 - c->buf);
		memmove(c->buf, nl + 1, c->len + 1);
	}
	return c->len == sizeof(c->buf) - 1 ? -1 : 0;
}

int main(int argc, char **argv)
{
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	socklen_t alen = sizeof(a);
	struct epoll_event ev, evs[16];
	struct client *clients[MAX_CLIENTS] = {0};
	int ls, ep, one = 1;

	signal(SIGPIPE, SIG_IGN);
	for (int i = 0; i < TABLE_SIZE; i++)
		store.table[i] = (long)i * 1000 + evloop_blob[i];
	if (argc > 1 && !strcmp(argv[1], "--deep")) {
		pthread_t t;

		if (pthread_create(&t, NULL, deep_thread, NULL))
			return 1;
	}
	ls = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
	if (ls < 0 || setsockopt(ls, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) ||
	    bind(ls, (struct sockaddr *)&a, sizeof(a)) || listen(ls, 64) ||
	    getsockname(ls, (struct sockaddr *)&a, &alen))
		return perror("evloop: listen"), 1;
	ep = epoll_create1(0);
	ev.events = EPOLLIN;
	ev.data.ptr = NULL;
	if (ep < 0 || epoll_ctl(ep, EPOLL_CTL_ADD, ls, &ev))
		return perror("evloop: epoll"), 1;
	printf("port %d\n", ntohs(a.sin_port));
	fflush(stdout);
	for (;;) {
		int n = epoll_wait(ep, evs, 16, -1);

		for (int i = 0; i < n; i++) {
			struct client *c = evs[i].data.ptr;

			if (!c) {
				int fd = accept4(ls, NULL, NULL, SOCK_NONBLOCK);
				int slot = 0;

				while (fd >= 0 && slot < MAX_CLIENTS && clients[slot])
					slot++;
				if (fd < 0 || slot == MAX_CLIENTS || !(c = calloc(1, sizeof(*c)))) {
					if (fd >= 0)
						close(fd);
					continue;
				}
				setsockopt(fd, IPPROTO_TCP, 1 /* TCP_NODELAY */, &one, sizeof(one));
				c->fd = fd;
				clients[slot] = c;
				ev.events = EPOLLIN;
				ev.data.ptr = c;
				epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev);
			} else if (serve(c) < 0) {
				for (int s = 0; s < MAX_CLIENTS; s++)
					if (clients[s] == c)
						clients[s] = NULL;
				epoll_ctl(ep, EPOLL_CTL_DEL, c->fd, NULL);
				close(c->fd);
				free(c);
			}
		}
	}
}
