/*
 * output.c: rcp-launch's local output file (output.h), in the normal
 * atomic mode or, with --resume, in the partial mode that rcp-quic-recv
 * -o FILE --resume uses too.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "output.h"

int
launch_output_open(struct launch_output *lo, const char *path, int resume,
    struct rcp_error *e)
{
	memset(lo, 0, sizeof(*lo));
	lo->resume = resume;
	if (!resume)
		return atomic_out_open_flags(&lo->ao, path,
		    ATOMIC_OUT_OWN_SIGNALS, e);
	if (atomic_out_open_partial(&lo->ao, path, &lo->have, e) != 0) {
		if (e->status == EXIT_USAGE) {
			char why[sizeof(e->msg)];
			snprintf(why, sizeof(why), "%s", e->msg);
			error_set(e, EXIT_USAGE, "--resume needs --output to "
			    "name a regular file: %s", why);
		}
		return -1;
	}
	if (quic_resume_digest(lo->ao.fd, lo->have, lo->sha256, e) != 0) {
		atomic_out_abort(&lo->ao);
		return -1;
	}
	/* A copy: ao's own goes when the file is published. */
	if ((lo->partial_name = strdup(lo->ao.tmp_path)) == NULL) {
		atomic_out_abort(&lo->ao);
		return error_set_errno(e, EXIT_FAIL, "%s", path);
	}
	return 0;
}

const char *
launch_output_name(const struct launch_output *lo, const char *path)
{
	return lo->partial_name != NULL ? lo->partial_name : path;
}

void
launch_output_free(struct launch_output *lo)
{
	free(lo->partial_name);
	lo->partial_name = NULL;
}

/* quic_opts.on_resume: the sender's size, for the next run to check. */
static int
record_source_size(void *arg, uint64_t size, struct rcp_error *e)
{
	struct launch_output *lo = arg;

	return atomic_out_partial_record_size(&lo->ao, size, e);
}

void
launch_output_resume(struct launch_output *lo, struct quic_opts *q)
{
	if (!lo->resume)
		return;
	q->resume = 1;
	q->resume_have = lo->have;
	memcpy(q->resume_sha256, lo->sha256, sizeof(q->resume_sha256));
	q->resume_size = lo->ao.source_size;
	q->on_resume = record_source_size;
	q->on_resume_arg = lo;
}

void
launch_output_kept(struct launch_output *lo, int status, char *buf,
    size_t size)
{
	uint64_t kept;

	buf[0] = '\0';
	if (!lo->resume || atomic_out_partial_size(&lo->ao, &kept) != 0 ||
	    kept == 0)
		return;
	if (status == EXIT_DATA)
		snprintf(buf, size, "%s is not the start of the data: remove "
		    "it or run without --resume", lo->ao.tmp_path);
	else
		snprintf(buf, size, "kept %" PRIu64 " bytes in %s; run again "
		    "with --resume to continue", kept, lo->ao.tmp_path);
}
