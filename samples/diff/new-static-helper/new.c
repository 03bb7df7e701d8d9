/*
 * kvconf.c - a tiny "key = value" configuration store used by the agent to
 * read its settings file.  Lines starting with '#' are comments.
 */
#include <ctype.h>
#include <string.h>
#include "api.h"

static const char *skip_ws(const char *p)
{
	while (*p == ' ' || *p == '\t')
		p++;
	return p;
}

static size_t trim_len(const char *p, size_t n)
{
	while (n > 0 && (p[n - 1] == ' ' || p[n - 1] == '\t' || p[n - 1] == '\n'))
		n--;
	return n;
}

static struct kv *find_slot(struct kvstore *st, const char *key, size_t klen)
{
	int i;

	for (i = 0; i < st->used; i++)
		if (strncmp(st->slot[i].key, key, klen) == 0 &&
		    st->slot[i].key[klen] == '\0')
			return &st->slot[i];
	if (st->used == KV_SLOTS)
		return NULL;
	return &st->slot[st->used++];
}

/*
 * Keys are identifiers: a letter or '_' followed by letters, digits, '_',
 * '-' or single dots ("log.level", not "a..b" or "x.").  Anything else
 * (control characters, '/', '%', ...) used to be accepted and ended up in
 * log lines and file names.
 */
/* out of line on purpose: shared by the parser and the lookup path */
static __attribute__((noinline)) int key_valid(const char *key, size_t klen)
{
	size_t i;
	int dots = 0;

	for (i = 0; i < klen; i++) {
		unsigned char c = (unsigned char)key[i];

		if (isalpha(c) || c == '_')
			continue;
		if (i == 0)
			return 0;
		if (c == '.') {
			if (key[i - 1] == '.' || i + 1 == klen)
				return 0;
			dots++;
			continue;
		}
		if (!isdigit(c) && c != '-')
			return 0;
	}
	return klen > 0 && klen < KV_KEY_MAX && dots <= 3;
}

/* Parse one line; 0 = stored or comment, -1 = syntax error / full. */
int kv_parse_line(struct kvstore *st, const char *line)
{
	const char *key, *eq, *val;
	size_t klen, vlen;
	struct kv *kv;

	key = skip_ws(line);
	if (*key == '#' || *key == '\0' || *key == '\n')
		return 0;
	eq = strchr(key, '=');
	if (eq == NULL)
		return -1;
	klen = trim_len(key, (size_t)(eq - key));
	val = skip_ws(eq + 1);
	vlen = trim_len(val, strlen(val));
	if (!key_valid(key, klen) || vlen >= KV_VAL_MAX)
		return -1;
	kv = find_slot(st, key, klen);
	if (kv == NULL)
		return -1;
	memcpy(kv->key, key, klen);
	kv->key[klen] = '\0';
	memcpy(kv->val, val, vlen);
	kv->val[vlen] = '\0';
	return 0;
}

const char *kv_get(const struct kvstore *st, const char *key)
{
	size_t klen = strlen(key);
	int i;

	if (!key_valid(key, klen))
		return NULL;
	for (i = 0; i < st->used; i++)
		if (strcmp(st->slot[i].key, key) == 0)
			return st->slot[i].val;
	return NULL;
}
