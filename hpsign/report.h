/*
 * What `hpsign --verify` prints about a verified (or refused) package: a
 * human summary or JSON.  Part of the tool, not of libhpverify.
 */
#ifndef HP_REPORT_H
#define HP_REPORT_H

#include <stdio.h>

#include "verify/verify.h"

/*
 * The summary of a valid package (signer, target, sequence, changes) to f.
 * target_file is the --target path, or NULL.
 */
void hp_report_text(FILE *f, const char *pkg_file, const char *target_file,
		    const struct hp_verified *v);

/* The same as one JSON object, valid or not: "valid", "class", "message", ... */
int hp_report_json(FILE *f, const char *pkg_file, const char *target_file,
		   const struct hp_verified *v);

/* The note a zstd+baseline package verified without --target needs. */
#define HP_NOTE_UNCHECKED                                                                          \
	"payload content not checked: compressed against the baseline; pass --target to check it"

#endif
