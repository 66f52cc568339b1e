/*
 * atomic_out_int.h: what atomic_out.c (the temporary file) and
 * atomic_partial.c (the partial file of --resume) share.
 */
#ifndef RCP_ATOMIC_OUT_INT_H
#define RCP_ATOMIC_OUT_INT_H

#include <sys/types.h>

#include "atomic_out.h"

/*
 * Clears ao, puts the target in ao->path (path with its symbolic links
 * followed) and what the published file gets: an existing file's mode
 * and owner, else 0666 & ~umask.  Returns 0 for a regular file or none,
 * 1 for a device, FIFO or socket (*kind: its st_mode), -1 (e; a
 * directory is status 2, and ao->path is then freed).
 */
int atomic_out_target(struct atomic_out *ao, const char *path, mode_t *kind,
    struct rcp_error *e);
/* fsync(2)s the directory holding path: makes a rename there durable. */
void atomic_out_sync_dir(const char *path);
/*
 * Links the open file fd to a fresh ".BASE.XXXXXX" beside path, by the
 * descriptor (/proc/self/fd, else AT_EMPTY_PATH), and returns that name
 * in *name (the caller frees it).  0, or -1 with errno.
 */
int atomic_out_link_fresh(int fd, const char *path, char **name);

/* Partial mode's own commit, abort and sync step (atomic_partial.c). */
int atomic_partial_publish(struct atomic_out *ao, struct rcp_error *e);
void atomic_partial_abort(struct atomic_out *ao);
/* Removes the recorded source size; a file without one is fine. */
void atomic_partial_forget_size(struct atomic_out *ao);
/*
 * After a normal publish of target: removes its partial file, if it is
 * a regular file of ours with one link that no live run has locked.
 */
void atomic_partial_drop_stale(const char *target);

#endif
