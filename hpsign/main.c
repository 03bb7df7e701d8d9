/*
 * hpsign: sign hotpatch packages and verify them.
 *
 *   hpsign --sign PKG --key KEY --cert CERT [--chain FILE] [-o OUT]
 *   hpsign --verify PKG --ca FILE [--crl FILE] [--target FILE] [--json]
 *
 * main() reads the command line and the files, and hands the bytes to
 * libhpverify (verify.h, sign.h); all checking happens there.
 */
#include <errno.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "format/hpk.h"
#include "format/image.h"
#include "hpsign/report.h"
#include "verify/sign.h"
#include "verify/verify.h"
#include "common/cli.h"
#include "common/mem.h"

/* Exit status, as documented in hpsign(1). */
enum exit_status {
	EXIT_VALID = 0,	  /* verified valid, or signed */
	EXIT_INVALID = 1, /* verified: not valid */
	EXIT_TROUBLE = 2, /* could not verify or sign: usage, unreadable input, ... */
};

#define MAX_TARGET ((size_t)4 << 30)

static const char usage[] =
	"usage: hpsign --sign PKG --key KEY --cert CERT [--chain FILE] [-o OUT]\n"
	"       hpsign --verify PKG --ca FILE [--crl FILE] [--target FILE] [--json]\n"
	"\n"
	"Sign a hotpatch package (.hpk), or verify it completely.\n"
	"\n"
	"signing:\n"
	"  --sign PKG             add or replace PKG's signature (in place unless -o)\n"
	"  --key KEY              PEM private key file, or a PKCS#11 URI\n"
	"                         (pkcs11:token=T;object=O;pin-value=P)\n"
	"  --cert CERT            PEM signer certificate (extendedKeyUsage codeSigning)\n"
	"  --chain FILE           PEM intermediate certificates to embed\n"
	"  --pass-file FILE       passphrase of an encrypted PEM key (first line)\n"
	"  --pkcs11-module FILE   PKCS#11 module for a pkcs11: key (default: the engine's)\n"
	"  -o, --output OUT       write the signed package to OUT\n"
	"verifying:\n"
	"  --verify PKG           check container, signature, chain, manifest, payload\n"
	"  --ca FILE              PEM trust anchors\n"
	"  --crl FILE             PEM CRLs of every CA of the chain\n"
	"  --target FILE          the baseline binary: check the package is for it\n"
	"  --json                 print the verdict as JSON\n"
	"both:\n"
	"  --time TIME            check validity at TIME (2027-02-10T00:00:00Z), not now\n"
	"  -h, --help             this text;  --version  the version\n"
	"\n"
	"exit status: 0 valid (or signed), 1 not valid, 2 could not verify or sign\n";

struct args {
	const char *sign, *verify, *output;
	struct hp_signer_opts so;
	struct hp_verify_opts vo;
	const char *target;
	bool json;
	char *key_arg; /* argv's copy of --key, wiped once read */
};

/* The exit status for trouble already said (by error() or usage_error()). */
static int trouble(int said)
{
	(void)said;
	return EXIT_TROUBLE;
}

/* Say what went wrong (common/cli.c) and give the exit status for it. */
#define complain(...)  trouble(error(__VA_ARGS__))
#define bad_usage(...) trouble(usage_error(__VA_ARGS__))

/* 0 parsed, 1 --help/--version printed, or an exit status >= 2. */
static int parse_args(int argc, char **argv, struct args *a)
{
	enum {
		O_SIGN = 256,
		O_VERIFY,
		O_KEY,
		O_CERT,
		O_CHAIN,
		O_PASS,
		O_MODULE,
		O_CA,
		O_CRL,
		O_TARGET,
		O_JSON,
		O_TIME,
		O_VERSION
	};
	static const struct option opts[] = {
		{"sign", required_argument, NULL, O_SIGN},
		{"verify", required_argument, NULL, O_VERIFY},
		{"key", required_argument, NULL, O_KEY},
		{"cert", required_argument, NULL, O_CERT},
		{"chain", required_argument, NULL, O_CHAIN},
		{"pass-file", required_argument, NULL, O_PASS},
		{"pkcs11-module", required_argument, NULL, O_MODULE},
		{"output", required_argument, NULL, 'o'},
		{"ca", required_argument, NULL, O_CA},
		{"crl", required_argument, NULL, O_CRL},
		{"target", required_argument, NULL, O_TARGET},
		{"json", no_argument, NULL, O_JSON},
		{"time", required_argument, NULL, O_TIME},
		{"help", no_argument, NULL, 'h'},
		{"version", no_argument, NULL, O_VERSION},
		{NULL, 0, NULL, 0},
	};
	int64_t t;
	int c;

	opterr = 0;
	while ((c = getopt_long(argc, argv, ":o:h", opts, NULL)) != -1) {
		switch (c) {
		case O_SIGN:
			a->sign = optarg;
			break;
		case O_VERIFY:
			a->verify = optarg;
			break;
		case O_KEY:
			a->so.key = a->key_arg = optarg;
			break;
		case O_CERT:
			a->so.cert = optarg;
			break;
		case O_CHAIN:
			a->so.chain = optarg;
			break;
		case O_PASS:
			a->so.pass_file = optarg;
			break;
		case O_MODULE:
			a->so.pkcs11_module = optarg;
			break;
		case 'o':
			a->output = optarg;
			break;
		case O_CA:
			a->vo.ca_file = optarg;
			break;
		case O_CRL:
			a->vo.crl_file = optarg;
			break;
		case O_TARGET:
			a->target = optarg;
			break;
		case O_JSON:
			a->json = true;
			break;
		case O_TIME:
			if (hp_time_parse(optarg, &t) < 0 || t <= 0)
				return bad_usage("--time %s: not a time like 2027-02-10T00:00:00Z",
						 optarg);
			a->so.now = a->vo.now = t;
			break;
		case 'h':
			fputs(usage, stdout);
			return 1;
		case O_VERSION:
			printf("hpsign %s\n", HP_VERSION);
			return 1;
		case ':':
		default: {
			char problem[300];

			option_problem(c, argv, problem, sizeof(problem));
			return bad_usage("%s", problem);
		}
		}
	}
	if (optind < argc)
		return bad_usage("unexpected argument %s", argv[optind]);
	if (!a->sign == !a->verify)
		return bad_usage("say either --sign PKG or --verify PKG");
	if (a->sign && (!a->so.key || !a->so.cert))
		return bad_usage("--sign needs --key and --cert");
	if (a->sign && (a->vo.ca_file || a->vo.crl_file || a->target || a->json))
		return bad_usage("--ca, --crl, --target and --json go with --verify");
	if (a->verify && !a->vo.ca_file)
		return bad_usage("--verify needs --ca");
	if (a->verify && (a->so.key || a->so.cert || a->so.chain || a->so.pass_file ||
			  a->so.pkcs11_module || a->output))
		return bad_usage("--key, --cert, --chain, --pass-file, --pkcs11-module and -o "
				 "go with --sign");
	return 0;
}

