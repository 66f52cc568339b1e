/*
 * resume_out.h: the receiving end's -o FILE, for rcp-quic-recv and
 * rcp-launch --pull --output alike: published atomically (atomic_out.h),
 * or with --resume appended to FILE's partial file, whose bytes and
 * SHA-256 the sender is told (quic.h) so that it goes on from there.
 */
#ifndef RCP_RESUME_OUT_H
#define RCP_RESUME_OUT_H

#include "atomic_out.h"
#include "quic.h"

struct resume_out {
	struct atomic_out ao;
	int resume;
	uint64_t have;			/* --resume: bytes already there */
	uint8_t sha256[32];		/* ... and their digest */
	char *partial_name;		/* --resume: the file written */
};

/*
 * Opens FILE, or with resume its partial file and hashes what it holds.
 * The caller keeps its signal handlers (ATOMIC_OUT_OWN_SIGNALS).  0, or
 * -1 with e (status 2: FILE cannot be a partial file's target).
 */
int resume_out_open(struct resume_out *ro, const char *path, int resume,
    struct rcp_error *e);
/* --resume: what the receiving end tells the sender, into q. */
void resume_out_opts(struct resume_out *ro, struct quic_opts *q);
/* The name a write error gives: FILE, or its partial file. */
const char *resume_out_name(const struct resume_out *ro, const char *path);
/*
 * --resume, after a failure: the bytes the partial file holds, by its
 * descriptor or, once a failed commit closed it (and kept the file), by
 * its name.  0, or -1 when there is none to tell of.
 */
int resume_out_kept(const struct resume_out *ro, uint64_t *kept);
void resume_out_free(struct resume_out *ro);

#endif
