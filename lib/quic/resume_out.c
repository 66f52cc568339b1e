/*
 * resume_out.c: the receiving end's output file (resume_out.h), in the
 * normal atomic mode or, with --resume, in the partial mode.
 */
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "resume_out.h"

int
resume_out_open(struct resume_out *ro, const char *path, int resume,
    struct rcp_error *e)
{
	memset(ro, 0, sizeof(*ro));
	ro->resume = resume;
	if (!resume)
		return atomic_out_open_flags(&ro->ao, path,
		    ATOMIC_OUT_OWN_SIGNALS, e);
	if (atomic_out_open_partial(&ro->ao, path, &ro->have, e) != 0)
		return -1;
	if (quic_resume_digest(ro->ao.fd, ro->have, ro->sha256, e) != 0) {
		atomic_out_abort(&ro->ao);
		return -1;
	}
	/* A copy: ao's own goes when the file is published. */
	if ((ro->partial_name = strdup(ro->ao.tmp_path)) == NULL) {
		atomic_out_abort(&ro->ao);
		return error_set_errno(e, EXIT_FAIL, "%s", path);
	}
	return 0;
}

const char *
resume_out_name(const struct resume_out *ro, const char *path)
{
	return ro->partial_name != NULL ? ro->partial_name : path;
}

void
resume_out_free(struct resume_out *ro)
{
	free(ro->partial_name);
	ro->partial_name = NULL;
}

_Static_assert(ATOMIC_OUT_SIZE_UNKNOWN == QUIC_SIZE_UNKNOWN,
    "a source size passes unchanged between quic.h and atomic_out.h");

/* quic_opts.on_resume: the sender's size, for the next run to check. */
static int
record_source_size(void *arg, uint64_t size, struct rcp_error *e)
{
	struct resume_out *ro = arg;

	return atomic_out_partial_record_size(&ro->ao, size, e);
}

void
resume_out_opts(struct resume_out *ro, struct quic_opts *q)
{
	if (!ro->resume)
		return;
	q->resume = 1;
	q->resume_have = ro->have;
	memcpy(q->resume_sha256, ro->sha256, sizeof(q->resume_sha256));
	q->resume_size = ro->ao.source_size;
	q->on_resume = record_source_size;
	q->on_resume_arg = ro;
}

int
resume_out_kept(const struct resume_out *ro, uint64_t *kept)
{
	struct stat st;

	if (!ro->resume)
		return -1;
	if (atomic_out_partial_size(&ro->ao, kept) == 0)
		return 0;
	if (ro->partial_name == NULL || lstat(ro->partial_name, &st) != 0 ||
	    !S_ISREG(st.st_mode))
		return -1;
	*kept = (uint64_t)st.st_size;
	return 0;
}
