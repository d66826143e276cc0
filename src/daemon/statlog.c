/* daemon/statlog: chrony's statistics log files (see statlog.h). */
#include "daemon/statlog.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static const char *const names[] = {"measurements", "statistics", "tracking"};

static const char *const headers[] = {
    "   Date (UTC) Time     IP Address   L St 123 567 ABCD  LP RP Score    Offset  Peer del. "
    "Peer disp.  Root del. Root disp. Refid     MTxRx",
    "   Date (UTC) Time     IP Address    Std dev'n Est offset  Offset sd  Diff freq   Est skew"
    "  Stress  Ns  Bs  Nr  Asym",
    "   Date (UTC) Time     IP Address   St   Freq ppm   Skew ppm     Offset L Co  Offset sd "
    "Rem. corr. Root delay Root disp. Max. error",
};

const char *statlog_header(enum statlog_kind kind)
{
    return headers[kind];
}

static void format_time(char *buf, size_t len, int64_t real_ns)
{
    time_t t = (time_t)(real_ns / 1000000000LL);
    struct tm tm;
    if (!gmtime_r(&t, &tm) || !strftime(buf, len, "%Y-%m-%d %H:%M:%S", &tm))
        snprintf(buf, len, "0000-00-00 00:00:00");
}

static const char *addr_text(const struct addr *a, char *buf, size_t len)
{
    if (a->family == ADDR_UNSPEC) {
        snprintf(buf, len, "0.0.0.0");
        return buf;
    }
    return addr_format(a, buf, len);
}

static int bit(unsigned tests, unsigned mask)
{
    return (tests & mask) != 0;
}

int statlog_format_measurement(char *buf, size_t len, const struct statlog_measurement *m)
{
    char when[32], ip[ADDR_TEXT_MAX];
    format_time(when, sizeof when, m->real_ns);
    unsigned t = m->tests;
    return snprintf(buf, len,
                    "%s %-15s %1c %2d %1d%1d%1d %1d%1d%1d %1d%1d%1d%d  %2d %2d %4.2f %10.3e "
                    "%10.3e %10.3e %10.3e %10.3e %08X %1d%1c %1c %1c",
                    when, addr_text(&m->remote, ip, sizeof ip), m->leap, m->stratum, bit(t, 0x200),
                    bit(t, 0x100), bit(t, 0x080), bit(t, 0x040), bit(t, 0x020), bit(t, 0x010),
                    bit(t, 0x008), bit(t, 0x004), bit(t, 0x002), bit(t, 0x001), m->local_poll,
                    m->remote_poll, m->score, m->offset_s, m->peer_delay_s, m->peer_disp_s,
                    m->root_delay_s, m->root_disp_s, (unsigned)m->ref_id, m->mode,
                    m->interleaved ? 'I' : 'B', m->tx_source, m->rx_source);
}

int statlog_format_statistics(char *buf, size_t len, const struct statlog_statistics *s)
{
    char when[32], ip[ADDR_TEXT_MAX];
    format_time(when, sizeof when, s->real_ns);
    return snprintf(buf, len, "%s %-15s %10.3e %10.3e %10.3e %10.3e %10.3e %7.1e %3d %3d %3d %5.2f",
                    when, addr_text(&s->remote, ip, sizeof ip), s->sd_s, s->est_offset_s,
                    s->offset_sd_s, s->diff_freq, s->skew, s->stress, s->n_samples, s->best_start,
                    s->n_runs, s->asymmetry);
}

int statlog_format_tracking(char *buf, size_t len, const struct statlog_tracking *t)
{
    char when[32], ip[ADDR_TEXT_MAX];
    format_time(when, sizeof when, t->real_ns);
    const char *ref = t->ref_name ? t->ref_name : addr_text(&t->ref_addr, ip, sizeof ip);
    return snprintf(
        buf, len, "%s %-15s %2d %10.3f %10.3f %10.3e %1c %2d %10.3e %10.3e %10.3e %10.3e %10.3e",
        when, ref, t->stratum, t->freq_ppm, t->skew_ppm, t->offset_s, t->leap, t->n_combined,
        t->offset_sd_s, t->remaining_s, t->root_delay_s, t->root_disp_s, t->max_error_s);
}

struct statlog {
    char path[PATH_MAX];
    enum statlog_kind kind;
    int banner_every;
    unsigned long lines;
    FILE *f;
};

struct statlog *statlog_new(const char *logdir, enum statlog_kind kind, int banner_every)
{
    struct statlog *l = calloc(1, sizeof *l);
    if (!l)
        return NULL;
    snprintf(l->path, sizeof l->path, "%s/%s.log", logdir, names[kind]);
    l->kind = kind;
    l->banner_every = banner_every;
    return l;
}

void statlog_free(struct statlog *l)
{
    if (!l)
        return;
    if (l->f)
        fclose(l->f);
    free(l);
}

void statlog_cycle(struct statlog *l)
{
    if (l->f)
        fclose(l->f);
    l->f = NULL;
    l->lines = 0;
}

int statlog_write(struct statlog *l, const char *line)
{
    if (!l->f) {
        l->f = fopen(l->path, "a");
        if (!l->f)
            return -errno;
    }
    if (l->banner_every > 0 && l->lines % (unsigned long)l->banner_every == 0) {
        size_t w = strlen(headers[l->kind]);
        char eq[200];
        if (w >= sizeof eq)
            w = sizeof eq - 1;
        memset(eq, '=', w);
        eq[w] = '\0';
        fprintf(l->f, "%s\n%s\n%s\n", eq, headers[l->kind], eq);
    }
    l->lines++;
    fprintf(l->f, "%s\n", line);
    /* Each line reaches the file at once: tests and tail -f read it while we run. */
    if (fflush(l->f) != 0)
        return -errno;
    return 0;
}
