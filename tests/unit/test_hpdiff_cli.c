/*
 * hpdiff as a build system sees it: usage, exit status, inputs that must be
 * refused (exit 2, one message naming the file and the problem, nothing on
 * stdout, no output file), archives and trees.
 */
#include <elf.h>
#include <json-c/json.h>

#include "tests/testutil.h"

#define HPDIFF		HP_BINDIR "/hpdiff"
#define ARRAY_SIZE(a)	(sizeof(a) / sizeof((a)[0]))
#define SAMPLE(v, s, f) HP_SAMPLEDIR "/" v "/" s "/" f

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

TestSuite(cli, .init = setup, .fini = teardown);

/* ---- usage ------------------------------------------------------------------ */

Test(cli, help_goes_to_stdout_with_status_0)
{
	char *argv[] = {HPDIFF, "--help", NULL};
	struct run r = tu_run(argv);

	cr_assert_eq(r.status, 0);
	cr_assert(strstr(r.out, "usage: hpdiff"));
	cr_assert(strstr(r.out, "exit status"));
	cr_assert_str_empty(r.err);
	tu_run_free(&r);
}

Test(cli, bad_usage_is_status_2_on_stderr)
{
	char *none[] = {HPDIFF, NULL};
	char *one[] = {HPDIFF, SAMPLE("gcc-O2", "body-change", "old.o"), NULL};
	char *jobs[] = {HPDIFF, "-j", "zero", "a", "b", NULL};
	char *opt[] = {HPDIFF, "--frobnicate", "a", "b", NULL};
	static const char try[] = "Try 'hpdiff --help' for more information.\n";
	const struct {
		char **argv;
		const char *err;
	} cases[] = {
		{none, "hpdiff: expected two arguments, OLD and NEW\n"},
		{one, "hpdiff: expected two arguments, OLD and NEW\n"},
		{jobs, "hpdiff: --jobs wants a number from 1 to 1024, not 'zero'\n"},
		{opt, "hpdiff: unknown option '--frobnicate'\n"},
	};

	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		struct run r = tu_run(cases[i].argv);
		char want[200];

		snprintf(want, sizeof(want), "%s%s", cases[i].err, try);
		cr_expect_eq(r.status, 2, "case %zu", i);
		cr_expect_str_empty(r.out, "case %zu", i);
		cr_expect_str_eq(r.err, want, "case %zu", i);
		tu_run_free(&r);
	}
}

/* The option at fault, as it was written: a letter inside a group, a switch given a value. */
Test(cli, bad_options_are_named)
{
	static const char *const want[][2] = {
		{"-Sx", "hpdiff: unknown option '-S'\n"},
		{"--json=1", "hpdiff: option '--json' takes no argument\n"},
		{"--frob=2", "hpdiff: unknown option '--frob'\n"},
		{"-j", "hpdiff: option '-j' needs an argument\n"},
	};

	for (size_t i = 0; i < ARRAY_SIZE(want); i++) {
		char *argv[] = {HPDIFF, (char *)want[i][0], NULL};
		struct run r = tu_run(argv);

		cr_expect_eq(r.status, 2, "%s", want[i][0]);
		cr_expect(!strncmp(r.err, want[i][1], strlen(want[i][1])), "%s: %s", want[i][0],
			  r.err);
		tu_run_free(&r);
	}
}

Test(cli, version)
{
	char *argv[] = {HPDIFF, "--version", NULL};
	struct run r = tu_run(argv);

	cr_assert_eq(r.status, 0);
	cr_expect_str_eq(r.out, "hpdiff 0.1.0\n");
	cr_expect_str_empty(r.err);
	tu_run_free(&r);
}

/* ---- refused inputs -------------------------------------------------------------- */

/* Run hpdiff on (old, bad) and check the refusal; `what` must be in the message. */
static void expect_refused(const char *old, const char *bad, const char *what)
{
	char *out = tu_path(tmp, "out.hpd");
	char *argv[] = {HPDIFF, "-o", out, (char *)old, (char *)bad, NULL};
	struct run r = tu_run(argv);

	cr_assert_eq(r.status, 2, "exit %d for '%s'\nstderr: %s", r.status, what, r.err);
	cr_assert(strstr(r.err, bad) || strstr(r.err, old), "message names no file: %s", r.err);
	cr_assert(strstr(r.err, what), "expected '%s' in: %s", what, r.err);
	cr_assert_str_empty(r.out, "partial report on stdout: %s", r.out);
	cr_assert(!tu_exists(out), "output written despite the error");
	tu_run_free(&r);
	free(out);
}

