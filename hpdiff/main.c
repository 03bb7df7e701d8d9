/*
 * hpdiff: compare a baseline build's object files with the fixed build's,
 * at function granularity, and write what a hotpatch needs (.hpd).
 *
 *   parse options      -> two inputs, output choice
 *   collect            -> a list of object pairs (objects, archive members, tree files)
 *   compare            -> per pair, in parallel: statuses, reasons, .hpd image, reports
 *   write              -> only if no pair had trouble: every .hpd to a temporary file
 *   report             -> summaries / JSON / --show on stdout, in input order
 *   commit             -> once all is written: the .hpd files renamed into place
 *
 * Exit status (docs/hpdiff.1): 0 nothing differs, 1 differences that can
 * all be hotpatched, 2 trouble, 3 some difference cannot be hotpatched.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <json-c/json.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "hpdiff/diff.h"
#include "hpdiff/emit.h"
#include "hpdiff/input.h"
#include "hpdiff/inspect.h"
#include "hpdiff/report.h"
#include "common/cli.h"
#include "common/mem.h"

enum exit_status {
	EXIT_SAME = 0,
	EXIT_DIFFERS = 1,
	EXIT_TROUBLE = 2,
	EXIT_UNPATCHABLE = 3,
};

struct options {
	bool inspect;
	const char *out;
	bool json;
	bool show;
	long jobs;
};

static const char usage[] =
	"usage: hpdiff [options] OLD NEW\n"
	"       hpdiff --inspect [--json] FILE.hpd\n"
	"\n"
	"Compare the baseline build (OLD) with the fixed build (NEW) of relocatable\n"
	"x86-64 objects, function by function.  OLD and NEW are two object files,\n"
	"two static libraries (members paired by name) or two directories (objects\n"
	"and archives paired by relative path).\n"
	"\n"
	"options:\n"
	"  -o, --output PATH  write the .hpd (one pair) or a directory of .hpd files\n"
	"      --json         print a JSON report on stdout\n"
	"      --show         print the disassembly diff of each changed function\n"
	"  -j, --jobs N       compare N pairs in parallel (default: all processors)\n"
	"      --inspect      print what a .hpd file holds (with --json: as JSON)\n"
	"  -h, --help         print this help\n"
	"      --version      print the version\n"
	"\n"
	"exit status: 0 nothing differs; 1 differences, all hotpatchable;\n"
	"2 trouble (usage, I/O, malformed or unsupported input);\n"
	"3 at least one difference cannot be hotpatched.\n";

/* A decimal number from 1 to 1024, nothing else (no sign, no spaces). */
static bool parse_jobs(const char *s, long *v)
{
	*v = 0;
	if (!*s || strlen(s) > 4)
		return false;
	for (; *s; s++) {
		if (*s < '0' || *s > '9')
			return false;
		*v = *v * 10 + (*s - '0');
	}
	return *v >= 1 && *v <= 1024;
}

static int parse_options(int argc, char **argv, struct options *opt, int *done)
{
	static const struct option longopts[] = {
		{"output", required_argument, NULL, 'o'}, {"json", no_argument, NULL, 'J'},
		{"show", no_argument, NULL, 'S'},	  {"jobs", required_argument, NULL, 'j'},
		{"help", no_argument, NULL, 'h'},	  {"version", no_argument, NULL, 'V'},
		{"inspect", no_argument, NULL, 'I'},	  {NULL, 0, NULL, 0},
	};
	int c;

	*done = 0;
	opterr = 0; /* messages in our own words, below */
	while ((c = getopt_long(argc, argv, ":o:j:h", longopts, NULL)) != -1) {
		switch (c) {
		case 'o':
			opt->out = optarg;
			break;
		case 'I':
			opt->inspect = true;
			break;
		case 'J':
			opt->json = true;
			break;
		case 'S':
			opt->show = true;
			break;
		case 'j':
			if (!parse_jobs(optarg, &opt->jobs))
				return usage_error("--jobs wants a number from 1 to 1024, not '%s'",
						   optarg);
			break;
		case 'h':
			fputs(usage, stdout);
			*done = 1;
			return 0;
		case 'V':
			printf("hpdiff %s\n", HP_VERSION);
			*done = 1;
			return 0;
		case ':':
		default: {
			char problem[300];

			option_problem(c, argv, problem, sizeof(problem));
			return usage_error("%s", problem);
		}
		}
	}
	if (opt->inspect) {
		if (argc - optind != 1 || opt->out || opt->show || opt->jobs)
			return usage_error(
				"--inspect takes one .hpd file and no option but --json");
		return 0;
	}
	if (argc - optind != 2)
		return usage_error("expected two arguments, OLD and NEW");
	return 0;
}

