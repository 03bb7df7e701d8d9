/*
 * Fuzz the object reading path end to end: parse, DWARF, decode, resolve,
 * correlate, compare, emit, encode, decode.  The input is diffed against a
 * copy with one byte of code changed (in the first executable section the
 * section headers name; the last byte of the file when there is none), so
 * both sides get analysed and a changed function goes through the emitter.
 * Compiler output ends with the section headers: flipping the last byte
 * would change no code at all.
 */
#include <elf.h>
#include <stdlib.h>
#include <string.h>

#include "hpdiff/diff.h"
#include "hpdiff/emit.h"
#include "format/hpd.h"
#include "common/cli.h"
#include "common/mem.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Where to flip: a byte in the first SHF_EXECINSTR section with contents. */
static size_t code_byte(const uint8_t *data, size_t size)
{
	Elf64_Ehdr eh;

	if (size < sizeof(eh))
		return size - 1;
	memcpy(&eh, data, sizeof(eh));
	for (size_t i = 1; i < eh.e_shnum && eh.e_shentsize == sizeof(Elf64_Shdr); i++) {
		Elf64_Shdr sh;
		uint64_t at = eh.e_shoff + i * sizeof(sh);

		if (eh.e_shoff > size || at > size - sizeof(sh))
			break;
		memcpy(&sh, data + at, sizeof(sh));
		if ((sh.sh_flags & SHF_EXECINSTR) && sh.sh_type == SHT_PROGBITS && sh.sh_size &&
		    sh.sh_offset < size && sh.sh_size <= size - sh.sh_offset)
			return (size_t)(sh.sh_offset + data[size - 1] % sh.sh_size);
	}
	return size - 1;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint8_t *copy;
	struct diff d;

	set_quiet(1);
	if (size < 2)
		return 0;
	copy = malloc(size);
	memcpy(copy, data, size);
	copy[code_byte(data, size)] ^= 0x5a;
	if (diff_objects(&d, "fuzz.o", "old.o", data, size, "new.o", copy, size) == 0) {
		struct hp_hpd *h = emit_hpd(&d), *back = NULL;
		struct hp_error e;
		uint8_t *buf = NULL;
		size_t len;

		if (h && hp_hpd_encode(h, &buf, &len, &e) == 0) {
			/* What the differ writes, the reader must accept. */
			if (hp_hpd_decode(buf, len, &back, &e) != 0)
				abort();
			hp_hpd_free(back);
		}
		free(buf);
		hp_hpd_free(h);
	}
	diff_free(&d);
	free(copy);
	return 0;
}
