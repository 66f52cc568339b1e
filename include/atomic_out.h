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
 *
 * Partial mode (rcp-quic-recv --resume) writes instead to a file that
 * outlives a failure, TARGET.rcp-partial beside the target (links
 * followed as above), and appends to what an earlier run left there;
 * see atomic_out_open_partial.  After every successful publish in the
 * normal mode, a stale TARGET.rcp-partial is removed: FILE is whole, so
 * there is nothing left to resume.  Only a regular file of ours with one
 * link goes, and only if no live --resume run holds its lock.
 */
#ifndef RCP_ATOMIC_OUT_H
#define RCP_ATOMIC_OUT_H

#include <stdint.h>

#include "rcp.h"

#define ATOMIC_OUT_PARTIAL_SUFFIX ".rcp-partial"
/* The size of the source, as the sender gave it, in decimal text. */
#define ATOMIC_OUT_SIZE_XATTR "user.rcp.source-size"
#define ATOMIC_OUT_SIZE_UNKNOWN UINT64_MAX

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
	int partial;		/* partial mode: tmp_path is the partial
				   file, kept by abort */
	uint64_t source_size;	/* partial: as recorded, or
				   ATOMIC_OUT_SIZE_UNKNOWN */
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
/*
 * Closes and removes the temporary file.  Safe to call twice.  In
 * partial mode it keeps the partial file instead (fsynced, ours and 0600
 * again if a failed commit had changed that), unless it is empty:
 * nothing to resume from.
 */
void atomic_out_abort(struct atomic_out *ao);

/*
 * Partial mode: opens TARGET.rcp-partial, creating it (mode 0600) where
 * there is none, positioned at its end for appending, and sets *have to
 * its size and ao->source_size to the size recorded by
 * atomic_out_partial_record_size.  A name another user could have
 * planted is refused (status 1): a symbolic link (never followed), not
 * a regular file, owned by another user, more than one link.  An
 * existing one is made 0600.  It stays locked (flock) until closed: a
 * second run is refused with "in use by another transfer".  A target
 * that is a directory, device, FIFO or socket is status 2.  commit
 * gives the file the owner and mode the target would get in the normal
 * mode, removes the recorded size and renames it over the target.  The
 * caller's signal handlers are left alone: on a signal there is nothing
 * to remove.  Returns 0 or -1 (e).
 */
int atomic_out_open_partial(struct atomic_out *ao, const char *path,
    uint64_t *have, struct rcp_error *e);
/*
 * Records the source's size (ATOMIC_OUT_SIZE_UNKNOWN: forgets it) in
 * the partial file's ATOMIC_OUT_SIZE_XATTR, so that a later run can
 * tell the sender what it was.  A file system without user extended
 * attributes (ENOTSUP, EPERM) records nothing, quietly: the sender's
 * own checks then stand alone.  Returns 0 or -1 (e).
 */
int atomic_out_partial_record_size(struct atomic_out *ao, uint64_t size,
    struct rcp_error *e);
/* Partial mode: the partial file's size now.  0, or -1 (errno). */
int atomic_out_partial_size(const struct atomic_out *ao, uint64_t *size);

#endif
