/*
 * Which machine this folder answers for, and its name in packages.
 */
#include <elf.h>
#include <linux/audit.h>
#include <string.h>

#include "arch/arch.h"

bool arch_supported(uint16_t machine)
{
	return machine == EM_X86_64;
}

const char *arch_name(uint16_t machine)
{
	return machine == EM_X86_64 ? "x86_64" : NULL;
}

uint16_t arch_machine(const char *name)
{
	return name && !strcmp(name, "x86_64") ? EM_X86_64 : 0;
}

uint16_t arch_host_machine(void)
{
	return EM_X86_64;
}

uint32_t arch_seccomp_arch(void)
{
	return AUDIT_ARCH_X86_64; /* the syscall instruction, 64-bit numbers (not x32, not int 0x80)
				   */
}
