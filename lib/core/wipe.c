/* wipe.c: erasing secrets (wipe.h). */
#define _DEFAULT_SOURCE	/* explicit_bzero */
#include <string.h>

#include "wipe.h"

void
wipe(void *p, size_t n)
{
	if (p != NULL && n > 0)
		explicit_bzero(p, n);
}