static void write_bad(const char *name, const void *data, size_t len, char **p)
{
	*p = tu_path(tmp, name);
	tu_write(*p, data, len);
}

#define OLD_O SAMPLE("gcc-O2", "body-change", "old.o")
#define NEW_O SAMPLE("gcc-O2", "body-change", "new.o")

Test(cli, not_elf)
{
	char *p;

	write_bad("text.o", "hello, world\n", 13, &p);
	expect_refused(OLD_O, p, "not an ELF object file");
	free(p);
}

Test(cli, truncated)
{
	size_t len;
	char *buf = tu_read_ok(NEW_O, &len), *p;

	write_bad("short.o", buf, 40, &p);
	expect_refused(OLD_O, p, "truncated ELF header");
	free(p);
	write_bad("half.o", buf, len / 2, &p);
	expect_refused(OLD_O, p, "extends past the end of the file");
	free(p);
	free(buf);
}

/* A FIFO is refused at once, not waited on for a writer. */
Test(cli, a_fifo_is_not_a_regular_file)
{
	char *p = tu_path(tmp, "fifo.o");

	cr_assert(mkfifo(p, 0600) == 0);
	expect_refused(OLD_O, p, "not a regular file");
	free(p);
}

Test(cli, wrong_class_machine_type)
{
	size_t len;
	char *buf = tu_read_ok(NEW_O, &len), *p;
	Elf64_Ehdr *eh = (Elf64_Ehdr *)buf;

	eh->e_ident[EI_CLASS] = ELFCLASS32;
	write_bad("class.o", buf, len, &p);
	expect_refused(OLD_O, p, "not a 64-bit ELF file");
	free(p);
	eh->e_ident[EI_CLASS] = ELFCLASS64;
	eh->e_machine = EM_AARCH64;
	write_bad("machine.o", buf, len, &p);
	expect_refused(OLD_O, p, "unsupported machine (ELF e_machine 183)");
	free(p);
	eh->e_machine = EM_X86_64;
	free(buf);
	/* A linked program is not an object, even cut short (its section headers gone). */
	expect_refused(SAMPLE("gcc-O2", "body-change", "old"),
		       SAMPLE("gcc-O2", "body-change", "new"), "not a relocatable object");
	buf = tu_read_ok(SAMPLE("gcc-O2", "body-change", "old"), &len);
	write_bad("prog-cut", buf, 1000, &p);
	expect_refused(OLD_O, p, "not a relocatable object");
	free(p);
	free(buf);
}

static Elf64_Shdr *section_of_type(char *buf, uint32_t type)
{
	Elf64_Ehdr *eh = (Elf64_Ehdr *)buf;
	Elf64_Shdr *sh = (Elf64_Shdr *)(buf + eh->e_shoff);

	for (int i = 0; i < eh->e_shnum; i++)
		if (sh[i].sh_type == type)
			return &sh[i];
	cr_assert_fail("no section of type %u", type);
	return NULL;
}

static Elf64_Shdr *section_named(char *buf, const char *name)
{
	Elf64_Ehdr *eh = (Elf64_Ehdr *)buf;
	Elf64_Shdr *sh = (Elf64_Shdr *)(buf + eh->e_shoff);
	const char *names = buf + sh[eh->e_shstrndx].sh_offset;

	for (int i = 0; i < eh->e_shnum; i++)
		if (!strcmp(names + sh[i].sh_name, name))
			return &sh[i];
	cr_assert_fail("no section %s", name);
	return NULL;
}

Test(cli, corrupt_symbol_table)
{
	size_t len;
	char *buf = tu_read_ok(NEW_O, &len), *p;
	Elf64_Shdr *symtab = section_of_type(buf, SHT_SYMTAB);
	Elf64_Sym *syms = (Elf64_Sym *)(buf + symtab->sh_offset);
	size_t n = symtab->sh_size / sizeof(Elf64_Sym);
	uint32_t link = symtab->sh_link;

	symtab->sh_link = 0;
	write_bad("nostrtab.o", buf, len, &p);
	expect_refused(OLD_O, p, "symbol table has no string table");
	free(p);
	symtab->sh_link = link;
	for (size_t i = 1; i < n; i++) {
		if (ELF64_ST_TYPE(syms[i].st_info) == STT_FUNC) {
			syms[i].st_shndx = 0x7ff0;
			break;
		}
	}
	write_bad("shndx.o", buf, len, &p);
	expect_refused(OLD_O, p, "out of range");
	free(p);
	free(buf);
}

