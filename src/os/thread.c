/* os/thread: threads with signals blocked, mutexes (see thread.h). */
#include "os/thread.h"

#include <assert.h>
#include <errno.h>
#include <sched.h>
#include <signal.h>
#include <stdlib.h>

struct start {
    void (*fn)(void *arg);
    void *arg;
};

static void *trampoline(void *p)
{
    struct start s = *(struct start *)p;
    free(p);
    s.fn(s.arg);
    return NULL;
}

int thread_start(struct thread *t, void (*fn)(void *arg), void *arg)
{
    t->started = 0;
    struct start *s = malloc(sizeof *s);
    if (!s)
        return -ENOMEM;
    s->fn = fn;
    s->arg = arg;
    /* The new thread inherits the creator's mask: block everything around the creation. */
    sigset_t all, old;
    sigfillset(&all);
    int r = pthread_sigmask(SIG_SETMASK, &all, &old);
    if (r != 0) {
        free(s);
        return -r;
    }
    r = pthread_create(&t->id, NULL, trampoline, s);
    (void)pthread_sigmask(SIG_SETMASK, &old, NULL);
    if (r != 0) {
        free(s);
        return -r;
    }
    t->started = 1;
    return 0;
}

void thread_join(struct thread *t)
{
    if (!t->started)
        return;
    int r = pthread_join(t->id, NULL);
    assert(r == 0);
    (void)r;
    t->started = 0;
}

int thread_mutex_init(struct thread_mutex *m)
{
    return -pthread_mutex_init(&m->m, NULL);
}

void thread_mutex_destroy(struct thread_mutex *m)
{
    (void)pthread_mutex_destroy(&m->m);
}

void thread_mutex_lock(struct thread_mutex *m)
{
    int r = pthread_mutex_lock(&m->m);
    assert(r == 0);
    (void)r;
}

void thread_mutex_unlock(struct thread_mutex *m)
{
    int r = pthread_mutex_unlock(&m->m);
    assert(r == 0);
    (void)r;
}

void thread_yield(void)
{
    (void)sched_yield();
}
