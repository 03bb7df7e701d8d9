/* admin: admin-console command dispatch */
#ifndef ADMIN_API_H
#define ADMIN_API_H
#include <stddef.h>

int admin_exec(const char *line, char *out, size_t n);
#endif
