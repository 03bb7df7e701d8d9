/*
 * xmlloop: a process that parses XML documents in a loop with libexpat,
 * for live patching of the shared library.
 *
 *   xmlloop DIR
 *
 * Parses a small document (elements, attributes, an internal entity,
 * character data) over and over, counting the documents it parsed and the
 * ones that did not parse; every 100 documents (then a 2 ms pause: bounded load) it writes the counts to
 * DIR/count.PID ("parsed N failed N").  When DIR/probe.req holds a number it
 * has not seen, it runs the behaviour probe and writes DIR/probe.PID.N:
 *
 *   reentrant-parse OK|ERROR|CRASH (signal N)
 *        XML_Parse on the same parser from inside a start-element handler,
 *        run in a child process (CVE-2026-50219: the unfixed library may
 *        crash; the fixed one refuses, XML_STATUS_ERROR)
 *
 * Runs until killed.  Exit status: 2 on usage error.
 */
#define _GNU_SOURCE
#include <expat.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

static const char doc[] = "<?xml version='1.0'?>\n"
			  "<!DOCTYPE r [<!ENTITY e 'entity text'>]>\n"
			  "<r a='1' b='two'><item id='1'>&e;</item><item id='2'>x &amp; y</item>"
			  "<empty/><![CDATA[raw <data>]]></r>\n";

static long elements;

static void XMLCALL count_start(void *ud, const XML_Char *name, const XML_Char **atts)
{
	(void)ud;
	(void)name;
	(void)atts;
	elements++;
}

static int reentry_result = -1;

static void XMLCALL reenter_start(void *ud, const XML_Char *name, const XML_Char **atts)
{
	XML_Parser p = ud;

	(void)name;
	(void)atts;
	if (reentry_result == -1)
		reentry_result = XML_Parse(p, "", 0, XML_FALSE) == XML_STATUS_OK;
}

static int parse_once(void)
{
	XML_Parser p = XML_ParserCreate(NULL);
	int ok;

	if (!p)
		return 0;
	XML_SetStartElementHandler(p, count_start);
	ok = XML_Parse(p, doc, (int)sizeof(doc) - 1, XML_TRUE) == XML_STATUS_OK;
	XML_ParserFree(p);
	return ok;
}

static const char *probe_here(void)
{
	XML_Parser p = XML_ParserCreate(NULL);

	if (!p)
		return "reentrant-parse NOMEM";
	XML_SetUserData(p, p);
	XML_SetStartElementHandler(p, reenter_start);
	reentry_result = -1;
	XML_Parse(p, "<a><b/></a>", 11, XML_TRUE);
	XML_ParserFree(p);
	return reentry_result == 1 ? "reentrant-parse OK" : "reentrant-parse ERROR";
}

/* The probe in a child: the unfixed library may crash on it (that is the bug). */
static const char *probe(void)
{
	static char out[64];
	int st;
	pid_t pid = fork();

	if (pid == 0)
		_exit(strcmp(probe_here(), "reentrant-parse OK") == 0 ? 10 : 11);
	if (pid < 0 || waitpid(pid, &st, 0) != pid)
		return "reentrant-parse NO-PROBE";
	if (WIFEXITED(st) && WEXITSTATUS(st) == 10)
		return "reentrant-parse OK";
	if (WIFEXITED(st) && WEXITSTATUS(st) == 11)
		return "reentrant-parse ERROR";
	snprintf(out, sizeof(out), "reentrant-parse CRASH (signal %d)", WIFSIGNALED(st) ? WTERMSIG(st) : 0);
	return out;
}

int main(int argc, char **argv)
{
	char path[4096], tmp[4096];
	long parsed = 0, failed = 0, seen = -1;

	if (argc != 2) {
		fprintf(stderr, "usage: xmlloop DIR\n");
		return 2;
	}
	for (;;) {
		if (parse_once())
			parsed++;
		else
			failed++;
		if ((parsed + failed) % 100 != 0)
			continue;
		snprintf(tmp, sizeof(tmp), "%s/.count.%d", argv[1], (int)getpid());
		snprintf(path, sizeof(path), "%s/count.%d", argv[1], (int)getpid());
		FILE *f = fopen(tmp, "w");
		if (f) {
			fprintf(f, "parsed %ld failed %ld\n", parsed, failed);
			fclose(f);
			rename(tmp, path);
		}
		snprintf(path, sizeof(path), "%s/probe.req", argv[1]);
		f = fopen(path, "r");
		if (f) {
			long n = -1;

			if (fscanf(f, "%ld", &n) != 1)
				n = -1;
			fclose(f);
			if (n >= 0 && n != seen) {
				seen = n;
				snprintf(tmp, sizeof(tmp), "%s/.probe.%d", argv[1], (int)getpid());
				snprintf(path, sizeof(path), "%s/probe.%d.%ld", argv[1], (int)getpid(), n);
				f = fopen(tmp, "w");
				if (f) {
					fprintf(f, "%s\n", probe());
					fclose(f);
					rename(tmp, path);
				}
			}
		}
		usleep(2000);
	}
}
