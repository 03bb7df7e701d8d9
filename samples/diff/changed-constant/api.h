/* hdrs: HTTP header list */
#ifndef HDRS_API_H
#define HDRS_API_H
#include <stddef.h>

#define HDRS_CAPACITY 32	/* storage; the accepted maximum is lower */

struct hdr {
	const char *name;
	const char *value;
	unsigned short name_len;
	unsigned short value_len;
};

struct hdr_list {
	struct hdr h[HDRS_CAPACITY];
	unsigned n;
	unsigned bytes;
};

void hdrs_reset(struct hdr_list *l);
int hdrs_add(struct hdr_list *l, const char *line, size_t len);
const struct hdr *hdrs_find(const struct hdr_list *l, const char *name);
#endif
