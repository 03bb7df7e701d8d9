/*
 * parse.c: turns one request line into a struct request.
 *
 * The line comes straight from the socket: every field is checked here, so
 * proto.c can trust what it gets.  Nothing is copied; the request points
 * into the line.
 */
#include <string.h>

#include "kvd.h"

static const struct {
	const char *name;
	enum verb verb;
} verbs[] = {
	{"PING", V_PING}, {"GET", V_GET},   {"SET", V_SET},	{"DEL", V_DEL},
	{"ECHO", V_ECHO}, {"AUTH", V_AUTH}, {"STATS", V_STATS}, {"QUIT", V_QUIT},
};

static enum verb lookup_verb(const char *s, size_t n)
{
	for (size_t i = 0; i < sizeof(verbs) / sizeof(verbs[0]); i++)
		if (strlen(verbs[i].name) == n && memcmp(verbs[i].name, s, n) == 0)
			return verbs[i].verb;
	return V_UNKNOWN;
}

/* Splits the next space-separated token off [*p, end) and consumes one separator. */
static size_t next_token(const char **p, const char *end, const char **tok)
{
	const char *s = *p;

	while (s < end && *s == ' ')
		s++;
	*tok = s;
	while (s < end && *s != ' ')
		s++;
	*p = s < end ? s + 1 : s;
	return (size_t)(s - *tok);
}

/* Decimal, digits only, at most LENGTH_MAX. */
static int parse_length(const char *s, size_t n, size_t *out)
{
	size_t v = 0;

	if (n == 0 || n > 5)
		return -1;
	for (size_t i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		v = v * 10 + (size_t)(s[i] - '0');
	}
	if (v > LENGTH_MAX)
		return -1;
	*out = v;
	return 0;
}

/* Keys are printable ASCII without spaces. */
static int valid_key(const char *k, size_t n)
{
	if (n == 0 || n > KEY_MAX)
		return 0;
	for (size_t i = 0; i < n; i++)
		if (k[i] <= ' ' || k[i] > '~')
			return 0;
	return 1;
}

static int fail(struct request *req, const char *why)
{
	req->error = why;
	return -1;
}

int parse_request(const char *line, size_t len, struct request *req)
{
	const char *p = line, *end = line + len, *tok;
	size_t n;

	memset(req, 0, sizeof(*req));
	n = next_token(&p, end, &tok);
	if (n == 0)
		return fail(req, "empty request");
	req->verb = lookup_verb(tok, n);

	switch (req->verb) {
	case V_UNKNOWN:
		return fail(req, "unknown command");
	case V_PING:
	case V_STATS:
	case V_QUIT:
		break;
	case V_GET:
	case V_DEL:
	case V_SET:
		req->keylen = next_token(&p, end, &req->key);
		if (!valid_key(req->key, req->keylen))
			return fail(req, "bad key");
		if (req->verb != V_SET)
			break;
		/* the value is the rest of the line, spaces included */
		req->data = p;
		req->datalen = (size_t)(end - p);
		if (req->datalen > VALUE_MAX)
			return fail(req, "value too long");
		p = end;
		break;
	case V_AUTH:
		req->datalen = next_token(&p, end, &req->data);
		if (req->datalen == 0 || req->datalen > AUTH_KEY_MAX)
			return fail(req, "bad key");
		break;
	case V_ECHO:
		/* ECHO n payload: the length lets the payload hold any byte but "\n" */
		n = next_token(&p, end, &tok);
		if (parse_length(tok, n, &req->datalen) < 0)
			return fail(req, "bad length");
		req->data = p;
		if (req->datalen > (size_t)(end - p))
			return fail(req, "length exceeds payload");
		p = end;
		break;
	}
	while (p < end && *p == ' ')
		p++;
	if (p != end)
		return fail(req, "too many arguments");
	return 0;
}
