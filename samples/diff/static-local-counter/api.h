/* idgen: request-id generation */
#ifndef IDGEN_API_H
#define IDGEN_API_H
#include <stddef.h>

int idgen_next(char *buf, size_t n, const char *node);
unsigned idgen_issued(void);
int idgen_parse(const char *id, unsigned *seq);
#endif
