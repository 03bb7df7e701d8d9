/*
 * Printing what a package holds (hppack --inspect).
 */
#ifndef HPPACK_INSPECT_H
#define HPPACK_INSPECT_H

#include <stdbool.h>

/* Text or JSON on stdout; baseline (may be NULL) opens zstd+baseline payloads. */
int inspect_package(const char *path, const char *baseline, bool json);

#endif
