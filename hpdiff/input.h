/*
 * Turning hpdiff's two arguments into a list of object pairs: two objects,
 * two static libraries (members paired by name), or two directory trees
 * (objects and archives paired by relative path).
 */
#ifndef HPDIFF_INPUT_H
#define HPDIFF_INPUT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct json_object;

struct job {
	char *name;		   /* the pair in reports: "x.o", "net/y.o", "libc.a(printf.o)" */
	char *old_name, *new_name; /* each side in messages; NULL if absent */
	char *old_path, *new_path; /* files read by the worker (directory mode) */
	const uint8_t *old, *new;  /* images (archive members point into the archive) */
	size_t old_len, new_len;
	char *out;	   /* .hpd path, or NULL when no -o */
	bool always_write; /* a single pair writes its .hpd even when nothing differs */

	/* results, filled by the worker */
	int result; /* exit-status class: 0 same, 1 differs, 2 trouble, 3 not hotpatchable */
	char *text; /* human summary */
	char *show; /* --show listing */
	struct json_object *json;
	uint8_t *hpd;
	size_t hpd_len;
};

struct jobs {
	struct job *v;
	size_t n, cap;
	uint8_t **buffers; /* whole archives, kept while members are compared */
	size_t nbuffers;
	bool single; /* one object pair */
};

/*
 * Pair OLD and NEW.  `out` is the -o argument (NULL if none): the .hpd for
 * a single pair, otherwise the directory receiving one .hpd per object.
 * Returns 0, or -1 after printing what is wrong with the arguments.
 */
int jobs_collect(struct jobs *js, const char *old, const char *new, const char *out);
void jobs_free(struct jobs *js);

#endif
