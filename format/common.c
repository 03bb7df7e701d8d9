/*
 * Error texts, hex, whole-file reading and atomic output shared by every
 * format and tool.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "format/buf.h"
#include "format/hp.h"

static const char *const messages[] = {
	[HP_OK] = "success",
	[HP_ENOMEM] = "out of memory",
	[HP_ETRUNC] = "input is truncated",
	[HP_EMAGIC] = "not a file of the expected kind (bad magic)",
	[HP_EVERSION] = "unsupported format version",
	[HP_ERESERVED] = "reserved field is not zero",
	[HP_ELIMIT] = "count or size exceeds the format's limits",
	[HP_ERANGE] = "offset or index out of range",
	[HP_ECHECKSUM] = "checksum mismatch",
	[HP_EVALUE] = "undefined value",
	[HP_ETRAILING] = "unexpected bytes after the end",
	[HP_EIO] = "input/output error",
	[HP_ESTRING] = "malformed string",
	[HP_EORDER] = "records out of order or duplicated",
};

const char *hp_strerror(int err)
{
	if (err < 0 || (size_t)err >= sizeof(messages) / sizeof(messages[0]) || !messages[err])
		return "unknown error";
	return messages[err];
}

int hp_fail(struct hp_error *e, int code, uint64_t offset, const char *what)
{
	if (e) {
		e->code = code;
		e->sys_errno = code == HP_EIO ? errno : 0;
		e->offset = offset;
		snprintf(e->what, sizeof(e->what), "%s", what ? what : "");
		e->whole = 0;
	}
	return -1;
}

/* A problem of the whole file, described by `what` alone. */
static int fail_whole(struct hp_error *e, int code, const char *what)
{
	hp_fail(e, code, HP_NO_OFFSET, what);
	if (e)
		e->whole = 1;
	return -1;
}

const char *hp_error_text(const struct hp_error *e, char *buf, size_t size)
{
	/* Whole-file problems are described by `what` alone. */
	if (e->whole) {
		snprintf(buf, size, "%s", e->what);
		return buf;
	}
	if (e->code == HP_EIO && e->sys_errno)
		snprintf(buf, size, "%s%s%s", e->what, e->what[0] ? ": " : "",
			 strerror(e->sys_errno));
	else if (e->code == HP_ENOMEM || e->code == HP_EIO || e->offset == HP_NO_OFFSET)
		snprintf(buf, size, "%s%s%s", e->what, e->what[0] ? ": " : "",
			 hp_strerror(e->code));
	else
		snprintf(buf, size, "%s%s%s (at offset %llu)", e->what, e->what[0] ? ": " : "",
			 hp_strerror(e->code), (unsigned long long)e->offset);
	return buf;
}

void hp_hex(const uint8_t *bytes, size_t n, char *out)
{
	static const char digits[] = "0123456789abcdef";

	for (size_t i = 0; i < n; i++) {
		out[2 * i] = digits[bytes[i] >> 4];
		out[2 * i + 1] = digits[bytes[i] & 15];
	}
	out[2 * n] = 0;
}

#define LARGE	  (4u << 20)
#define HUGE_PAGE (2u << 20)

void *hp_alloc_large(size_t n)
{
	void *p;

	if (n < LARGE || n > SIZE_MAX - HUGE_PAGE)
		return malloc(n ? n : 1);
	if (posix_memalign(&p, HUGE_PAGE, n))
		return NULL;
	/* advice only: without transparent huge pages this is a plain buffer */
	madvise(p, (n + HUGE_PAGE - 1) / HUGE_PAGE * HUGE_PAGE, MADV_HUGEPAGE);
	return p;
}

int hp_read_file(const char *path, size_t max_size, uint8_t **data, size_t *len, struct hp_error *e)
{
	struct stat st;
	uint8_t *buf = NULL;
	size_t size, got = 0;
	int fd;

	*data = NULL;
	*len = 0;
	/* non-blocking: opening a FIFO must not wait for a writer before it is refused */
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
	if (fd < 0)
		return hp_fail(e, HP_EIO, 0, "cannot open");
	if (fstat(fd, &st) < 0) {
		hp_fail(e, HP_EIO, 0, "cannot stat");
		goto fail;
	}
	if (!S_ISREG(st.st_mode)) {
		fail_whole(e, HP_EVALUE,
			   S_ISDIR(st.st_mode) ? "is a directory" : "not a regular file");
		goto fail;
	}
	if ((uint64_t)st.st_size > max_size) {
		char what[96];

		snprintf(what, sizeof(what), "file is larger than the limit of %zu bytes",
			 max_size);
		fail_whole(e, HP_ELIMIT, what);
		goto fail;
	}
	if (fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) & ~O_NONBLOCK) < 0) {
		hp_fail(e, HP_EIO, 0, "cannot open");
		goto fail;
	}
	size = (size_t)st.st_size;
	buf = hp_alloc_large(size + 1);
	if (!buf) {
		hp_fail(e, HP_ENOMEM, 0, "reading file");
		goto fail;
	}
	/* Read until EOF, not just st_size bytes, to notice a file that grows. */
	for (;;) {
		ssize_t n = read(fd, buf + got, size + 1 - got);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			hp_fail(e, HP_EIO, got, "read failed");
			goto fail;
		}
		if (n == 0)
			break;
		got += (size_t)n;
		if (got > size) {
			hp_fail(e, HP_ELIMIT, got, "file changed while being read");
			goto fail;
		}
	}
	close(fd);
	buf[got] = 0;
	*data = buf;
	*len = got;
	return 0;
fail:
	free(buf);
	close(fd);
	return -1;
}

static int write_all(int fd, const uint8_t *p, size_t n)
{
	while (n) {
		ssize_t w = write(fd, p, n);

		if (w < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

/*
 * Create "<path>.tmp.<pid>.<n>" exclusively with the final permission, so
 * the kernel applies the umask (reading the umask is not thread-safe).
 */
static int create_temp(const char *path, unsigned mode, char *tmp, size_t size)
{
	static unsigned long counter;

	for (int attempt = 0; attempt < 100; attempt++) {
		unsigned long n = __atomic_add_fetch(&counter, 1, __ATOMIC_RELAXED);
		int fd;

		if (snprintf(tmp, size, "%s.tmp.%ld.%lu", path, (long)getpid(), n) >= (int)size) {
			errno = ENAMETOOLONG;
			return -1;
		}
		fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, (mode_t)mode & 07777);
		if (fd >= 0 || errno != EEXIST)
			return fd;
	}
	return -1;
}

int hp_write_file_atomic(const char *path, const void *data, size_t len, unsigned mode,
			 struct hp_error *e)
{
	char tmp[PATH_MAX];
	int fd, saved;

	fd = create_temp(path, mode, tmp, sizeof(tmp));
	if (fd < 0)
		return hp_fail(e, HP_EIO, 0, "cannot create output");
	if (write_all(fd, data, len) < 0 || fsync(fd) < 0) {
		saved = errno;
		close(fd);
		unlink(tmp);
		errno = saved;
		return hp_fail(e, HP_EIO, 0, "cannot write output");
	}
	if (close(fd) < 0 || rename(tmp, path) < 0) {
		saved = errno;
		unlink(tmp);
		errno = saved;
		return hp_fail(e, HP_EIO, 0, "cannot write output");
	}
	return 0;
}
