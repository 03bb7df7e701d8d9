#include <stdio.h>
#include "api.h"

void probe(void)
{
	char buf[128];
	int r;

	r = audit_login(buf, sizeof buf, "alice", "10.0.0.7", 1);
	printf("login(alice) = %d %s\n", r, r >= 0 ? buf : "");
	r = audit_login(buf, sizeof buf, "", "10.0.0.9", 0);
	printf("login(\"\") = %d %s\n", r, r >= 0 ? buf : "");
	r = audit_logout(buf, sizeof buf, "alice", 4391);
	printf("logout(alice, 4391) = %d %s\n", r, r >= 0 ? buf : "");
	r = audit_logout(buf, sizeof buf, "bob", 59);
	printf("logout(bob, 59) = %d %s\n", r, r >= 0 ? buf : "");
	r = audit_denied(buf, sizeof buf, "bob", NULL);
	printf("denied(bob) = %d %s\n", r, r >= 0 ? buf : "");
	r = audit_denied(buf, 16, "bob", "rm -rf /");
	printf("denied(bob, small) = %d\n", r);
}
