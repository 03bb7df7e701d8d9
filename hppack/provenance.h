/*
 * Proving a baseline binary was built from the OLD objects: each function
 * to be replaced must have the OLD object's code, up to what the linker is
 * allowed to change (relocated fields, and the instructions it relaxes).
 */
#ifndef HPPACK_PROVENANCE_H
#define HPPACK_PROVENANCE_H

#include <stdint.h>

#include "format/hpd.h"

/*
 * Compare `base` (the baseline's bytes of the function, f->old_size long)
 * with f's baseline code, linked for `machine`.  Returns 0 if they match,
 * else the offset of the first differing byte plus one.
 */
uint32_t provenance_mismatch(uint16_t machine, const uint8_t *base, const struct hp_func *f);

#endif