/* ---- one pair ------------------------------------------------------------ */

static char *render(void (*fn)(FILE *, const struct diff *), const struct diff *d)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	if (!f)
		return NULL;
	fn(f, d);
	if (fclose(f)) {
		free(buf);
		return NULL;
	}
	return buf;
}

static int load_paths(struct job *j, uint8_t **ob, uint8_t **nb)
{
	struct hp_error e;
	char msg[160];

	if (j->old_path && hp_read_file(j->old_path, 4ull << 30, ob, &j->old_len, &e) < 0)
		return error("%s: %s", j->old_path, hp_error_text(&e, msg, sizeof(msg)));
	if (j->new_path && hp_read_file(j->new_path, 4ull << 30, nb, &j->new_len, &e) < 0)
		return error("%s: %s", j->new_path, hp_error_text(&e, msg, sizeof(msg)));
	if (*ob)
		j->old = *ob;
	if (*nb)
		j->new = *nb;
	return 0;
}

static int encode(struct job *j, struct diff *d)
{
	struct hp_hpd *h = emit_hpd(d);
	struct hp_error e;
	char msg[160];
	int ret = 0;

	if (!h)
		return -1;
	if (hp_hpd_encode(h, &j->hpd, &j->hpd_len, &e) < 0)
		ret = error("%s: cannot encode .hpd: %s", j->name,
			    hp_error_text(&e, msg, sizeof(msg)));
	hp_hpd_free(h);
	return ret;
}

static void run_job(struct job *j, const struct options *opt)
{
	uint8_t *ob = NULL, *nb = NULL;
	struct diff d;
	bool emit;

	j->result = EXIT_TROUBLE;
	memset(&d, 0, sizeof(d));
	if (load_paths(j, &ob, &nb) < 0)
		goto out;
	if (diff_objects(&d, j->name, j->old_name, j->old, j->old_len, j->new_name, j->new,
			 j->new_len) < 0)
		goto out;
	/* Emitting also settles patchability (references that cannot be expressed). */
	emit = d.differs || (j->always_write && j->out);
	if (emit && encode(j, &d) < 0)
		goto out;
	if (!j->out || (!j->always_write && !d.differs)) {
		free(j->hpd);
		j->hpd = NULL;
	}
	j->text = render(report_text, &d);
	if (opt->show)
		j->show = render(report_show, &d);
	if (opt->json)
		j->json = report_json(&d);
	if (!j->text || (opt->show && !j->show) || (opt->json && !j->json))
		goto out;
	j->result = d.unpatchable ? EXIT_UNPATCHABLE : d.differs ? EXIT_DIFFERS : EXIT_SAME;
out:
	diff_free(&d);
	free(ob);
	free(nb);
	if (j->old_path)
		j->old = NULL;
	if (j->new_path)
		j->new = NULL;
}

/* ---- workers -------------------------------------------------------------- */

struct pool {
	struct jobs *js;
	const struct options *opt;
	size_t next;
};

static void *worker(void *arg)
{
	struct pool *p = arg;
	size_t i;

	while ((i = __atomic_fetch_add(&p->next, 1, __ATOMIC_RELAXED)) < p->js->n)
		run_job(&p->js->v[i], p->opt);
	return NULL;
}

