/*
 * aescbc-enc: encrypts with AES-128-CBC, a whole stream as `openssl enc`
 * does or, with --frames, chunk by chunk inside an entropy stream
 * (SPEC §4).  The story is shared with aescbc-dec: see aescbc-filter.h.
 */
#include "aescbc-filter.h"

int
main(int argc, char *argv[])
{
	return aescbc_filter_main(argc, argv, 0);
}
