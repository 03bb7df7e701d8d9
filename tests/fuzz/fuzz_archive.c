/*
 * Fuzz archive member iteration and the ELF reader on every member, with
 * the identity that pairs same-named members; thin archives' member paths.
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
	free(elf_identity(bytes, len));
	if (object_load(&o, name, bytes, len) == 0) {
		object_analyse(&o);
		object_free(&o);
	}
	return 0;
}

static int thin_member(void *arg, const char *name)
{
	(void)arg;
	return name[0] ? 0 : -1;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	set_quiet(1);
	if (elf_is_archive(data, size))
		elf_archive_members("fuzz.a", data, size, member, NULL);
	if (elf_is_thin_archive(data, size))
		elf_thin_archive_members("fuzz.a", data, size, thin_member, NULL);
	return 0;
}
