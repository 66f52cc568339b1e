/*
 * output.h: rcp-launch --pull --output FILE, the local file the data
 * goes to: published atomically, or with --resume appended to FILE's
 * partial file (atomic_out.h) and resumed from what it holds.
 */
#ifndef RCP_LAUNCH_OUTPUT_H
#define RCP_LAUNCH_OUTPUT_H

#include "atomic_out.h"
#include "quic.h"

struct launch_output {
	struct atomic_out ao;
	int resume;
	uint64_t have;			/* --resume: bytes already there */
	uint8_t sha256[32];		/* ... and their digest */
	char *partial_name;		/* --resume: the file written */
};

/* Opens FILE (or its partial file).  0, or -1 with e. */
/* The name a write error gives: FILE, or its partial file. */
const char *launch_output_name(const struct launch_output *lo,
    const char *path);
void launch_output_free(struct launch_output *lo);
int launch_output_open(struct launch_output *lo, const char *path,
    int resume, struct rcp_error *e);
/* --resume: what the receiving end tells the sender (quic.h). */
void launch_output_resume(struct launch_output *lo, struct quic_opts *q);
/*
 * After a failed run, before the abort that keeps the partial file: one
 * line for the user on what it holds (status 3: that it cannot help),
 * or "" when there is nothing to say.
 */
void launch_output_kept(struct launch_output *lo, int status, char *buf,
    size_t size);

#endif
