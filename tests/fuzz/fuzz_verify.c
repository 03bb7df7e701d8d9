/*
 * Fuzz libhpverify's hp_verify() as a whole, mostly its signature checks
 * (strict DER, signer id, algorithms, chain) on mutated MANIFEST.sig bytes.
 * The seeds are packages signed by the PKI that tests/fuzz/seeds.sh makes in
 * corpus/fuzz_verify.pki next to the corpus, so unmutated seeds verify.
 * Half of the runs (chosen by a byte of the input, not by changing it) pass
 * the sample baseline the bound seeds were made for as the target, so the
 * target checks and the zstd+baseline decompression are fuzzed too.
 * Invariants: a verdict is always given, an accepted package has a manifest,
 * and hp_verified_free() releases everything (LeakSanitizer checks).
 */
#include <libgen.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "verify/verify.h"
#include "format/image.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static char ca[4096];
static struct hp_image target;
static bool have_target;

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	char *self = strdup((*argv)[0]), path[4096];
	const char *dir = dirname(self);
	struct hp_error e;
	uint8_t *file = NULL;
	size_t len;

	(void)argc;
	snprintf(ca, sizeof(ca), "%s/corpus/fuzz_verify.pki/root.pem", dir);
	if (access(ca, R_OK) != 0) {
		fprintf(stderr, "fuzz_verify: %s missing (tests/fuzz/seeds.sh makes it)\n", ca);
		exit(2);
	}
	/* the baseline of the seeds bound by tests/fuzz/seeds.sh (kept for the run) */
	snprintf(path, sizeof(path), "%s/../samples/gcc-O2/body-change/old", dir);
	if (hp_read_file(path, 1 << 26, &file, &len, &e) == 0 &&
	    hp_image_parse(file, len, &target, &e) == 0) {
		have_target = true;
	} else {
		fprintf(stderr, "fuzz_verify: no sample target %s; fuzzing without one\n", path);
		free(file);
	}
	free(self);
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct hp_verify_opts o = {.ca_file = ca, .now = 1800000000};
	struct hp_verified v;
	int r;

	if (have_target && size && (data[size / 2] & 1))
		o.target = &target;
	r = hp_verify(data, size, &o, &v);

	if ((r == 0) != (v.cls == HP_V_OK) || (r == 0 && !v.manifest) || v.cls == HP_V_TROUBLE ||
	    (r != 0 && !v.message[0]))
		abort();
	hp_verified_free(&v);
	return 0;
}
