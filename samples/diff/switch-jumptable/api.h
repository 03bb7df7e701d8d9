/* filtervm: tiny packet-filter bytecode interpreter */
#ifndef FILTERVM_API_H
#define FILTERVM_API_H
#include <stddef.h>
#include <stdint.h>

enum fop {
	F_LDB, F_LDH, F_LDI, F_ADD, F_SUB, F_AND, F_OR, F_SHR,
	F_JEQ, F_JGT, F_RET, F_RETA, F_NOP
};

struct finsn {
	uint8_t op;
	uint8_t jt, jf;		/* relative jump targets for F_JEQ/F_JGT */
	uint32_t k;
};

int filter_run(const struct finsn *prog, size_t len, const uint8_t *pkt, size_t plen);
int filter_check(const struct finsn *prog, size_t len);
#endif