Test(cli, corrupt_relocations)
{
	size_t len;
	char *buf = tu_read_ok(NEW_O, &len), *p;
	Elf64_Shdr *rela = section_of_type(buf, SHT_RELA);
	Elf64_Rela *r = (Elf64_Rela *)(buf + rela->sh_offset);
	Elf64_Rela keep = r[0];

	r[0].r_info = ELF64_R_INFO(0xffffff, ELF64_R_TYPE(r[0].r_info));
	write_bad("relsym.o", buf, len, &p);
	expect_refused(OLD_O, p, "bad symbol index");
	free(p);
	r[0] = keep;
	r[0].r_offset = 0x7fffffff;
	write_bad("reloff.o", buf, len, &p);
	expect_refused(OLD_O, p, "outside the section");
	free(p);
	free(buf);
}

/*
 * A comparison that cannot be finished is trouble, never an answer.  Here
 * the jump table a function loads has a relocation hpdiff does not read,
 * met while comparing the function with its unchanged twin: the path out
 * of memory takes too.  It used to count as "the table changed", and the
 * .hpd carried the table without its relocations.
 */
Test(cli, a_table_that_cannot_be_compared_is_trouble_not_a_change)
{
	const char *old = SAMPLE("gcc-O2", "switch-jumptable", "old.o");
	size_t len;
	char *buf = tu_read_ok(old, &len), *p;
	Elf64_Shdr *rela = section_named(buf, ".rela.rodata");
	Elf64_Rela *r = (Elf64_Rela *)(buf + rela->sh_offset);

	r[0].r_info = ELF64_R_INFO(ELF64_R_SYM(r[0].r_info), R_X86_64_GOTOFF64);
	write_bad("table.o", buf, len, &p);
	expect_refused(old, p, "unsupported relocation R_X86_64_GOTOFF64");
	free(p);
	free(buf);
}

/*
 * A DW_AT_sibling that points back at its own DIE makes the sibling chain a
 * loop (found by fuzz_object: hpdiff spun forever).  readelf shows where the
 * first one is; it is a CU-relative ref4, so no relocation touches it.
 */
Test(cli, a_dwarf_sibling_loop_is_malformed)
{
	size_t len;
	char *buf = tu_read_ok(NEW_O, &len), *p;
	char *argv[] = {"/usr/bin/readelf", "--debug-dump=info", NEW_O, NULL};
	struct run r = tu_run(argv);
	unsigned die = 0, attr = 0;
	const Elf64_Ehdr *eh = (const Elf64_Ehdr *)buf;
	const Elf64_Shdr *sh = (const Elf64_Shdr *)(buf + eh->e_shoff);
	const char *names = buf + sh[eh->e_shstrndx].sh_offset;
	uint64_t info = 0;

	cr_assert_eq(r.status, 0, "readelf: %s", r.err);
	for (char *l = strtok(r.out, "\n"); l && !attr; l = strtok(NULL, "\n")) {
		unsigned lvl, off;

		if (sscanf(l, " <%u><%x>:", &lvl, &off) == 2)
			die = off;
		else if (strstr(l, "DW_AT_sibling") && sscanf(l, " <%x>", &off) == 1)
			attr = off;
	}
	cr_assert(die && attr > die, "no DW_AT_sibling in %s", NEW_O);
	for (int i = 0; i < eh->e_shnum; i++)
		if (!strcmp(names + sh[i].sh_name, ".debug_info"))
			info = sh[i].sh_offset;
	cr_assert(info);
	memcpy(buf + info + attr, &die, 4);
	write_bad("siblingloop.o", buf, len, &p);
	expect_refused(OLD_O, p, "malformed DWARF in .debug_info");
	free(p);
	free(buf);
	tu_run_free(&r);
}

