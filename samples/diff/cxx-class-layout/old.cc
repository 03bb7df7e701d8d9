/*
 * sessions.cc - per-client sessions, a class in a namespace.  Callers
 * hold handles; the class is known to this file only, and reached from
 * outside only as `this` of its exported member functions.
 */
#include "api.h"

namespace kv {
class session {
public:
	constexpr explicit session(int id) : id_(id) {}
	int bump();
	int calls(int scale) const;

private:
	int id_;
	int calls_ = 0;
};

int session::bump()
{
	return ++calls_;
}

int session::calls(int scale) const
{
	return calls_ * scale;
}
} // namespace kv

void *session_open(int id)
{
	return new kv::session(id);
}

int session_bump(void *s)
{
	return static_cast<kv::session *>(s)->bump();
}

int session_calls(void *s)
{
	return static_cast<kv::session *>(s)->calls(10);
}

void session_close(void *s)
{
	delete static_cast<kv::session *>(s);
}
