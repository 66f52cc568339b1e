/*
 * libFuzzer target: rcp-launch's filter of the remote stderr
 * (lib/ssh/ssh_job.c), which separates its control lines from whatever
 * the remote command prints, and the control-line parser
 * (lib/launch/remote.c).  Input: one byte of settings, then the stream.
 * The promise checked: a stream without the secret is relayed byte for
 * byte and yields no control line; with it, every byte is either relayed
 * or part of a control line, and no more control lines are taken than
 * were expected.
 */
#define _GNU_SOURCE
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "launch/remote.h"
#include "ssh/ssh_job.h"

#define SECRET "0123456789abcdef0123456789abcdef"
#define HEAD SSH_JOB_MARKER SECRET " "

static size_t controls, control_bytes;

static void
on_control(struct ssh_job *j, const char *text, void *arg)
{
	int st = -1;

	(void)j;
	(void)arg;
	controls++;
	control_bytes += strlen(HEAD) + strlen(text);
	if (ssh_remote_control(text, &st) != 0 && (st < 0 || st > 255))
		abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static int out = -1;
	static char *got;
	struct ssh_job j;
	int pending, prefixed;
	size_t chunk, off, n;
	ssize_t r;

	if (size < 1)
		return 0;
	if (out < 0 && ((out = memfd_create("stderr", 0)) < 0 ||
	    (got = malloc(1 << 20)) == NULL))
		abort();
	if (ftruncate(out, 0) != 0 || lseek(out, 0, SEEK_SET) != 0)
		abort();
	pending = data[0] & 7;
	prefixed = (data[0] & 8) != 0;
	chunk = 1 + (data[0] >> 4) * 37;	/* reads of various sizes */
	data++;
	size--;

	ssh_job_init(&j, NULL);
	j.err_fd = out;
	j.err_prefix = prefixed ? "host: " : NULL;
	j.controls_pending = pending;
	j.on_control = on_control;
	memcpy(j.secret, SECRET, sizeof(SECRET));
	controls = control_bytes = 0;
	for (off = 0; off < size; off += n) {
		n = size - off < chunk ? size - off : chunk;
		ssh_job_filter_err(&j, (const char *)data + off, n);
	}
	ssh_job_filter_end(&j);

	if (controls > (size_t)pending)
		abort();
	if (prefixed || size > (1 << 20))
		return 0;
	if ((r = pread(out, got, 1 << 20, 0)) < 0)
		abort();
	if (memmem(data, size, HEAD, strlen(HEAD)) == NULL) {
		/* Nothing can pass for a control line without the secret. */
		if (controls != 0 || (size_t)r != size ||
		    memcmp(got, data, size) != 0)
			abort();
	} else if (memchr(data, '\0', size) == NULL) {
		/* Relayed, or a control line and perhaps its terminator. */
		if ((size_t)r + control_bytes > size ||
		    (size_t)r + control_bytes + controls < size)
			abort();
	}
	return 0;
}
