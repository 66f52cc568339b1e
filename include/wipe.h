/*
 * wipe.h: the one way secrets (keys, IVs, private keys in PEM) are
 * erased from memory, in a way the compiler may not optimise out, and
 * kept out of core dumps.
 */
#ifndef RCP_WIPE_H
#define RCP_WIPE_H

#include <stddef.h>

/* Zeroes n bytes at p; p may be NULL when n is 0. */
void wipe(void *p, size_t n);

/*
 * For a program that will hold a secret: no core dump (RLIMIT_CORE 0)
 * and not dumpable (no core, no ptrace by the same user, /proc/PID/mem
 * closed).  Call before reading any secret.  Returns 0, or -1 (errno).
 */
int secrets_guard(void);

/*
 * The mode of a secret's file, fd opened from path, when group or others
 * may use it (as ssh refuses such a private key); 0 when it is private,
 * not a regular file, or a descriptor handed over as /dev/fd/N (the
 * caller's business).
 */
unsigned secret_file_loose(int fd, const char *path);

#endif
