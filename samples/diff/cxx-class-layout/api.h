/* sessions: handles to per-client sessions */
#ifndef SESSIONS_API_H
#define SESSIONS_API_H

void *session_open(int id);
int session_bump(void *s);
int session_calls(void *s);
void session_close(void *s);
#endif
