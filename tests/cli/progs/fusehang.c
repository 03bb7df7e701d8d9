/*
 * A FUSE file system that never answers, for hpapply's tests: mounted on
 * DIR, it holds the kernel's first request (FUSE_INIT) unanswered, so any
 * access below DIR waits in uninterruptible sleep (state D) until this
 * program ends, which aborts the connection (the access then fails).
 */
#include <fcntl.h>
#include <stdio.h>
#include <sys/mount.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	char opts[128];
	int fd;

	if (argc != 2) {
		fputs("usage: fusehang DIR\n", stderr);
		return 2;
	}
	fd = open("/dev/fuse", O_RDWR | O_CLOEXEC);
	if (fd < 0) {
		perror("fusehang: /dev/fuse");
		return 1;
	}
	snprintf(opts, sizeof(opts), "fd=%d,rootmode=40000,user_id=0,group_id=0", fd);
	if (mount("hpfuse", argv[1], "fuse", MS_NOSUID | MS_NODEV, opts) < 0) {
		perror("fusehang: mount");
		return 1;
	}
	puts("mounted");
	fflush(stdout);
	for (;;)
		pause();
}