/* Code is read from the file: .text turned into SHT_NOBITS has none there. */
Test(cli, executable_section_without_contents)
{
	size_t len;
	char *buf = tu_read_ok(NEW_O, &len), *p;
	Elf64_Shdr *text = section_of_type(buf, SHT_PROGBITS);

	cr_assert(text->sh_flags & SHF_EXECINSTR, "first PROGBITS section is not .text");
	text->sh_type = SHT_NOBITS;
	write_bad("nobits.o", buf, len, &p);
	expect_refused(OLD_O, p, "section .text is executable but has no contents in the file");
	free(p);
	free(buf);
}

Test(cli, different_source_files)
{
	expect_refused(OLD_O, SAMPLE("gcc-O2", "bounds-check", "new.o"),
		       "built from different source files");
}

Test(cli, mismatched_kinds_and_missing_files)
{
	char *ar = tu_path(tmp, "lib.a"), *dir = tu_path(tmp, "dir");
	char cmd[8192];

	snprintf(cmd, sizeof(cmd), "ar rcS '%s' '%s' && mkdir '%s'", ar, OLD_O, dir);
	cr_assert(system(cmd) == 0);
	expect_refused(OLD_O, ar, "one is an archive and the other is not");
	expect_refused(OLD_O, dir, "one is a directory and the other is not");
	expect_refused(OLD_O, "/nonexistent/x.o", "No such file or directory");
	free(ar);
	free(dir);
}

Test(cli, unwritable_output_leaves_nothing)
{
	char *argv[] = {HPDIFF, "-o", "/nonexistent-dir/x.hpd", OLD_O, NEW_O, NULL};
	struct run r = tu_run(argv);

	cr_assert_eq(r.status, 2);
	cr_assert(strstr(r.err, "/nonexistent-dir/x.hpd: cannot create output"), "%s", r.err);
	tu_run_free(&r);
}

/* ---- archives and trees ------------------------------------------------------------- */

static void sh(const char *fmt, const char *a, const char *b)
{
	char cmd[16384];

	snprintf(cmd, sizeof(cmd), fmt, a, b, a, b, a, b, a, b);
	cr_assert(system(cmd) == 0, "command failed: %s", cmd);
}

static struct json_object *objects_of(const char *json)
{
	struct json_object *root = json_tokener_parse(json), *objs;

	cr_assert(root, "not JSON: %s", json);
	cr_assert(json_object_object_get_ex(root, "objects", &objs));
	json_object_get(objs);
	json_object_put(root);
	return objs;
}

static const char *obj_field(struct json_object *objs, size_t i, const char *key)
{
	struct json_object *v;

	cr_assert(json_object_object_get_ex(json_object_array_get_idx(objs, i), key, &v));
	return json_object_get_string(v);
}

Test(cli, archives_pair_members_by_name_and_occurrence)
{
	char *o = tu_path(tmp, "o"), *n = tu_path(tmp, "n"), *out = tu_path(tmp, "out");
	const char *s = HP_SAMPLEDIR "/gcc-O2";

	/* old: a(body-change) b(no-change) c(function-removed) a#2(new-global)
	 * new: a(body-change') b(no-change') d(new-libc-call) a#2(new-global') */
	sh("mkdir -p %s/1 %s/2", o, o);
	sh("mkdir -p %s/1 %s/2", n, n);
	char cmd[16384];
	snprintf(cmd, sizeof(cmd),
		 "cd %s && cp %s/body-change/old.o 1/a.o && cp %s/no-change/old.o 1/b.o && "
		 "cp %s/function-removed/old.o 1/c.o && cp %s/new-global/old.o 2/a.o && "
		 "ar qcS old.a 1/a.o 1/b.o 1/c.o 2/a.o && "
		 "cd %s && cp %s/body-change/new.o 1/a.o && cp %s/no-change/new.o 1/b.o && "
		 "cp %s/new-libc-call/new.o 1/d.o && cp %s/new-global/new.o 2/a.o && "
		 "ar qcS new.a 1/a.o 1/b.o 1/d.o 2/a.o",
		 o, s, s, s, s, n, s, s, s, s);
	cr_assert(system(cmd) == 0);
	char *oa = tu_path(tmp, "o/old.a"), *na = tu_path(tmp, "n/new.a");
	char *argv[] = {HPDIFF, "--json", "-o", out, oa, na, NULL};
	struct run r = tu_run(argv);

	cr_assert_eq(r.status, 1, "%s", r.err);
	struct json_object *objs = objects_of(r.out);
	cr_assert_eq(json_object_array_length(objs), 5);
	cr_assert(strstr(obj_field(objs, 0, "name"), "(a.o)"));
	cr_assert_str_eq(obj_field(objs, 0, "status"), "changed");
	cr_assert_str_eq(obj_field(objs, 1, "status"), "same");
	cr_assert(strstr(obj_field(objs, 3, "name"), "(a.o#2)"));
	cr_assert_str_eq(obj_field(objs, 3, "status"), "changed");
	cr_assert(strstr(obj_field(objs, 4, "name"), "(d.o)"));
	json_object_put(objs);
	char *a = tu_path(tmp, "out/a.hpd"), *b = tu_path(tmp, "out/b.hpd"),
	     *a2 = tu_path(tmp, "out/a-2.hpd"), *d = tu_path(tmp, "out/d.hpd");
	cr_assert(tu_exists(a) && tu_exists(a2) && tu_exists(d));
	cr_assert(!tu_exists(b), "unchanged member got an .hpd");
	free(a), free(b), free(a2), free(d);
	tu_run_free(&r);

	/* a message about the second a.o names it as the report does: a.o#2 */
	snprintf(
		cmd, sizeof(cmd),
		"cd %s && rm new.a && echo garbage > 2/a.o && ar qcS new.a 1/a.o 1/b.o 1/d.o 2/a.o",
		n);
	cr_assert(system(cmd) == 0);
	r = tu_run(argv);
	cr_expect_eq(r.status, 2, "%s", r.err);
	cr_expect(strstr(r.err, "new.a(a.o#2): not an ELF object file"), "%s", r.err);
	tu_run_free(&r);
	free(o), free(n), free(out), free(oa), free(na);
}

