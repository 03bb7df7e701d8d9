/*
 * kvd: a small in-memory key-value server speaking a line protocol over TCP.
 *
 * One request per line ("\n", an optional "\r" before it is ignored), one
 * reply per request:
 *
 *   PING                  PONG
 *   GET key               VALUE n <n bytes> | NOTFOUND
 *   SET key value...      OK                  (the value is the rest of the line)
 *   DEL key               OK | NOTFOUND       (after AUTH)
 *   ECHO n payload        ECHO n <n bytes>    (keepalive: payload is n bytes)
 *   AUTH key              OK | ERR denied
 *   STATS                 STATS conns=.. active=.. requests=.. errors=.. keys=..
 *   QUIT                  BYE, then the server closes the connection
 *
 * Any request can be answered with "ERR reason".
 */
#ifndef KVD_H
#define KVD_H

#include <stdatomic.h>
#include <stddef.h>

#define REQ_MAX	     512 /* longest request line, newline included */
#define KEY_MAX	     64
#define VALUE_MAX    256
#define LENGTH_MAX   65535 /* lengths are 16-bit, as in the binary framing */
#define AUTH_KEY_MAX 64
#define OUT_MAX	     4096 /* longest reply header or status line */

enum verb { V_UNKNOWN, V_PING, V_GET, V_SET, V_DEL, V_ECHO, V_AUTH, V_STATS, V_QUIT };

/* A parsed request.  Pointers refer into the request line: nothing is copied. */
struct request {
	enum verb verb;
	const char *key; /* GET, SET, DEL */
	size_t keylen;
	const char *data; /* SET value, ECHO payload, AUTH key */
	size_t datalen;
	const char *error; /* why parse_request() refused the line */
};

/* What a connection has proven about itself. */
struct session {
	int authed;
	char key[AUTH_KEY_MAX + 1]; /* what AUTH must match: the server's key at accept */
};

/* One client connection, served by its own thread. */
struct conn {
	int fd;
	unsigned long id;
	size_t len;	   /* bytes in buf */
	char buf[REQ_MAX]; /* received, not yet handled */
	struct session sess;
	char out[OUT_MAX]; /* reply being built */
};

/* Server-wide counters (server.c), read by STATS. */
struct kvd_stats {
	atomic_ulong conns;
	atomic_ulong active;
	atomic_ulong requests;
	atomic_ulong errors;
};
extern struct kvd_stats kvd_stats;

/* parse.c: 0 and *req filled, or -1 with req->error set. */
int parse_request(const char *line, size_t len, struct request *req);

/* proto.c: 0 keep serving, 1 close after the reply (QUIT), -1 write error. */
int handle_request(struct conn *c, const struct request *req);
int reply(struct conn *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* store.c: a hash table safe for concurrent use. */
void store_init(void);
int store_set(const char *key, size_t klen, const char *val, size_t vlen);
/* Copies the value to val (VALUE_MAX bytes); returns its length, or -1. */
long store_get(const char *key, size_t klen, char *val);
int store_del(const char *key, size_t klen);
unsigned long store_count(void);

#endif
