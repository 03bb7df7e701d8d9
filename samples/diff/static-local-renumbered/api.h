/* reqstat: request counters per kind */
#ifndef REQSTAT_API_H
#define REQSTAT_API_H

enum { REQ_HEAD = 0, REQ_GET = 1, REQ_PUT = 2 };

int count_req(int kind);
#endif
