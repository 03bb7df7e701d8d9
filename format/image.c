/*
 * Linked ELF images: program headers, build-id note, TLS segment; see
 * image.h.  Every offset and size read from the file is checked against
 * the file before use.
 */
#include <elf.h>
#include <string.h>

#include "format/buf.h"
#include "format/image.h"

/*
 * The readers below go through an hp_rbuf over bytes already checked to lie
 * inside the file, with no error to report: they stop at the end instead.
 */

size_t hp_note_build_id(const uint8_t *p, uint64_t n, uint8_t out[HP_BUILD_ID_MAX])
{
	struct hp_rbuf rb;

	hp_rbuf_init(&rb, p, (size_t)n, NULL);
	while (hp_rbuf_left(&rb) >= 12) {
		uint32_t namesz = hp_get_u32(&rb, "note name size");
		uint32_t descsz = hp_get_u32(&rb, "note descriptor size");
		uint32_t type = hp_get_u32(&rb, "note type");
		uint64_t name_len = ((uint64_t)namesz + 3) & ~3ull;
		uint64_t desc_len = ((uint64_t)descsz + 3) & ~3ull;
		const uint8_t *name, *desc;

		if (name_len > hp_rbuf_left(&rb) || desc_len > hp_rbuf_left(&rb) - name_len)
			return 0;
		name = hp_get_bytes(&rb, (size_t)name_len, "note name");
		desc = hp_get_bytes(&rb, (size_t)desc_len, "note descriptor");
		if (type == NT_GNU_BUILD_ID && namesz == 4 && !memcmp(name, "GNU", 4) && descsz &&
		    descsz <= HP_BUILD_ID_MAX) {
			memcpy(out, desc, descsz);
			return descsz;
		}
	}
	return 0;
}

/* DT_NEEDED count and DF_1_PIE from the dynamic section. */
static void scan_dynamic(struct hp_image *img, const uint8_t *p, uint64_t n)
{
	struct hp_rbuf rb;

	img->has_dynamic = true;
	hp_rbuf_init(&rb, p, (size_t)n, NULL);
	while (hp_rbuf_left(&rb) >= 16) {
		uint64_t tag = hp_get_u64(&rb, "dynamic tag");
		uint64_t val = hp_get_u64(&rb, "dynamic value");

		if (tag == DT_NULL)
			break;
		if (tag == DT_NEEDED)
			img->needed++;
		else if (tag == DT_FLAGS_1 && (val & DF_1_PIE))
			img->pie = true;
	}
}

int hp_image_parse(const uint8_t *f, size_t len, struct hp_image *img, struct hp_error *e)
{
	struct hp_rbuf rb;
	uint64_t phoff, end = 0;
	uint16_t phentsize, phnum;

	memset(img, 0, sizeof(*img));
	img->file = f;
	img->len = len;
	if (len < 64 || memcmp(f, ELFMAG, SELFMAG))
		return hp_fail(e, HP_EMAGIC, 0, "not an ELF file");
	if (f[EI_CLASS] != ELFCLASS64 || f[EI_DATA] != ELFDATA2LSB)
		return hp_fail(e, HP_EVALUE, EI_CLASS, "not a 64-bit little-endian ELF file");
	/* the ELF header after e_ident, field by field */
	hp_rbuf_init(&rb, f + EI_NIDENT, 64 - EI_NIDENT, NULL);
	img->type = hp_get_u16(&rb, "e_type");
	img->machine = hp_get_u16(&rb, "e_machine");
	if (img->type != ET_EXEC && img->type != ET_DYN)
		return hp_fail(e, HP_EVALUE, 16, "not an executable or shared library");
	hp_get_u32(&rb, "e_version");
	hp_get_u64(&rb, "e_entry");
	phoff = hp_get_u64(&rb, "e_phoff");
	hp_get_u64(&rb, "e_shoff");
	hp_get_u32(&rb, "e_flags");
	hp_get_u16(&rb, "e_ehsize");
	phentsize = hp_get_u16(&rb, "e_phentsize");
	phnum = hp_get_u16(&rb, "e_phnum");
	if (phentsize != sizeof(Elf64_Phdr) || phoff > len ||
	    (uint64_t)phnum * phentsize > len - phoff)
		return hp_fail(e, HP_ERANGE, 32, "program header table");
	for (uint16_t i = 0; i < phnum; i++) {
		uint32_t type, flags;
		uint64_t off, vaddr, filesz, memsz, align;

		hp_rbuf_init(&rb, f + phoff + (uint64_t)i * phentsize, phentsize, NULL);
		type = hp_get_u32(&rb, "p_type");
		flags = hp_get_u32(&rb, "p_flags");
		off = hp_get_u64(&rb, "p_offset");
		vaddr = hp_get_u64(&rb, "p_vaddr");
		hp_get_u64(&rb, "p_paddr");
		filesz = hp_get_u64(&rb, "p_filesz");
		memsz = hp_get_u64(&rb, "p_memsz");
		align = hp_get_u64(&rb, "p_align");

		if (type == PT_INTERP)
			img->has_interp = true;
		if (type != PT_LOAD && type != PT_NOTE && type != PT_TLS && type != PT_DYNAMIC)
			continue;
		if (off > len || filesz > len - off || filesz > memsz || vaddr + memsz < vaddr)
			return hp_fail(e, HP_ERANGE, phoff + (uint64_t)i * phentsize,
				       "program header");
		if (type == PT_NOTE) {
			if (!img->build_id_len)
				img->build_id_len =
					hp_note_build_id(f + off, filesz, img->build_id);
		} else if (type == PT_DYNAMIC) {
			scan_dynamic(img, f + off, filesz);
		} else if (type == PT_TLS) {
			img->tls_memsz = memsz;
			img->tls_align = align ? align : 1;
		} else {
			struct hp_segment *s;

			if (img->nsegs == HP_IMAGE_MAX_SEGMENTS)
				return hp_fail(e, HP_ELIMIT, phoff, "loadable segments");
			if (img->nsegs && vaddr < img->segs[img->nsegs - 1].vaddr)
				return hp_fail(e, HP_EORDER, phoff + (uint64_t)i * phentsize,
					       "loadable segments out of order");
			if (!img->nsegs)
				img->base = align > 1 && !(align & (align - 1))
						    ? vaddr & ~(align - 1)
						    : vaddr;
			s = &img->segs[img->nsegs++];
			s->vaddr = vaddr;
			s->memsz = memsz;
			s->offset = off;
			s->filesz = filesz;
			s->flags = flags;
			if (vaddr + memsz > end)
				end = vaddr + memsz;
		}
	}
	if (!img->nsegs)
		return hp_fail(e, HP_EVALUE, phoff, "no loadable segment");
	img->size = end - img->base;
	return 0;
}

/* The segment holding image offset off, or NULL. */
static const struct hp_segment *segment_at(const struct hp_image *img, uint64_t off)
{
	uint64_t va = img->base + off;

	for (size_t i = 0; i < img->nsegs; i++)
		if (va >= img->segs[i].vaddr && va - img->segs[i].vaddr < img->segs[i].memsz)
			return &img->segs[i];
	return NULL;
}

const uint8_t *hp_image_bytes(const struct hp_image *img, uint64_t off, uint64_t n)
{
	const struct hp_segment *s = segment_at(img, off);
	uint64_t in;

	if (!s || off > UINT64_MAX - img->base)
		return NULL;
	in = img->base + off - s->vaddr;
	if (in > s->filesz || n > s->filesz - in)
		return NULL;
	return img->file + s->offset + in;
}
