/*
 * Addresses of a package's imports in the target process.
 */
#ifndef HPAPPLY_SYMBOLS_H
#define HPAPPLY_SYMBOLS_H

#include <stdint.h>
#include <sys/types.h>

#include "format/hpk.h"
#include "hpapply/target.h"

/* addrs[i] for pl->imports[i].  -1 after a message naming the symbol. */
int symbols_resolve(pid_t pid, const struct maps *m, const struct hp_payload *pl, uint64_t *addrs);

#endif
