/*
 * Adding or replacing a package's signature.  Only MANIFEST.sig changes:
 * the archive is rebuilt from the parsed members with the same time, so
 * re-signing a package leaves every other byte as it was.  A package a
 * verifier would refuse for its own content (non-canonical MANIFEST,
 * payload.zst not the one MANIFEST pins) is not signed.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "verify/cms.h"
#include "verify/sign.h"

int hp_sign_package(const struct hp_signer *s, const uint8_t *pkg, size_t len, uint8_t **out,
		    size_t *out_len, char *msg, size_t size)
{
	struct hp_manifest *m = NULL;
	struct hp_error e;
	struct hp_hpk k;
	uint8_t *sig = NULL, h[32];
	char text[200];
	int ret = -1;

	*out = NULL;
	if (hp_hpk_read(pkg, len, &k, &e) < 0) {
		snprintf(msg, size, "not a package: %s", hp_error_text(&e, text, sizeof(text)));
		return -1;
	}
	if (hp_manifest_parse(k.manifest, k.manifest_len, &m, &e) < 0) {
		snprintf(msg, size, "MANIFEST: %s", hp_error_text(&e, text, sizeof(text)));
		return -1;
	}
	if (hp_payload_pinned(&k, m, hp_sha256(k.payload, k.payload_len, h), h, msg, size) !=
	    HP_V_OK)
		goto out;
	if (hp_signer_sign(s, k.manifest, k.manifest_len, &sig, &k.sig_len, msg, size) < 0)
		goto out;
	k.sig = sig;
	if (hp_hpk_write(&k, out, out_len, &e) < 0) {
		snprintf(msg, size, "%s", hp_error_text(&e, text, sizeof(text)));
		goto out;
	}
	ret = 0;
out:
	free(sig);
	hp_manifest_free(m);
	return ret;
}