Test(cli, trees_pair_by_relative_path)
{
	char *o = tu_path(tmp, "old"), *n = tu_path(tmp, "new"), *out = tu_path(tmp, "out");
	const char *s = HP_SAMPLEDIR "/clang-O2";
	char cmd[16384];

	snprintf(cmd, sizeof(cmd),
		 "mkdir -p %s/net %s/net && cp %s/bounds-check/old.o %s/net/parse.o && "
		 "cp %s/bounds-check/new.o %s/net/parse.o && cp %s/no-change/old.o %s/same.o && "
		 "cp %s/no-change/new.o %s/same.o && cp %s/changed-global-init/old.o %s/cfg.o && "
		 "cp %s/changed-global-init/new.o %s/cfg.o && "
		 "cp %s/new-global/old.o %s/bucket.o && ar rcS %s/libx.a %s/bucket.o && "
		 "cp %s/new-global/new.o %s/bucket.o && ar rcS %s/libx.a %s/bucket.o && "
		 "rm %s/bucket.o %s/bucket.o",
		 o, n, s, o, s, n, s, o, s, n, s, o, s, n, s, o, o, o, s, n, n, n, o, n);
	cr_assert(system(cmd) == 0);
	char *argv[] = {HPDIFF, "-o", out, o, n, NULL};
	struct run r = tu_run(argv);

	cr_assert_eq(r.status, 3, "%s%s", r.out, r.err);
	cr_assert(strstr(r.out,
			 "4 object pairs compared: 3 differ (1 not hotpatchable), 1 unchanged"),
		  "%s", r.out);
	char *p1 = tu_path(tmp, "out/net/parse.hpd"), *p2 = tu_path(tmp, "out/cfg.hpd"),
	     *p3 = tu_path(tmp, "out/libx/bucket.hpd"), *p4 = tu_path(tmp, "out/same.hpd");
	cr_assert(tu_exists(p1) && tu_exists(p2) && tu_exists(p3), "%s", r.out);
	cr_assert(!tu_exists(p4));
	free(p1), free(p2), free(p3), free(p4);
	tu_run_free(&r);

	/* a dangling link named like an object: the trees cannot be compared */
	snprintf(cmd, sizeof(cmd), "rm -rf %s && ln -s nowhere %s/notes.txt && ln -s gone.o %s/y.o",
		 out, n, n);
	cr_assert(system(cmd) == 0);
	r = tu_run(argv);
	cr_expect_eq(r.status, 2, "%s%s", r.out, r.err);
	cr_expect(strstr(r.err, "/new/y.o: No such file or directory\n"), "%s", r.err);
	cr_expect(!tu_exists(out));
	tu_run_free(&r);
	/* any other name: skipped with a warning */
	snprintf(cmd, sizeof(cmd), "rm %s/y.o", n);
	cr_assert(system(cmd) == 0);
	r = tu_run(argv);
	cr_expect_eq(r.status, 3, "%s%s", r.out, r.err);
	cr_expect(strstr(r.err, "hpdiff: warning: "), "%s", r.err);
	cr_expect(strstr(r.err, "/new/notes.txt: No such file or directory; skipped\n"), "%s",
		  r.err);
	tu_run_free(&r);
	free(o), free(n), free(out);
}

