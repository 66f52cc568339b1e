/* wipe.c: erasing secrets (wipe.h). */
#define _DEFAULT_SOURCE	/* explicit_bzero */
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>

#include "wipe.h"

void
wipe(void *p, size_t n)
{
	if (p != NULL && n > 0)
		explicit_bzero(p, n);
}

int
secrets_guard(void)
{
	struct rlimit none = { 0, 0 };

	if (setrlimit(RLIMIT_CORE, &none) != 0)
		return -1;
	return prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) != 0 ? -1 : 0;
}
