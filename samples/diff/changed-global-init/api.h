/* connlimit: connection admission */
#ifndef CONNLIMIT_API_H
#define CONNLIMIT_API_H

extern int max_conn;
extern int max_conn_per_ip;

struct admit_state {
	int active;
	int per_ip[16];		/* active connections per client hash bucket */
};

int conn_admit(struct admit_state *st, unsigned ip_hash);
void conn_release(struct admit_state *st, unsigned ip_hash);
int conn_headroom(const struct admit_state *st);
#endif
