/* session: client session objects (opaque to callers) */
#ifndef SESSION_API_H
#define SESSION_API_H
#include <stddef.h>

struct session;

struct session *session_new(int fd, const char *peer);
void session_free(struct session *s);
int session_fd(const struct session *s);
int session_recv(struct session *s, size_t nbytes);
size_t session_received(const struct session *s);
const char *session_peer(const struct session *s);
#endif