static ino_t inode_of(const char *path)
{
	struct stat st;

	cr_assert(stat(path, &st) == 0, "%s: %s", path, strerror(errno));
	return st.st_ino;
}

/*
 * A directory of .hpd files is replaced whole or not at all: when one
 * cannot be written, the earlier run's files are all still there (even the
 * one of a pair that no longer differs) and no temporary file is left.
 */
Test(cli, a_failed_write_leaves_the_earlier_directory_alone)
{
	char *o = tu_path(tmp, "old"), *n = tu_path(tmp, "new"), *out = tu_path(tmp, "out");
	const char *s = HP_SAMPLEDIR "/gcc-O2";
	char cmd[16384];

	/* first run: x and y differ */
	snprintf(cmd, sizeof(cmd),
		 "mkdir -p %s %s && cp %s/body-change/old.o %s/x.o && "
		 "cp %s/body-change/new.o %s/x.o && "
		 "cp %s/bounds-check/old.o %s/y.o && cp %s/bounds-check/new.o %s/y.o && "
		 "cp %s/grown-function/old.o %s/z.o && cp %s/grown-function/old.o %s/z.o",
		 o, n, s, o, s, n, s, o, s, n, s, o, s, n);
	cr_assert(system(cmd) == 0);
	char *argv[] = {HPDIFF, "-o", out, o, n, NULL};
	struct run r = tu_run(argv);

	cr_assert_eq(r.status, 1, "%s%s", r.out, r.err);
	tu_run_free(&r);
	char *x = tu_path(tmp, "out/x.hpd"), *y = tu_path(tmp, "out/y.hpd"),
	     *z = tu_path(tmp, "out/z.hpd");
	cr_assert(tu_exists(x) && tu_exists(y) && !tu_exists(z));
	ino_t xi = inode_of(x), yi = inode_of(y);

	/* second run: x no longer differs, y does, z does but cannot be written */
	snprintf(cmd, sizeof(cmd),
		 "cp %s/x.o %s/x.o && cp %s/grown-function/new.o %s/z.o && mkdir %s", o, n, s, n,
		 z);
	cr_assert(system(cmd) == 0);
	r = tu_run(argv);
	cr_expect_eq(r.status, 2, "%s%s", r.out, r.err);
	cr_expect(strstr(r.err, "/out/z.hpd: cannot write output"), "%s", r.err);
	cr_expect_str_empty(r.out);
	tu_run_free(&r);
	cr_expect(tu_exists(x), "the .hpd of a pair that no longer differs was removed");
	cr_expect_eq(inode_of(x), xi);
	cr_expect_eq(inode_of(y), yi, "y.hpd was replaced by a run that failed");
	snprintf(cmd, sizeof(cmd), "ls -a %s | grep -q tmp", out);
	cr_expect(system(cmd) != 0, "a temporary file was left behind");

	/* once z can be written, the run replaces the directory whole */
	snprintf(cmd, sizeof(cmd), "rmdir %s", z);
	cr_assert(system(cmd) == 0);
	r = tu_run(argv);
	cr_expect_eq(r.status, 1, "%s%s", r.out, r.err);
	tu_run_free(&r);
	cr_expect(!tu_exists(x) && tu_exists(y) && tu_exists(z));
	free(o), free(n), free(out), free(x), free(y), free(z);
}

Test(cli, parallel_and_serial_reports_are_identical)
{
	char *j1[] = {HPDIFF, "--json", "-j", "1", HP_SAMPLEDIR "/gcc-O2", HP_SAMPLEDIR "/clang-O2",
		      NULL};
	char *j2[] = {HPDIFF, "--json", "-j", "2", HP_SAMPLEDIR "/gcc-O2", HP_SAMPLEDIR "/clang-O2",
		      NULL};
	struct run a = tu_run(j1), b = tu_run(j2);

	/* gcc and clang objects of one scenario share the source file name. */
	cr_assert(a.status == 1 || a.status == 3);
	cr_assert_eq(a.status, b.status);
	cr_assert_str_eq(a.out, b.out);
	tu_run_free(&a);
	tu_run_free(&b);
}

