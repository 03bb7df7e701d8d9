/*
 * The throwaway test PKI of tests/pki/mkpki.sh, made once per test binary
 * run (in Criterion's runner, before the tests fork) and removed after.
 * Include in one test file per binary; call pki_setup() from the suite init.
 */
#ifndef HP_PKIUTIL_H
#define HP_PKIUTIL_H

#include <stdio.h>
#include <stdlib.h>

static char pki[256];

ReportHook(PRE_ALL)(struct criterion_test_set *set)
{
	char cmd[1024];

	(void)set;
	snprintf(pki, sizeof(pki), "/tmp/hpsign-pki-%ld", (long)getpid());
	snprintf(cmd, sizeof(cmd), "bash %s/tests/pki/mkpki.sh %s >/dev/null", HP_SRCDIR, pki);
	if (system(cmd) != 0) {
		fprintf(stderr, "cannot make the test PKI\n");
		exit(2);
	}
	setenv("HPSIGN_TEST_PKI", pki, 1);
}

ReportHook(POST_ALL)(struct criterion_global_stats *stats)
{
	(void)stats;
	tu_rmtree(getenv("HPSIGN_TEST_PKI"));
}

static inline void pki_setup(void)
{
	snprintf(pki, sizeof(pki), "%s", getenv("HPSIGN_TEST_PKI"));
}

/* DIR/NAME.EXT of the PKI; a few calls may share one expression. */
static inline const char *pki_file(const char *name, const char *ext)
{
	static char buf[16][512];
	static int n;
	char *p = buf[n++ % 16];

	snprintf(p, 512, "%s/%s%s", pki, name, ext);
	return p;
}

#endif
