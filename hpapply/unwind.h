/*
 * Precise stack unwinding of a stopped thread of the target, from the
 * unwind tables (.eh_frame) of the objects it runs in.  unwind.c is the
 * only libunwind user.
 */
#ifndef HPAPPLY_UNWIND_H
#define HPAPPLY_UNWIND_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/*
 * The program counters of the thread's frames, innermost first (the first
 * is the thread's pc, the others return addresses).  Returns 0 if the walk
 * reached the outermost frame, -1 if it stopped early (code without unwind
 * tables, a corrupt stack): then the frames found are incomplete.
 */
int unwind_thread(pid_t tid, uint64_t *pcs, size_t max, size_t *n);

#endif
