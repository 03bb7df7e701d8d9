/*
 * Turning a compared object pair into the .hpd model (format/hpd.h).
 */
#ifndef HPDIFF_EMIT_H
#define HPDIFF_EMIT_H

#include "hpdiff/diff.h"
#include "format/hpd.h"

/*
 * Build the .hpd of a compared diff.  Functions whose references cannot be
 * expressed are marked unpatchable (with the reason) and d->unpatchable is
 * set; then the .hpd carries the findings only.  NULL on allocation failure.
 */
struct hp_hpd *emit_hpd(struct diff *d);

#endif
