/*
 * libhpformat: the on-disk formats shared by every tool of the hotpatch
 * toolchain, with strict readers and deterministic writers.
 *
 * This header holds what every part of the library shares: the error
 * codes (their numeric values are pinned, tools and tests rely on them),
 * the error record a reader fills in to say exactly what was wrong, and
 * small helpers (SHA-256, atomic file output).
 *
 * The library never prints and never exits: it returns 0 / -1 (or a
 * pointer / NULL) and describes the failure in a struct hp_error.
 */
#ifndef HP_H
#define HP_H

#include <stddef.h>
#include <stdint.h>

/*
 * Error codes.  Values are part of the interface: never renumber, only
 * append.  hp_strerror() gives the generic text; struct hp_error adds
 * the field and offset.
 */
enum hp_err {
	HP_OK = 0,
	HP_ENOMEM = 1,	   /* out of memory */
	HP_ETRUNC = 2,	   /* the input ends before the structure does */
	HP_EMAGIC = 3,	   /* not a file of the expected kind */
	HP_EVERSION = 4,   /* format version not supported */
	HP_ERESERVED = 5,  /* a reserved field or flag is not zero */
	HP_ELIMIT = 6,	   /* a count or size exceeds the format's limits */
	HP_ERANGE = 7,	   /* an offset or index points outside its table */
	HP_ECHECKSUM = 8,  /* stored checksum does not match the content */
	HP_EVALUE = 9,	   /* a field holds a value the format does not define */
	HP_ETRAILING = 10, /* bytes follow the end of the structure */
	HP_EIO = 11,	   /* a read or write failed; see sys_errno */
	HP_ESTRING = 12,   /* a string is empty, too long or holds a NUL byte */
	HP_EORDER = 13,	   /* records not in the required order, or duplicated */
};

/* Generic message for an error code ("input is truncated"). */
const char *hp_strerror(int err);

/*
 * What a reader found wrong.  `what` names the field or record being read
 * when it failed ("function code", "relocation 3 offset"); `offset` is the
 * byte offset in the input where that field starts.  Writers use the same
 * record for I/O failures, with sys_errno set.
 */
struct hp_error {
	int code;	 /* enum hp_err */
	int sys_errno;	 /* errno for HP_EIO, else 0 */
	uint64_t offset; /* byte offset of the failing field, or HP_NO_OFFSET */
	char what[96];	 /* field or record being processed */
	int whole;	 /* 1: `what` is the whole message (hp_read_file's file checks) */
};

/* Offset value for failures found after parsing (cross-field checks). */
#define HP_NO_OFFSET UINT64_MAX

/*
 * Fill *e (if not NULL, with `whole` 0) and return -1, so readers can
 * `return hp_fail(...)`.
 */
int hp_fail(struct hp_error *e, int code, uint64_t offset, const char *what);

/*
 * Format "what: generic text (at offset N)" into buf, or `what` alone when
 * e->whole is set.  Callers prefix the file name: "x.hpd: function code:
 * input is truncated (at offset 812)", "x.hpd: is a directory".
 */
const char *hp_error_text(const struct hp_error *e, char *buf, size_t size);

/* SHA-256 of a buffer into out[32].  Returns 0, or -1 on library failure. */
int hp_sha256(const void *data, size_t len, uint8_t out[32]);

/*
 * SHA-256 of bytes that arrive in pieces (a payload hashed while it is
 * decompressed).  hp_sha256_new() returns NULL when out of memory;
 * hp_sha256_update() and hp_sha256_final() return 0 or -1;
 * hp_sha256_free() takes NULL.
 */
struct hp_sha256;
struct hp_sha256 *hp_sha256_new(void);
int hp_sha256_update(struct hp_sha256 *s, const void *p, size_t n);
int hp_sha256_final(struct hp_sha256 *s, uint8_t out[32]);
void hp_sha256_free(struct hp_sha256 *s);

/* Lower-case hex of n bytes into out (2n+1 bytes). */
void hp_hex(const uint8_t *bytes, size_t n, char *out);

/*
 * Write `len` bytes to `path` atomically: a temporary file in the same
 * directory is written, flushed and renamed over `path`.  On failure no
 * file is left behind (neither the temporary nor a partial `path`).
 * `mode` is the permission of the created file (before umask).
 */
int hp_write_file_atomic(const char *path, const void *data, size_t len, unsigned mode,
			 struct hp_error *e);

/*
 * Read a whole regular file into a malloc'ed buffer.  Refuses files larger
 * than max_size (HP_ELIMIT).  *data is NUL-terminated one past *len for the
 * convenience of text readers; the NUL is not counted.
 */
int hp_read_file(const char *path, size_t max_size, uint8_t **data, size_t *len,
		 struct hp_error *e);

#endif
