/*
 * client.c: talks to kvd (the sample server) over loopback.
 *
 *   client [--host ADDR] --port N REQUEST...       one request; print the reply
 *   client --port N --exploit [--length N] [--expect old|new]
 *   client --port N --load [--threads N] [--seconds S] [--probe-ms MS] [--reconnect N]
 *
 * --exploit sends "ECHO N hi": a payload of 2 bytes that claims to be N.
 * The baseline server answers with N bytes of its own memory ("old"), the
 * fixed one with an error ("new").  The first line says which.
 *
 * --load runs N threads that send verified requests (SET then GET of the
 * thread's own keys, ECHO, PING) until S seconds have passed (0: until
 * SIGINT or SIGTERM), then prints the counts.  Each thread opens a new
 * connection every --reconnect requests (default 100, 0: never), so the
 * server's connection threads come and go.  A failure is a connection
 * error, a timeout, or a reply that is not exactly the expected one.  With
 * --probe-ms, another thread sends the crafted request every MS ms and
 * prints a timestamped line each time the behaviour changes.  Exit status:
 * 0 when nothing failed.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define DATA_MAX   65536 /* a reply's payload: up to the protocol's 16-bit length */
#define HEAD_MAX   4096
#define TIMEOUT_MS 3000

static const char *host = "127.0.0.1";
static int port = -1;
static volatile sig_atomic_t stop;

struct link {
	int fd;
	size_t off, len;
	char buf[16384];
};

/* A reply: its status line, or for VALUE and ECHO the header and the bytes. */
struct reply {
	char head[HEAD_MAX]; /* without the newline */
	char *data;	     /* DATA_MAX bytes, owned by the caller */
	size_t n;
	int has_data;
};

enum behaviour { B_ERROR, B_OLD, B_NEW };
static const char *const behaviour_name[] = {"error", "old", "new"};

