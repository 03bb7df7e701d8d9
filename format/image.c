/*
 * Linked ELF images: program headers, build-id note, TLS segment; see
 * image.h.  Every offset and size read from the file is checked against
 * the file before use.
 */
#include <elf.h>
#include <string.h>

#include "image.h"

static uint16_t u16(const uint8_t *p)
{
	return (uint16_t)(p[0] | p[1] << 8);
}

static uint32_t u32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static uint64_t u64(const uint8_t *p)
{
	return (uint64_t)u32(p) | (uint64_t)u32(p + 4) << 32;
}

size_t hp_note_build_id(const uint8_t *p, uint64_t n, uint8_t out[HP_BUILD_ID_MAX])
{
	uint64_t pos = 0;

	while (n - pos >= 12) {
		uint32_t namesz = u32(p + pos), descsz = u32(p + pos + 4), type = u32(p + pos + 8);
		uint64_t name_end = pos + 12 + (((uint64_t)namesz + 3) & ~3ull);
		uint64_t desc_end = name_end + (((uint64_t)descsz + 3) & ~3ull);

		if (name_end > n || desc_end > n)
			return 0;
		if (type == NT_GNU_BUILD_ID && namesz == 4 && !memcmp(p + pos + 12, "GNU", 4) &&
		    descsz && descsz <= HP_BUILD_ID_MAX) {
			memcpy(out, p + name_end, descsz);
			return descsz;
		}
		pos = desc_end;
	}
	return 0;
}

/* DT_NEEDED count and DF_1_PIE from the dynamic section. */
static void scan_dynamic(struct hp_image *img, const uint8_t *p, uint64_t n)
{
	img->has_dynamic = true;
	for (uint64_t pos = 0; pos + 16 <= n; pos += 16) {
		uint64_t tag = u64(p + pos), val = u64(p + pos + 8);

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
	uint64_t phoff, end = 0;
	uint16_t phentsize, phnum;

	memset(img, 0, sizeof(*img));
	img->file = f;
	img->len = len;
	if (len < 64 || memcmp(f, ELFMAG, SELFMAG))
		return hp_fail(e, HP_EMAGIC, 0, "not an ELF file");
	if (f[EI_CLASS] != ELFCLASS64 || f[EI_DATA] != ELFDATA2LSB)
		return hp_fail(e, HP_EVALUE, EI_CLASS, "not a 64-bit little-endian ELF file");
	img->type = u16(f + 16);
	img->machine = u16(f + 18);
	if (img->type != ET_EXEC && img->type != ET_DYN)
		return hp_fail(e, HP_EVALUE, 16, "not an executable or shared library");
	phoff = u64(f + 32);
	phentsize = u16(f + 54);
	phnum = u16(f + 56);
	if (phentsize != sizeof(Elf64_Phdr) || phoff > len ||
	    (uint64_t)phnum * phentsize > len - phoff)
		return hp_fail(e, HP_ERANGE, 32, "program header table");
	for (uint16_t i = 0; i < phnum; i++) {
		const uint8_t *ph = f + phoff + (uint64_t)i * phentsize;
		uint32_t type = u32(ph);
		uint64_t off = u64(ph + 8), vaddr = u64(ph + 16), filesz = u64(ph + 32);
		uint64_t memsz = u64(ph + 40), align = u64(ph + 48);

		if (type == PT_INTERP)
			img->has_interp = true;
		if (type != PT_LOAD && type != PT_NOTE && type != PT_TLS && type != PT_DYNAMIC)
			continue;
		if (off > len || filesz > len - off || filesz > memsz || vaddr + memsz < vaddr)
			return hp_fail(e, HP_ERANGE, phoff + (uint64_t)i * phentsize, "program header");
		if (type == PT_NOTE) {
			if (!img->build_id_len)
				img->build_id_len = hp_note_build_id(f + off, filesz, img->build_id);
		} else if (type == PT_DYNAMIC) {
			scan_dynamic(img, f + off, filesz);
		} else if (type == PT_TLS) {
			img->tls_vaddr = vaddr;
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
				img->base = align > 1 && !(align & (align - 1)) ? vaddr & ~(align - 1)
									       : vaddr;
			s = &img->segs[img->nsegs++];
			s->vaddr = vaddr;
			s->memsz = memsz;
			s->offset = off;
			s->filesz = filesz;
			s->flags = u32(ph + 4);
			if (vaddr + memsz > end)
				end = vaddr + memsz;
		}
	}
	if (!img->nsegs)
		return hp_fail(e, HP_EVALUE, phoff, "no loadable segment");
	img->size = end - img->base;
	return 0;
}

const struct hp_segment *hp_image_segment(const struct hp_image *img, uint64_t off)
{
	uint64_t va = img->base + off;

	for (size_t i = 0; i < img->nsegs; i++)
		if (va >= img->segs[i].vaddr && va - img->segs[i].vaddr < img->segs[i].memsz)
			return &img->segs[i];
	return NULL;
}

const uint8_t *hp_image_bytes(const struct hp_image *img, uint64_t off, uint64_t n)
{
	const struct hp_segment *s = hp_image_segment(img, off);
	uint64_t in;

	if (!s || off > UINT64_MAX - img->base)
		return NULL;
	in = img->base + off - s->vaddr;
	if (in > s->filesz || n > s->filesz - in)
		return NULL;
	return img->file + s->offset + in;
}
