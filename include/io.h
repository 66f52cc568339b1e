/*
 * io.h: reads and writes that survive short transfers and EINTR.  Every
 * program moves its bytes through these, so the retry logic lives once.
 */
#ifndef RCP_IO_H
#define RCP_IO_H

#include <signal.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <sys/uio.h>

/*
 * The blocking calls below also work on a descriptor inherited in
 * non-blocking mode: on EAGAIN they wait in poll(2) and retry, as if the
 * descriptor blocked.
 */

/*
 * Reads until n bytes arrived or EOF.  Returns the number of bytes read
 * (less than n only at EOF), or -1 with errno set; then *before_error,
 * unless NULL, receives how many bytes did arrive (for an exact offset).
 */
ssize_t io_read_full(int fd, void *buf, size_t n, size_t *before_error);

/* Reads at most n bytes, retrying EINTR.  Returns bytes, 0 at EOF, -1. */
ssize_t io_read_some(int fd, void *buf, size_t n);

/*
 * For a caller whose poll(2) said fd is readable: as io_read_some, but
 * never waits; EAGAIN (another reader of the pipe was first) is returned.
 */
ssize_t io_read_ready(int fd, void *buf, size_t n);

/* Writes all n bytes.  Returns 0, or -1 with errno set (EPIPE included). */
int io_write_full(int fd, const void *buf, size_t n);

/*
 * Writes what fd takes now, without waiting for a slow reader, leaving
 * the file's O_NONBLOCK flag (shared with other processes) alone: for a
 * caller with other work to do meanwhile.  Pipes and sockets are written
 * with pwritev2's RWF_NOWAIT; a pipe that refuses it (a FIFO opened by
 * name) through a second, non-blocking description of its own, opened
 * by /proc/self/fd.  Anything else (files: on XFS a no-wait write can
 * fail with EAGAIN for good, while poll says ready; ttys; devices), or a
 * pipe when /proc is missing, gets all n bytes written, waiting as
 * io_write_full does.  *w is the caller's memory of which it is
 * (IO_NOWAIT_INIT before the first call); io_nowait_close closes the
 * description, which the caller must do before it closes fd, or the
 * reader never sees end-of-file.  Returns the bytes written (0: nothing
 * now, poll fd for POLLOUT), or -1 with errno set.
 */
struct io_nowait {
	int mode;
	int fd;		/* our own non-blocking description, or -1 */
};
#define IO_NOWAIT_INIT { 0, -1 }
ssize_t io_write_nowait(int fd, const void *buf, size_t n,
    struct io_nowait *w);
void io_nowait_close(struct io_nowait *w);

/*
 * As io_write_full, but gives up when a signal interrupts it (EINTR) and
 * *stop is set, returning -1 with errno EINTR: a program blocked on a
 * stalled reader can still act on SIGINT/SIGTERM.  The handler must be
 * installed without SA_RESTART.
 */
int io_write_full_or_stop(int fd, const void *buf, size_t n,
    volatile sig_atomic_t *stop);

/*
 * Writes every byte described by iov[0..iovcnt).  The array is modified
 * as partial writes advance through it.  Returns 0, or -1 with errno set.
 */
int io_writev_full(int fd, struct iovec *iov, int iovcnt);

/*
 * Whether io_splice_some may work between in_fd and out_fd: splice(2)
 * needs a pipe on one side.  Only the call can tell the rest (a file
 * opened O_APPEND, a tty, a kernel without splice for that file: all
 * EINVAL).
 */
int io_splice_candidate(int in_fd, int out_fd);

/*
 * Moves up to n bytes from in_fd to out_fd with splice(2), at the file
 * position of each, without a copy through user space.  Retries EINTR.
 * Returns the bytes moved (fewer than n is not an end), 0 at the end of
 * in_fd, or -1 with errno set; then no byte moved in that call, and the
 * caller falls back to read and write, which moves the same bytes or
 * meets the same fault and says on which side: splice cannot tell a
 * read error from a write error.  EAGAIN (a descriptor inherited in
 * non-blocking mode) is returned too, as the fallback waits in poll(2).
 */
ssize_t io_splice_some(int in_fd, int out_fd, size_t n);

/*
 * Asks the kernel for a larger pipe buffer when fd is a pipe; a quiet
 * no-op otherwise.  Fewer, larger transfers per system call is the
 * cheapest throughput win on these machines.
 */
void io_grow_pipe(int fd, size_t want);

/* What the programs ask io_grow_pipe for: Linux's default pipe-max-size. */
#define IO_PIPE_SIZE (1024u * 1024u)

/*
 * Closes standard output and reports what only close(2) may reveal (a
 * deferred write error on NFS, say), so that a program never exits 0 with
 * its output lost.  Returns 0, or -1 with errno set.
 */
int io_close_stdout(void);

/*
 * fsync(2)s standard output when it is a regular file (other kinds
 * cannot be synced), so that data a program confirms as delivered is on
 * disk.  Returns 0, or -1 with errno set.
 */
int io_sync_stdout(void);

/* True when fd is a regular file; *size_out receives its size. */
int io_regular_size(int fd, uint64_t *size_out);

/*
 * A program started with stdin, stdout or stderr closed would hand that
 * number to the next file or socket it opens, and then read or write
 * its data there.  Puts /dev/null in each closed one, opened the other
 * way round, so that using it still fails with EBADF, as on a closed
 * descriptor.  Call first thing in main.  Returns 0, or -1 (errno).
 */
int io_guard_stdfds(void);

#endif
