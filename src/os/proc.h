/* Process set-up at start-up: detaching into the background (chronyd's way: the foreground
 * process waits until the daemon is initialised and reports its fatal error, if any), the
 * SCHED_FIFO priority of -P, and the memory lock of -m. All before the main loop: there is
 * no fork() after start-up. */
#ifndef TEMPUS_OS_PROC_H
#define TEMPUS_OS_PROC_H

/* Forks. The parent never returns: it waits on a pipe and exits 0 when the child calls
 * proc_detach_done(fd, NULL), or prints the child's message to stderr and exits 1. The child
 * starts a new session, changes to /, points stdin/stdout/stderr at /dev/null and returns
 * the pipe's write end (>= 0), or -errno when fork() failed (then nothing happened). */
int proc_detach(void);

/* Tells the waiting parent the outcome: NULL = initialised, else the fatal message. Closes fd.
 * fd < 0 is a no-op. */
void proc_detach_done(int fd, const char *fatal_msg);

/* SCHED_FIFO with priority prio (clamped to the allowed range). 0 or -errno. */
int proc_set_fifo_priority(int prio);

/* mlockall(MCL_CURRENT | MCL_FUTURE). 0 or -errno. */
int proc_lock_memory(void);

#endif
