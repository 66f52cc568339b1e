/*
 * atomic_out.h: an output file that appears whole or not at all.
 *
 * Data goes to a temporary file beside the target (same directory, so
 * rename(2) is atomic); commit fsyncs it, renames it over the target and
 * fsyncs the directory.  abort, any failure path, and SIGINT/SIGTERM/
 * SIGHUP remove the temporary file and leave the target as it was.
 * Where the file system has O_TMPFILE, the temporary file has no name
 * until commit, so that SIGKILL or a crash leaves nothing behind either.
 *
 * What is at the path is respected as `cp` and `> PATH` respect it: a
 * symbolic link is followed and its final target replaced, the link
 * kept; a replaced file keeps its owner, group and mode (where the
 * process may not give the owner, commit says so in ao->warning); a
 * device, FIFO or socket is not replaced but opened and written in
 * place, as `> PATH` would (a FIFO waits for its reader), without fsync.
 */
#ifndef RCP_ATOMIC_OUT_H
#define RCP_ATOMIC_OUT_H

#include "rcp.h"

struct atomic_out {
	int fd;			/* write here */
	char *path;		/* the target, symbolic links followed */
	char *tmp_path;		/* the temporary file's name; NULL while
				   it has none (O_TMPFILE) or once gone */
	int mode;		/* permissions the published file gets */
	int direct;		/* a device or FIFO, written in place */
	int keep_owner;		/* a file is replaced: give it uid, gid */
	unsigned uid, gid;
	char warning[512];	/* after commit: what could not be kept */
};

/*
 * Creates the temporary file for target path (or opens a device or FIFO
 * at path).  The published file gets the owner, group and mode of an
 * existing target, else ours and 0666 & ~umask.  Installs the signal
 * handlers that unlink the temporary file.  Returns 0 or -1 (e).
 */
int atomic_out_open(struct atomic_out *ao, const char *path,
    struct rcp_error *e);
/*
 * As atomic_out_open; with ATOMIC_OUT_OWN_SIGNALS the caller keeps its
 * own signal handlers and calls atomic_out_abort when it is stopped.
 */
#define ATOMIC_OUT_OWN_SIGNALS 1
int atomic_out_open_flags(struct atomic_out *ao, const char *path,
    int flags, struct rcp_error *e);
/*
 * fsync, rename, fsync directory (a device or FIFO: close only).
 * Returns 0 or -1 (e); -1 also aborts.  ao->warning is then set, or "".
 */
int atomic_out_commit(struct atomic_out *ao, struct rcp_error *e);
/*
 * commit in two steps, for a caller that publishes only once more is
 * known: sync (owner, mode, fsync, a name beside the target; sets
 * ao->warning) and publish (rename, fsync directory).  Each returns 0
 * or -1 (e), and -1 aborts.
 */
int atomic_out_sync(struct atomic_out *ao, struct rcp_error *e);
int atomic_out_publish(struct atomic_out *ao, struct rcp_error *e);
/* Closes and removes the temporary file.  Safe to call twice. */
void atomic_out_abort(struct atomic_out *ao);

#endif
