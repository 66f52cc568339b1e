/*
 * stripe_recv.c: the receiving coordinator of a striped transfer
 * (lib/quic/stripe_recv.c) fed by hand: one connection's pipe gets a
 * stream of stripe header and blocks, good or hostile, and the output
 * must be the blocks in order, or the failure the exact message.  No
 * network: the coordinator only reads pipes.  Run by t/unit.bats;
 * prints one line per failure and a count.
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "core/be.h"
#include "quic/stripe.h"

#define BLOCK 4096u

static int checks, failed;

/* Appends a block header (and len bytes of fill, the block's number). */
static size_t
block(uint8_t *p, uint64_t off, uint32_t len, size_t data)
{
	be64_put(p, off);
	be32_put(p + 8, len);
	memset(p + 12, 'a' + (int)(be32_get(p + 4) / BLOCK % 26), data);
	return 12 + data;
}

static size_t
header(uint8_t *p, unsigned count, uint32_t blk, const char *magic)
{
	struct stripe_hdr h = { 0, count, blk, { 1, 2, 3 } };

	stripe_hdr_encode(&h, p);
	memcpy(p, magic, 8);
	return QUIC_STRIPE_HDR_LEN;
}

/*
 * Runs the coordinator on stream (len bytes) as connection 1 of 1;
 * checks the message (NULL: success with want_out bytes written).
 */
static void
run(const char *name, const uint8_t *stream, size_t len, const char *want,
    uint64_t want_out)
{
	static struct stripe_set set;
	struct quic_opts o;
	pthread_t t;
	int p[2], out, i, done;

	checks++;
	memset(&set, 0, sizeof(set));
	quic_opts_init(&o);
	out = memfd_create("out", 0);
	o.data_fd = out;
	set.o = &o;
	set.listen_fd = -1;
	set.w.fd = -1;
	pthread_mutex_init(&set.lock, NULL);
	if (pipe(set.notify) || pipe(set.cancel) || pipe(set.finish) ||
	    pipe(p)) {
		perror("pipe");
		exit(1);
	}
	set.started = 1;
	set.s[0].set = &set;
	set.s[0].rd = p[0];
	set.s[0].wr = -1;
	/* The stream, then the connection's end: as its endpoint would. */
	if (fcntl(p[1], F_SETPIPE_SZ, 1 << 20) < 0 ||
	    write(p[1], stream, len) != (ssize_t)len) {
		perror("write");
		exit(1);
	}
	close(p[1]);
	/* Its endpoint would end once the verdict is in: so do we. */
	if (pthread_create(&t, NULL, stripe_recv_run, &set) != 0)
		exit(1);
	for (i = 0; i < 5000; i++) {
		pthread_mutex_lock(&set.lock);
		done = set.failed || set.finish_done;
		pthread_mutex_unlock(&set.lock);
		if (done)
			break;
		usleep(1000);
	}
	stripe_notify(&set, EV_DONE, 0);
	pthread_join(t, NULL);
	if (want == NULL && (set.failed || !set.finish_done ||
	    set.written != want_out || lseek(out, 0, SEEK_END) !=
	    (off_t)want_out)) {
		printf("%s: failed (%s), wrote %llu\n", name,
		    set.failed ? set.e.msg : "no verdict",
		    (unsigned long long)set.written);
		failed++;
	} else if (want != NULL && (!set.failed ||
	    strcmp(set.e.msg, want) != 0)) {
		printf("%s: got \"%s\", want \"%s\"\n", name,
		    set.failed ? set.e.msg : "success", want);
		failed++;
	}
	close(out);
	close(p[0]);
	for (int i = 0; i < 2; i++) {
		close(set.notify[i]);
		if (set.cancel[i] >= 0)
			close(set.cancel[i]);
		if (set.finish[i] >= 0)
			close(set.finish[i]);
	}
	for (size_t i = 0; i < set.nslots; i++)
		free(set.slots[i].data);
	free(set.slots);
}

