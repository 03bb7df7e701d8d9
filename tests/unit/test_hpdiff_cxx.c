/*
 * hpdiff on C++ as g++ and clang++ make it: the shapes that gave silent
 * wrong results or wrong refusals (issue 9), each compiled here from a
 * small old and new source and diffed.  The sample scenarios under
 * samples/diff/cxx-* cover the same rules in every variant and live; these
 * tests pin the corners one compiler or one flag makes.
 */
#include <json-c/json.h>

#include "tests/testutil.h"

#define HPDIFF	      HP_BINDIR "/hpdiff"
#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

static char *tmp;

static void setup(void)
{
	tmp = tu_tmpdir();
}

static void teardown(void)
{
	tu_rmtree(tmp);
	free(tmp);
}

TestSuite(cxx, .init = setup, .fini = teardown);

/*
 * Write OLD and NEW as tmp/a/x.cc and tmp/b/x.cc (one file name, as two
 * builds of one source give) and compile both with `cc` and `flags` into
 * tmp/a/x.o and tmp/b/x.o.
 */
static void build_pair(const char *cc, const char *flags, const char *old, const char *new)
{
	char *a = tu_path(tmp, "a"), *b = tu_path(tmp, "b");
	char cmd[8192];

	snprintf(cmd, sizeof(cmd), "mkdir -p %s %s", a, b);
	cr_assert(system(cmd) == 0);
	free(a), free(b);
	a = tu_path(tmp, "a/x.cc");
	b = tu_path(tmp, "b/x.cc");
	tu_write(a, old, strlen(old));
	tu_write(b, new, strlen(new));
	free(a), free(b);
	snprintf(cmd, sizeof(cmd),
		 "cd %s/a && %s %s -c x.cc -o x.o && cd %s/b && %s %s -c x.cc -o x.o", tmp, cc,
		 flags, tmp, cc, flags);
	cr_assert(system(cmd) == 0, "%s", cmd);
}

/* hpdiff [--json] tmp/a/x.o tmp/b/x.o */
static struct run diff_pair(bool json)
{
	char *o = tu_path(tmp, "a/x.o"), *n = tu_path(tmp, "b/x.o");
	char *argv[] = {HPDIFF, json ? "--json" : o, json ? o : n, json ? n : NULL, NULL};
	struct run r = tu_run(argv);

	free(o), free(n);
	return r;
}

/* ---- DWARF as C++ compilers write it ------------------------------------------------- */

/*
 * clang++ -O0 -g puts the COMDAT group of DW.ref.__gxx_personality_v0
 * after .debug_info in any object with a global std::string: that was
 * "malformed DWARF" (libdwarf never saw the group's members).  Read right,
 * the layout change next to it is found.
 */
Test(cxx, a_section_group_after_debug_info_is_read)
{
	static const char old[] = "#include <string>\n"
				  "struct conn { int fd; };\n"
				  "std::string banner = \"v1\";\n"
				  "int use(conn *c) { return c->fd + (int)banner.size(); }\n";
	static const char new[] = "#include <string>\n"
				  "struct conn { int fd; int extra; };\n"
				  "std::string banner = \"v1\";\n"
				  "int use(conn *c) { return c->fd + (int)banner.size(); }\n";
	struct run r;
	char cmd[4096];

	build_pair("clang++", "-O0 -g -fPIE", old, new);
	/* the shape that failed: the first SHT_GROUP comes after .debug_info */
	snprintf(cmd, sizeof(cmd),
		 "readelf -SW %s/a/x.o | awk '/ GROUP /{g=g?g:NR} / .debug_info /{i=NR} "
		 "END{exit !(g > i)}'",
		 tmp);
	cr_assert(system(cmd) == 0, "clang++ no longer puts a group after .debug_info");
	r = diff_pair(false);
	cr_expect_eq(r.status, 3, "%s%s", r.err, r.out);
	cr_expect(!strstr(r.err, "malformed"), "%s", r.err);
	cr_expect(strstr(r.out, "struct conn: layout changed (size 4 -> 8 bytes; member 'extra' "
				"(int) added at offset 4)"),
		  "%s", r.out);
	tu_run_free(&r);
}

/*
 * Type units hold the types out of the unit's sight: read as usual, a
 * struct that gained a member passed unseen ("no change", exit 0).
 */
Test(cxx, type_units_are_refused)
{
	static const char *const flags[] = {"-O2 -g -fdebug-types-section",
					    "-O2 -gdwarf-4 -fdebug-types-section"};
	static const char old[] = "struct conn { int fd; int state; };\n"
				  "int use(conn *c) { return c->fd + c->state; }\n";
	static const char new[] = "struct conn { int fd; int state; int extra; };\n"
				  "int use(conn *c) { return c->fd + c->state; }\n";

	for (size_t i = 0; i < ARRAY_SIZE(flags); i++) {
		for (int clang = 0; clang < 2; clang++) {
			struct run r;

			build_pair(clang ? "clang++" : "g++", flags[i], old, new);
			r = diff_pair(false);
			cr_expect_eq(r.status, 2, "%s %s: %s%s", clang ? "clang++" : "g++",
				     flags[i], r.err, r.out);
			cr_expect(strstr(r.err, "DWARF type units (-fdebug-types-section) are not "
						"supported; build the objects without "
						"-fdebug-types-section"),
				  "%s", r.err);
			cr_expect_str_empty(r.out);
			tu_run_free(&r);
		}
	}
}
