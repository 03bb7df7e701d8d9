/*
 * Fuzz archive member iteration and the ELF reader on every member.
 */
#include <stdlib.h>

#include "hpdiff/diff.h"
#include "common/cli.h"
#include "common/mem.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int member(void *arg, const char *name, const uint8_t *bytes, size_t len)
{
	struct object o;

	(void)arg;
	if (object_load(&o, name, bytes, len) == 0) {
		object_analyse(&o);
		object_free(&o);
	}
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	set_quiet(1);
	if (elf_is_archive(data, size))
		elf_archive_members("fuzz.a", data, size, member, NULL);
	return 0;
}
