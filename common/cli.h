/*
 * Messages and command-line helpers every tool uses.
 *
 * Messages go to stderr as "<tool>: ..." lines, lower-case, no trailing
 * period, naming the file first.  Each main() sets the tool's name with
 * set_progname() before anything can fail.  error() returns -1 so callers
 * can write `return error(...)`.
 */
#ifndef HP_COMMON_CLI_H
#define HP_COMMON_CLI_H

#include <stddef.h>

int error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Silence error() and warn() (for in-process tests and fuzzing). */
void set_quiet(int quiet);
/* The name messages start with (the invocation name until set). */
void set_progname(const char *name);

/*
 * A bad option or argument: the message as error() says it, then "Try
 * '<name> --help' for more information." on stderr.  Returns -1.
 */
int usage_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/*
 * After getopt_long() returned ':' or '?' for argv: the problem in words,
 * naming the option as it was written ("unknown option '-x'", "option
 * '--json' takes no argument", "option '-o' needs an argument").
 */
void option_problem(int c, char *const argv[], char *buf, size_t size);

#endif