static int do_sign(struct args *a)
{
	struct hp_signer *s = NULL;
	struct hp_error e;
	uint8_t *pkg = NULL, *out = NULL;
	size_t len, out_len;
	char msg[512], text[200];
	const char *dest = a->output ? a->output : a->sign;
	int loaded, ret = EXIT_TROUBLE;

	if (hp_read_file(a->sign, HP_HPK_MAX_FILE, &pkg, &len, &e) < 0)
		return complain("%s: %s", a->sign, hp_error_text(&e, text, sizeof(text)));
	loaded = hp_signer_load(&a->so, &s, msg, sizeof(msg));
	/* The URI may hold a PIN: nothing needs it any more. */
	hp_wipe(a->key_arg, strlen(a->key_arg));
	if (loaded < 0) {
		complain("%s", msg);
		goto out;
	}
	if (hp_sign_package(s, pkg, len, &out, &out_len, msg, sizeof(msg)) < 0) {
		complain("%s: %s", a->sign, msg);
		goto out;
	}
	if (hp_write_file_atomic(dest, out, out_len, 0644, &e) < 0) {
		complain("%s: %s", dest, hp_error_text(&e, text, sizeof(text)));
		goto out;
	}
	ret = EXIT_VALID;
out:
	hp_signer_free(s);
	free(pkg);
	free(out);
	return ret;
}

/* Read and parse --target; the image points into *file. */
static int load_target(const char *path, uint8_t **file, struct hp_image *img)
{
	struct hp_error e;
	size_t len;
	char text[200];

	if (hp_read_file(path, MAX_TARGET, file, &len, &e) < 0)
		return complain("%s: %s", path, hp_error_text(&e, text, sizeof(text)));
	if (hp_image_parse(*file, len, img, &e) < 0)
		return complain("%s: not a linked ELF file: %s", path,
				hp_error_text(&e, text, sizeof(text)));
	return 0;
}

static int do_verify(struct args *a)
{
	struct hp_verified v;
	struct hp_image img;
	struct hp_error e;
	uint8_t *pkg = NULL, *target = NULL;
	size_t len = 0;
	char text[200];
	int ret = EXIT_TROUBLE;

	memset(&v, 0, sizeof(v));
	if (hp_read_file(a->verify, HP_HPK_MAX_FILE, &pkg, &len, &e) < 0) {
		if (e.code != HP_ELIMIT)
			return complain("%s: %s", a->verify, hp_error_text(&e, text, sizeof(text)));
		/* too large to be a package at all */
		v.cls = HP_V_CONTAINER;
		snprintf(v.message, sizeof(v.message), "container: %s",
			 hp_error_text(&e, text, sizeof(text)));
	}
	if (a->target && load_target(a->target, &target, &img) != 0)
		goto out;
	a->vo.target = a->target ? &img : NULL;
	if (pkg)
		hp_verify(pkg, len, &a->vo, &v);
	ret = v.cls == HP_V_OK ? EXIT_VALID : v.cls == HP_V_TROUBLE ? EXIT_TROUBLE : EXIT_INVALID;
	if (a->json && hp_report_json(stdout, a->verify, a->target, &v) < 0)
		ret = EXIT_TROUBLE;
	if (v.cls == HP_V_TROUBLE)
		complain("%s", v.message);
	else if (v.cls != HP_V_OK)
		fprintf(stderr, "hpsign: %s: not valid (%s): %s\n", a->verify,
			hp_vclass_name(v.cls), v.message);
	else if (!a->json)
		hp_report_text(stdout, a->verify, a->target, &v);
out:
	hp_verified_free(&v);
	free(pkg);
	free(target);
	return ret;
}

int main(int argc, char **argv)
{
	struct args a;
	int ret;

	set_progname("hpsign");
	memset(&a, 0, sizeof(a));
	ret = parse_args(argc, argv, &a);
	if (ret == 0)
		ret = a.sign ? do_sign(&a) : do_verify(&a);
	else if (ret == 1)
		ret = EXIT_VALID;
	/* A verdict nobody could read is no verdict. */
	if (fflush(stdout) != 0 || ferror(stdout)) {
		fprintf(stderr, "hpsign: standard output: %s\n", strerror(errno));
		ret = EXIT_TROUBLE;
	}
	return ret;
}
