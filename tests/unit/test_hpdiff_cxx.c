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

/* hpdiff --json on the pair; *root owns the parse (json_object_put). */
static struct json_object *diff_json(int *status)
{
	struct run r = diff_pair(true);
	struct json_object *root = json_tokener_parse(r.out);

	*status = r.status;
	cr_assert_not_null(root, "no JSON: %s%s", r.err, r.out);
	tu_run_free(&r);
	return root;
}

/* The object's member `what` (functions, data, findings) entry named `name`, or NULL. */
static struct json_object *item(struct json_object *root, const char *what, const char *name)
{
	struct json_object *objs, *list, *v;

	json_object_object_get_ex(root, "objects", &objs);
	if (!json_object_object_get_ex(json_object_array_get_idx(objs, 0), what, &list))
		return NULL;
	for (size_t i = 0; i < json_object_array_length(list); i++) {
		struct json_object *it = json_object_array_get_idx(list, i);

		if (json_object_object_get_ex(it, "name", &v) &&
		    !strcmp(json_object_get_string(v), name))
			return it;
	}
	return NULL;
}

static const char *field(struct json_object *it, const char *key)
{
	struct json_object *v;

	return it && json_object_object_get_ex(it, key, &v) ? json_object_get_string(v) : "";
}

static const char *const compilers[] = {"g++", "clang++"};

/* ---- item 6: class layouts ------------------------------------------------------------ */

/*
 * The class is reached only as `this` of an exported member function,
 * which itself changes: the external flag is on its declaration inside
 * the class (DW_AT_specification), not on the definition.
 */
Test(cxx, a_class_reached_only_as_this_of_an_exported_method_is_a_layout_change)
{
	static const char old[] = "namespace kv {\n"
				  "struct session { int id; int quota; int left() const; };\n"
				  "int session::left() const { return quota - id; }\n"
				  "}\n";
	static const char new[] =
		"namespace kv {\n"
		"struct session { int id; int quota; int extra; int left() const; "
		"};\n"
		"int session::left() const { return quota - id - extra; }\n"
		"}\n";

	for (size_t c = 0; c < ARRAY_SIZE(compilers); c++) {
		int status;
		struct json_object *root, *f;

		build_pair(compilers[c], "-O2 -g", old, new);
		root = diff_json(&status);
		f = item(root, "findings", "struct kv::session");
		cr_expect_eq(status, 3, "%s", compilers[c]);
		cr_expect(f && strstr(field(f, "reason"),
				      "member 'extra' (int) added at offset 8); instances in the "
				      "running process keep the old layout: exported function "
				      "_ZNK2kv7session4leftEv passes it to or from other objects"),
			  "%s: %s", compilers[c], field(f, "reason"));
		json_object_put(root);
	}
}

