/*
 * proto.c: executes parsed requests and writes the replies.
 *
 * Status replies are formatted into the connection's out buffer; replies
 * that carry bytes (VALUE, ECHO) are written with writev() so the bytes are
 * never copied.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/uio.h>

#include "kvd.h"

/* Writes every iovec fully; MSG_NOSIGNAL so a vanished client is only an error. */
static int send_all(int fd, struct iovec *iov, int n)
{
	while (n > 0) {
		struct msghdr msg = {.msg_iov = iov, .msg_iovlen = (size_t)n};
		ssize_t w = sendmsg(fd, &msg, MSG_NOSIGNAL);

		if (w < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		while (n > 0 && (size_t)w >= iov->iov_len) {
			w -= (ssize_t)iov->iov_len;
			iov++;
			n--;
		}
		if (n > 0) {
			iov->iov_base = (char *)iov->iov_base + w;
			iov->iov_len -= (size_t)w;
		}
	}
	return 0;
}

int reply(struct conn *c, const char *fmt, ...)
{
	struct iovec iov;
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(c->out, sizeof(c->out) - 1, fmt, ap);
	va_end(ap);
	if (n < 0)
		return -1;
	if ((size_t)n > sizeof(c->out) - 2)
		n = (int)sizeof(c->out) - 2;
	c->out[n++] = '\n';
	iov.iov_base = c->out;
	iov.iov_len = (size_t)n;
	return send_all(c->fd, &iov, 1);
}

/* "TAG n <n bytes>\n" */
static int reply_bytes(struct conn *c, const char *tag, const char *data, size_t n)
{
	int h = snprintf(c->out, sizeof(c->out), "%s %zu ", tag, n);
	struct iovec iov[3] = {
		{.iov_base = c->out, .iov_len = (size_t)h},
		{.iov_base = (void *)data, .iov_len = n},
		{.iov_base = "\n", .iov_len = 1},
	};

	return send_all(c->fd, iov, 3);
}

/* Compares without an early exit, so timing does not tell how much matched. */
static int key_equal(const char *a, size_t alen, const char *b)
{
	size_t blen = strlen(b);
	unsigned char d = alen != blen;

	for (size_t i = 0; i < alen && i < blen; i++)
		d |= (unsigned char)(a[i] ^ b[i]);
	return d == 0;
}

int handle_request(struct conn *c, const struct request *req)
{
	char val[VALUE_MAX];
	long n;

	switch (req->verb) {
	case V_PING:
		return reply(c, "PONG");
	case V_GET:
		n = store_get(req->key, req->keylen, val);
		if (n < 0)
			return reply(c, "NOTFOUND");
		return reply_bytes(c, "VALUE", val, (size_t)n);
	case V_SET:
		if (store_set(req->key, req->keylen, req->data, req->datalen) < 0)
			return reply(c, "ERR out of memory");
		return reply(c, "OK");
	case V_DEL:
		if (!c->sess.authed)
			return reply(c, "ERR not authenticated");
		return reply(c, store_del(req->key, req->keylen) == 0 ? "OK" : "NOTFOUND");
	case V_ECHO:
		return reply_bytes(c, "ECHO", req->data, req->datalen);
	case V_AUTH:
		c->sess.authed = c->sess.key[0] && key_equal(req->data, req->datalen, c->sess.key);
		return reply(c, c->sess.authed ? "OK" : "ERR denied");
	case V_STATS:
		return reply(c, "STATS conns=%lu active=%lu requests=%lu errors=%lu keys=%lu",
			     atomic_load(&kvd_stats.conns), atomic_load(&kvd_stats.active),
			     atomic_load(&kvd_stats.requests), atomic_load(&kvd_stats.errors),
			     store_count());
	case V_QUIT:
		return reply(c, "BYE") < 0 ? -1 : 1;
	case V_UNKNOWN:
		break;
	}
	return reply(c, "ERR unknown command");
}
