/*
 * session.c - per-connection state of the proxy.  The struct is private to
 * this file; callers only hold pointers.
 */
#include <stdlib.h>
#include <string.h>
#include "api.h"

#define SESSION_RECV_MAX (1UL << 20)	/* per-session receive quota */

struct session {
	int fd;
	unsigned flags;
	size_t rx_bytes;
	size_t rx_quota;	/* new: per-session quota, was a global constant */
	unsigned rx_calls;
	char peer[46];		/* INET6_ADDRSTRLEN */
};

#define SF_CLOSING 0x1

struct session *session_new(int fd, const char *peer)
{
	struct session *s = calloc(1, sizeof *s);

	if (s == NULL)
		return NULL;
	s->fd = fd;
	s->rx_quota = SESSION_RECV_MAX;
	strncpy(s->peer, peer, sizeof s->peer - 1);
	return s;
}

void session_free(struct session *s)
{
	free(s);
}

int session_fd(const struct session *s)
{
	return s->flags & SF_CLOSING ? -1 : s->fd;
}

/* Account nbytes received; -1 if the session is over quota. */
int session_recv(struct session *s, size_t nbytes)
{
	s->rx_calls++;
	/* the sum used to wrap around with a huge nbytes */
	if (nbytes > s->rx_quota - s->rx_bytes) {
		s->rx_bytes = s->rx_quota;
		s->flags |= SF_CLOSING;
		return -1;
	}
	return 0;
}

size_t session_received(const struct session *s)
{
	return s->rx_bytes;
}

const char *session_peer(const struct session *s)
{
	return s->peer;
}
