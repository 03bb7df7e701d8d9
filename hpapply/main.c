/*
 * hpapply: verify a hotpatch package and apply it to a running process,
 * list what is applied, or revert it; no restart.
 *
 * Exit status (docs/hpapply.1): 0 done; 1 refused, the process untouched
 * (invalid package, wrong baseline, bytes differ, sequence not newer, a
 * thread stayed busy in what would be replaced or where it cannot be
 * stopped, a frozen cgroup, seccomp); 2 trouble (no such process, the
 * process exited during the work, no permission, bad usage).
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hpapply/apply.h"
#include "common/cli.h"
#include "common/mem.h"
#include "common/outcome.h"

static const char usage[] =
	"usage: hpapply PID PKG --ca FILE [--crl FILE] [-v]\n"
	"       hpapply --list PID [--json]\n"
	"       hpapply --revert PID [-v]\n"
	"\n"
	"Verify the hotpatch package PKG completely and apply it to the running\n"
	"process PID, replacing any package applied before (packages are cumulative).\n"
	"\n"
	"options:\n"
	"  --ca FILE      trust anchors (PEM) the package's signature must chain to\n"
	"  --crl FILE     certificate revocation lists (PEM)\n"
	"  --list         what is applied to PID\n"
	"  --revert       restore PID's original code\n"
	"  --json         with --list: JSON\n"
	"  -v, --verbose  say what happens, and how long threads were stopped\n"
	"  -h, --help     print this help\n"
	"      --version  print the version\n"
	"\n"
	"exit status: 0 done; 1 refused (the process is untouched); 2 trouble.\n";

enum { OPT_CA = 256, OPT_CRL, OPT_LIST, OPT_REVERT, OPT_JSON, OPT_VERSION };

static bool parse_pid(const char *s, pid_t *pid)
{
	long v = 0;

	if (!*s || strlen(s) > 9)
		return false;
	for (; *s; s++) {
		if (*s < '0' || *s > '9')
			return false;
		v = v * 10 + (*s - '0');
	}
	*pid = (pid_t)v;
	return v > 0;
}

struct cli {
	struct apply_opts a;
	bool list, revert, json;
};

static int parse(int argc, char **argv, struct cli *c, int *done)
{
	static const struct option longopts[] = {
		{"ca", required_argument, NULL, OPT_CA},
		{"crl", required_argument, NULL, OPT_CRL},
		{"list", no_argument, NULL, OPT_LIST},
		{"revert", no_argument, NULL, OPT_REVERT},
		{"json", no_argument, NULL, OPT_JSON},
		{"verbose", no_argument, NULL, 'v'},
		{"help", no_argument, NULL, 'h'},
		{"version", no_argument, NULL, OPT_VERSION},
		{NULL, 0, NULL, 0},
	};
	int ch;

	*done = 0;
	opterr = 0;
	while ((ch = getopt_long(argc, argv, ":vh", longopts, NULL)) != -1) {
		switch (ch) {
		case OPT_CA:
			c->a.ca = optarg;
			break;
		case OPT_CRL:
			c->a.crl = optarg;
			break;
		case OPT_LIST:
			c->list = true;
			break;
		case OPT_REVERT:
			c->revert = true;
			break;
		case OPT_JSON:
			c->json = true;
			break;
		case 'v':
			c->a.verbose = true;
			break;
		case 'h':
			fputs(usage, stdout);
			*done = 1;
			return 0;
		case OPT_VERSION:
			printf("hpapply %s\n", HP_VERSION);
			*done = 1;
			return 0;
		case ':':
		default: {
			char problem[300];

			option_problem(ch, argv, problem, sizeof(problem));
			return usage_error("%s", problem);
		}
		}
	}
	if (c->list || c->revert) {
		if (argc - optind != 1 || (c->list && c->revert) || c->a.ca || c->a.crl)
			return usage_error("--list and --revert take one PID and nothing else");
		if (!parse_pid(argv[optind], &c->a.pid))
			return usage_error("not a process id: '%s'", argv[optind]);
		if (c->json && c->revert)
			return usage_error("--json goes with --list");
		return 0;
	}
	if (argc - optind != 2)
		return usage_error("expected PID and PKG");
	if (!parse_pid(argv[optind], &c->a.pid))
		return usage_error("not a process id: '%s'", argv[optind]);
	c->a.package = argv[optind + 1];
	if (!c->a.ca)
		return usage_error("--ca is required: packages are always verified");
	if (c->json)
		return usage_error("--json goes with --list");
	return 0;
}

/* The exit status of an outcome (docs/hpapply.1). */
static int exit_status(enum outcome out)
{
	switch (out) {
	case OUTCOME_OK:
		return 0;
	case OUTCOME_REFUSED:
		return 1;
	default:
		return 2;
	}
}

int main(int argc, char **argv)
{
	struct cli c = {0};
	struct apply_result res = {0};
	enum outcome out;
	int done;

	set_progname("hpapply");
	if (parse(argc, argv, &c, &done) < 0)
		out = OUTCOME_TROUBLE; /* bad usage */
	else if (done)
		out = OUTCOME_OK; /* --help, --version */
	else if (c.list)
		out = do_list(c.a.pid, c.json);
	else if (c.revert)
		out = do_revert(c.a.pid, c.a.verbose, &res);
	else
		out = do_apply(&c.a, &res);
	if (out == OUTCOME_OK && res.summary[0]) {
		puts(res.summary);
		if (c.a.verbose)
			printf("threads stopped for %.3f ms\n", (double)res.pause_ns / 1e6);
	}
	if (fflush(stdout) || ferror(stdout)) {
		error("write error on standard output");
		out = OUTCOME_TROUBLE;
	}
	return exit_status(out);
}
