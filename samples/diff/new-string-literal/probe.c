#include <stdio.h>
#include <string.h>
#include "api.h"

/* print a reply with CR/LF made visible */
static void show(const char *what, int r, const char *buf)
{
	const char *p;

	printf("%s = %d \"", what, r);
	if (r >= 0) {
		for (p = buf; *p; p++) {
			if (*p == '\r')
				fputs("\\r", stdout);
			else if (*p == '\n')
				fputs("\\n", stdout);
			else
				putchar(*p);
		}
	}
	printf("\"\n");
}

void probe(void)
{
	char buf[96];

	show("ok", reply_ok(buf, sizeof buf), buf);
	show("int(-42)", reply_int(buf, sizeof buf, -42), buf);
	show("error(404, no such key)", reply_error(buf, sizeof buf, 404, "no such key"), buf);
	show("error(42, x)", reply_error(buf, sizeof buf, 42, "x"), buf);
	show("error(400, injected)",
	     reply_error(buf, sizeof buf, 400, "bad\r\n+OK"), buf);
	show("bulk(hello)", reply_bulk(buf, sizeof buf, "hello", 5), buf);
	show("bulk(small)", reply_bulk(buf, 6, "hello", 5), buf);
}
