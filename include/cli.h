/*
 * cli.h: the options every program shares (SPEC §1).
 */
#ifndef RCP_CLI_H
#define RCP_CLI_H

#include <getopt.h>

/* Long options every program accepts; put them last in its table. */
#define CLI_LONGOPTS_COMMON \
	{ "help", no_argument, NULL, 'h' }, \
	{ "version", no_argument, NULL, 'V' }

#endif
