/*
 * hdrs.c - collect the header lines of an HTTP request.  Lines point into
 * the caller's receive buffer; nothing is copied.
 */
#include <string.h>
#include <strings.h>
#include "api.h"

#define MAX_HEADERS	16	/* headers accepted per request */

enum {
	MAX_NAME_LEN = 64,
	MAX_HEADER_BYTES = 8192	/* total name+value bytes per request */
};

void hdrs_reset(struct hdr_list *l)
{
	l->n = 0;
	l->bytes = 0;
}

/*
 * Add one "Name: value" line (without CRLF).
 * Returns 0, -1 on syntax error, -2 if a limit is exceeded.
 */
int hdrs_add(struct hdr_list *l, const char *line, size_t len)
{
	const char *colon = memchr(line, ':', len);
	struct hdr *h;
	size_t nlen, voff;

	if (colon == NULL || colon == line)
		return -1;
	nlen = (size_t)(colon - line);
	if (nlen > MAX_NAME_LEN)
		return -2;
	if (l->n >= MAX_HEADERS || l->bytes + len > MAX_HEADER_BYTES)
		return -2;
	voff = nlen + 1;
	while (voff < len && (line[voff] == ' ' || line[voff] == '\t'))
		voff++;
	h = &l->h[l->n++];
	h->name = line;
	h->name_len = (unsigned short)nlen;
	h->value = line + voff;
	h->value_len = (unsigned short)(len - voff);
	l->bytes += (unsigned)len;
	return 0;
}

const struct hdr *hdrs_find(const struct hdr_list *l, const char *name)
{
	size_t nlen = strlen(name);
	unsigned i;

	for (i = 0; i < l->n; i++)
		if (l->h[i].name_len == nlen &&
		    strncasecmp(l->h[i].name, name, nlen) == 0)
			return &l->h[i];
	return NULL;
}
