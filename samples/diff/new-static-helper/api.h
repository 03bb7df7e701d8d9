/* kvconf: "key = value" configuration store */
#ifndef KVCONF_API_H
#define KVCONF_API_H
#include <stddef.h>

#define KV_KEY_MAX 32
#define KV_VAL_MAX 64
#define KV_SLOTS 8

struct kv {
	char key[KV_KEY_MAX];
	char val[KV_VAL_MAX];
};

struct kvstore {
	struct kv slot[KV_SLOTS];
	int used;
};

int kv_parse_line(struct kvstore *st, const char *line);
const char *kv_get(const struct kvstore *st, const char *key);
#endif
