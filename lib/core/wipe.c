/* wipe.c: erasing secrets (wipe.h). */
#define _DEFAULT_SOURCE	/* explicit_bzero */
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>

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

unsigned
secret_file_loose(int fd, const char *path)
{
	struct stat st;

	if (strncmp(path, "/dev/fd/", 8) == 0 || fstat(fd, &st) != 0 ||
	    !S_ISREG(st.st_mode) || (st.st_mode & (S_IRWXG | S_IRWXO)) == 0)
		return 0;
	return (unsigned)(st.st_mode & 07777);
}
