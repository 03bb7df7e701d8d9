/*
 * hppack: bind .hpd files to the baseline binary they patch and write a
 * hotpatch package (.hpk), optionally signed.
 *
 *   options  -> baseline, sequence, output, what to sign with
 *   pack()   -> the stages in pack.c: .hpd files and baseline loaded,
 *               replaced functions found and proven, code and data placed,
 *               every reference resolved, the package written
 *   outcome  -> the exit status, here and only here
 *
 * Exit status (docs/hppack.1): 0 written; 1 refused (the inputs do not make
 * a package for this baseline, or the sequence is not newer); 2 trouble.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "hppack/inspect.h"
#include "hppack/pack.h"
#include "hppack/sign.h"
#include "format/hpk.h"
#include "common/cli.h"
#include "common/mem.h"

static const char usage[] =
	"usage: hppack --baseline FILE --seq N -o OUT.hpk [options] INPUT.hpd...\n"
	"       hppack --inspect PKG [--baseline FILE] [--json]\n"
	"\n"
	"Bind the .hpd files hpdiff wrote to the baseline binary they patch and write\n"
	"a cumulative hotpatch package: every fix since the baseline.\n"
	"\n"
	"options:\n"
	"  --baseline FILE          the linked executable or shared library to patch\n"
	"  --baseline-symbols FILE  its symbols, if FILE is stripped (same build-id)\n"
	"  --seq N                  sequence number, strictly increasing per baseline\n"
	"  --min-seq N              refuse later packages below N once this one is applied\n"
	"  --previous PKG           the package this one follows: same baseline, newer\n"
	"                           sequence, and every function it fixed fixed again\n"
	"  --expires TIME           expiry, RFC 3339 UTC (2027-05-01T00:00:00Z)\n"
	"  --id NAME                package id (default: BASELINE-SEQ)\n"
	"  --fixes TEXT             what the package fixes (CVE ids), for people\n"
	"  -o, --output FILE        the package to write\n"
	"  --key KEY --cert CERT    sign in the same step: KEY a PEM file or a PKCS#11 URI\n"
	"  --chain FILE             intermediate certificates to embed\n"
	"  -v, --verbose            say what was written\n"
	"  --inspect PKG            print what a package holds (--json for JSON)\n"
	"  -h, --help               print this help\n"
	"      --version            print the version\n"
	"\n"
	"SOURCE_DATE_EPOCH sets the creation time: same inputs, same package.\n"
	"exit status: 0 package written; 1 refused; 2 trouble.\n";

enum {
	OPT_BASELINE = 256,
	OPT_SYMBOLS,
	OPT_SEQ,
	OPT_MINSEQ,
	OPT_PREVIOUS,
	OPT_EXPIRES,
	OPT_ID,
	OPT_FIXES,
	OPT_KEY,
	OPT_CERT,
	OPT_CHAIN,
	OPT_INSPECT,
	OPT_JSON,
	OPT_VERSION
};

static bool parse_u64(const char *s, uint64_t *v)
{
	*v = 0;
	if (!*s || strlen(s) > 19)
		return false;
	for (; *s; s++) {
		if (*s < '0' || *s > '9')
			return false;
		*v = *v * 10 + (uint64_t)(*s - '0');
	}
	return true;
}

struct cli {
	struct pack_opts o;
	const char *inspect;
	bool json, have_seq;
};

static int parse(int argc, char **argv, struct cli *c, int *done)
{
	static const struct option longopts[] = {
		{"baseline", required_argument, NULL, OPT_BASELINE},
		{"baseline-symbols", required_argument, NULL, OPT_SYMBOLS},
		{"seq", required_argument, NULL, OPT_SEQ},
		{"min-seq", required_argument, NULL, OPT_MINSEQ},
		{"previous", required_argument, NULL, OPT_PREVIOUS},
		{"expires", required_argument, NULL, OPT_EXPIRES},
		{"id", required_argument, NULL, OPT_ID},
		{"fixes", required_argument, NULL, OPT_FIXES},
		{"output", required_argument, NULL, 'o'},
		{"key", required_argument, NULL, OPT_KEY},
		{"cert", required_argument, NULL, OPT_CERT},
		{"chain", required_argument, NULL, OPT_CHAIN},
		{"inspect", required_argument, NULL, OPT_INSPECT},
		{"json", no_argument, NULL, OPT_JSON},
		{"verbose", no_argument, NULL, 'v'},
		{"help", no_argument, NULL, 'h'},
		{"version", no_argument, NULL, OPT_VERSION},
		{NULL, 0, NULL, 0},
	};
	int ch;

	*done = 0;
	opterr = 0;
	while ((ch = getopt_long(argc, argv, ":o:vh", longopts, NULL)) != -1) {
		switch (ch) {
		case OPT_BASELINE:
			c->o.baseline = optarg;
			break;
		case OPT_SYMBOLS:
			c->o.symbols = optarg;
			break;
		case OPT_SEQ:
			if (!parse_u64(optarg, &c->o.seq) || !c->o.seq)
				return usage_error("--seq wants a positive number, not '%s'",
						   optarg);
			c->have_seq = true;
			break;
		case OPT_MINSEQ:
			if (!parse_u64(optarg, &c->o.min_seq))
				return usage_error("--min-seq wants a number, not '%s'", optarg);
			break;
		case OPT_PREVIOUS:
			c->o.previous = optarg;
			break;
		case OPT_EXPIRES:
			if (hp_time_parse(optarg, &c->o.expires) < 0)
				return usage_error("--expires wants a UTC time like "
						   "2027-05-01T00:00:00Z, not '%s'",
						   optarg);
			c->o.has_expires = true;
			break;
		case OPT_ID:
			c->o.id = optarg;
			break;
		case OPT_FIXES:
			c->o.fixes = optarg;
			break;
		case 'o':
			c->o.out = optarg;
			break;
		case OPT_KEY:
			c->o.key = optarg;
			break;
		case OPT_CERT:
			c->o.cert = optarg;
			break;
		case OPT_CHAIN:
			c->o.chain = optarg;
			break;
		case OPT_INSPECT:
			c->inspect = optarg;
			break;
		case OPT_JSON:
			c->json = true;
			break;
		case 'v':
			c->o.verbose = true;
			break;
		case 'h':
			fputs(usage, stdout);
			*done = 1;
			return 0;
		case OPT_VERSION:
			printf("hppack %s\n", HP_VERSION);
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
	if (c->inspect) {
		if (optind != argc || c->o.out || c->have_seq || c->o.key)
			return usage_error("--inspect takes a package, and --baseline and "
					   "--json only");
		return 0;
	}
	if (!c->o.baseline || !c->have_seq || !c->o.out)
		return usage_error("--baseline, --seq and -o are required");
	if (optind == argc)
		return usage_error("no .hpd file given");
	if (!c->o.key != !c->o.cert)
		return usage_error("--key and --cert go together");
	if (c->o.chain && !c->o.key)
		return usage_error("--chain needs --key and --cert");
	if (c->o.min_seq > c->o.seq)
		return usage_error("--min-seq is above --seq");
	return 0;
}

/* SOURCE_DATE_EPOCH if set (decimal seconds), else now. */
static int creation_time(int64_t *t)
{
	const char *s = getenv("SOURCE_DATE_EPOCH");
	uint64_t v;

	if (!s || !*s) {
		*t = (int64_t)time(NULL);
		return 0;
	}
	if (!parse_u64(s, &v) || v > (uint64_t)INT32_MAX * 4)
		return error("SOURCE_DATE_EPOCH is not a number of seconds: '%s'", s);
	*t = (int64_t)v;
	return 0;
}

/* Everything but the .hpd paths is in c; the outcome of making the package. */
static enum outcome make_package(struct cli *c, char **paths, size_t n)
{
	if (creation_time(&c->o.created) < 0)
		return OUTCOME_TROUBLE;
	if (c->o.has_expires && c->o.expires <= c->o.created) {
		error("--expires is not after the creation time");
		return OUTCOME_TROUBLE;
	}
	c->o.sign = sign_manifest;
	return pack(paths, n, &c->o);
}

/* The exit status (docs/hppack.1): 0 written or printed, 1 refused, 2 trouble. */
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
	enum outcome out;
	int done;

	set_progname("hppack");
	if (parse(argc, argv, &c, &done) < 0)
		return exit_status(OUTCOME_TROUBLE);
	if (c.inspect)
		out = inspect_package(c.inspect, c.o.baseline, c.json) < 0 ? OUTCOME_TROUBLE
									   : OUTCOME_OK;
	else if (done)
		out = OUTCOME_OK;
	else
		out = make_package(&c, argv + optind, (size_t)(argc - optind));
	if (fflush(stdout) || ferror(stdout)) {
		error("write error on standard output");
		out = OUTCOME_TROUBLE;
	}
	return exit_status(out);
}
