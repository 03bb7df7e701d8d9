/*
 * store.c: the key-value table, a chained hash table with striped locks so
 * that connections working on different keys rarely wait for each other.
 */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "kvd.h"

#define BUCKETS 4096 /* power of two */
#define STRIPES 64   /* locks; bucket b is guarded by stripe b % STRIPES */

struct entry {
	struct entry *next;
	size_t klen, vlen;
	char key[KEY_MAX];
	char val[VALUE_MAX];
};

static struct entry *buckets[BUCKETS];
static pthread_mutex_t stripes[STRIPES];
static atomic_ulong nkeys;

void store_init(void)
{
	for (int i = 0; i < STRIPES; i++)
		pthread_mutex_init(&stripes[i], NULL);
}

/* FNV-1a */
static size_t bucket_of(const char *key, size_t klen)
{
	unsigned long h = 14695981039346656037ul;

	for (size_t i = 0; i < klen; i++) {
		h ^= (unsigned char)key[i];
		h *= 1099511628211ul;
	}
	return h & (BUCKETS - 1);
}

/* The entry for key in bucket b, or NULL; the bucket's stripe is held. */
static struct entry **find(size_t b, const char *key, size_t klen)
{
	struct entry **e;

	for (e = &buckets[b]; *e; e = &(*e)->next)
		if ((*e)->klen == klen && memcmp((*e)->key, key, klen) == 0)
			return e;
	return e;
}

int store_set(const char *key, size_t klen, const char *val, size_t vlen)
{
	size_t b = bucket_of(key, klen);
	pthread_mutex_t *m = &stripes[b % STRIPES];
	struct entry **e;
	int ret = 0;

	pthread_mutex_lock(m);
	e = find(b, key, klen);
	if (!*e) {
		*e = calloc(1, sizeof(**e));
		if (!*e) {
			ret = -1;
			goto out;
		}
		memcpy((*e)->key, key, klen);
		(*e)->klen = klen;
		atomic_fetch_add(&nkeys, 1);
	}
	memcpy((*e)->val, val, vlen);
	(*e)->vlen = vlen;
out:
	pthread_mutex_unlock(m);
	return ret;
}

long store_get(const char *key, size_t klen, char *val)
{
	size_t b = bucket_of(key, klen);
	pthread_mutex_t *m = &stripes[b % STRIPES];
	struct entry **e;
	long n = -1;

	pthread_mutex_lock(m);
	e = find(b, key, klen);
	if (*e) {
		memcpy(val, (*e)->val, (*e)->vlen);
		n = (long)(*e)->vlen;
	}
	pthread_mutex_unlock(m);
	return n;
}

int store_del(const char *key, size_t klen)
{
	size_t b = bucket_of(key, klen);
	pthread_mutex_t *m = &stripes[b % STRIPES];
	struct entry **e, *dead = NULL;

	pthread_mutex_lock(m);
	e = find(b, key, klen);
	if (*e) {
		dead = *e;
		*e = dead->next;
		atomic_fetch_sub(&nkeys, 1);
	}
	pthread_mutex_unlock(m);
	free(dead);
	return dead ? 0 : -1;
}

unsigned long store_count(void)
{
	return atomic_load(&nkeys);
}