static void run_all(struct jobs *js, const struct options *opt)
{
	struct pool p = {js, opt, 0};
	long n = opt->jobs ? opt->jobs : sysconf(_SC_NPROCESSORS_ONLN);
	pthread_t tids[1024];
	long started = 0;

	if (n < 1)
		n = 1;
	if ((size_t)n > js->n)
		n = (long)js->n;
	for (long i = 1; i < n; i++)
		if (pthread_create(&tids[started], NULL, worker, &p) == 0)
			started++;
	worker(&p);
	for (long i = 0; i < started; i++)
		pthread_join(tids[i], NULL);
}

/* ---- output ---------------------------------------------------------------- */

static int make_parents(const char *path)
{
	char buf[PATH_MAX];

	if (snprintf(buf, sizeof(buf), "%s", path) >= (int)sizeof(buf))
		return error("%s: path too long", path);
	for (char *p = buf + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = 0;
		if (mkdir(buf, 0777) < 0 && errno != EEXIST)
			return error("%s: cannot create directory: %s", buf, strerror(errno));
		*p = '/';
	}
	return 0;
}

/*
 * Write `len` bytes to a new temporary file beside `path`, flushed to disk.
 * Returns its name (to rename over `path` later), or NULL after a message;
 * then no temporary is left behind.
 */
static char *write_temp(const char *path, const uint8_t *data, size_t len)
{
	static unsigned long counter;
	char *tmp = NULL;
	int fd = -1, saved;
	bool ok;

	for (int attempt = 0; attempt < 100 && fd < 0; attempt++) {
		free(tmp);
		if (!(tmp = xasprintf("%s.tmp.%ld.%lu", path, (long)getpid(), ++counter)))
			return NULL;
		fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
		if (fd < 0 && errno != EEXIST)
			break;
	}
	if (fd < 0) {
		error("%s: cannot create output: %s", path, strerror(errno));
		free(tmp);
		return NULL;
	}
	while (len) {
		ssize_t w = write(fd, data, len);

		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0)
			break;
		data += w;
		len -= (size_t)w;
	}
	ok = !len && fsync(fd) == 0;
	saved = errno;
	if (close(fd) < 0 && ok) {
		ok = false;
		saved = errno;
	}
	if (!ok) {
		unlink(tmp);
		free(tmp);
		error("%s: cannot write output: %s", path, strerror(saved));
		return NULL;
	}
	return tmp;
}

/*
 * Write every .hpd, or none, in two steps.  write_outputs() writes each to
 * a temporary file beside its name, and on failure removes the ones it
 * wrote: nothing of an earlier run is touched yet.  commit_outputs() then
 * renames them all into place and only after that removes, in a directory,
 * the .hpd of a pair that no longer differs, so the directory never mixes
 * runs.  `tmp` has one entry per job (NULL where nothing is written).
 */
static void discard_outputs(const struct jobs *js, char **tmp)
{
	for (size_t i = 0; i < js->n; i++) {
		if (tmp[i])
			unlink(tmp[i]);
		free(tmp[i]);
		tmp[i] = NULL;
	}
}

static int write_outputs(const struct jobs *js, char **tmp)
{
	size_t i;

	for (i = 0; i < js->n; i++) {
		const struct job *j = &js->v[i];
		struct stat st;

		if (!j->out || !j->hpd)
			continue;
		/* -o names a directory unless the inputs are two objects */
		if (!j->always_write && make_parents(j->out) < 0)
			break;
		/* a rename over a directory would fail only once others are in place */
		if (lstat(j->out, &st) == 0 && S_ISDIR(st.st_mode)) {
			error("%s: cannot write output: %s", j->out, strerror(EISDIR));
			break;
		}
		if (!(tmp[i] = write_temp(j->out, j->hpd, j->hpd_len)))
			break;
	}
	if (i == js->n)
		return 0;
	discard_outputs(js, tmp);
	return -1;
}

/*
 * Renames in the directories just written to fail only exceptionally (a
 * directory in the way was caught before); the files already renamed then
 * stay, and the status is 2.
 */
