/* Threads and mutexes for the optional NTP server workers (`serverworkers`). The default
 * daemon is single-threaded (ARCHITECTURE.md's system-call surface); nothing here runs unless
 * workers are configured.
 *
 * A thread started here has every signal blocked, so that SIGTERM, SIGINT, SIGHUP... always
 * reach the main thread, whose poll() they interrupt (os/signals, os/loop): a worker never
 * runs a handler and never steals the EINTR the main loop waits for.
 */
#ifndef TEMPUS_OS_THREAD_H
#define TEMPUS_OS_THREAD_H

#include <pthread.h>

struct thread {
    pthread_t id;
    int started;
};

/* Starts fn(arg) in a new thread with all signals blocked. t is the caller's (it must stay
 * valid until thread_join). 0 or -errno (t->started stays 0). */
int thread_start(struct thread *t, void (*fn)(void *arg), void *arg);

/* Waits for t to return; a thread that was not started is a no-op. */
void thread_join(struct thread *t);

/* A plain (non-recursive) mutex. */
struct thread_mutex {
    pthread_mutex_t m;
};

/* 0 or -errno. */
int thread_mutex_init(struct thread_mutex *m);
void thread_mutex_destroy(struct thread_mutex *m);
void thread_mutex_lock(struct thread_mutex *m);
void thread_mutex_unlock(struct thread_mutex *m);

/* Lets other threads run (a spin-wait's pause). */
void thread_yield(void);

#endif
