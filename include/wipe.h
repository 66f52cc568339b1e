/*
 * wipe.h: the one way secrets (keys, IVs, private keys in PEM) are
 * erased from memory, in a way the compiler may not optimise out.
 */
#ifndef RCP_WIPE_H
#define RCP_WIPE_H

#include <stddef.h>

/* Zeroes n bytes at p; p may be NULL when n is 0. */
void wipe(void *p, size_t n);

#endif
