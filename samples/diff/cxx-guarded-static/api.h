/* quota: a per-process quota computed on first use */
#ifndef QUOTA_API_H
#define QUOTA_API_H

int quota_left(int used, int base);
#endif
