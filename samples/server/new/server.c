/*
 * server.c: kvd's networking: options, the listening socket, one thread per
 * connection, and a clean shutdown on SIGINT or SIGTERM.
 *
 *   server [--port N] [--port-file FILE] [--max-conns N]
 *
 * Listens on 127.0.0.1 only.  --port 0 takes any free port; --port-file then
 * tells which (written once the socket listens).  The key AUTH expects comes
 * from KVD_AUTH_KEY; without it a random one is made and nobody can DEL.
 */
#define _GNU_SOURCE /* accept4 */
#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <unistd.h>

#include "kvd.h"

struct kvd_stats kvd_stats;

static char auth_key[AUTH_KEY_MAX + 1];
static int listen_fd = -1;
static atomic_int stopping;
static unsigned long max_conns = 256;

static void usage(FILE *f)
{
	fprintf(f, "usage: server [--port N] [--port-file FILE] [--max-conns N]\n");
}

/* Handles every complete line in c->buf; 1 when the connection should close. */
static int handle_lines(struct conn *c)
{
	char *nl;

	while ((nl = memchr(c->buf, '\n', c->len))) {
		size_t used = (size_t)(nl - c->buf) + 1, n = used - 1;
		struct request req;
		int ret;

		if (n > 0 && c->buf[n - 1] == '\r')
			n--;
		atomic_fetch_add(&kvd_stats.requests, 1);
		if (parse_request(c->buf, n, &req) < 0) {
			atomic_fetch_add(&kvd_stats.errors, 1);
			ret = reply(c, "ERR %s", req.error);
		} else {
			ret = handle_request(c, &req);
		}
		if (ret != 0)
			return 1;
		c->len -= used;
		memmove(c->buf, c->buf + used, c->len);
	}
	if (c->len == sizeof(c->buf)) {
		reply(c, "ERR request too long");
		return 1;
	}
	return 0;
}

static void *serve(void *arg)
{
	struct conn *c = arg;

	for (;;) {
		ssize_t r = read(c->fd, c->buf + c->len, sizeof(c->buf) - c->len);

		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			break;
		c->len += (size_t)r;
		if (handle_lines(c))
			break;
	}
	close(c->fd);
	free(c);
	atomic_fetch_sub(&kvd_stats.active, 1);
	return NULL;
}

static void start_conn(int fd)
{
	struct conn *c;
	pthread_attr_t attr;
	pthread_t tid;
	int one = 1;

	if (atomic_load(&kvd_stats.active) >= max_conns) {
		static const char busy[] = "ERR too many connections\n";
		(void)!write(fd, busy, sizeof(busy) - 1);
		close(fd);
		return;
	}
	c = calloc(1, sizeof(*c));
	if (!c) {
		close(fd);
		return;
	}
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	c->fd = fd;
	c->id = atomic_fetch_add(&kvd_stats.conns, 1) + 1;
	memcpy(c->sess.key, auth_key, sizeof(auth_key));
	atomic_fetch_add(&kvd_stats.active, 1);

	pthread_attr_init(&attr);
	pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
	pthread_attr_setstacksize(&attr, 256 * 1024);
	if (pthread_create(&tid, &attr, serve, c) != 0) {
		atomic_fetch_sub(&kvd_stats.active, 1);
		close(fd);
		free(c);
	}
	pthread_attr_destroy(&attr);
}

/* Waits for SIGINT or SIGTERM, then makes accept() in main() fail. */
static void *signal_thread(void *arg)
{
	sigset_t *set = arg;
	int sig;

	sigwait(set, &sig);
	fprintf(stderr, "kvd: %s, shutting down\n", strsignal(sig));
	atomic_store(&stopping, 1);
	shutdown(listen_fd, SHUT_RDWR);
	return NULL;
}

static int write_port_file(const char *path, unsigned port)
{
	char tmp[4096];
	FILE *f;

	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	f = fopen(tmp, "w");
	if (!f)
		return -1;
	fprintf(f, "%u\n", port);
	if (fclose(f) != 0 || rename(tmp, path) != 0) {
		unlink(tmp);
		return -1;
	}
	return 0;
}

