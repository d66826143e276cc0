/* tempusd's runtime: from a parsed command line and configuration to a running daemon.
 *
 * Start-up order as chronyd's: log sink -> pidfile -> directories -> clock driver (the Linux
 * clock, or the null clock with -x, -Q, or when the clock cannot be controlled) -> drift
 * file -> engine -> names resolved -> sockets -> privilege drop -> main loop. At exit (signal,
 * -t, one-shot done): drift file written, pidfile removed. See docs/design/daemon.md.
 */
#ifndef TEMPUS_DAEMON_DAEMON_H
#define TEMPUS_DAEMON_DAEMON_H

struct options;
struct conf;

/* What tempusd -v lists, in chronyd's form. */
#ifdef TEMPUS_HAVE_SECCOMP
#define DAEMON_SCFILTER "+SCFILTER"
#else
#define DAEMON_SCFILTER "-SCFILTER"
#endif
#define DAEMON_FEATURES                                                                            \
    "+CMDMON +NTP -REFCLOCK -RTC +PRIVDROP " DAEMON_SCFILTER                                       \
    " -SIGND +ASYNCDNS -NTS -SECHASH +IPV6 -DEBUG"

/* Runs until told to stop. c is borrowed (and may be modified: client-only defaults of -Q).
 * Returns the process exit status: 0, or 1 on a fatal error, a failed one-shot, or -t
 * expiring unsynchronised. Logs "Fatal error : ..." itself. */
int daemon_run(const struct options *o, struct conf *c);

/* Installs the log sink chronyd-style: "YYYY-MM-DDTHH:MM:SSZ msg" lines on stderr (to_stderr)
 * or appended to log_file, else syslog with ident "tempusd"; min_level from -L. Call first. */
void daemon_setup_logging(int to_stderr, const char *log_file, int level);

/* Without -n/-d: detaches into the background (os/proc). The foreground process exits 0
 * once daemon_run() is initialised, or prints the first "Fatal error" message and exits 1.
 * Call after daemon_setup_logging(), before reading the configuration. */
void daemon_detach(void);

/* Tells the foreground process (if any) the outcome: initialised, or the last fatal error
 * logged. Idempotent; main() calls it before returning. */
void daemon_detach_finish(void);

#endif