/* A class, a nested struct, a base class, a struct of an anonymous namespace. */
Test(cxx, classes_nested_types_bases_and_namespaces_are_checked)
{
	static const char base[] = "namespace {\n"
				   "struct hidden { int a; int b; };\n"
				   "}\n"
				   "class conn { public: int fd; int state; int get() const; };\n"
				   "int conn::get() const { return fd + state; }\n"
				   "struct outer { struct inner { int x; int y; } in; int z; };\n"
				   "static int h(hidden *p) { return p->a; }\n"
				   "int use_outer(outer::inner *i) { return i->x; }\n"
				   "int call_h(void *p) { return h((hidden *)p); }\n"
				   "struct shape { int kind; };\n"
				   "struct circle : shape { int r; };\n"
				   "int radius(circle *c) { return c->r; }\n";
	static const struct {
		const char *from, *to, *finding, *says;
	} cases[] = {
		{"int fd; int state;", "int fd; int extra; int state;", "class conn",
		 "member 'extra' (int) added at offset 4; member 'state' moved from offset 4 to "
		 "offset 8"},
		{"int x; int y;", "int x; int w; int y;", "struct outer::inner",
		 "member 'w' (int) added at offset 4"},
		{"int a; int b;", "int a; int c; int b;", "struct (anonymous namespace)::hidden",
		 "unchanged function _Z6call_hPv uses it"},
		{"struct shape { int kind; };", "struct shape { int kind; int color; };",
		 "struct circle", "base struct shape changed size from 4 to 8 bytes"},
	};

	for (size_t k = 0; k < ARRAY_SIZE(cases); k++) {
		char new[2048], *at;

		snprintf(new, sizeof(new), "%s", base);
		at = strstr(new, cases[k].from);
		cr_assert_not_null(at);
		snprintf(at, sizeof(new) - (size_t)(at - new), "%s%s", cases[k].to,
			 strstr(base, cases[k].from) + strlen(cases[k].from));
		for (size_t c = 0; c < ARRAY_SIZE(compilers); c++) {
			int status;
			struct json_object *root, *f;

			build_pair(compilers[c], "-O2 -g", base, new);
			root = diff_json(&status);
			f = item(root, "findings", cases[k].finding);
			cr_expect_eq(status, 3, "%s %s", compilers[c], cases[k].finding);
			cr_expect(f && strstr(field(f, "reason"), cases[k].says), "%s %s: %s",
				  compilers[c], cases[k].finding, field(f, "reason"));
			json_object_put(root);
		}
	}
}

/* ---- items 1 and 2: renumbered lambdas and statics that cannot be told apart ---------- */

/*
 * A lambda added before one whose code changed: which is which cannot be
 * told, and pairing by number would make the stored std::function run the
 * new lambda.  Refused, none paired.
 */
Test(cxx, renumbered_lambdas_that_cannot_be_told_apart_are_refused)
{
	static const char old[] = "#include <functional>\n"
				  "std::function<int(int)> kept;\n"
				  "void setup(int k) { kept = [k](int x) { return x * k; }; }\n";
	static const char new[] = "#include <functional>\n"
				  "std::function<int(int)> kept, extra;\n"
				  "void setup(int k) {\n"
				  "\textra = [](int x) { return x + 1; };\n"
				  "\tkept = [k](int x) { return x * k + 1; };\n"
				  "}\n";

	for (size_t c = 0; c < ARRAY_SIZE(compilers); c++) {
		int status;
		struct json_object *root, *f;

		build_pair(compilers[c], "-O2", old, new);
		root = diff_json(&status);
		f = item(root, "findings", "_Z5setupi");
		cr_expect_eq(status, 3, "%s", compilers[c]);
		cr_expect(f && strstr(field(f, "reason"),
				      "lambdas renumbered: 1 in the baseline, 2 in the fix, and "
				      "which is which cannot be told from their code"),
			  "%s: %s", compilers[c], field(f, "reason"));
		json_object_put(root);
	}
}

/* The statics n: one added before, and the uses of the one after it changed. */
Test(cxx, renumbered_statics_that_cannot_be_told_apart_are_refused)
{
	static const char old[] = "int count(int k)\n"
				  "{\n"
				  "\tif (k == 1) { static int n; return ++n; }\n"
				  "\tif (k == 2) { static int n; return n += 10; }\n"
				  "\treturn 0;\n"
				  "}\n";
	static const char new[] = "int count(int k)\n"
				  "{\n"
				  "\tif (k == 0) { static int n; return n += 100; }\n"
				  "\tif (k == 1) { static int n; return n += 2; }\n"
				  "\tif (k == 2) { static int n; return n += 10; }\n"
				  "\treturn 0;\n"
				  "}\n";

	for (size_t c = 0; c < ARRAY_SIZE(compilers); c++) {
		int status;
		struct json_object *root, *f;

		build_pair(compilers[c], "-O2", old, new);
		root = diff_json(&status);
		f = item(root, "findings", "_ZZ5countiE1n");
		cr_expect_eq(status, 3, "%s", compilers[c]);
		cr_expect(f && strstr(field(f, "reason"), "function-scope statics renumbered: 2 "
							  "in the baseline, 3 in the fix"),
			  "%s: %s", compilers[c], field(f, "reason"));
		json_object_put(root);
	}
}

