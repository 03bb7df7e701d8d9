/*
 * Fuzz libhpverify's hp_verify() as a whole, mostly its signature checks
 * (strict DER, signer id, algorithms, chain) on mutated MANIFEST.sig bytes.
 * The seeds are packages signed by the PKI that tests/fuzz/seeds.sh makes in
 * corpus/fuzz_verify.pki next to the corpus, so unmutated seeds verify.
 * Invariants: a verdict is always given, an accepted package has a manifest,
 * and hp_verified_free() releases everything (LeakSanitizer checks).
 */
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../../hpsign/verify.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static char ca[4096];

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	char *self = strdup((*argv)[0]);

	(void)argc;
	snprintf(ca, sizeof(ca), "%s/corpus/fuzz_verify.pki/root.pem", dirname(self));
	free(self);
	if (access(ca, R_OK) != 0) {
		fprintf(stderr, "fuzz_verify: %s missing (tests/fuzz/seeds.sh makes it)\n", ca);
		exit(2);
	}
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct hp_verify_opts o = {.ca_file = ca, .now = 1800000000};
	struct hp_verified v;
	int r = hp_verify(data, size, &o, &v);

	if ((r == 0) != (v.cls == HP_V_OK) || (r == 0 && !v.manifest) || v.cls == HP_V_TROUBLE ||
	    (r != 0 && !v.message[0]))
		abort();
	hp_verified_free(&v);
	return 0;
}