static double now(clockid_t clk)
{
	struct timespec ts;

	clock_gettime(clk, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int link_open(struct link *l)
{
	struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
	struct timeval tv = {.tv_sec = TIMEOUT_MS / 1000, .tv_usec = TIMEOUT_MS % 1000 * 1000};
	int one = 1;

	l->off = l->len = 0;
	if (inet_pton(AF_INET, host, &sa.sin_addr) != 1) {
		errno = EINVAL;
		return l->fd = -1;
	}
	l->fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (l->fd < 0)
		return -1;
	setsockopt(l->fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	setsockopt(l->fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	setsockopt(l->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	if (connect(l->fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		int e = errno;

		close(l->fd);
		errno = e;
		return l->fd = -1;
	}
	return 0;
}

static void link_close(struct link *l)
{
	if (l->fd >= 0)
		close(l->fd);
	l->fd = -1;
}

static int link_send(struct link *l, const char *s, size_t n)
{
	while (n > 0) {
		ssize_t w = send(l->fd, s, n, MSG_NOSIGNAL);

		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return -1;
		s += w;
		n -= (size_t)w;
	}
	return 0;
}

/* The next received byte, or -1 (errno EAGAIN on timeout, EPIPE on close). */
static int link_getc(struct link *l)
{
	while (l->off == l->len) {
		ssize_t r = recv(l->fd, l->buf, sizeof(l->buf), 0);

		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0) {
			if (r == 0)
				errno = EPIPE;
			return -1;
		}
		l->off = 0;
		l->len = (size_t)r;
	}
	return (unsigned char)l->buf[l->off++];
}

/* "VALUE n " or "ECHO n " so far: the length, else -1. */
static long data_header(const char *head, size_t n)
{
	const char *p;
	char *end;
	long v;

	if (n < 2 || head[n - 1] != ' ')
		return -1;
	if (strncmp(head, "VALUE ", 6) == 0)
		p = head + 6;
	else if (strncmp(head, "ECHO ", 5) == 0)
		p = head + 5;
	else
		return -1;
	if (p >= head + n - 1)
		return -1;
	v = strtol(p, &end, 10);
	return end == head + n - 1 && v >= 0 && v < DATA_MAX ? v : -1;
}

/* Reads one reply; -1 with errno EPROTO when it is malformed. */
static int read_reply(struct link *l, struct reply *r)
{
	size_t n = 0;
	long want = -1;
	int ch;

	r->n = 0;
	r->has_data = 0;
	while (want < 0) {
		ch = link_getc(l);
		if (ch < 0)
			return -1;
		if (ch == '\n')
			break;
		if (n == sizeof(r->head) - 1) {
			errno = EPROTO;
			return -1;
		}
		r->head[n++] = (char)ch;
		r->head[n] = '\0';
		want = data_header(r->head, n);
	}
	r->head[n] = '\0';
	if (want < 0)
		return 0;
	r->head[n - 1] = '\0'; /* drop the space before the bytes */
	r->has_data = 1;
	for (r->n = 0; r->n < (size_t)want; r->n++) {
		if ((ch = link_getc(l)) < 0)
			return -1;
		r->data[r->n] = (char)ch;
	}
	if ((ch = link_getc(l)) < 0)
		return -1;
	if (ch != '\n') {
		errno = EPROTO;
		return -1;
	}
	return 0;
}

/* Sends the crafted request on a new connection and classifies the reply. */
static enum behaviour exploit_once(size_t length, struct reply *r)
{
	char req[64];
	struct link l;
	enum behaviour b = B_ERROR;
	char want[32];

	if (link_open(&l) < 0)
		return B_ERROR;
	snprintf(req, sizeof(req), "ECHO %zu hi\n", length);
	snprintf(want, sizeof(want), "ECHO %zu", length);
	if (link_send(&l, req, strlen(req)) == 0 && read_reply(&l, r) == 0) {
		if (r->has_data && strcmp(r->head, want) == 0 && r->n == length)
			b = B_OLD;
		else if (!r->has_data && strncmp(r->head, "ERR ", 4) == 0)
			b = B_NEW;
	}
	link_close(&l);
	return b;
}

/* Prints the runs of at least 6 printable characters in data, like strings(1). */
static void print_strings(const char *data, size_t n)
{
	size_t start = 0;

	for (size_t i = 0; i <= n; i++) {
		int printable = i < n && data[i] >= ' ' && data[i] <= '~';

		if (printable)
			continue;
		if (i - start >= 6)
			printf("    \"%.*s\"\n", (int)(i - start), data + start);
		start = i + 1;
	}
}

static int run_exploit(size_t length, const char *expect)
{
	struct reply r;
	enum behaviour b;

	r.data = malloc(DATA_MAX);
	if (!r.data)
		return 2;
	b = exploit_once(length, &r);
	switch (b) {
	case B_OLD:
		printf("old: leak: %zu bytes sent back for a 2-byte payload (%zu bytes of server "
		       "memory)\n",
		       r.n, r.n - 2);
		printf("  readable strings in the reply:\n");
		print_strings(r.data, r.n);
		break;
	case B_NEW:
		printf("new: rejected: %s\n", r.head);
		break;
	case B_ERROR:
		printf("error: no usable reply (%s)\n", strerror(errno));
		break;
	}
	free(r.data);
	if (b == B_ERROR)
		return 1;
	return expect && strcmp(expect, behaviour_name[b]) != 0;
}

static int run_one(int argc, char **argv)
{
	char line[HEAD_MAX];
	struct link l;
	struct reply r;
	size_t n = 0;
	int ret = 1;

	for (int i = 0; i < argc; i++)
		n += (size_t)snprintf(line + n, sizeof(line) - n - 1, "%s%s", i ? " " : "",
				      argv[i]);
	line[n++] = '\n';
	r.data = malloc(DATA_MAX);
	if (!r.data)
		return 2;
	if (link_open(&l) < 0) {
		fprintf(stderr, "client: cannot connect to %s:%d: %s\n", host, port,
			strerror(errno));
	} else if (link_send(&l, line, n) < 0 || read_reply(&l, &r) < 0) {
		fprintf(stderr, "client: no reply: %s\n", strerror(errno));
	} else {
		if (r.has_data)
			printf("%s %.*s\n", r.head, (int)r.n, r.data);
		else
			printf("%s\n", r.head);
		ret = 0;
	}
	link_close(&l);
	free(r.data);
	return ret;
}

/* ---- load ---------------------------------------------------------------- */

static struct {
	atomic_ulong ok, connect, wrong, timeout, logged;
	atomic_ulong probes[3], switches;
} counts;

static int reconnect_every = 100;
static unsigned probe_ms;

static void log_failure(int thread, const char *what, const char *req, const char *got)
{
	if (atomic_fetch_add(&counts.logged, 1) < 10)
		fprintf(stderr, "client: thread %d: %s; request \"%.*s\" got \"%.60s\"\n", thread,
			what, (int)strcspn(req, "\n"), req, got);
}

/* One request of the mix, with the exact reply it must get. */
static size_t next_request(int thread, unsigned long seq, char *req, char *want, size_t size)
{
	unsigned long k = seq / 4 % 64, v = seq / 4;
	char val[300];
	size_t vlen = 8 + v % 200, i;

	/* "t<thread>-<n> " then letters, vlen bytes in all (the id may be cut) */
	i = (size_t)snprintf(val, sizeof(val), "t%d-%lu ", thread, v);
	for (; i < vlen; i++)
		val[i] = (char)('a' + (v + i) % 26);
	val[vlen] = '\0';

	switch (seq % 4) {
	case 0:
		snprintf(want, size, "OK");
		return (size_t)snprintf(req, size, "SET load:%d:%lu %s\n", thread, k, val);
	case 1:
		snprintf(want, size, "VALUE %zu %s", vlen, val);
		return (size_t)snprintf(req, size, "GET load:%d:%lu\n", thread, k);
	case 2:
		snprintf(want, size, "ECHO %zu %s", vlen, val);
		return (size_t)snprintf(req, size, "ECHO %zu %s\n", vlen, val);
	default:
		snprintf(want, size, "PONG");
		return (size_t)snprintf(req, size, "PING\n");
	}
}

/* Whether r is exactly want: "HEAD", or "TAG n bytes". */
static int reply_is(const struct reply *r, const char *want)
{
	size_t hl = strlen(r->head);

	if (strncmp(want, r->head, hl) != 0)
		return 0;
	if (!r->has_data)
		return want[hl] == '\0';
	return want[hl] == ' ' && strlen(want + hl + 1) == r->n &&
	       memcmp(want + hl + 1, r->data, r->n) == 0;
}

static void *load_thread(void *arg)
{
	int id = (int)(long)arg;
	char req[1024], want[1024], got[512];
	struct link l = {.fd = -1};
	struct reply r;
	unsigned long seq = 0, on_link = 0;

	r.data = malloc(DATA_MAX);
	if (!r.data)
		return NULL;
	/* a failed request is retried on a new connection: seq moves on success only */
	while (!stop) {
		size_t n;

		if (l.fd < 0) {
			if (link_open(&l) < 0) {
				atomic_fetch_add(&counts.connect, 1);
				log_failure(id, strerror(errno), "(connect)", "");
				usleep(10000);
				continue;
			}
			on_link = 0;
		}
		n = next_request(id, seq, req, want, sizeof(req));
		if (link_send(&l, req, n) < 0 || read_reply(&l, &r) < 0) {
			if (errno == EAGAIN || errno == EWOULDBLOCK) {
				atomic_fetch_add(&counts.timeout, 1);
				log_failure(id, "timeout", req, "");
			} else {
				atomic_fetch_add(&counts.connect, 1);
				log_failure(id, strerror(errno), req, "");
			}
			link_close(&l);
			continue;
		}
		if (!reply_is(&r, want)) {
			snprintf(got, sizeof(got), "%.200s%s%.*s", r.head, r.has_data ? " " : "",
				 r.has_data ? (int)(r.n < 200 ? r.n : 200) : 0, r.data);
			atomic_fetch_add(&counts.wrong, 1);
			log_failure(id, "wrong reply", req, got);
			link_close(&l);
			continue;
		}
		atomic_fetch_add(&counts.ok, 1);
		seq++;
		if (reconnect_every > 0 && ++on_link == (unsigned long)reconnect_every)
			link_close(&l);
	}
	link_close(&l);
	free(r.data);
	return NULL;
}

static void *probe_thread(void *arg)
{
	double t0 = *(double *)arg;
	enum behaviour last = B_ERROR;
	struct reply r;
	int first = 1;

	r.data = malloc(DATA_MAX);
	if (!r.data)
		return NULL;
	while (!stop) {
		enum behaviour b = exploit_once(700, &r);

		atomic_fetch_add(&counts.probes[b], 1);
		if (first || b != last) {
			double wall = now(CLOCK_REALTIME);
			time_t secs = (time_t)wall;
			struct tm tm;
			char hms[16];

			localtime_r(&secs, &tm);
			strftime(hms, sizeof(hms), "%H:%M:%S", &tm);
			printf("probe %s.%03d (+%.3fs): %s%s%s\n", hms,
			       (int)((wall - (double)secs) * 1000), now(CLOCK_MONOTONIC) - t0,
			       first ? "" : behaviour_name[last], first ? "" : " -> ",
			       behaviour_name[b]);
			fflush(stdout);
			if (!first)
				atomic_fetch_add(&counts.switches, 1);
			last = b;
			first = 0;
		}
		usleep(probe_ms * 1000);
	}
	free(r.data);
	return NULL;
}

static void on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

static int run_load(int threads, double seconds)
{
	pthread_t tids[256], probe_tid;
	struct sigaction sa = {.sa_handler = on_signal};
	sigset_t set, old;
	double t0 = now(CLOCK_MONOTONIC), elapsed;
	unsigned long failed;
	int started = 0;

	/* only the main thread takes the signals, so no request sees EINTR */
	sigemptyset(&set);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGTERM);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	pthread_sigmask(SIG_BLOCK, &set, &old);
	for (; started < threads; started++)
		if (pthread_create(&tids[started], NULL, load_thread, (void *)(long)started) != 0)
			break;
	if (probe_ms && pthread_create(&probe_tid, NULL, probe_thread, &t0) != 0)
		probe_ms = 0;
	pthread_sigmask(SIG_SETMASK, &old, NULL);

	while (!stop && (seconds <= 0 || now(CLOCK_MONOTONIC) - t0 < seconds))
		usleep(20000);
	stop = 1;
	for (int i = 0; i < started; i++)
		pthread_join(tids[i], NULL);
	if (probe_ms)
		pthread_join(probe_tid, NULL);
	elapsed = now(CLOCK_MONOTONIC) - t0;

	failed = counts.connect + counts.wrong + counts.timeout;
	printf("load: %d threads, %.1f s: %lu requests ok, %lu failed (%lu connection, "
	       "%lu wrong reply, %lu timeout), %.0f requests/s\n",
	       started, elapsed, (unsigned long)counts.ok, failed, (unsigned long)counts.connect,
	       (unsigned long)counts.wrong, (unsigned long)counts.timeout,
	       (double)counts.ok / elapsed);
	if (probe_ms)
		printf("probe: %lu crafted requests: %lu old, %lu new, %lu errors; %lu switches\n",
		       (unsigned long)(counts.probes[0] + counts.probes[1] + counts.probes[2]),
		       (unsigned long)counts.probes[B_OLD], (unsigned long)counts.probes[B_NEW],
		       (unsigned long)counts.probes[B_ERROR], (unsigned long)counts.switches);
	return started == threads && failed == 0 && counts.probes[B_ERROR] == 0 ? 0 : 1;
}

static void usage(FILE *f)
{
	fprintf(f, "usage: client [--host ADDR] --port N REQUEST...\n"
		   "       client --port N --exploit [--length N] [--expect old|new]\n"
		   "       client --port N --load [--threads N] [--seconds S] [--probe-ms MS]\n"
		   "                              [--reconnect N]\n");
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{"host", required_argument, NULL, 'H'},
		{"port", required_argument, NULL, 'p'},
		{"exploit", no_argument, NULL, 'x'},
		{"length", required_argument, NULL, 'l'},
		{"expect", required_argument, NULL, 'e'},
		{"load", no_argument, NULL, 'L'},
		{"threads", required_argument, NULL, 't'},
		{"seconds", required_argument, NULL, 's'},
		{"probe-ms", required_argument, NULL, 'P'},
		{"reconnect", required_argument, NULL, 'r'},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	const char *expect = NULL;
	int mode = 0, threads = 8, o;
	unsigned long length = 700;
	double seconds = 10;

	while ((o = getopt_long(argc, argv, "+H:p:", opts, NULL)) != -1) {
		switch (o) {
		case 'H':
			host = optarg;
			break;
		case 'p':
			port = atoi(optarg);
			break;
		case 'x':
		case 'L':
			mode = o;
			break;
		case 'l':
			length = strtoul(optarg, NULL, 10);
			break;
		case 'e':
			expect = optarg;
			break;
		case 't':
			threads = atoi(optarg);
			break;
		case 's':
			seconds = atof(optarg);
			break;
		case 'P':
			probe_ms = (unsigned)atoi(optarg);
			break;
		case 'r':
			reconnect_every = atoi(optarg);
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (port <= 0 || port > 65535 || threads < 1 || threads > 256 || length < 3 ||
	    length >= DATA_MAX || (expect && strcmp(expect, "old") && strcmp(expect, "new")) ||
	    (mode == 0) == (optind == argc)) {
		usage(stderr);
		return 2;
	}
	setvbuf(stdout, NULL, _IOLBF, 0);
	if (mode == 'x')
		return run_exploit(length, expect);
	if (mode == 'L')
		return run_load(threads, seconds);
	return run_one(argc - optind, argv + optind);
}
