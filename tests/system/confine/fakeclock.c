/* LD_PRELOAD interposer for tests that run tempusd WITHOUT -x: every clock-setting call of
 * glibc's API is answered here and never reaches the kernel. clock_adjtime/adjtimex/
 * ntp_adjtime keep a fake kernel state (frequency, tick, status, offset, errors) that reads
 * (modes 0) return and writes update; clock_settime/settimeofday/stime succeed and do
 * nothing. Nothing passes through, reads included, so any such system call that still shows
 * up under strace came from somewhere else (a raw syscall()) and fails the test.
 * Each call is logged as one line "NAME modes=0x.. freq=.. status=0x.." to the file named by
 * FAKECLOCK_LOG (opened at the first call, before tempusd drops privileges, and kept open).
 * Built by tests/system/confine/clockcaps.sh; test code only. */
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <sys/timex.h>
#include <time.h>
#include <unistd.h>

static struct timex fake = {.tick = 10000,
                            .status = STA_UNSYNC,
                            .maxerror = 16000000,
                            .esterror = 16000000,
                            .constant = 2,
                            .precision = 1,
                            .tolerance = 32768000};
static int log_fd = -2;

static void note(const char *name, unsigned modes)
{
    if (log_fd == -2) {
        const char *p = getenv("FAKECLOCK_LOG");
        log_fd = p ? open(p, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644) : -1;
    }
    if (log_fd < 0)
        return;
    char line[160];
    int n = snprintf(line, sizeof line, "%s modes=0x%x freq=%ld tick=%ld status=0x%x\n", name,
                     modes, fake.freq, fake.tick, (unsigned)fake.status);
    if (n > 0)
        (void)write(log_fd, line, (size_t)n);
}

static int fake_adj(const char *name, struct timex *tx)
{
    unsigned m = tx->modes;
    if (m & ADJ_FREQUENCY)
        fake.freq = tx->freq;
    if (m & ADJ_TICK)
        fake.tick = tx->tick;
    if (m & ADJ_STATUS)
        fake.status = tx->status;
    if (m & ADJ_MAXERROR)
        fake.maxerror = tx->maxerror;
    if (m & ADJ_ESTERROR)
        fake.esterror = tx->esterror;
    if (m & ADJ_TIMECONST)
        fake.constant = tx->constant;
    if ((m & ADJ_OFFSET) && !(m & 0x2000)) /* not ADJ_OFFSET_SS_READ (adjtime() reads) */
        fake.offset = tx->offset;
    note(name, m);
    struct timex out = fake;
    out.modes = m;
    if (m & ADJ_SETOFFSET)
        out.time = tx->time;
    else {
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        out.time.tv_sec = ts.tv_sec;
        out.time.tv_usec = (m & ADJ_NANO) ? ts.tv_nsec : ts.tv_nsec / 1000;
    }
    *tx = out;
    return fake.status & STA_UNSYNC ? TIME_ERROR : TIME_OK;
}

int clock_adjtime(clockid_t clk, struct timex *tx)
{
    (void)clk;
    return fake_adj("clock_adjtime", tx);
}

int adjtimex(struct timex *tx)
{
    return fake_adj("adjtimex", tx);
}

int ntp_adjtime(struct timex *tx)
{
    return fake_adj("ntp_adjtime", tx);
}

int clock_settime(clockid_t clk, const struct timespec *ts)
{
    (void)clk;
    (void)ts;
    note("clock_settime", 0xffffffffu);
    return 0;
}

int settimeofday(const struct timeval *tv, const struct timezone *tz)
{
    (void)tv;
    (void)tz;
    note("settimeofday", 0xffffffffu);
    return 0;
}

int stime(const time_t *t);
int stime(const time_t *t)
{
    (void)t;
    note("stime", 0xffffffffu);
    return 0;
}
