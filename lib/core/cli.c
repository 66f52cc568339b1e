/* cli.c: command-line rules every program shares (cli.h). */
#include <stddef.h>
#include <string.h>

#include "cli.h"
#include "rcp.h"

int
cli_file_operand(int argc, char *const argv[], const char **path)
{
	*path = NULL;
	if (argc > 1)
		return -1;
	if (argc == 1 && strcmp(argv[0], "-") != 0)
		*path = argv[0];
	return 0;
}

const char *
cli_progress_label(const char *name)
{
	return name != NULL && name[0] != '\0' ? name : diag_progname();
}
