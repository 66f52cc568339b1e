/*
 * parse.h: strict number parsing for options.
 */
#ifndef RCP_PARSE_H
#define RCP_PARSE_H

#include <stdint.h>

/*
 * Parses a byte count with an optional binary suffix, in either case (K,
 * M, G; also KiB, MiB, GiB: powers of 1024; never KB, which some read as
 * 1000) and checks min <= value <= max.  Returns 0, or -1 with errno
 * EINVAL (not a size: PARSE_SIZE_FORMS says what is) or ERANGE (out of
 * bounds).
 */
#define PARSE_SIZE_FORMS "a byte count, or one with k, m or g " \
	"(KiB, MiB, GiB: powers of 1024)"
int parse_size(const char *s, uint64_t min, uint64_t max, uint64_t *out);

/* Plain decimal integer, no suffix, min <= value <= max.  As above. */
int parse_uint(const char *s, uint64_t min, uint64_t max, uint64_t *out);

#endif
