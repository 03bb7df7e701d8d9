/*
 * The hotpatch package (.hpk): a strict ustar archive of MANIFEST,
 * MANIFEST.sig and payload.zst, and the formats of those members.
 *
 *   container  hp_hpk_read / hp_hpk_write: the archive, members by pointer
 *              into one in-memory copy (nothing is re-read)
 *   manifest   hp_manifest_parse / hp_manifest_write: the signed text that
 *              binds the package to its target and to the payload bytes
 *   payload    hp_zstd_*, hp_payload_decode / hp_payload_encode: what the
 *              loader places in the process, every reference resolved
 *
 * Layouts are specified in docs/format.md.  Nothing here verifies
 * signatures (hpsign/) or looks at a process (hpapply/).
 */
#ifndef HP_HPK_H
#define HP_HPK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "format/hp.h"

struct hp_image; /* image.h */

/* ---- container ------------------------------------------------------------ */

#define HP_HPK_MAX_MANIFEST (64u << 10)
#define HP_HPK_MAX_SIG	    (64u << 10)
#define HP_HPK_MAX_PAYLOAD  (256u << 20)
/* The largest file that can be a package: every member at its limit. */
#define HP_HPK_MAX_FILE                                                                            \
	((size_t)HP_HPK_MAX_MANIFEST + HP_HPK_MAX_SIG + HP_HPK_MAX_PAYLOAD + 8 * 512)

struct hp_hpk {
	const uint8_t *manifest;
	size_t manifest_len;
	const uint8_t *sig; /* NULL for an unsigned package */
	size_t sig_len;
	const uint8_t *payload; /* payload.zst */
	size_t payload_len;
	uint64_t mtime; /* of every member: the package's creation time */
};

/*
 * Parse the archive.  Accepts exactly MANIFEST, [MANIFEST.sig,] payload.zst
 * in that order, regular files in canonical ustar headers, zero padding,
 * two zero end blocks and nothing after them.  Pointers refer into buf.
 */
int hp_hpk_read(const uint8_t *buf, size_t len, struct hp_hpk *out, struct hp_error *e);

/* Write the canonical archive (sig may be NULL).  *out is malloc'ed. */
int hp_hpk_write(const struct hp_hpk *in, uint8_t **out, size_t *len, struct hp_error *e);

/* ---- manifest -------------------------------------------------------------- */

#define HP_MANIFEST_FORMAT    1
#define HP_MANIFEST_MAX_FUNCS 65536u

enum hp_compression {
	HP_COMP_ZSTD = 1,	   /* one zstd frame */
	HP_COMP_ZSTD_BASELINE = 2, /* one zstd frame whose window starts with the
				      baseline bytes of the replaced functions,
				      in manifest order (a raw prefix) */
};

struct hp_manifest_func {
	uint64_t offset;    /* image offset of the replaced function in the baseline */
	uint32_t size;	    /* its size in the baseline */
	uint8_t sha256[32]; /* of its baseline bytes */
	char *name;
};

/*
 * The one value of the MANIFEST's arch key in format version 1: payload
 * relocation types are that machine's ELF relocation numbers.
 */
#define HP_FORMAT_ARCH "x86_64"

struct hp_manifest {
	char *package_id;
	char *arch; /* HP_FORMAT_ARCH */
	char *target_name;
	uint8_t build_id[64];
	size_t build_id_len;
	uint8_t target_sha256[32];
	uint64_t sequence, min_sequence;
	bool cumulative;
	int64_t created; /* seconds since the epoch */
	bool has_expires;
	int64_t expires;
	char *tools;
	char *fixes;	     /* may be NULL */
	uint8_t compression; /* enum hp_compression */
	uint64_t payload_size;
	uint8_t payload_sha256[32];
	uint64_t payload_raw_size;
	uint8_t payload_raw_sha256[32];
	struct hp_manifest_func *funcs;
	uint32_t nfuncs;
};

/* Parse MANIFEST text: fixed keys in fixed order, strictly formatted. */
int hp_manifest_parse(const uint8_t *text, size_t len, struct hp_manifest **out,
		      struct hp_error *e);
/* Write the canonical text (what parse accepts and re-writes identically). */
int hp_manifest_write(const struct hp_manifest *m, char **out, size_t *len, struct hp_error *e);
void hp_manifest_free(struct hp_manifest *m);

/* RFC 3339 UTC ("2027-02-10T00:00:00Z") <-> seconds since the epoch. */
int hp_time_format(int64_t t, char *buf, size_t size);
int hp_time_parse(const char *s, int64_t *t);

/* ---- compression ------------------------------------------------------------ */

/*
 * One zstd frame with the content size declared.  `prefix` (may be NULL)
 * is referenced as raw content before the data, as `zstd --patch-from`
 * does.  *out is malloc'ed.
 */
int hp_zstd_compress(const uint8_t *src, size_t len, const uint8_t *prefix, size_t prefix_len,
		     int level, uint8_t **out, size_t *out_len, struct hp_error *e);
/*
 * Decompress exactly one frame that must declare, and produce, exactly
 * raw_size bytes: never more memory than that (decompression bombs fail
 * with HP_ELIMIT), nothing after the frame (HP_ETRAILING).
 */
int hp_zstd_decompress(const uint8_t *src, size_t len, const uint8_t *prefix, size_t prefix_len,
		       size_t raw_size, uint8_t **out, struct hp_error *e);
