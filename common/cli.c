/*
 * Messages and command-line helpers shared by every tool; see cli.h.
 */
#include <errno.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/cli.h"

static int quiet;
/* set by each main(); the invocation name until then */
static const char *progname;

void set_quiet(int q)
{
	quiet = q;
}

void set_progname(const char *n)
{
	progname = n;
}

static const char *name(void)
{
	return progname ? progname : program_invocation_short_name;
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
	fprintf(stderr, "%s: %s%s\n", name(), prefix, msg ? msg : buf);
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
	fprintf(stderr, "Try '%s --help' for more information.\n", name());
	return -1;
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
		snprintf(buf, size, "unknown option '%.*s'",
			 is_long && eq ? (int)(eq - arg) : (int)strlen(arg), arg);
	}
}
