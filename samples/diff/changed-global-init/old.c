/*
 * connlimit.c - decide whether a new client connection may be accepted.
 * The limits are globals so the admin console can tune them at run time.
 */
#include "api.h"

int max_conn = 64;
int max_conn_per_ip = 8;

/* 1 = accept, 0 = refuse */
int conn_admit(struct admit_state *st, unsigned ip_hash)
{
	int *slot = &st->per_ip[ip_hash % 16];

	if (st->active >= max_conn || *slot >= max_conn_per_ip)
		return 0;
	st->active++;
	(*slot)++;
	return 1;
}

void conn_release(struct admit_state *st, unsigned ip_hash)
{
	int *slot = &st->per_ip[ip_hash % 16];

	if (*slot > 0) {
		(*slot)--;
		st->active--;
	}
}

int conn_headroom(const struct admit_state *st)
{
	int room = max_conn - st->active;

	return room > 0 ? room : 0;
}
