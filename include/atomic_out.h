/*
 * atomic_out.h: an output file that appears whole or not at all.
 *
 * Data goes to a temporary file beside the target (same directory, so
 * rename(2) is atomic); commit fsyncs it, renames it over the target and
 * fsyncs the directory.  abort, any failure path, and SIGINT/SIGTERM/
 * SIGHUP remove the temporary file and leave the target as it was.
 * Where the file system has O_TMPFILE, the temporary file has no name
 * until commit, so that SIGKILL or a crash leaves nothing behind either.
 */
#ifndef RCP_ATOMIC_OUT_H
#define RCP_ATOMIC_OUT_H

#include "rcp.h"

struct atomic_out {
	int fd;			/* write here */
	char *path;		/* the target */
	char *tmp_path;		/* the temporary file's name; NULL while
				   it has none (O_TMPFILE) or once gone */
	int mode;		/* permissions the published file gets */
};

/*
 * Creates the temporary file for target path.  The published file gets
 * the mode of an existing target, else 0666 & ~umask.  Installs the
 * signal handlers that unlink the temporary file.  Returns 0 or -1 (e).
 */
int atomic_out_open(struct atomic_out *ao, const char *path,
    struct rcp_error *e);
/* fsync, rename, fsync directory.  Returns 0 or -1 (e); -1 also aborts. */
int atomic_out_commit(struct atomic_out *ao, struct rcp_error *e);
/* Closes and removes the temporary file.  Safe to call twice. */
void atomic_out_abort(struct atomic_out *ao);

#endif
