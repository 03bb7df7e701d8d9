/*
 * mkhpk: unsigned test packages made with the format library, for the fuzz
 * seeds, the auditing recipe's test and the benchmark (the unit tests build
 * theirs in-process with the same tests/hpkutil.h).
 *
 *   mkhpk -o PKG [--target FILE --func NAME...] [--baseline-compression]
 *         [--random-mb N] [--code-from FILE --code-mb N] [--expires TIME]
 *         [--raw FILE] [--manifest FILE]
 *
 * --target binds the package to a linked file (build-id, SHA-256, each
 * --func's image offset, size and hash, from nm); --random-mb adds a
 * read-only data item of N MiB of random bytes, so payload.zst is that
 * large; --code-from makes the new function's code N MiB of FILE's bytes
 * (FILE repeated when shorter), compressed at hppack's level, so the
 * payload compresses as real code does when FILE is machine code; --raw
 * and --manifest also write the raw payload and MANIFEST.
 * Exit status 0, or 2 with a message.
 */
#include <getopt.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include "format/hp.h"

#define hk_assert(cond, ...)                                                                       \
	do {                                                                                       \
		if (!(cond)) {                                                                     \
			fprintf(stderr, "mkhpk: " __VA_ARGS__);                                    \
			fputc('\n', stderr);                                                       \
			exit(2);                                                                   \
		}                                                                                  \
	} while (0)

static char *tu_read(const char *path, size_t *len)
{
	struct hp_error e;
	uint8_t *data;

	if (hp_read_file(path, (size_t)1 << 32, &data, len, &e) < 0)
		return NULL;
	return (char *)data;
}

#include "tests/hpkutil.h"

static void write_file(const char *path, const void *data, size_t len)
{
	struct hp_error e;
	char text[200];

	hk_assert(hp_write_file_atomic(path, data, len, 0644, &e) == 0, "%s: %s", path,
		  hp_error_text(&e, text, sizeof(text)));
}

/* n bytes of the file at path, repeated as often as needed. */
static uint8_t *file_bytes(const char *path, size_t n)
{
	size_t len, k;
	uint8_t *f = (uint8_t *)tu_read(path, &len), *out = malloc(n ? n : 1);

	hk_assert(f && len && out, "%s: cannot read, or empty", path);
	for (size_t got = 0; got < n; got += k) {
		k = len < n - got ? len : n - got;
		memcpy(out + got, f, k);
	}
	free(f);
	return out;
}

/*
 * The model payload plus n MiB of random read-only bytes, and with
 * code_from, its new function's code replaced by code_mib MiB of that
 * file (its one relocation, at offset 3, stays inside).
 */
