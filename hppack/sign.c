/*
 * hppack --key/--cert/--chain: hpsign's signer (hpsign/sign.h), loaded,
 * checked (a key or certificate a verifier would refuse is refused here
 * first), used once and released.
 */
#include <stdint.h>

#include "hppack/sign.h"
#include "verify/sign.h"
#include "common/cli.h"
#include "common/mem.h"

int sign_manifest(const char *manifest, size_t len, const struct pack_opts *o, uint8_t **sig,
		  size_t *sig_len)
{
	/*
	 * The certificate must be valid now, when the signature is made: not at
	 * the package's creation time, which SOURCE_DATE_EPOCH may set years back.
	 */
	struct hp_signer_opts so = {.key = o->key, .cert = o->cert, .chain = o->chain, .now = 0};
	struct hp_signer *s = NULL;
	char msg[512];
	int ret;

	if (hp_signer_load(&so, &s, msg, sizeof(msg)) < 0)
		return error("%s", msg);
	ret = hp_signer_sign(s, (const uint8_t *)manifest, len, sig, sig_len, msg, sizeof(msg));
	if (ret < 0)
		error("signing: %s", msg);
	hp_signer_free(s);
	return ret;
}