/*
 * The same checks, decompressing into the caller's out[0..raw_size) piece
 * by piece: after each piece, progress(arg, n) (when not NULL) says that
 * out[0..n) holds its final bytes, so another thread may read them while
 * the rest is decoded (n grows; it reaches raw_size only on success).  The
 * framing is checked before anything is decoded; a frame that fails later
 * fails after some progress, and out is then not to be used.
 */
typedef void hp_zstd_progress_fn(void *arg, size_t done);
int hp_zstd_decompress_into(const uint8_t *src, size_t len, const uint8_t *prefix,
			    size_t prefix_len, uint8_t *out, size_t raw_size,
			    hp_zstd_progress_fn *progress, void *arg, struct hp_error *e);

/*
 * The raw prefix of HP_COMP_ZSTD_BASELINE: the baseline bytes of the n
 * replaced functions f[], in manifest order, from the baseline image.
 * *len is its length; malloc'ed.  NULL if a range is outside the image's
 * file-backed bytes (HP_ERANGE) or on HP_ENOMEM.  Hashes are not checked.
 */
uint8_t *hp_baseline_prefix(const struct hp_image *img, const struct hp_manifest_func *f,
			    uint32_t n, size_t *len, struct hp_error *e);

/* ---- payload ------------------------------------------------------------------- */

#define HP_PAYLOAD_MAJOR     1
#define HP_PAYLOAD_MINOR     0
#define HP_PAYLOAD_MAX_COUNT (1u << 20)
#define HP_PAYLOAD_MAX_ITEM  (64u << 20)
#define HP_PAYLOAD_MAX_ALIGN 4096u
/* A BSS item carries no bytes: bounded like a .hpd's (HP_HPD_MAX_BSS). */
#define HP_PAYLOAD_MAX_BSS (1u << 30)
/* The decompressed payload (MANIFEST payload-raw-size). */
#define HP_PAYLOAD_MAX_RAW ((uint64_t)HP_PAYLOAD_MAX_ITEM * 16)

/* What a relocation's S is. */
enum hp_ptarget {
	HP_PT_IMAGE = 1,  /* baseline image base + target_off */
	HP_PT_CODE = 2,	  /* placed code[index] + target_off */
	HP_PT_DATA = 3,	  /* placed data[index] + target_off */
	HP_PT_IMPORT = 4, /* address of dynamic symbol imports[index] + target_off */
	HP_PT_CONST = 5,  /* the constant target_off (a thread-pointer offset) */
};

struct hp_preloc {
	uint32_t offset; /* of the field in its code or data item */
	uint32_t type;	 /* ELF relocation type of the package's arch, see hp_payload_reloc_ok() */
	uint8_t target;	 /* enum hp_ptarget */
	uint32_t index;	 /* for CODE, DATA, IMPORT; 0 otherwise */
	int64_t target_off;
	int64_t addend;
};

enum hp_pcode_kind {
	HP_PCODE_REPLACEMENT = 1, /* new code of a replaced function */
	HP_PCODE_NEW = 2,	  /* a new function */
};

struct hp_pcode {
	uint8_t kind;
	uint32_t align;
	char *name;
	uint8_t *code;
	uint32_t size;
	struct hp_preloc *relocs;
	uint32_t nrelocs;
};

enum hp_pdata_kind {
	HP_PDATA_DATA = 1,   /* writable, initialised */
	HP_PDATA_BSS = 2,    /* writable, zeroed */
	HP_PDATA_RODATA = 3, /* read-only */
};

struct hp_pdata {
	uint8_t kind;
	uint32_t align;
	char *name;
	uint64_t size;
	uint8_t *init; /* NULL for BSS */
	struct hp_preloc *relocs;
	uint32_t nrelocs;
};

struct hp_pimport {
	bool weak;
	char *name;
};

struct hp_payload {
	/* replaced[i]: index into code of the new code for MANIFEST function i */
	uint32_t *replaced;
	uint32_t nreplaced;
	struct hp_pcode *code;
	uint32_t ncode;
	struct hp_pdata *data;
	uint32_t ndata;
	struct hp_pimport *imports;
	uint32_t nimports;
};

/*
 * Is this relocation type, of this machine's numbering, one the loader
 * applies to a target of this kind?  Addresses (absolute, PC-relative of 32
 * or 64 bits, through a GOT slot) to the image, new code, new data or an
 * import; thread-pointer offsets (direct or through a GOT slot) as constants.
 */
bool hp_payload_reloc_ok(uint16_t machine, uint32_t type, uint8_t target);

int hp_payload_encode(const struct hp_payload *p, uint8_t **out, size_t *len, struct hp_error *e);
/*
 * Strict decode: every index in range, every field inside its item,
 * relocations sorted and not overlapping, only supported types, each
 * replacement used exactly once, nothing after the last import.
 */
int hp_payload_decode(const uint8_t *buf, size_t len, struct hp_payload **out, struct hp_error *e);
int hp_payload_validate(const struct hp_payload *p, struct hp_error *e);
/*
 * Does a decoded payload fit the MANIFEST that describes it: one
 * replacement for each listed function, so that replaced[i] is the new code
 * of funcs[i]?  Check this before indexing replaced[] by MANIFEST function.
 */
int hp_payload_matches_manifest(const struct hp_payload *p, const struct hp_manifest *m,
				struct hp_error *e);
void hp_payload_free(struct hp_payload *p);

#endif