int
main(void)
{
	static uint8_t s[1 << 19];
	size_t n;

	n = header(s, 1, BLOCK, STRIPE_MAGIC);
	n += block(s + n, 0, BLOCK, BLOCK);
	n += block(s + n, BLOCK, 100, 100);
	run("two blocks", s, n, NULL, BLOCK + 100);

	n = header(s, 1, BLOCK, STRIPE_MAGIC);
	n += block(s + n, BLOCK, BLOCK, BLOCK);
	n += block(s + n, 0, BLOCK, BLOCK);
	run("out of order", s, n, NULL, 2 * BLOCK);

	n = header(s, 1, BLOCK, STRIPE_MAGIC);
	run("no data at all", s, n, NULL, 0);

	n = header(s, 1, BLOCK, "RCPSTRIQ");
	run("bad magic", s, n,
	    "protocol error: bad stripe header on connection 1", 0);

	n = header(s, 17, BLOCK, STRIPE_MAGIC);
	run("17 connections", s, n,
	    "protocol error: bad stripe header on connection 1", 0);

	n = header(s, 1, 100, STRIPE_MAGIC);
	run("a block size of 100", s, n,
	    "protocol error: bad stripe header on connection 1", 0);

	n = header(s, 1, BLOCK, STRIPE_MAGIC);
	n += block(s + n, 0, 0, 0);
	run("an empty block", s, n, "protocol error: bad block (offset 0, "
	    "0 bytes) on connection 1", 0);

	n = header(s, 1, BLOCK, STRIPE_MAGIC);
	n += block(s + n, 100, 10, 10);
	run("a misaligned block", s, n, "protocol error: bad block "
	    "(offset 100, 10 bytes) on connection 1", 0);

	n = header(s, 1, BLOCK, STRIPE_MAGIC);
	n += block(s + n, 0, BLOCK + 1, BLOCK + 1);
	run("a block too long", s, n, "protocol error: bad block (offset 0, "
	    "4097 bytes) on connection 1", 0);

	n = header(s, 1, BLOCK, STRIPE_MAGIC);
	n += block(s + n, 0, BLOCK, BLOCK);
	n += block(s + n, 0, BLOCK, BLOCK);
	run("a block twice", s, n, "protocol error: block at offset 0 "
	    "repeated or past the end", 0);

	n = header(s, 1, BLOCK, STRIPE_MAGIC);
	n += block(s + n, BLOCK, BLOCK, BLOCK);
	n += block(s + n, BLOCK, BLOCK, BLOCK);
	run("a block twice, ahead", s, n, "protocol error: block at offset "
	    "4096 repeated", 0);

	n = header(s, 1, BLOCK, STRIPE_MAGIC);
	n += block(s + n, 0, 10, 10);
	n += block(s + n, BLOCK, 10, 10);
	run("past a short block", s, n, "protocol error: block at offset "
	    "4096 repeated or past the end", 0);

	n = header(s, 1, BLOCK, STRIPE_MAGIC);
	n += block(s + n, 2 * BLOCK, BLOCK, BLOCK);
	n += block(s + n, 0, 10, 10);
	run("a short block before data", s, n,
	    "protocol error: data past the end", 0);

	n = header(s, 1, BLOCK, STRIPE_MAGIC);
	n += block(s + n, 0, BLOCK, BLOCK);
	n += block(s + n, 2 * BLOCK, BLOCK, BLOCK);
	run("a block missing", s, n, "protocol error: a block is missing at "
	    "offset 4096", 0);

	n = header(s, 1, BLOCK, STRIPE_MAGIC);
	n += block(s + n, 0, BLOCK, BLOCK);
	run("cut inside a block", s, n - 1, "protocol error: connection 1 "
	    "ended inside a block", 0);

	n = header(s, 1, BLOCK, STRIPE_MAGIC);
	run("cut inside the header", s, n - 1, "protocol error: connection 1 "
	    "ended inside a block", 0);

	n = header(s, 1, BLOCK, STRIPE_MAGIC);
	n += block(s + n, 0, BLOCK, BLOCK);
	(void)block(s + n, BLOCK, 10, 0);
	run("cut inside a block header", s, n + 5, "protocol error: "
	    "connection 1 ended inside a block", 0);

	/* A block further ahead than the slots hold waits for the output
	 * to move on: with nothing else to come, the gap is the verdict,
	 * not a wait without end. */
	n = header(s, 1, BLOCK, STRIPE_MAGIC);
	n += block(s + n, (uint64_t)(STRIPE_AHEAD / BLOCK) * BLOCK, BLOCK,
	    BLOCK);
	run("a block beyond the slots, then the end", s, n, "protocol error: "
	    "a block is missing at offset 0", 0);

	n = header(s, 1, BLOCK, STRIPE_MAGIC);
	n += block(s + n, 0, 10, 10);
	n += block(s + n, UINT64_MAX - BLOCK + 1, BLOCK, BLOCK);
	run("past the end, offset and length wrapping", s, n,
	    "protocol error: block at offset 18446744073709547520 repeated "
	    "or past the end", 0);

	printf("%d checks, %d failed\n", checks, failed);
	return failed != 0;
}
