/*
 * audit.c - format the records written to the audit log.  Records are
 * single lines of key=value pairs; the caller appends the timestamp.
 */
#include <stdio.h>
#include <string.h>
#include "api.h"

int audit_login(char *buf, size_t n, const char *user, const char *addr, int ok)
{
	int r;

	/* don't let an empty or absent name look like a system login */
	if (user == NULL || *user == '\0')
		user = "<anonymous>";
	r = snprintf(buf, n, "login user=%s from=%s result=%s",
		     user, addr, ok ? "ok" : "fail");
	return r < 0 || (size_t)r >= n ? -1 : r;
}

/* Human-readable duration: "42s", "7m12s", "3h05m". */
static int fmt_duration(char *buf, size_t n, long secs)
{
	if (secs < 60)
		return snprintf(buf, n, "%lds", secs);
	if (secs < 3600)
		return snprintf(buf, n, "%ldm%02lds", secs / 60, secs % 60);
	return snprintf(buf, n, "%ldh%02ldm", secs / 3600, secs / 60 % 60);
}

int audit_logout(char *buf, size_t n, const char *user, long secs)
{
	char dur[32];
	int r;

	if (secs < 0)
		secs = 0;
	fmt_duration(dur, sizeof dur, secs);
	r = snprintf(buf, n, "logout user=%s session=%s", user, dur);
	return r < 0 || (size_t)r >= n ? -1 : r;
}

int audit_denied(char *buf, size_t n, const char *user, const char *what)
{
	int r;

	if (what == NULL || *what == '\0')
		what = "(unspecified)";
	r = snprintf(buf, n, "denied user=%s action=%s", user, what);
	return r < 0 || (size_t)r >= n ? -1 : r;
}
