/*
 * stripe.h: a transfer striped over several connections (stripe.c,
 * stripe_send.c, stripe_recv.c), the protocol of quic.h.  Each
 * connection is an endpoint (quic_ep.h) in a thread of its own, joined
 * to the coordinator by a pipe: the sending coordinator deals the input
 * out in numbered blocks, the receiving one puts them back in order.
 */
#ifndef RCP_QUIC_STRIPE_H
#define RCP_QUIC_STRIPE_H

#include <pthread.h>

#include "quic_ep.h"

#define STRIPE_MAGIC "RCPSTRIP"
#define STRIPE_BLOCK (256u << 10)	/* what the sender deals out */
#define STRIPE_BLOCK_MIN 4096u		/* what a receiver takes */
#define STRIPE_BLOCK_MAX (16u << 20)
#define STRIPE_PIPE_SIZE (256u << 10)	/* F_SETPIPE_SZ wish */
#define STRIPE_READAHEAD (256u << 10)	/* unsent bytes a stripe holds */
#define STRIPE_WINDOW_MIN (4u << 20)
#define STRIPE_RING (8u << 20)		/* sender: the ring of each but the first */
/*
 * Receiver: bytes held ahead of the next block to write, for all
 * connections: two round trips of the whole rate must fit while one
 * connection recovers a loss (500 Mbit/s x 2 x 20 ms = 2.5 MB; 100
 * Mbit/s x 2 x 100 ms the same).
 */
#define STRIPE_AHEAD (32u << 20)
#define STRIPE_CANCELLED "another connection of the transfer failed"

/* Events from the endpoints' threads, on the notify pipe. */
enum stripe_event { EV_DONE = 1, EV_ACCEPTED, EV_CONFIRMED, EV_DECIDED };

struct stripe_hdr {
	unsigned index, count;
	uint32_t block;
	uint8_t id[16];
};

/* One connection. */
struct stripe {
	struct stripe_set *set;
	unsigned index;
	struct quic_opts o;	/* the caller's, with our fds */
	struct ep_link link;
	pthread_t thread;
	int running;		/* thread started, not joined */
	int ended;		/* EV_DONE seen */
	int confirmed;		/* connector: handshake confirmed */
	int rc;
	struct rcp_error e;
	struct quic_stats st;
	int rd, wr;		/* its data pipe; -1 once closed */
	char host[QUIC_HOST_MAX];	/* connector k > 0: numeric peer */
	/* Sender: the block on its way into the pipe. */
	uint8_t *buf;
	size_t len, off;
	/* Receiver: where its stream is. */
	uint8_t hdr[QUIC_STRIPE_HDR_LEN];
	size_t hdr_got;
	uint8_t bh[QUIC_STRIPE_BLOCK_HDR_LEN];
	size_t bh_got;
	struct stripe_slot *slot;	/* the block being filled: a set->slots */
	uint32_t blk_left;
	int waiting;		/* a block header whose block has no slot yet */
	int eof;
};

/* Receiver: a block waiting for its turn. */
struct stripe_slot {
	uint8_t *data;
	uint64_t index;		/* block number */
	uint32_t len, filled;
	int used;
};

struct stripe_set {
	const struct quic_opts *o;	/* the caller's */
	const struct quic_identity *id;	/* one identity for all */
	int is_sender, is_server;
	pthread_mutex_t lock;	/* what the hooks touch */
	int notify[2];		/* endpoints -> coordinator */
	int cancel[2];		/* close [1]: every endpoint stops */
	int finish[2];		/* receiver: close [1]: output finished */
	int striped;		/* receiver: the coordinator runs */
	int decided;		/* sender: count is set (EV_DECIDED) */
	int finish_done, finish_rc;
	struct rcp_error finish_e;
	pthread_t coordinator;	/* receiver */
	int coordinator_running;
	unsigned count;		/* connections in the transfer, 0: unknown */
	unsigned started;	/* stripes[0..started) */
	struct stripe s[QUIC_CONNECTIONS_MAX];
	int listen_fd;		/* handed on by the last accepted, or -1 */
	char peer_pin[QUIC_PIN_SIZE];	/* listener: the first client's */
	sockaddr_u peer_addr;		/* ... and its address */
	struct stripe_hdr hdr;	/* sender: ours; receiver: the first */
	int have_hdr;
	int failed;		/* e is the verdict */
	struct rcp_error e;
	int data_failed;	/* ours: the input or the output failed */
	char reason[QUIC_REASON_MAX + 1];	/* the peer is told */
	/* Sender. */
	uint64_t dealt;		/* input bytes dealt out */
	uint8_t *fill;		/* the block being read */
	size_t fill_len;
	int in_eof;
	/* Receiver. */
	struct stripe_slot *slots;
	size_t nslots;
	uint64_t next;		/* the next block to write */
	uint64_t written;	/* bytes written to the output */
	uint64_t end;		/* bytes in the stream, once known */
	int end_known;
	size_t woff;		/* of the next block, written so far */
	struct io_nowait w;
	int out_stalled;
};

/* stripe.c */
int stripe_start(struct stripe_set *set, unsigned k);
void stripe_notify(struct stripe_set *set, enum stripe_event ev, unsigned k);
int stripe_event(struct stripe_set *set, enum stripe_event *ev, unsigned *k);
/* The coordinators' common ground: what the notify pipe holds now,
 * and poll (0, or -1 with the set failed). */
void stripe_events(struct stripe_set *set);
int stripe_poll(struct stripe_set *set, struct pollfd *pfd, int nfd);
void stripe_fail(struct stripe_set *set, const struct rcp_error *e);
void stripe_cancel_all(struct stripe_set *set, const char *reason);
int stripe_start_next(struct stripe_set *set, unsigned k);
void stripe_ended(struct stripe_set *set, unsigned k);
int stripe_all_ended(const struct stripe_set *set);
void stripe_hdr_encode(const struct stripe_hdr *h,
    uint8_t out[QUIC_STRIPE_HDR_LEN]);
int stripe_hdr_decode(const uint8_t in[QUIC_STRIPE_HDR_LEN],
    struct stripe_hdr *h);

/* stripe_send.c: the sending coordinator's loop.  0 or -1 (set->e). */
int stripe_send_run(struct stripe_set *set);
/* EV_DECIDED: the first connection said how many there are. */
void stripe_send_decided(struct stripe_set *set);
/* stripe_recv.c: the receiving coordinator's loop (its own thread). */
void *stripe_recv_run(void *arg);

#endif