static int listen_on(unsigned port, unsigned *bound)
{
	struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
	socklen_t len = sizeof(sa);
	int one = 1;

	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	listen_fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (listen_fd < 0)
		return -1;
	setsockopt(listen_fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(listen_fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 || listen(listen_fd, 128) < 0 ||
	    getsockname(listen_fd, (struct sockaddr *)&sa, &len) < 0)
		return -1;
	*bound = ntohs(sa.sin_port);
	return 0;
}

static void load_auth_key(void)
{
	const char *env = getenv("KVD_AUTH_KEY");
	unsigned char rnd[16];

	if (env && *env) {
		snprintf(auth_key, sizeof(auth_key), "%s", env);
		return;
	}
	if (getrandom(rnd, sizeof(rnd), 0) != sizeof(rnd))
		return; /* empty key: AUTH always fails */
	for (size_t i = 0; i < sizeof(rnd); i++)
		snprintf(auth_key + 2 * i, 3, "%02x", rnd[i]);
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{"port", required_argument, NULL, 'p'},
		{"port-file", required_argument, NULL, 'f'},
		{"max-conns", required_argument, NULL, 'm'},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	const char *port_file = NULL;
	unsigned long port = 7070;
	unsigned bound;
	sigset_t set;
	pthread_t sig_tid;
	char *end;
	int o;

	while ((o = getopt_long(argc, argv, "p:f:m:h", opts, NULL)) != -1) {
		switch (o) {
		case 'p':
			port = strtoul(optarg, &end, 10);
			if (*end || port > 65535) {
				fprintf(stderr, "server: bad port '%s'\n", optarg);
				return 2;
			}
			break;
		case 'f':
			port_file = optarg;
			break;
		case 'm':
			max_conns = strtoul(optarg, &end, 10);
			if (*end || max_conns == 0) {
				fprintf(stderr, "server: bad --max-conns '%s'\n", optarg);
				return 2;
			}
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (optind != argc) {
		usage(stderr);
		return 2;
	}

	/* Every thread inherits this mask: only signal_thread takes the signals. */
	sigemptyset(&set);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGTERM);
	pthread_sigmask(SIG_BLOCK, &set, NULL);
	signal(SIGPIPE, SIG_IGN);

	load_auth_key();
	store_init();
	if (listen_on((unsigned)port, &bound) < 0) {
		fprintf(stderr, "server: cannot listen on 127.0.0.1:%lu: %s\n", port,
			strerror(errno));
		return 1;
	}
	if (port_file && write_port_file(port_file, bound) < 0) {
		fprintf(stderr, "server: cannot write %s: %s\n", port_file, strerror(errno));
		return 1;
	}
	if (pthread_create(&sig_tid, NULL, signal_thread, &set) != 0) {
		fprintf(stderr, "server: cannot start the signal thread\n");
		return 1;
	}
	fprintf(stderr, "kvd: pid %d listening on 127.0.0.1:%u\n", (int)getpid(), bound);

	for (;;) {
		int fd = accept4(listen_fd, NULL, NULL, SOCK_CLOEXEC);

		if (fd >= 0) {
			start_conn(fd);
			continue;
		}
		if (atomic_load(&stopping))
			break;
		if (errno == EMFILE || errno == ENFILE)
			usleep(10000); /* out of descriptors: let connections finish */
		else if (errno != EINTR && errno != ECONNABORTED)
			break;
	}
	if (!atomic_load(&stopping)) {
		fprintf(stderr, "server: accept: %s\n", strerror(errno));
		return 1;
	}
	pthread_join(sig_tid, NULL);
	fprintf(stderr, "kvd: served %lu connections, %lu requests (%lu refused)\n",
		atomic_load(&kvd_stats.conns), atomic_load(&kvd_stats.requests),
		atomic_load(&kvd_stats.errors));
	return 0;
}
