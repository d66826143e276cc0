/* Signals handled by flag: the handler records the signal; the main loop's poll() returns
 * EINTR and the loop's check function reads the flag. No self-pipe, no signalfd
 * (ARCHITECTURE.md's system-call surface). */
#ifndef TEMPUS_OS_SIGNALS_H
#define TEMPUS_OS_SIGNALS_H

/* Installs flag handlers for SIGINT, SIGTERM, SIGQUIT and SIGHUP (all mean "exit in order",
 * as chronyd) without SA_RESTART, and ignores SIGPIPE. 0 or -errno. */
int signals_install(void);

/* The last terminating signal caught (and not yet cleared), or 0. */
int signals_pending(void);

/* Forgets a caught signal (for tests). */
void signals_clear(void);

#endif