Test(cli, show_prints_a_disassembly_diff)
{
	char *argv[] = {HPDIFF, "--show", OLD_O, NEW_O, NULL};
	struct run r = tu_run(argv);

	cr_assert_eq(r.status, 1);
	cr_assert(strstr(r.out, "@@ latwin_sum"), "%s", r.out);
	cr_assert(strstr(r.out, "\n- ") && strstr(r.out, "\n+ "), "%s", r.out);
	tu_run_free(&r);
}

/*
 * A call's target is shown by name: through a relocation (an import) or,
 * without function sections, decoded from the displacement (a function
 * earlier in .text), never as the address an unrelocated field points at.
 */
Test(cli, show_names_call_targets)
{
	char *argv[] = {HPDIFF, "--show", SAMPLE("gcc-O2", "new-static-helper", "old.o"),
			SAMPLE("gcc-O2", "new-static-helper", "new.o"), NULL};
	struct run r = tu_run(argv);

	cr_assert_eq(r.status, 1, "%s", r.err);
	cr_expect(strstr(r.out, "  call key_valid\n"), "%s", r.out);
	cr_expect(strstr(r.out, "  call strlen\n"), "%s", r.out);
	cr_expect(!strstr(r.out, "call 0x"), "%s", r.out);
	tu_run_free(&r);
}

/* glibc's libc.a has empty compatibility objects without a symbol table. */
Test(cli, empty_objects_without_symbols_are_fine_stripped_code_is_not)
{
	char cmd[16384];
	char *e1 = tu_path(tmp, "a/empty.o"), *e2 = tu_path(tmp, "b/empty.o"),
	     *st = tu_path(tmp, "stripped.o");

	snprintf(cmd, sizeof(cmd),
		 "mkdir -p %s/a %s/b && : > %s/empty.c && gcc -c %s/empty.c -o %s && "
		 "strip --strip-all %s && cp %s %s && cp %s %s && strip --strip-all %s",
		 tmp, tmp, tmp, tmp, e1, e1, e1, e2, NEW_O, st, st);
	cr_assert(system(cmd) == 0);
	char *argv[] = {HPDIFF, e1, e2, NULL};
	struct run r = tu_run(argv);

	cr_assert_eq(r.status, 0, "%s", r.err);
	tu_run_free(&r);
	expect_refused(OLD_O, st, "no symbol table (stripped object?)");
	free(e1), free(e2), free(st);
}

/*
 * f points at a chain of DEPTH anonymous read-only pieces, each pointing to
 * the next, identical in both objects; g changes.  Written as assembly: a
 * compiler gives such data symbols.
 */
static void nested_chain(int depth, const char *dir, int value)
{
	char cmd[8192];
	char *s = tu_path(tmp, "t.s");
	FILE *f = fopen(s, "w");

	cr_assert_not_null(f);
	fprintf(f, "\t.section .rodata,\"a\"\n\t.p2align 3\n");
	for (int i = 0; i < depth; i++)
		fprintf(f, ".L%d:\t.quad .L%d\n", i, i + 1);
	fprintf(f, ".L%d:\t.quad 0\n\t.text\n", depth);
	fprintf(f, "\t.globl f\n\t.type f,@function\nf:\tleaq .L0(%%rip), %%rax\n\tret\n"
		   "\t.size f,.-f\n");
	fprintf(f,
		"\t.globl g\n\t.type g,@function\ng:\tmovl $%d, %%eax\n\tret\n"
		"\t.size g,.-g\n",
		value);
	fclose(f);
	snprintf(cmd, sizeof(cmd), "mkdir -p %s/%s && cd %s/%s && cp %s t.s && as t.s -o t.o", tmp,
		 dir, tmp, dir, s);
	cr_assert(system(cmd) == 0);
	free(s);
}