/*
 * Statics told apart by their initial values alone: the same code uses
 * each ("++n"), but GET starts at 1000 and PUT at 2000.
 */
Test(cxx, statics_of_distinct_values_are_told_apart_by_value)
{
	static const char old[] = "int count(int k)\n"
				  "{\n"
				  "\tif (k == 1) { static int n = 1000; return ++n; }\n"
				  "\tif (k == 2) { static int n = 2000; return ++n; }\n"
				  "\treturn 0;\n"
				  "}\n";
	static const char new[] = "int count(int k)\n"
				  "{\n"
				  "\tif (k == 0) { static int n = 3000; return ++n; }\n"
				  "\tif (k == 1) { static int n = 1000; return ++n; }\n"
				  "\tif (k == 2) { static int n = 2000; return ++n; }\n"
				  "\treturn 0;\n"
				  "}\n";

	for (size_t c = 0; c < ARRAY_SIZE(compilers); c++) {
		int status;
		struct json_object *root;

		build_pair(compilers[c], "-O2", old, new);
		root = diff_json(&status);
		cr_expect_eq(status, 1, "%s", compilers[c]);
		cr_expect_str_eq(field(item(root, "data", "_ZZ5countiE1n"), "status"), "new", "%s",
				 compilers[c]);
		cr_expect_null(item(root, "data", "_ZZ5countiE1n_0"), "%s", compilers[c]);
		cr_expect_null(item(root, "data", "_ZZ5countiE1n_1"), "%s", compilers[c]);
		json_object_put(root);
	}
}

/* ---- items 4 and 5: code that ran once -------------------------------------------------- */

/* The second of two globals one initialiser sets up changes: it is the one named. */
Test(cxx, the_changed_global_of_a_shared_initialiser_is_named)
{
	static const char old[] = "#include <string>\n#include <vector>\n"
				  "std::string banner = \"v1\";\n"
				  "std::vector<long> limits = {64, 4096, 65536};\n";
	static const char *const flags[] = {"-O0", "-O2", "-O0 -fPIC", "-O2 -fPIC"};

	for (size_t c = 0; c < ARRAY_SIZE(compilers); c++) {
		for (size_t k = 0; k < ARRAY_SIZE(flags); k++) {
			char new[512];
			int status;
			struct json_object *root, *x;

			snprintf(new, sizeof(new), "%s", old);
			memcpy(strstr(new, "4096"), "2048", 4);
			build_pair(compilers[c], flags[k], old, new);
			root = diff_json(&status);
			x = item(root, "data", "limits");
			cr_expect_eq(status, 3, "%s %s", compilers[c], flags[k]);
			cr_expect(x && strstr(field(x, "reason"), "initial value changed: its "
								  "initialiser "),
				  "%s %s: limits not named", compilers[c], flags[k]);
			cr_expect_null(item(root, "data", "_Z6bannerB5cxx11"), "%s %s",
				       compilers[c], flags[k]);
			json_object_put(root);
		}
	}
}

/*
 * Code around a guarded static changes, its initialisation does not:
 * hotpatchable.  Without thread-safe statics the initialisation is found
 * only roughly (the test and set of the guard), and a change between them
 * is refused: clang++ lays the initialised path out in between.
 */
/*
 * Disabled while functions an exception can pass through are refused as a
 * whole (issue 9, item 3: packages do not carry unwind information yet):
 * the function here calls, so hpdiff exits 3 for that reason before this
 * rule is reached.  Enable again when unwind information is carried.
 */
