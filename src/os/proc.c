/* os/proc: detach, scheduling priority, memory lock (see proc.h). */
#include "os/proc.h"

#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <unistd.h>

int proc_detach(void)
{
    int p[2];
    if (pipe(p) != 0)
        return -errno;
    pid_t pid = fork();
    if (pid < 0) {
        int e = -errno;
        close(p[0]);
        close(p[1]);
        return e;
    }
    if (pid > 0) {
        /* The foreground process: relay the outcome, then leave. */
        close(p[1]);
        char buf[1024];
        size_t used = 0;
        for (;;) {
            ssize_t n = read(p[0], buf + used, sizeof buf - 1 - used);
            if (n < 0 && errno == EINTR)
                continue;
            if (n <= 0)
                break;
            used += (size_t)n;
            if (used == sizeof buf - 1)
                break;
        }
        buf[used] = '\0';
        if (used == 0) /* the child died before saying anything */
            exit(1);
        if (!strncmp(buf, "OK", 2) && used == 2)
            exit(0);
        fprintf(stderr, "%s\n", buf);
        exit(1);
    }
    close(p[0]);
    (void)setsid();
    if (chdir("/") != 0) {
        /* not fatal: only keeps a mount busy */
    }
    int fd = open("/dev/null", O_RDWR);
    if (fd >= 0) {
        (void)dup2(fd, 0);
        (void)dup2(fd, 1);
        (void)dup2(fd, 2);
        if (fd > 2)
            close(fd);
    }
    (void)fcntl(p[1], F_SETFD, FD_CLOEXEC);
    return p[1];
}

void proc_detach_done(int fd, const char *fatal_msg)
{
    if (fd < 0)
        return;
    const char *m = fatal_msg ? fatal_msg : "OK";
    size_t len = strlen(m);
    while (len > 0) {
        ssize_t n = write(fd, m, len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            break;
        m += n;
        len -= (size_t)n;
    }
    close(fd);
}

int proc_set_fifo_priority(int prio)
{
    int lo = sched_get_priority_min(SCHED_FIFO), hi = sched_get_priority_max(SCHED_FIFO);
    if (prio < lo)
        prio = lo;
    if (prio > hi)
        prio = hi;
    struct sched_param sp = {.sched_priority = prio};
    return sched_setscheduler(0, SCHED_FIFO, &sp) == 0 ? 0 : -errno;
}

int proc_lock_memory(void)
{
    /* MCL_FUTURE makes later allocations count against RLIMIT_MEMLOCK, and CAP_IPC_LOCK is
     * gone after the privilege drop: lift the limit while still privileged, as chronyd -m. */
    struct rlimit unlimited = {RLIM_INFINITY, RLIM_INFINITY};
    (void)setrlimit(RLIMIT_MEMLOCK, &unlimited);
    return mlockall(MCL_CURRENT | MCL_FUTURE) == 0 ? 0 : -errno;
}
