/*
 * A linked ELF file (executable or shared library) as the package formats
 * see it: machine, build-id, loadable segments, TLS segment, and its bytes
 * by image offset.  An image offset is a virtual address minus the image
 * base, the page-aligned address of the first PT_LOAD: the loader adds the
 * address where that segment is mapped, so one number works for PIE,
 * non-PIE and shared libraries alike.
 *
 * Parsed from the program headers directly, bounds-checked; symbols are not
 * read here (hppack/baseline.c does that).
 */
#ifndef HP_IMAGE_H
#define HP_IMAGE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "format/hp.h"

#define HP_IMAGE_MAX_SEGMENTS 256
#define HP_BUILD_ID_MAX	      64

struct hp_segment {
	uint64_t vaddr, memsz;
	uint64_t offset, filesz;
	uint32_t flags; /* PF_R | PF_W | PF_X */
};

struct hp_image {
	const uint8_t *file; /* the caller's copy of the whole file */
	size_t len;
	uint16_t machine;		   /* e_machine */
	uint16_t type;			   /* ET_EXEC or ET_DYN */
	uint8_t build_id[HP_BUILD_ID_MAX]; /* NT_GNU_BUILD_ID */
	size_t build_id_len;		   /* 0 if the file has none */
	uint64_t base;			   /* first PT_LOAD p_vaddr rounded down to its alignment */
	uint64_t size;			   /* from base to the end of the last PT_LOAD */
	struct hp_segment segs[HP_IMAGE_MAX_SEGMENTS];
	size_t nsegs;
	uint64_t tls_memsz, tls_align; /* PT_TLS; tls_memsz 0 if none */
	bool has_interp;	       /* PT_INTERP: a program started by the dynamic linker */
	bool has_dynamic;	       /* PT_DYNAMIC */
	bool pie;		       /* DF_1_PIE: a position-independent program */
	uint32_t needed;	       /* DT_NEEDED entries: libraries it loads */
};

/* A program (not a shared library): its own thread-local offsets are fixed. */
static inline bool hp_image_is_program(const struct hp_image *img)
{
	return img->type == 2 /* ET_EXEC */ || img->has_interp || img->pie || !img->has_dynamic;
}

/* Can the image's code reach other modules' symbols at all? */
static inline bool hp_image_links_libraries(const struct hp_image *img)
{
	return img->has_dynamic && (img->needed || !hp_image_is_program(img));
}

/* Parse a 64-bit little-endian ET_EXEC or ET_DYN file held in memory. */
int hp_image_parse(const uint8_t *file, size_t len, struct hp_image *img, struct hp_error *e);

/*
 * The first NT_GNU_BUILD_ID note (name "GNU", 1 to HP_BUILD_ID_MAX bytes)
 * in the n bytes of a PT_NOTE segment at p, copied to out: its length, or
 * 0 if there is none.
 */
size_t hp_note_build_id(const uint8_t *p, uint64_t n, uint8_t out[HP_BUILD_ID_MAX]);

/*
 * The file bytes at image offset [off, off + n), or NULL unless the range
 * lies within the file-backed part of one loadable segment.
 */
const uint8_t *hp_image_bytes(const struct hp_image *img, uint64_t off, uint64_t n);

#endif
