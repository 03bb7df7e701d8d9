/*
 * Reports of one compared object pair: human summary, JSON, --show.
 */
#ifndef HPDIFF_REPORT_H
#define HPDIFF_REPORT_H

#include <stdio.h>

#include "hpdiff/diff.h"

struct json_object;

/* "same", "changed" or "unpatchable". */
const char *diff_status(const struct diff *d);
void report_text(FILE *f, const struct diff *d);
struct json_object *report_json(const struct diff *d);
/* Disassembly diff of every changed, new and removed function. */
void report_show(FILE *f, const struct diff *d);

#endif