static int commit_outputs(const struct jobs *js, char **tmp)
{
	int ret = 0;

	for (size_t i = 0; i < js->n; i++) {
		if (!tmp[i])
			continue;
		if (rename(tmp[i], js->v[i].out) < 0) {
			ret = error("%s: cannot write output: %s", js->v[i].out, strerror(errno));
			break;
		}
		free(tmp[i]);
		tmp[i] = NULL;
	}
	if (ret < 0) {
		discard_outputs(js, tmp);
		return ret;
	}
	for (size_t i = 0; i < js->n; i++) {
		const struct job *j = &js->v[i];

		if (j->out && !j->hpd && unlink(j->out) < 0 && errno != ENOENT)
			warn("%s: cannot remove the .hpd of an earlier run: %s", j->out,
			     strerror(errno));
	}
	return 0;
}

static void print_reports(const struct jobs *js, const struct options *opt)
{
	size_t differ = 0, unpatchable = 0;

	if (opt->json) {
		struct json_object *root = json_object_new_object();
		struct json_object *arr = json_object_new_array();

		for (size_t i = 0; i < js->n; i++) {
			if (opt->show)
				json_object_object_add(js->v[i].json, "show",
						       json_object_new_string(js->v[i].show));
			json_object_array_add(arr, json_object_get(js->v[i].json));
		}
		json_object_object_add(root, "objects", arr);
		fputs(json_object_to_json_string_ext(root, JSON_C_TO_STRING_PRETTY |
								   JSON_C_TO_STRING_NOSLASHESCAPE),
		      stdout);
		fputc('\n', stdout);
		json_object_put(root);
		return;
	}
	for (size_t i = 0; i < js->n; i++) {
		const struct job *j = &js->v[i];

		differ += j->result != EXIT_SAME;
		unpatchable += j->result == EXIT_UNPATCHABLE;
		if (js->n == 1 || j->result != EXIT_SAME)
			fputs(j->text, stdout);
		if (opt->show && j->show)
			fputs(j->show, stdout);
	}
	if (!(js->n == 1 && js->v[0].always_write))
		printf("%zu object pairs compared: %zu differ (%zu not hotpatchable), %zu "
		       "unchanged\n",
		       js->n, differ, unpatchable, js->n - differ);
}

int main(int argc, char **argv)
{
	struct options opt = {0};
	struct jobs js;
	char **tmp;
	int done, status = EXIT_SAME;

	set_progname("hpdiff");
	if (parse_options(argc, argv, &opt, &done) < 0)
		return EXIT_TROUBLE;
	if (done || opt.inspect) {
		if (opt.inspect)
			status = inspect_hpd(argv[optind], opt.json) < 0 ? EXIT_TROUBLE : EXIT_SAME;
		if (fflush(stdout) || ferror(stdout)) {
			error("write error on standard output");
			return EXIT_TROUBLE;
		}
		return status;
	}
	if (jobs_collect(&js, argv[optind], argv[optind + 1], opt.out) < 0) {
		jobs_free(&js);
		return EXIT_TROUBLE;
	}
	run_all(&js, &opt);
	for (size_t i = 0; i < js.n; i++) {
		int r = js.v[i].result;

		if (r == EXIT_TROUBLE || (r == EXIT_UNPATCHABLE && status != EXIT_TROUBLE) ||
		    (r == EXIT_DIFFERS && status == EXIT_SAME))
			status = r;
	}
	/*
	 * Trouble anywhere: no .hpd and no report, so nothing half-done is used.
	 * The .hpd files are put in place once the report is out.
	 */
	tmp = xcalloc(js.n, sizeof(*tmp));
	if (!tmp || (status != EXIT_TROUBLE && write_outputs(&js, tmp) < 0))
		status = EXIT_TROUBLE;
	if (status != EXIT_TROUBLE)
		print_reports(&js, &opt);
	if (fflush(stdout) || ferror(stdout)) {
		error("write error on standard output");
		status = EXIT_TROUBLE;
	}
	if (tmp && status == EXIT_TROUBLE)
		discard_outputs(&js, tmp);
	else if (tmp && commit_outputs(&js, tmp) < 0)
		status = EXIT_TROUBLE;
	free(tmp);
	for (size_t i = 0; i < js.n; i++)
		if (js.v[i].json)
			json_object_put(js.v[i].json);
	jobs_free(&js);
	return status;
}