Test(cxx, a_guarded_static_whose_initialiser_is_unchanged_is_fine, .disabled = true)
{
	static const char old[] = "int next(int base, int step)\n"
				  "{\n"
				  "\tstatic int start = base * 3;\n"
				  "\treturn start + step;\n"
				  "}\n";
	static const char new[] = "int next(int base, int step)\n"
				  "{\n"
				  "\tstatic int start = base * 3;\n"
				  "\treturn step < 0 ? start : start + step;\n"
				  "}\n";
	static const char *const flags[] = {"-O0", "-O2", "-O2 -fno-threadsafe-statics"};

	for (size_t c = 0; c < ARRAY_SIZE(compilers); c++) {
		for (size_t k = 0; k < ARRAY_SIZE(flags); k++) {
			bool rough = c == 1 && strstr(flags[k], "threadsafe");
			int status;
			struct json_object *root;

			build_pair(compilers[c], flags[k], old, new);
			root = diff_json(&status);
			cr_expect_eq(status, rough ? 3 : 1, "%s %s", compilers[c], flags[k]);
			if (rough)
				cr_expect(
					strstr(field(item(root, "data", "_ZZ4nextiiE5start"),
						     "reason"),
					       "cannot be told, so a changed initial value cannot "
					       "be ruled out"),
					"%s %s", compilers[c], flags[k]);
			cr_expect_str_eq(field(item(root, "functions", "_Z4nextii"), "status"),
					 "changed", "%s %s", compilers[c], flags[k]);
			json_object_put(root);
		}
	}
}

/* ... and when it does change, with or without thread-safe statics. */
Test(cxx, a_changed_guarded_initialiser_is_a_changed_initial_value)
{
	static const char old[] = "int next(int base, int step)\n"
				  "{\n"
				  "\tstatic int start = base * 3;\n"
				  "\treturn start + step;\n"
				  "}\n";
	static const char *const flags[] = {"-O0", "-O2", "-O2 -fno-threadsafe-statics"};

	for (size_t c = 0; c < ARRAY_SIZE(compilers); c++) {
		for (size_t k = 0; k < ARRAY_SIZE(flags); k++) {
			char new[512];
			int status;
			struct json_object *root, *x;

			snprintf(new, sizeof(new), "%s", old);
			memcpy(strstr(new, "* 3"), "* 5", 3);
			build_pair(compilers[c], flags[k], old, new);
			root = diff_json(&status);
			x = item(root, "data", "_ZZ4nextiiE5start");
			cr_expect_eq(status, 3, "%s %s", compilers[c], flags[k]);
			cr_expect(x && (strstr(field(x, "reason"),
					       "its guarded initialisation in _Z4nextii changed") ||
					(strstr(flags[k], "threadsafe") &&
					 strstr(field(x, "reason"), "cannot be ruled out"))),
				  "%s %s: %s", compilers[c], flags[k], field(x, "reason"));
			json_object_put(root);
		}
	}
}

/*
 * A destructor added: the running process never registered it.  A changed
 * destructor is fine: the process runs its new code at exit, through the
 * redirect.
 */
Test(cxx, destructors_added_are_refused_changed_ones_are_not)
{
	static const char old[] =
		"static int log_fd = -1;\n"
		"__attribute__((destructor)) static void close_log(void) { log_fd "
		"= -2; }\n"
		"int get_fd(void) { return log_fd; }\n";
	static const char changed[] = "static int log_fd = -1;\n"
				      "__attribute__((destructor)) static void close_log(void) { "
				      "log_fd = -3; }\n"
				      "int get_fd(void) { return log_fd; }\n";
	static const char added[] =
		"static int log_fd = -1;\n"
		"__attribute__((destructor)) static void close_log(void) { log_fd "
		"= -2; }\n"
		"__attribute__((destructor)) static void flush_log(void) { log_fd "
		"= -4; }\n"
		"int get_fd(void) { return log_fd; }\n";
	int status;
	struct json_object *root, *f;

	build_pair("g++", "-O2", old, changed);
	root = diff_json(&status);
	cr_expect_eq(status, 1);
	cr_expect_str_eq(field(item(root, "functions", "_ZL9close_logv"), "hotpatchable"), "true");
	json_object_put(root);

	build_pair("g++", "-O2", old, added);
	root = diff_json(&status);
	f = item(root, "findings", "_ZL9flush_logv");
	cr_expect_eq(status, 3);
	cr_expect(f && strstr(field(f, "reason"), "new destructor in .fini_array: the running "
						  "process never registered it"),
		  "%s", field(f, "reason"));
	json_object_put(root);
}

