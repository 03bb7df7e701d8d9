/* strbuf: growable string buffer */
#ifndef STRBUF_API_H
#define STRBUF_API_H
#include <stddef.h>

struct strbuf {
	char *buf;
	size_t len;
	size_t cap;
	int failed;	/* sticky allocation failure */
};

void sb_init(struct strbuf *sb);
void sb_release(struct strbuf *sb);
int sb_add(struct strbuf *sb, const char *s, size_t n);
int sb_adds(struct strbuf *sb, const char *s);
int sb_addch(struct strbuf *sb, int c);
int sb_add_json(struct strbuf *sb, const char *s);
int sb_add_uint(struct strbuf *sb, unsigned long v);
int sb_add_field(struct strbuf *sb, const char *key, const char *value);
#endif
