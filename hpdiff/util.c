/*
 * Messages and checked allocation for the tools; see util.h.
 */
#include <getopt.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util.h"

static int quiet;
static const char *progname = "hpdiff";

void set_quiet(int q)
{
	quiet = q;
}

void set_progname(const char *name)
{
	progname = name;
}

/* One fprintf per message, so lines from worker threads do not interleave. */
static void vreport(const char *prefix, const char *fmt, va_list ap)
{
	char buf[1024], *msg = buf;
	va_list again;
	int n;

	va_copy(again, ap);
	n = vsnprintf(buf, sizeof(buf), fmt, ap);
	/* a long path is said whole: a message cut short names no file */
	if (n >= (int)sizeof(buf) && (msg = malloc((size_t)n + 1)))
		vsnprintf(msg, (size_t)n + 1, fmt, again);
	va_end(again);
	fprintf(stderr, "%s: %s%s\n", progname, prefix, msg ? msg : buf);
	if (msg != buf)
		free(msg);
}

int error(const char *fmt, ...)
{
	va_list ap;

	if (quiet)
		return -1;
	va_start(ap, fmt);
	vreport("", fmt, ap);
	va_end(ap);
	return -1;
}

void warn(const char *fmt, ...)
{
	va_list ap;

	if (quiet)
		return;
	va_start(ap, fmt);
	vreport("warning: ", fmt, ap);
	va_end(ap);
}

int usage_error(const char *fmt, ...)
{
	va_list ap;

	if (quiet)
		return -1;
	va_start(ap, fmt);
	vreport("", fmt, ap);
	va_end(ap);
	fprintf(stderr, "Try '%s --help' for more information.\n", progname);
	return -1;
}

void *xmalloc(size_t n)
{
	void *p = malloc(n ? n : 1);

	if (!p)
		error("out of memory");
	return p;
}

void *xcalloc(size_t n, size_t size)
{
	void *p = calloc(n ? n : 1, size ? size : 1);

	if (!p)
		error("out of memory");
	return p;
}

void *xrealloc(void *p, size_t n)
{
	void *q = realloc(p, n ? n : 1);

	if (!q)
		error("out of memory");
	return q;
}

int grow_array(void *arrayp, size_t *cap, size_t n, size_t item, size_t first)
{
	size_t c = *cap;
	void *v;

	if (n < c)
		return 0;
	while (c <= n) {
		if (c > SIZE_MAX / 2)
			return error("out of memory");
		c = c ? c * 2 : first ? first : 1;
	}
	if (item && c > SIZE_MAX / item)
		return error("out of memory");
	/* the pointer is copied, not read as a void *: arrayp may point to any T * */
	memcpy(&v, arrayp, sizeof(v));
	v = xrealloc(v, c * item);
	if (!v)
		return -1;
	memset((char *)v + *cap * item, 0, (c - *cap) * item);
	memcpy(arrayp, &v, sizeof(v));
	*cap = c;
	return 0;
}

char *xstrdup(const char *s)
{
	char *p = strdup(s);

	if (!p)
		error("out of memory");
	return p;
}

char *xasprintf(const char *fmt, ...)
{
	va_list ap;
	char *s;
	int n;

	va_start(ap, fmt);
	n = vasprintf(&s, fmt, ap);
	va_end(ap);
	if (n < 0) {
		error("out of memory");
		return NULL;
	}
	return s;
}

void option_problem(int c, char *const argv[], char *buf, size_t size)
{
	const char *arg = optind > 0 ? argv[optind - 1] : "";
	const char *eq = strchr(arg, '=');
	bool is_long = arg[0] == '-' && arg[1] == '-';

	if (!is_long && optopt > 0 && optopt < 128) {
		/* a short option, maybe in a cluster such as -vx: name the letter */
		if (c == ':')
			snprintf(buf, size, "option '-%c' needs an argument", optopt);
		else
			snprintf(buf, size, "unknown option '-%c'", optopt);
	} else if (c == ':') {
		snprintf(buf, size, "option '%s' needs an argument", arg);
	} else if (is_long && eq && optopt) {
		/* getopt_long names the option it knows in optopt */
		snprintf(buf, size, "option '%.*s' takes no argument", (int)(eq - arg), arg);
	} else {
		snprintf(buf, size, "unknown option '%.*s'", is_long && eq ? (int)(eq - arg) : (int)strlen(arg), arg);
	}
}
