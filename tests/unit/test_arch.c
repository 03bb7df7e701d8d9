/*
 * Questions hppack asks arch/x86_64 about instructions, on real encodings
 * (as gcc and gas emit them): which address-taking instruction can load
 * the address from a slot instead, rewritten in place, and which bytes are
 * padding.
 */
#include <criterion/criterion.h>
#include <elf.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "arch/arch.h"

/* The instruction at code[0, len), with its field at `field`, rewritten? */
static uint32_t rewrite(uint8_t *code, size_t len, uint32_t field, int64_t *bias)
{
	*bias = -1;
	return insn_address_from_slot(EM_X86_64, code, len, field, bias);
}

Test(address_from_slot, lea_of_a_64_bit_register_becomes_a_mov_from_the_slot)
{
	/* xor %eax,%eax; lea environ(%rip),%rdi; ret */
	uint8_t code[] = {0x31, 0xc0, 0x48, 0x8d, 0x3d, 0, 0, 0, 0, 0xc3};
	uint8_t want[] = {0x31, 0xc0, 0x48, 0x8b, 0x3d, 0, 0, 0, 0, 0xc3};
	int64_t bias;
	uint32_t type = rewrite(code, sizeof(code), 5, &bias);

	cr_assert_eq(type, R_X86_64_GOTPCREL);
	cr_assert(arch_reloc_got_load(EM_X86_64, type));
	cr_assert_eq(bias, 4);
	cr_assert_arr_eq(code, want, sizeof(want));
}

Test(address_from_slot, lea_into_r12_and_of_a_32_bit_register)
{
	/* lea sym(%rip),%r12 (REX.WR) */
	uint8_t r12[] = {0x4c, 0x8d, 0x25, 0, 0, 0, 0};
	/* lea sym(%rip),%esi: the address truncated, as the low half of the slot */
	uint8_t esi[] = {0x8d, 0x35, 0, 0, 0, 0};
	int64_t bias;

	cr_assert_eq(rewrite(r12, sizeof(r12), 3, &bias), R_X86_64_GOTPCREL);
	cr_assert_eq(r12[1], 0x8b);
	cr_assert_eq(rewrite(esi, sizeof(esi), 2, &bias), R_X86_64_GOTPCREL);
	cr_assert_eq(esi[0], 0x8b);
	cr_assert_eq(bias, 4);
}

Test(address_from_slot, reads_and_writes_of_the_variable_itself_are_left_alone)
{
	struct {
		uint8_t code[12];
		size_t len;
		uint32_t field;
	} cases[] = {
		/* mov stderr(%rip),%rdi: a value load */
		{{0x48, 0x8b, 0x3d, 0, 0, 0, 0}, 7, 3},
		/* cmpq $0x0,environ(%rip): the field is not last (bias 5) */
		{{0x48, 0x83, 0x3d, 0, 0, 0, 0, 0}, 8, 3},
		/* mov %eax,optind(%rip): a store */
		{{0x89, 0x05, 0, 0, 0, 0}, 6, 2},
		/* lea sym(%rip),%ax: a 16-bit operand */
		{{0x66, 0x8d, 0x05, 0, 0, 0, 0}, 7, 3},
		/* addr32 lea sym(%eip),%rax */
		{{0x67, 0x48, 0x8d, 0x05, 0, 0, 0, 0}, 8, 4},
		/* call sym: a branch */
		{{0xe8, 0, 0, 0, 0}, 5, 1},
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		uint8_t before[12];
		int64_t bias;

		memcpy(before, cases[i].code, sizeof(before));
		cr_expect_eq(rewrite(cases[i].code, cases[i].len, cases[i].field, &bias), 0,
			     "case %zu rewritten", i);
		cr_expect_arr_eq(cases[i].code, before, sizeof(before), "case %zu changed", i);
	}
}

Test(address_from_slot, the_field_must_be_the_instructions_displacement)
{
	/* nop; lea sym(%rip),%rdi: asked for a field one byte off */
	uint8_t code[] = {0x90, 0x48, 0x8d, 0x3d, 0, 0, 0, 0};
	int64_t bias;

	cr_assert_eq(rewrite(code, sizeof(code), 5, &bias), 0);
	cr_assert_eq(rewrite(code, sizeof(code), 4, &bias), R_X86_64_GOTPCREL);
	cr_assert_eq(code[2], 0x8b);
}

Test(decode, padding_is_nops_and_traps)
{
	/* what gas puts after a 4-byte function aligned to 16: data16 cs nopw; nop */
	uint8_t fill[] = {0x66, 0x66, 0x2e, 0x0f, 0x1f, 0x84, 0, 0, 0, 0, 0, 0x90, 0xcc};
	struct insn *v;
	size_t bad;
	long n = insn_decode_all(EM_X86_64, fill, sizeof(fill), &v, &bad);

	cr_assert_eq(n, 3);
	cr_expect_eq(v[0].type, INSN_NOP);
	cr_expect_eq(v[1].type, INSN_NOP);
	cr_expect_eq(v[2].type, INSN_TRAP);
	free(v);
}