/*
 * A lambda stored in a std::function captures one more variable: a
 * closure made before the patch has the old captures.  Its code alone
 * changing (same captures) is fine: cxx-lambda-body.
 */
Test(cxx, a_lambda_whose_captures_changed_is_refused)
{
	static const char old[] =
		"#include <functional>\n"
		"std::function<int(int)> kept;\n"
		"void setup(int k, int v) { kept = [k](int x) { return x * k; }; (void)v; "
		"}\n";
	static const char new[] =
		"#include <functional>\n"
		"std::function<int(int)> kept;\n"
		"void setup(int k, int v) { kept = [k, v](int x) { return x * k + v; }; "
		"}\n";

	for (size_t c = 0; c < ARRAY_SIZE(compilers); c++) {
		int status;
		struct json_object *root, *f;

		build_pair(compilers[c], "-O2 -g", old, new);
		root = diff_json(&status);
		f = item(root, "findings", "_Z5setupii");
		cr_expect_eq(status, 3, "%s", compilers[c]);
		cr_expect(f && strstr(field(f, "reason"),
				      "the captures of a lambda of this function "
				      "changed"),
			  "%s: %s", compilers[c], field(f, "reason"));
		json_object_put(root);
	}
}

/*
 * At -O0, templates instantiated over a closure name it through typedefs
 * (std::remove_reference<...>::type): g++ spells every lambda of a
 * function alike there, clang++ by line and column, so after a lambda is
 * added such a name stands for another lambda.  No layout finding may come
 * of it.
 */
/*
 * Disabled while functions an exception can pass through are refused as a
 * whole (issue 9, item 3: packages do not carry unwind information yet):
 * the function here calls, so hpdiff exits 3 for that reason before this
 * rule is reached.  Enable again when unwind information is carried.
 */
Test(cxx, typedefs_named_after_lambdas_are_not_layouts, .disabled = true)
{
	static const char old[] =
		"#include <functional>\n#include <string>\n#include <vector>\n"
		"std::vector<std::function<std::string(int)>> fs;\n"
		"void reg(int base)\n{\n"
		"\tfs.push_back([base](int x) { return std::to_string(x + base); });\n"
		"\tfs.push_back([](int x) { return std::to_string(x); });\n"
		"}\n";
	static const char new[] =
		"#include <functional>\n#include <string>\n#include <vector>\n"
		"std::vector<std::function<std::string(int)>> fs;\n"
		"void reg(int base)\n{\n"
		"\tfs.push_back([](int x) { return std::to_string(-x); });\n"
		"\tfs.push_back([base](int x) { return std::to_string(x + base); });\n"
		"\tfs.push_back([](int x) { return std::to_string(x); });\n"
		"}\n";

	for (size_t c = 0; c < ARRAY_SIZE(compilers); c++) {
		struct json_object *root, *objs, *findings;
		int status;

		build_pair(compilers[c], "-O0 -g", old, new);
		root = diff_json(&status);
		cr_expect_eq(status, 1, "%s", compilers[c]);
		json_object_object_get_ex(root, "objects", &objs);
		cr_expect(!json_object_object_get_ex(json_object_array_get_idx(objs, 0), "findings",
						     &findings) ||
				  json_object_array_length(findings) == 0,
			  "%s: %s", compilers[c], json_object_to_json_string(findings));
		json_object_put(root);
	}
}
