/* numparse: strict number parsing with a per-thread error reason */
#ifndef NUMPARSE_API_H
#define NUMPARSE_API_H

enum np_err { NP_OK, NP_EMPTY, NP_JUNK, NP_RANGE };

int np_parse_port(const char *s, unsigned *port);
int np_parse_percent(const char *s, unsigned *pct);
enum np_err np_last_error(void);
unsigned np_calls(void);
#endif