Test(cli, nested_read_only_data_is_compared_through_its_pointers)
{
	char *o = tu_path(tmp, "a/t.o"), *n = tu_path(tmp, "b/t.o");
	char *argv[] = {HPDIFF, o, n, NULL};
	struct run r;

	/* 20 levels: compared to the end, equal, so f is not changed */
	nested_chain(20, "a", 1);
	nested_chain(20, "b", 2);
	r = tu_run(argv);
	cr_expect_eq(r.status, 1, "%s", r.err);
	cr_expect(strstr(r.out, "func changed  g:"), "%s", r.out);
	cr_expect(!strstr(r.out, " f:"), "%s", r.out);
	tu_run_free(&r);

	/* 70 levels: past the bound, so f counts as changed, and the report says why */
	nested_chain(70, "a", 1);
	nested_chain(70, "b", 2);
	r = tu_run(argv);
	cr_expect_eq(r.status, 3, "%s", r.err);
	cr_expect(strstr(r.out, "func changed  f: NOT HOTPATCHABLE: at +0x0 `lea (%rip), %rax`: "
				"the read-only data it refers to is nested too deeply to compare, "
				"so it counts as changed; refers to read-only data nested more "
				"than 64 levels deep\n"),
		  "%s", r.out);
	tu_run_free(&r);
	free(o);
	free(n);
}

/*
 * file:line comes from the DWARF file number of the function: DWARF 5
 * numbers files from 0, DWARF 4 from 1.  With a header first in the table,
 * an off-by-one names the header instead of the .c file.
 */
Test(cli, source_lines_for_dwarf_4_and_5)
{
	static const char *const versions[] = {"-gdwarf-4", "-gdwarf-5"};

	for (size_t v = 0; v < ARRAY_SIZE(versions); v++) {
		char cmd[8192];
		char *o = tu_path(tmp, "a/m.o"), *n = tu_path(tmp, "b/m.o");
		char *argv[] = {HPDIFF, "--json", o, n, NULL};
		struct run r;

		snprintf(
			cmd, sizeof(cmd),
			"cd %s && mkdir -p a b && "
			"printf 'static inline int h(int x) { return x + 1; }\\n' > h.h && "
			"printf '#include \"h.h\"\\nint f(int x)\\n{\\n\\treturn h(x) * 2;\\n}\\n' "
			"> m.c && gcc -O2 %s -c m.c -o a/m.o && sed -i 's/\\* 2/* 3/' m.c && "
			"gcc -O2 %s -c m.c -o b/m.o",
			tmp, versions[v], versions[v]);
		cr_assert(system(cmd) == 0, "%s", cmd);
		r = tu_run(argv);
		cr_expect_eq(r.status, 1, "%s: %s", versions[v], r.err);
		cr_expect(strstr(r.out, "\"source\":\"m.c:2\""), "%s: %s", versions[v], r.out);
		tu_run_free(&r);
		free(o);
		free(n);
	}
}

/*
 * A name longer than a .hpd holds (65536 bytes) is what gcc writes for a
 * 1 MiB identifier: hpdiff refuses to write a .hpd hppack could not read
 * (exit 2, the field named, nothing written, no report).
 */
Test(cli, a_name_longer_than_the_format_holds_writes_nothing)
{
	char cmd[8192];
	char *o = tu_path(tmp, "a/long.o"), *n = tu_path(tmp, "b/long.o");
	char *out = tu_path(tmp, "long.hpd");
	char *argv[] = {HPDIFF, "-o", out, o, n, NULL};
	struct run r;

	snprintf(cmd, sizeof(cmd),
		 "cd %s && mkdir -p a b && N=$(head -c 1048576 /dev/zero | tr '\\0' f) && "
		 "printf 'int %%s(int x) { return x * 2; }\\nint g(int x) { return %%s(x); }\\n' "
		 "$N $N > long.c && gcc -O2 -c long.c -o a/long.o && "
		 "sed -i 's/\\* 2/* 3/' long.c && gcc -O2 -c long.c -o b/long.o",
		 tmp);
	cr_assert(system(cmd) == 0, "%s", cmd);
	r = tu_run(argv);
	cr_expect_eq(r.status, 2, "%s", r.err);
	cr_expect_str_eq(r.err, "hpdiff: long.o: cannot encode .hpd: function 0 name: count or "
				"size exceeds the format's limits\n");
	cr_expect_str_empty(r.out);
	cr_expect(!tu_exists(out), "a .hpd was written");
	tu_run_free(&r);
	free(o);
	free(n);
	free(out);
}
