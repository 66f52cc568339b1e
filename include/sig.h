/*
 * sig.h: catching the signals that ask a program to stop.
 */
#ifndef RCP_SIG_H
#define RCP_SIG_H

/*
 * Installs handler for SIGINT, SIGTERM and SIGHUP, without SA_RESTART
 * (a blocked poll or write returns EINTR), leaving alone a signal the
 * parent chose to ignore (nohup).
 */
void sig_catch_stops(void (*handler)(int));

#endif