static uint8_t *raw_payload(uint32_t nfuncs, size_t mib, const char *code_from, size_t code_mib,
			    size_t *len)
{
	struct hp_payload *p = hk_payload_model(nfuncs);
	struct hp_error e;
	uint8_t *out;

	if (code_from) {
		struct hp_pcode *c = &p->code[nfuncs];

		free(c->code);
		c->size = code_mib << 20;
		c->code = file_bytes(code_from, c->size);
	}

	if (mib) {
		struct hp_pdata *d;
		size_t n = mib << 20, got = 0;

		p->data = realloc(p->data, 2 * sizeof(*p->data));
		d = &p->data[p->ndata++];
		memset(d, 0, sizeof(*d));
		d->kind = HP_PDATA_RODATA;
		d->align = 64;
		d->name = strdup("random table");
		d->size = n;
		d->init = malloc(n);
		hk_assert(d->init, "out of memory");
		while (got < n) {
			ssize_t r = getrandom(d->init + got, n - got, 0);

			hk_assert(r > 0, "getrandom failed");
			got += (size_t)r;
		}
	}
	hk_assert(hp_payload_encode(p, &out, len, &e) == 0, "payload: %s", e.what);
	hp_payload_free(p);
	return out;
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{"target", required_argument, NULL, 't'},
		{"func", required_argument, NULL, 'f'},
		{"baseline-compression", no_argument, NULL, 'b'},
		{"random-mb", required_argument, NULL, 'r'},
		{"code-from", required_argument, NULL, 'c'},
		{"code-mb", required_argument, NULL, 'C'},
		{"expires", required_argument, NULL, 'e'},
		{"raw", required_argument, NULL, 'R'},
		{"manifest", required_argument, NULL, 'M'},
		{NULL, 0, NULL, 0},
	};
	const char *out = NULL, *target = NULL, *raw_out = NULL, *manifest_out = NULL;
	const char *code_from = NULL;
	const char *funcs[3];
	uint32_t nfuncs = 0;
	bool baseline = false;
	size_t mib = 0, code_mib = 0, mlen, zlen, plen;
	struct hk_target t;
	struct hk_spec s;
	char *m;
	uint8_t *z, *pkg, *prefix = NULL;
	int c;

	hk_spec_default(&s);
	while ((c = getopt_long(argc, argv, "o:", opts, NULL)) != -1) {
		switch (c) {
		case 'o':
			out = optarg;
			break;
		case 't':
			target = optarg;
			break;
		case 'f':
			hk_assert(nfuncs < 3, "at most 3 --func");
			funcs[nfuncs++] = optarg;
			break;
		case 'b':
			baseline = true;
			break;
		case 'r':
			mib = strtoul(optarg, NULL, 10);
			break;
		case 'c':
			code_from = optarg;
			break;
		case 'C':
			code_mib = strtoul(optarg, NULL, 10);
			break;
		case 'e':
			hk_assert(hp_time_parse(optarg, &s.m.expires) == 0, "--expires %s", optarg);
			s.m.has_expires = true;
			break;
		case 'R':
			raw_out = optarg;
			break;
		case 'M':
			manifest_out = optarg;
			break;
		default:
			hk_assert(0, "bad usage (see the comment at the top of mkhpk.c)");
		}
	}
	hk_assert(out && optind == argc, "usage: mkhpk -o PKG [options]");
	hk_assert(!target == !nfuncs, "--target and --func go together");
	hk_assert(!code_from == !code_mib, "--code-from and --code-mb N (N > 0) go together");
	if (target) {
		size_t n = 0;

		hk_target_load(&t, target);
		for (uint32_t i = 0; i < nfuncs; i++)
			hk_bind(&s, &t, target, i, funcs[i]);
		s.m.nfuncs = nfuncs;
		for (uint32_t i = 1; i < nfuncs; i++)
			hk_assert(s.funcs[i].offset >= s.funcs[i - 1].offset + s.funcs[i - 1].size,
				  "--func in address order");
		if (baseline) {
			for (uint32_t i = 0; i < nfuncs; i++)
				n += s.funcs[i].size;
			prefix = malloc(n);
			n = 0;
			for (uint32_t i = 0; i < nfuncs; i++) {
				memcpy(prefix + n,
				       hp_image_bytes(&t.img, s.funcs[i].offset, s.funcs[i].size),
				       s.funcs[i].size);
				n += s.funcs[i].size;
			}
			s.compression = HP_COMP_ZSTD_BASELINE;
			s.prefix = prefix;
			s.prefix_len = n;
		}
		snprintf(s.names[3], sizeof(s.names[3]), "%s",
			 strrchr(target, '/') ? strrchr(target, '/') + 1 : target);
		s.m.target_name = s.names[3];
	}
	s.raw = raw_payload(s.m.nfuncs, mib, code_from, code_mib, &s.raw_len);
	/* random bytes do not compress at any level: the fastest will do */
	s.level = mib && !code_from ? 3 : 19;
	hk_members(&s, &m, &mlen, &z, &zlen);
	pkg = hk_container(m, mlen, NULL, 0, z, zlen, &plen);
	write_file(out, pkg, plen);
	if (raw_out)
		write_file(raw_out, s.raw, s.raw_len);
	if (manifest_out)
		write_file(manifest_out, m, mlen);
	free((void *)s.raw);
	free(prefix);
	free(m);
	free(z);
	free(pkg);
	if (target)
		free(t.file);
	return 0;
}
