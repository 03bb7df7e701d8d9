/*
 * The baseline image inside the target process: which mapped file has the
 * package's build-id, where it is loaded, and its bytes.
 */
#ifndef HPAPPLY_TARGET_H
#define HPAPPLY_TARGET_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "format/image.h"
#include "hpapply/proc.h"

struct loaded {
	char *path;    /* as /proc/PID/maps shows it */
	uint8_t *file; /* the mapped file's bytes (through map_files) */
	size_t len;
	struct hp_image img;
	uint64_t base;	     /* runtime address of image offset 0 */
	uint64_t lo, hi;     /* runtime range of its mappings */
	uint64_t dev, inode; /* of the mapped file */
	bool is_main;	     /* the program itself (holds AT_ENTRY) */
};

/*
 * Find the loaded ELF object with this build-id; reads the whole file.
 * 0 found, 1 not loaded in the process, -1 after a message.
 */
int target_find(pid_t pid, const struct maps *m, const uint8_t *build_id, size_t len,
		struct loaded *out);
/*
 * Every loaded instance of the ELF object with this build-id (a library
 * loaded twice: under a second name, from a copy, in another dlmopen
 * namespace), each with its file read, in address order.  0 with *n >= 1,
 * 1 none loaded, -1 after a message.  Free with objects_free.
 */
int target_find_all(pid_t pid, const struct maps *m, const uint8_t *build_id, size_t len,
		    struct loaded **out, size_t *n);
void loaded_free(struct loaded *l);

/*
 * Every ELF object mapped in the process, program first, then in address
 * order (for resolving imports).  Files are read lazily by the caller.
 */
int target_objects(pid_t pid, const struct maps *m, struct loaded **out, size_t *n);
void objects_free(struct loaded *v, size_t n);

/*
 * `size` bytes of slack after an executable segment of some loaded object:
 * bytes inside an executable mapping that no code occupies.  They must read
 * as zeros, or hold a syscall stub a killed hpapply left there.
 */
int target_slack(pid_t pid, int mem, const struct maps *m, size_t size, uint64_t *at);

#endif
