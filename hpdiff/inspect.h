/*
 * Printing what a .hpd file holds (hpdiff --inspect).
 */
#ifndef HPDIFF_INSPECT_H
#define HPDIFF_INSPECT_H

#include <stdbool.h>

/* Print the .hpd at path as text or JSON on stdout; -1 after a message. */
int inspect_hpd(const char *path, bool json);

#endif
