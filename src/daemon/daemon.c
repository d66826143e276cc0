/* daemon/daemon: tempusd's runtime (see daemon.h). */
#include "daemon/daemon.h"

#include <errno.h>
#include <float.h>
#include <math.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include "base/log.h"
#include "core/engine.h"
#include "core/report.h"
#include "core/tzif.h"
#include "daemon/clockguard.h"
#include "daemon/cmdsrv_io.h"
#include "daemon/conf.h"
#include "daemon/conf_engine.h"
#include "daemon/conf_files.h"
#include "daemon/driftfile.h"
#include "daemon/dump.h"
#include "daemon/executor.h"
#include "daemon/keyfile.h"
#include "daemon/options.h"
#include "daemon/smoothing.h"
#include "daemon/statlog.h"
#include "os/clock_linux.h"
#include "os/clock_null.h"
#include "os/files.h"
#include "os/loop.h"
#include "os/notify.h"
#include "os/privs.h"
#include "os/proc.h"
#include "os/resolve.h"
#include "os/seccomp.h"
#include "os/signals.h"
#include "tempus_config.h"

#ifndef TEMPUS_ZONEINFO_DIR
#define TEMPUS_ZONEINFO_DIR "/usr/share/zoneinfo"
#endif

/* The drift file is rewritten at most this often (chronyd: hourly) and at exit. */
#define DRIFT_SAVE_INTERVAL_NS (3600LL * 1000000000LL)
/* With -d, a tracking/sources summary goes to stderr at most this often: every 2 s during
 * the first 20 s (to show the start converging), then every 10 s. */
#define STATUS_INTERVAL_NS      (10LL * 1000000000LL)
#define STATUS_FAST_INTERVAL_NS (2LL * 1000000000LL)
#define STATUS_FAST_PERIOD_NS   (20LL * 1000000000LL)
/* Addresses taken from one pool name (chronyd's maxsources default is 4; the directive
 * option caps it further). */
#define POOL_MAX_ADDRS 16
/* Host names resolved beside the loop, and how often their lookups are polled. */
#define MAX_PENDING_NAMES 64
#define RESOLVE_POLL_NS   (100LL * 1000000LL)
/* Sources from a host name (server/pool NAME) that stay unreachable are replaced by a fresh
 * resolution, as chronyd does: unreachable = no reply to the last REPLACE_AFTER_TX requests
 * (chronyd: a full, empty reachability register, 8 polls). Checked every REPLACE_CHECK_NS;
 * a name whose lookup gave nothing new is tried again after 8, 16 ... 512 s. */
#define REPLACE_AFTER_TX   8
#define REPLACE_CHECK_NS   (2LL * 1000000000LL)
#define REPLACE_MIN_WAIT_S 8
#define REPLACE_MAX_SHIFT  6

/* ---- Logging ---- */

static FILE *log_stream;
static int log_to_syslog;
/* Detached start-up: the pipe to the waiting foreground process, and the fatal message it
 * must print if start-up fails. */
static int detach_fd = -1;
static char fatal_msg[512];

static void sink(void *ctx, enum log_level level, const char *msg)
{
    (void)ctx;
    if (!strncmp(msg, "Fatal error", 11))
        snprintf(fatal_msg, sizeof fatal_msg, "%s", msg);
    if (log_to_syslog) {
        static const int prio[] = {LOG_DEBUG, LOG_INFO, LOG_WARNING, LOG_ERR};
        syslog(prio[level], "%s", msg);
        return;
    }
    char when[32];
    time_t t = time(NULL);
    struct tm tm;
    gmtime_r(&t, &tm);
    strftime(when, sizeof when, "%Y-%m-%dT%H:%M:%SZ", &tm);
    fprintf(log_stream, "%s %s\n", when, msg);
    fflush(log_stream);
}

void daemon_setup_logging(int to_stderr, const char *log_file, int level)
{
    log_stream = stderr;
    log_to_syslog = 0;
    if (log_file) {
        FILE *f = fopen(log_file, "a");
        if (f)
            log_stream = f;
    } else if (!to_stderr) {
        openlog("tempusd", LOG_PID, LOG_DAEMON);
        log_to_syslog = 1;
    }
    /* -L: 0 informational, 1 warnings, 2 non-fatal errors, 3 fatal only. */
    static const enum log_level min[] = {LOG_LEVEL_INFO, LOG_LEVEL_WARN, LOG_LEVEL_ERR,
                                         LOG_LEVEL_ERR};
    log_set_min_level(min[level < 0 ? 0 : level > 3 ? 3 : level]);
    log_set_sink(sink, NULL);
}

void daemon_detach(void)
{
    int fd = proc_detach();
    if (fd < 0)
        log_warn("Could not detach : %s", strerror(-fd));
    else
        detach_fd = fd;
}

void daemon_detach_finish(void)
{
    if (detach_fd < 0)
        return;
    proc_detach_done(detach_fd, fatal_msg[0] ? fatal_msg : NULL);
    detach_fd = -1;
}

/* ---- The daemon ---- */

/* A host name being resolved (or waiting for a retry). */
struct pending_name {
    size_t source_index; /* in conf.sources */
    struct resolve_req *req;
    int64_t retry_mono;
    int attempts;
    int done;
};

/* A source added from a host name (its engine id and configured source). */
struct named_source {
    int id; /* engine source id; -1: free slot */
    size_t source_index;
};

/* Re-resolution of one configured name whose sources stay unreachable. */
struct replace_state {
    struct resolve_req *req; /* running lookup */
    int64_t next_mono;       /* no new lookup before */
    int attempts;            /* lookups in a row that gave no replacement */
};

/* Which configured (or sourcedir) line an engine source came from. */
struct src_origin {
    int id; /* engine source id; -1: free slot */
    size_t source_index;
};

struct src_seen {
    uint32_t total_good;
    uint32_t n_samples;
};

struct daemon {
    const struct options *o;
    struct conf *c;
    struct loop *loop;
    struct engine *engine;
    struct executor *ex;
    struct cmdsrv_io *cmd; /* control sockets (cmdsrv_io.h) */
    struct clockguard guard;
    struct clock_ops ops;
    struct clocklinux *linux_clock;
    struct statlog *logs[3];
    struct src_seen seen[EXECUTOR_MAX_SOURCES];
    uint32_t last_updates;
    int last_selected;
    int64_t start_mono;
    struct tzif_leaps leaps; /* leapsectz's table, given to the engine */
    int dump_loading;        /* -r: sources added during start-up load their dump files */
    int dump_started;        /* the start-up's dump files are dealt with (loaded, removed) */
    int64_t last_drift_save_mono;
    int64_t last_status_mono;
    int64_t oneshot_deadline_mono;
    int any_reply;
    struct pending_name pending[MAX_PENDING_NAMES];
    size_t n_pending;
    int resolve_timer;
    struct named_source named[EXECUTOR_MAX_SOURCES];
    struct src_origin origin[EXECUTOR_MAX_SOURCES];
    /* sourcedir: conf.sources[n_conf_sources ..] came from the *.sources files; dead[i] (NULL
     * until the first `reload sources`): the line went away at a reload, its sources were
     * removed; the entry stays in place so that every index into conf.sources stays valid. */
    size_t n_conf_sources;
    unsigned char *dead;
    struct replace_state *replace; /* one per conf.sources entry */
    int replace_timer;
    int stop;
    int exit_status;
    const char *pidfile; /* claimed, to release */
    struct keys *keys;   /* keyfile (engine and server borrow it); NULL without one */
    /* smoothtime (daemon/smoothing.c); sm.on = 0 without the directive */
    struct smoothing sm;
};

static int64_t map_rx(void *ctx, int64_t system_ns)
{
    struct daemon *d = ctx;
    return clockguard_from_system_ns(&d->guard, system_ns);
}

/* The executor's serving callbacks with smoothtime (daemon/smoothing.c). */
static int64_t serve_map(void *ctx, int64_t system_ns)
{
    struct daemon *d = ctx;
    return smoothing_serve_map(&d->sm, system_ns);
}

static void serve_ref(void *ctx, struct server_ref *ref)
{
    struct daemon *d = ctx;
    smoothing_serve_ref(&d->sm, ref);
}

static char leap_char(int leap_status)
{
    return leap_status == 0 ? 'N' : leap_status == 1 ? '+' : leap_status == 2 ? '-' : '?';
}

static void save_drift(struct daemon *d)
{
    if (!d->c->driftfile || !d->engine)
        return;
    struct report_tracking t;
    engine_tracking(d->engine, loop_mono_ns(), &t);
    if (t.n_updates == 0)
        return; /* nothing learnt: keep what the file says */
    int r = driftfile_save(d->c->driftfile, t.freq_ppm, t.skew_ppm);
    if (r < 0)
        log_error("Could not write driftfile %s : %s", d->c->driftfile, strerror(-r));
}

static void log_tracking_line(struct daemon *d, const struct report_tracking *t)
{
    if (!d->logs[STATLOG_TRACKING])
        return;
    struct statlog_tracking l = {
        .real_ns = d->ops.read_real_ns(d->ops.ctx),
        .ref_addr = t->ref_addr,
        .stratum = t->stratum,
        .freq_ppm = t->freq_ppm,
        .skew_ppm = t->skew_ppm,
        .offset_s = t->last_offset_s,
        .leap = leap_char(t->leap_status),
        .n_combined = t->synced ? 1 : 0,
        .offset_sd_s = t->est_offset_err_s,
        .remaining_s = t->current_correction_s,
        .root_delay_s = t->root_delay_s,
        .root_disp_s = t->root_dispersion_s,
        .max_error_s = t->root_delay_s / 2 + t->root_dispersion_s,
    };
    char line[256];
    statlog_format_tracking(line, sizeof line, &l);
    (void)statlog_write(d->logs[STATLOG_TRACKING], line);
}

static void log_source_lines(struct daemon *d, const struct report_source *s)
{
    char line[256];
    int64_t now = d->ops.read_real_ns(d->ops.ctx);
    if (d->logs[STATLOG_MEASUREMENTS]) {
        struct statlog_measurement m = {
            .real_ns = now,
            .remote = s->remote,
            .leap = leap_char(s->leap),
            .stratum = s->pkt_stratum,
            .tests = s->test_flags & 0x3ff,
            .local_poll = s->poll_log2,
            .remote_poll = s->pkt_poll,
            .score = s->score,
            .offset_s = s->offset_s,
            .peer_delay_s = s->peer_delay_s,
            .peer_disp_s = s->peer_dispersion_s,
            .root_delay_s = s->root_delay_s,
            .root_disp_s = s->root_dispersion_s,
            .ref_id = s->pkt_ref_id,
            .mode = s->pkt_mode,
            .interleaved = (s->test_flags & REPORT_FLAG_INTERLEAVED) != 0,
            .tx_source = s->tx_tss_char == 'K' ? 'K' : 'D',
            .rx_source = executor_last_rx_kernel(d->ex, s->id) == 1 ? 'K' : 'D',
        };
        statlog_format_measurement(line, sizeof line, &m);
        (void)statlog_write(d->logs[STATLOG_MEASUREMENTS], line);
    }
    if (d->logs[STATLOG_STATISTICS] && s->n_samples > 0) {
        struct statlog_statistics st = {
            .real_ns = now,
            .remote = s->remote,
            .sd_s = s->sd_s,
            .est_offset_s = s->est_offset_s,
            .offset_sd_s = s->est_offset_err_s,
            .diff_freq = s->resid_freq_ppm * 1e-6,
            .skew = s->skew_ppm * 1e-6,
            .n_samples = (int)s->n_samples,
            .n_runs = (int)s->n_runs,
        };
        statlog_format_statistics(line, sizeof line, &st);
        (void)statlog_write(d->logs[STATLOG_STATISTICS], line);
    }
}

/* The clock's offset from true time as -x sees it: the virtual clock's lead over the system
 * clock, corrected by what the engine still thinks is wrong with the virtual clock. Positive
 * = the system clock is behind (what chronyd's "System clock wrong by" prints). */
static double system_clock_error_s(struct daemon *d, const struct report_tracking *t)
{
    double v = clockguard_virtual_offset_s(&d->guard, loop_real_ns());
    return v + t->current_correction_s;
}

static void print_status(struct daemon *d, const struct report_tracking *t, int64_t now_mono)
{
    char ref[ADDR_TEXT_MAX] = "-";
    if (t->ref_addr.family != ADDR_UNSPEC)
        addr_format(&t->ref_addr, ref, sizeof ref);
    log_info("tracking: ref %s (%08X) stratum %d last offset %+.9f s freq %.3f ppm skew %.3f ppm "
             "root delay %.6f s root dispersion %.6f s updates %u correction %+.9f s "
             "system clock error %+.9f s",
             ref, (unsigned)t->ref_id, t->stratum, t->last_offset_s, t->freq_ppm, t->skew_ppm,
             t->root_delay_s, t->root_dispersion_s, (unsigned)t->n_updates, t->current_correction_s,
             system_clock_error_s(d, t));
    int n = engine_source_count(d->engine);
    static const char states[] = "*?x~+-";
    for (int i = 0; i < n; i++) {
        struct report_source s;
        if (engine_source_report(d->engine, i, now_mono, &s) != 0)
            continue;
        char a[ADDR_TEXT_MAX];
        addr_format(&s.remote, a, sizeof a);
        log_info("source: %c%c %s stratum %d poll %d reach %o samples %u offset %+.9f s +/- "
                 "%.9f s%s%s",
                 s.mode == 1 ? '=' : '^', s.state >= 0 && s.state < 6 ? states[s.state] : '?', a,
                 s.stratum, s.poll_log2, s.reach, (unsigned)s.n_samples, s.latest_meas_s,
                 s.latest_meas_err_s, s.reason[0] ? " " : "", s.reason);
    }
}

static void after_engine(void *ctx)
{
    struct daemon *d = ctx;
    int64_t now = loop_mono_ns();
    struct report_tracking t;
    engine_tracking(d->engine, now, &t);

    int selected = t.synced ? t.selected_source_id : -1;
    if (selected != d->last_selected) {
        if (selected >= 0) {
            int idx = engine_source_index(d->engine, t.selected_source_id);
            struct report_source s;
            /* chronyd's one-shot modes print only the result. */
            if (!d->o->oneshot && idx >= 0 && engine_source_report(d->engine, idx, now, &s) == 0)
                log_info("Selected source %s", s.name);
        }
        d->last_selected = selected;
    }
    if (t.n_updates != d->last_updates) {
        d->last_updates = t.n_updates;
        /* chronyd's rule: smoothing starts once the clock's skew / 10000 < MAXWANDER */
        if (d->sm.on && t.n_updates > 0)
            smoothing_updated(&d->sm, t.skew_ppm);
        log_tracking_line(d, &t);
        if (!d->o->oneshot && fabs(t.last_offset_s) > d->c->logchange_s)
            log_warn("System clock wrong by %.6f seconds", -t.last_offset_s);
    }
    int n = engine_source_count(d->engine);
    for (int i = 0; i < n && i < EXECUTOR_MAX_SOURCES; i++) {
        struct report_source s;
        if (engine_source_report(d->engine, i, now, &s) != 0)
            continue;
        if (s.total_rx > 0)
            d->any_reply = 1;
        if (s.total_good != d->seen[i].total_good) {
            d->seen[i].total_good = s.total_good;
            log_source_lines(d, &s);
        }
    }
    int64_t status_iv =
        now - d->start_mono < STATUS_FAST_PERIOD_NS ? STATUS_FAST_INTERVAL_NS : STATUS_INTERVAL_NS;
    if (d->o->debug && now - d->last_status_mono >= status_iv) {
        d->last_status_mono = now;
        print_status(d, &t, now);
    }
    if (d->c->driftfile && t.n_updates > 0 &&
        now - d->last_drift_save_mono >= DRIFT_SAVE_INTERVAL_NS) {
        d->last_drift_save_mono = now;
        save_drift(d);
    }
    if (d->guard.oneshot && d->guard.oneshot_done) {
        log_info("System clock wrong by %.6f seconds (%s)", d->guard.oneshot_offset_s,
                 d->guard.oneshot == 'Q' ? "ignored" : "step");
        if (d->guard.oneshot == 'q' && d->guard.using_null)
            log_error("Could not step system clock");
        d->exit_status = 0;
        d->stop = 1;
    }
}

static int check_stop(void *ctx)
{
    struct daemon *d = ctx;
    if (d->stop)
        return 1;
    if (signals_pending()) {
        d->exit_status = 0;
        return 1;
    }
    int64_t now = loop_mono_ns();
    if (d->o->timeout_s >= 0 && now - d->start_mono >= (int64_t)d->o->timeout_s * 1000000000LL) {
        log_info("Timeout reached");
        /* chronyd: exit 1 when the stratum it would serve is 16. The local reference counts
         * only while in use (activate, waitsynced, waitunsynced: executor_local_rule). */
        struct report_reference r;
        engine_reference(d->engine, now, &r);
        int synced = d->o->oneshot ? 0 : (r.synced || executor_local_active(d->ex, now));
        d->exit_status = synced ? 0 : 1;
        return 1;
    }
    if (d->o->oneshot && !d->guard.oneshot_done && now >= d->oneshot_deadline_mono) {
        log_info("No suitable source for synchronisation");
        d->exit_status = 1;
        return 1;
    }
    return 0;
}

/* The engine's parameters: the configuration's (daemon/conf_engine), then what the command
 * line changes. */
static void fill_engine_params(const struct conf *c, const struct options *o,
                               struct engine_params *p)
{
    conf_engine_params(c, p);
    /* -R: makestep with a positive limit is ignored (restart). */
    if (o->restart && p->makestep_limit > 0)
        p->makestep_threshold_s = 0.0;
    if (o->oneshot) {
        /* -q/-Q: the first update steps (caught by the guard), whatever the offset. */
        p->makestep_threshold_s = DBL_MIN;
        p->makestep_limit = -1;
    }
}

static uint64_t make_seed(void)
{
    uint64_t seed = 0;
    if (getrandom(&seed, sizeof seed, GRND_NONBLOCK) != (ssize_t)sizeof seed)
        seed = (uint64_t)loop_real_ns() ^ ((uint64_t)getpid() << 32);
    return seed;
}

/* Fills xp; returns 1 when the NTP server socket is wanted at start (an allow or a peer). */
static int fill_executor_params(const struct conf *c, const struct options *o, uint64_t seed,
                                struct executor_params *xp)
{
    memset(xp, 0, sizeof *xp);
    xp->family = o->family;
    xp->bind4 = c->bindaddress4;
    xp->bind6 = c->bindaddress6;
    xp->bindacq4 = c->bindacqaddress4;
    xp->bindacq6 = c->bindacqaddress6;
    xp->acquisition_port = c->acquisitionport;
    xp->local_enabled = c->local_enabled;
    xp->local_stratum = c->local_stratum;
    xp->local_distance_s = c->local_distance_s;
    xp->local_orphan = c->local_orphan;
    xp->local_activate_s = c->local_activate_s;
    xp->local_waitsynced_s = c->local_waitsynced_s;
    xp->local_waitunsynced_s = c->local_waitunsynced_s;
    xp->noclientlog = c->noclientlog;
    xp->clientloglimit = c->clientloglimit;
    xp->ntp_ratelimit =
        (struct clientlog_ratelimit){c->ratelimit.enabled, c->ratelimit.interval,
                                     c->ratelimit.burst, c->ratelimit.leak, c->ratelimit.kod};
    xp->send_batch = !c->nobatchreplies; /* sendmmsg unless `nobatchreplies` */
    xp->seed = seed;
    int want_server = 0;
    for (size_t i = 0; i < c->n_access && xp->n_rules < EXECUTOR_MAX_RULES; i++) {
        const struct conf_access *a = &c->access[i];
        if (a->cmd)
            continue;
        if (a->allow)
            want_server = 1;
        struct access_rule *r = &xp->rules[xp->n_rules++];
        r->allow = a->allow;
        r->all = a->all;
        if (!a->any_family)
            r->subnet = a->subnet;
    }
    int peers = 0;
    for (size_t i = 0; i < c->n_sources; i++)
        if (c->sources[i].type == CONF_SOURCE_PEER)
            peers = want_server = 1;
    /* serverworkers: the workers own the NTP port, and a peer's symmetric packets must reach
     * the engine in the main thread */
    xp->server_workers = c->serverworkers;
    if (c->serverworkers > 0 && peers) {
        log_warn("serverworkers is not used with peer sources");
        xp->server_workers = 0;
    }
    /* chronyd opens the NTP port only when something needs it (a run-time `allow` opens it
     * later: cmdsrv_io); -Q never serves. */
    xp->server_port = o->oneshot != 'Q' ? c->port : 0;
    return want_server;
}

static size_t addrs_wanted(const struct conf_source *cs)
{
    size_t want = cs->type == CONF_SOURCE_POOL ? (size_t)cs->maxsources : 1;
    if (want > POOL_MAX_ADDRS)
        want = POOL_MAX_ADDRS;
    return want < 1 ? 1 : want;
}

/* Adds the resolved addresses of configured source cs to the engine and the executor, and
 * moves the one-shot deadline: chronyd gives up when no sample can come any more, after the
 * first polls of every source (~10 s with iburst on an unreachable server). */
/* ---- Dump files (dump.h) ---- */

/* -r: loads source id's dump file, if there is one, into the engine. */
static void load_dump(struct daemon *d, int id, const struct addr *a, const char *text, int64_t now)
{
    char path[4096];
    if (dump_path(path, sizeof path, d->c->dumpdir, a) < 0)
        return;
    struct dump_data *dd = malloc(sizeof *dd);
    if (!dd)
        return;
    int err = 0;
    enum dump_status st = dump_load(path, text, d->ops.read_real_ns(d->ops.ctx), dd, &err);
    if (st == DUMP_OK) {
        int r = engine_source_import(d->engine, id, !d->guard.using_null, dd->s, dd->n, now);
        if (r > 0)
            log_info("Loaded dump file for %s (%d samples)", text, r);
        else
            st = DUMP_E_SAMPLES;
    }
    if (st == DUMP_E_IO && err == -ENOENT)
        ; /* no history saved for this source */
    else if (st == DUMP_E_IO)
        log_warn("Could not load dump file for %s : %s", text, strerror(-err));
    else if (st != DUMP_OK)
        log_warn("Could not load dump file for %s : %s", text, dump_status_str(st));
    free(dd);
}

/* chronyd removes the dump files once the start-up is over (loaded with -r or not), so
 * that an old history is never loaded twice. Runs when every configured name has had
 * its first lookup (sources from names load their files too). */
static void finish_dump_start(struct daemon *d)
{
    if (d->dump_started || !d->c->dumpdir)
        return;
    for (size_t i = 0; i < d->n_pending; i++)
        if (!d->pending[i].done && d->pending[i].attempts == 0)
            return; /* a name still being resolved for the first time */
    d->dump_started = 1;
    d->dump_loading = 0;
    int r = files_remove_suffix(d->c->dumpdir, ".dat");
    if (r < 0 && r != -ENOENT)
        log_warn("Could not remove dump files in %s : %s", d->c->dumpdir, strerror(-r));
}

/* Exit and `tempusc dump`: every source's history to DIR/<address>.dat (a source without
 * samples has its file removed). Returns 0, or -1 when a file could not be written. */
static int save_dumps(struct daemon *d)
{
    if (!d->c->dumpdir || !d->engine)
        return 0;
    struct dump_data *dd = malloc(sizeof *dd);
    if (!dd)
        return -1;
    int64_t now = loop_mono_ns();
    int failed = 0;
    int n = engine_source_count(d->engine);
    for (int i = 0; i < n; i++) {
        struct report_source r;
        char path[4096];
        if (engine_source_report(d->engine, i, now, &r) != 0 ||
            dump_path(path, sizeof path, d->c->dumpdir, &r.remote) < 0)
            continue;
        memset(dd, 0, sizeof *dd);
        addr_format(&r.remote, dd->source, sizeof dd->source);
        dd->saved_real_ns = d->ops.read_real_ns(d->ops.ctx);
        dd->n = engine_source_export(d->engine, r.id, !d->guard.using_null, now, dd->s,
                                     DUMP_MAX_SAMPLES);
        if (dd->n <= 0) {
            (void)files_remove(path);
            continue;
        }
        int err = 0;
        if (dump_save(path, dd, &err) != DUMP_OK) {
            log_warn("Could not save dump file for %s : %s", dd->source, strerror(-err));
            failed = 1;
        }
    }
    free(dd);
    return failed ? -1 : 0;
}

static int add_resolved(struct daemon *d, const struct conf_source *cs, const struct addr *addrs,
                        int n, int64_t now)
{
    struct engine_source_params sp;
    conf_engine_source_params(d->c, cs, &sp);
    int added = 0;
    for (int k = 0; k < n; k++) {
        char text[ADDR_TEXT_MAX];
        addr_format(&addrs[k], text, sizeof text);
        /* Reports show the address; a name given as an address is the same text. */
        int id = engine_add_source(d->engine, &sp, &addrs[k], text, now);
        if (id < 0) {
            log_error("Could not add source %s (%d)", text, id);
            continue;
        }
        if (executor_add_source(d->ex, id, &addrs[k], cs->type == CONF_SOURCE_PEER) != 0) {
            log_error("Too many sources, ignoring %s", text);
            (void)engine_remove_source(d->engine, id);
            continue;
        }
        added++;
        for (size_t k2 = 0; k2 < EXECUTOR_MAX_SOURCES; k2++) {
            struct src_origin *so = &d->origin[k2];
            if (so->id < 0 || engine_source_index(d->engine, so->id) < 0) {
                so->id = id;
                so->source_index = (size_t)(cs - d->c->sources);
                break;
            }
        }
        if (d->dump_loading)
            load_dump(d, id, &addrs[k], text, now);
        if (!resolve_is_numeric(cs->name) && cs->type != CONF_SOURCE_PEER) {
            for (size_t k2 = 0; k2 < EXECUTOR_MAX_SOURCES; k2++) {
                if (d->named[k2].id < 0) {
                    d->named[k2].id = id;
                    d->named[k2].source_index = (size_t)(cs - d->c->sources);
                    break;
                }
            }
        }
        int minpoll = sp.minpoll_log2 < 0 ? 0 : sp.minpoll_log2;
        int64_t span = sp.iburst ? 12LL * 1000000000LL : (8LL << minpoll) * 1000000000LL;
        if (now + span > d->oneshot_deadline_mono)
            d->oneshot_deadline_mono = now + span;
    }
    return added;
}

static void on_resolve_timer(void *ctx, int64_t now);

static void arm_resolve_timer(struct daemon *d, int64_t now)
{
    if (d->resolve_timer <= 0)
        d->resolve_timer = loop_add_timer(d->loop, now + RESOLVE_POLL_NS, on_resolve_timer, d);
}

/* Polls the host-name lookups running beside the loop; starts the retries that are due.
 * A failed name is retried after 2, 4, 8 ... 512 s (chronyd also keeps retrying). */
static void on_resolve_timer(void *ctx, int64_t now)
{
    struct daemon *d = ctx;
    d->resolve_timer = 0;
    int left = 0, added = 0;
    for (size_t i = 0; i < d->n_pending; i++) {
        struct pending_name *p = &d->pending[i];
        if (p->done)
            continue;
        left++;
        const struct conf_source *cs = &d->c->sources[p->source_index];
        if (!p->req) {
            if (now >= p->retry_mono)
                p->req = resolve_start(cs->name, d->o->family, (unsigned)cs->port);
            continue;
        }
        struct addr addrs[POOL_MAX_ADDRS];
        int n = resolve_poll(p->req, addrs, addrs_wanted(cs));
        if (n == -EINPROGRESS)
            continue;
        resolve_free(p->req);
        p->req = NULL;
        if (n > 0) {
            added += add_resolved(d, cs, addrs, n, now);
            p->done = 1;
            left--;
            continue;
        }
        log_warn("Could not resolve address of %s : %s", cs->name,
                 n == -EAGAIN ? "temporary failure" : "no address");
        int shift = p->attempts < 8 ? p->attempts : 8;
        p->attempts++;
        p->retry_mono = now + (2LL << shift) * 1000000000LL;
    }
    if (left > 0)
        arm_resolve_timer(d, now);
    finish_dump_start(d);
    if (added > 0)
        executor_start(d->ex); /* the engine has new sources to poll */
}

/* 1 when engine source id stays unreachable: no reply to its last REPLACE_AFTER_TX requests. */
static int source_unreachable(struct daemon *d, int id, int64_t now, struct report_source *r)
{
    int idx = engine_source_index(d->engine, id);
    if (idx < 0 || engine_source_report(d->engine, idx, now, r) != 0)
        return 0;
    return r->reach == 0 && r->total_tx >= REPLACE_AFTER_TX;
}

/* 1 when some engine source already has address a (and port). */
static int address_in_use(struct daemon *d, const struct addr *a, int64_t now)
{
    int n = engine_source_count(d->engine);
    for (int i = 0; i < n; i++) {
        struct report_source r;
        if (engine_source_report(d->engine, i, now, &r) == 0 && addr_equal(&r.remote, a) &&
            r.remote.port == a->port)
            return 1;
    }
    return 0;
}

/* The lookup of configured source si finished with n addresses: each of its unreachable
 * sources is replaced by an address no source uses yet. Returns how many were replaced. */
static int replace_from(struct daemon *d, size_t si, const struct addr *addrs, int n, int64_t now)
{
    const struct conf_source *cs = &d->c->sources[si];
    int replaced = 0, next = 0;
    for (size_t k = 0; k < EXECUTOR_MAX_SOURCES; k++) {
        struct named_source *ns = &d->named[k];
        struct report_source r;
        if (ns->id < 0 || ns->source_index != si || !source_unreachable(d, ns->id, now, &r))
            continue;
        while (next < n && address_in_use(d, &addrs[next], now))
            next++;
        if (next >= n)
            break;
        char old[ADDR_TEXT_MAX], new_text[ADDR_TEXT_MAX];
        addr_format(&r.remote, old, sizeof old);
        addr_format(&addrs[next], new_text, sizeof new_text);
        (void)engine_remove_source(d->engine, ns->id);
        (void)executor_remove_source(d->ex, ns->id);
        ns->id = -1;
        if (add_resolved(d, cs, &addrs[next], 1, now) == 1) {
            log_info("Source %s replaced with %s (%s)", old, new_text, cs->name);
            replaced++;
        }
        next++;
    }
    return replaced;
}

/* Every REPLACE_CHECK_NS: starts a lookup for each name with an unreachable source (when
 * its wait is over), and applies the lookups that finished. */
static void on_replace_timer(void *ctx, int64_t now)
{
    struct daemon *d = ctx;
    d->replace_timer = loop_add_timer(d->loop, now + REPLACE_CHECK_NS, on_replace_timer, d);
    int changed = 0;
    for (size_t k = 0; k < EXECUTOR_MAX_SOURCES; k++) /* deleted with chronyc delete */
        if (d->named[k].id >= 0 && engine_source_index(d->engine, d->named[k].id) < 0)
            d->named[k].id = -1;
    for (size_t si = 0; si < d->c->n_sources; si++) {
        struct replace_state *rs = &d->replace[si];
        const struct conf_source *cs = &d->c->sources[si];
        if (d->dead && d->dead[si])
            continue;
        if (rs->req) {
            struct addr addrs[POOL_MAX_ADDRS];
            int n = resolve_poll(rs->req, addrs, POOL_MAX_ADDRS);
            if (n == -EINPROGRESS)
                continue;
            resolve_free(rs->req);
            rs->req = NULL;
            int got = n > 0 ? replace_from(d, si, addrs, n, now) : 0;
            changed += got;
            rs->attempts = got > 0 ? 0 : rs->attempts + 1;
            int shift = rs->attempts < REPLACE_MAX_SHIFT ? rs->attempts : REPLACE_MAX_SHIFT;
            rs->next_mono = now + ((int64_t)REPLACE_MIN_WAIT_S << shift) * 1000000000LL;
            continue;
        }
        if (now < rs->next_mono)
            continue;
        for (size_t k = 0; k < EXECUTOR_MAX_SOURCES; k++) {
            struct report_source r;
            if (d->named[k].id >= 0 && d->named[k].source_index == si &&
                source_unreachable(d, d->named[k].id, now, &r)) {
                rs->req = resolve_start(cs->name, d->o->family, (unsigned)cs->port);
                break;
            }
        }
    }
    if (changed > 0)
        executor_start(d->ex);
}

/* Adds the configured sources: numeric addresses at once (no DNS involved), host names
 * through lookups that run beside the main loop (on_resolve_timer). Returns how many
 * sources were added or are being resolved. */
/* sourcedir: the *.sources files' sources join the configured ones before they are added
 * (chronyd adds them with the configuration's, so -r loads their dump files and
 * authselectmode counts them). Read once, at start. */
static void load_sourcedirs(struct daemon *d)
{
    if (d->c->sourcedirs.n == 0)
        return;
    struct conf_env env;
    conf_files_env(&env, d->o->family);
    struct conf_source *s = NULL;
    size_t n = 0;
    if (conf_load_sourcedirs(d->c, &env, &s, &n) < 0)
        log_error("Could not read all sourcedir files : out of memory");
    struct conf_source *v = n ? realloc(d->c->sources, (d->c->n_sources + n) * sizeof *v) : NULL;
    size_t i = 0;
    if (v) {
        d->c->sources = v;
        for (; i < n; i++)
            v[d->c->n_sources++] = s[i];
    } else if (n) {
        log_error("Could not add sourcedir sources : out of memory");
    }
    for (; i < n; i++)
        conf_source_free(&s[i]);
    free(s);
}

static int add_sources(struct daemon *d, int64_t now)
{
    int count = 0;
    d->oneshot_deadline_mono = now;
    for (size_t i = 0; i < d->c->n_sources; i++) {
        const struct conf_source *cs = &d->c->sources[i];
        if (!resolve_is_numeric(cs->name)) {
            if (d->n_pending >= MAX_PENDING_NAMES) {
                log_error("Too many sources, ignoring %s", cs->name);
                continue;
            }
            struct pending_name *p = &d->pending[d->n_pending++];
            memset(p, 0, sizeof *p);
            p->source_index = i;
            p->req = resolve_start(cs->name, d->o->family, (unsigned)cs->port);
            p->retry_mono = now;
            count++;
            /* Until a name resolves, -q/-Q waits as for an unreachable iburst source. */
            if (now + 12LL * 1000000000LL > d->oneshot_deadline_mono)
                d->oneshot_deadline_mono = now + 12LL * 1000000000LL;
            continue;
        }
        struct addr addrs[POOL_MAX_ADDRS];
        int n = resolve_name(cs->name, d->o->family, (unsigned)cs->port, addrs, addrs_wanted(cs));
        if (n < 0) {
            log_warn("Could not resolve address of %s : %s", cs->name,
                     n == -EAGAIN ? "temporary failure" : "no address");
            continue;
        }
        count += add_resolved(d, cs, addrs, n, now);
    }
    if (d->n_pending > 0)
        arm_resolve_timer(d, now);
    /* -q/-Q are over before a replacement could matter. */
    if (!d->o->oneshot && d->c->n_sources > 0) {
        d->replace = calloc(d->c->n_sources, sizeof *d->replace);
        if (d->replace)
            d->replace_timer = loop_add_timer(d->loop, now + REPLACE_CHECK_NS, on_replace_timer, d);
    }
    return count;
}

static int setup_clock(struct daemon *d)
{
    struct clockguard *g = &d->guard;
    int oneshot = d->o->oneshot;
    int r;
    if (d->o->no_clock_control) {
        log_info("Disabled control of system clock");
        r = clockguard_init(g, NULL, oneshot, NULL, NULL);
    } else if (!clocklinux_can_control()) {
        log_warn("Could not control system clock (no CAP_SYS_TIME) : running as with -x (clock "
                 "not adjusted)");
        r = clockguard_init(g, NULL, oneshot, NULL, NULL);
    } else {
        d->linux_clock = clocklinux_new(NULL, d->c->rtcsync);
        if (!d->linux_clock)
            return -ENOMEM;
        struct clock_ops lin;
        clocklinux_ops(d->linux_clock, &lin);
        r = clockguard_init(g, &lin, oneshot, NULL, NULL);
        int t = r == 0 ? clocklinux_take_control(d->linux_clock) : 0;
        if (t < 0)
            clockguard_use_null(g, t);
    }
    if (r != 0)
        return r;
    clockguard_ops(g, &d->ops);
    return 0;
}

/* -s without an RTC driver (chronyd without rtcfile): when the drift file was last written
 * later than the clock's time now, the clock is stepped forward to that time (a host that
 * lost its time keeps at least the last known one). On the null clock (-x) chronyd 4.3 only
 * logs "Could not step system clock" (measured with a drift file an hour ahead; nothing with
 * an older one), and so does tempusd. */
static void set_from_driftfile(struct daemon *d)
{
    struct stat st;
    if (!d->c->driftfile || stat(d->c->driftfile, &st) != 0)
        return;
    int64_t mtime_ns = (int64_t)st.st_mtim.tv_sec * 1000000000LL + st.st_mtim.tv_nsec;
    int64_t now_ns = d->ops.read_real_ns(d->ops.ctx);
    if (mtime_ns <= now_ns)
        return;
    if (d->guard.using_null) {
        log_error("Could not step system clock");
        return;
    }
    if (d->ops.step_s(d->ops.ctx, (double)(mtime_ns - now_ns) * 1e-9) == 0)
        log_info("System time restored from driftfile");
}

/* What stays after the drop: CAP_SYS_TIME only while the clock is really controlled (not
 * -x, not after an EPERM), CAP_NET_BIND_SERVICE only when a port below 1024 may still have to
 * be bound at run time: the NTP port at the first run-time `allow` when it is not open yet
 * (cmdsrv_io), and the lazily opened `acquisitionport` socket. chronyd 4.3 keeps the latter
 * whenever the NTP port is below 1024. */
static unsigned kept_caps(const struct daemon *d)
{
    unsigned keep = d->guard.using_null ? 0u : PRIVS_KEEP_SYS_TIME;
    if (d->o->oneshot)
        return keep;
    int port = d->c->port, acq = d->c->acquisitionport;
    int server_open = executor_server_port(d->ex, 4) || executor_server_port(d->ex, 6);
    if ((port > 0 && port < 1024 && !server_open) || (acq > 0 && acq < 1024))
        keep |= PRIVS_KEEP_NET_BIND;
    return keep;
}

static int drop_privileges(struct daemon *d)
{
    const char *user = d->o->user ? d->o->user : d->c->user;
    unsigned keep = kept_caps(d);
    if (user && geteuid() == 0 && !getpwnam(user)) {
        if (d->o->user || strcmp(user, CONF_DEFAULT_USER) != 0) {
            log_error("Fatal error : Could not get user/group ID of %s", user);
            return -1;
        }
        /* The compiled-in default user need not exist on every host: stay root, say so,
         * but with the capabilities trimmed all the same. */
        log_debug("Running with root privileges (no user %s)", user);
        user = NULL;
    }
    if (geteuid() != 0)
        user = NULL;
    int r = privs_drop(user, keep);
    if (r < 0) {
        log_error("Fatal error : Could not drop privileges to %s : %s", user ? user : "root",
                  strerror(-r));
        return -1;
    }
    struct passwd *pw = user ? getpwnam(user) : NULL;
    if (pw && pw->pw_uid == 0)
        log_info("Running with root privileges");
    return 0;
}

static void open_logs(struct daemon *d)
{
    static const int flag[] = {CONF_LOG_MEASUREMENTS, CONF_LOG_STATISTICS, CONF_LOG_TRACKING};
    for (int k = 0; k < 3; k++) {
        if (!(d->c->log_flags & flag[k]))
            continue;
        if (!d->c->logdir) {
            log_warn("logdir not specified");
            continue;
        }
        d->logs[k] = statlog_new(d->c->logdir, (enum statlog_kind)k, d->c->logbanner);
    }
}

/* `tempusc cyclelogs`: close the statistics logs; the next line reopens them, so after
 * logrotate has renamed a file the daemon writes to a fresh one. */
static void cycle_logs(void *ctx)
{
    struct daemon *d = ctx;
    for (int k = 0; k < 3; k++)
        if (d->logs[k])
            statlog_cycle(d->logs[k]);
}

/* leapsectz: the zone's leap seconds for the engine. chronyd checks the zone against 2012
 * (an insert at the end of 30 June, TAI - UTC 34 then 35 s) and ignores it with a warning
 * when that fails: a missing file and a zone without leap records (posix/UTC) included. A
 * name is looked up under /usr/share/zoneinfo (as libc does for TZ); an absolute path is
 * read as is. */
static void load_leapsectz(struct daemon *d)
{
    const char *tz = d->c->leapsectz;
    if (!tz)
        return;
    char path[4096];
    snprintf(path, sizeof path, "%s%s", tz[0] == '/' ? "" : TEMPUS_ZONEINFO_DIR "/", tz);
    /* right/UTC is ~1.6 kB; zones with long histories stay well below this. */
    enum { TZ_FILE_MAX = 256 * 1024 };
    char *buf = malloc(TZ_FILE_MAX);
    if (!buf)
        return;
    int n = files_read(path, buf, TZ_FILE_MAX);
    enum tzif_status st = TZIF_OK;
    if (n >= 0)
        st = tzif_parse((const uint8_t *)buf, (size_t)n, &d->leaps);
    free(buf);
    if (n < 0)
        log_debug("Could not read %s : %s", path, strerror(-n));
    else if (st != TZIF_OK)
        log_debug("Could not parse %s : %s", path, tzif_status_str(st));
    if (n < 0 || st != TZIF_OK || !tzif_check_2012(&d->leaps)) {
        log_warn("Timezone %s failed leap second check, ignoring", tz);
        return;
    }
    int tai = 0;
    int64_t now_s = d->ops.read_real_ns(d->ops.ctx) / 1000000000LL;
    int leap = tzif_leap_on_day(&d->leaps, now_s, &tai);
    log_info("Using %s timezone to obtain leap second data", tz); /* chronyd's line */
    log_debug("%s : %d leap seconds, TAI-UTC %d s, today %s", path, d->leaps.n, tai,
              leap == 1   ? "ends with an inserted second"
              : leap == 2 ? "ends with a deleted second"
                          : "no leap second");
    engine_set_leap_table(d->engine, &d->leaps);
}

/* `tempusc dump`: 0, or -1 when a file could not be written. */
static int dump_now(void *ctx)
{
    return save_dumps(ctx);
}

static void use_keys(struct daemon *d)
{
    engine_set_keys(d->engine, d->keys);
    executor_set_keys(d->ex, d->keys);
}

/* `tempusc rekey`: the keyfile again; the old table is freed once nothing points at it. */
static void rekey(void *ctx)
{
    struct daemon *d = ctx;
    struct keys *k;
    if (!d->c->keyfile)
        return;
    k = keyfile_load(d->c->keyfile);
    if (!k)
        return; /* out of memory: keep the old keys */
    struct keys *old = d->keys;
    d->keys = k;
    use_keys(d);
    keys_free(old);
    keyfile_check_sources(d->c, d->keys);
}

/* reload sources: the sources of sourcedir line si go (engine, executor, lookups). */
static void remove_line_sources(struct daemon *d, size_t si)
{
    for (size_t k = 0; k < EXECUTOR_MAX_SOURCES; k++) {
        struct src_origin *so = &d->origin[k];
        if (so->id < 0 || so->source_index != si)
            continue;
        int idx = engine_source_index(d->engine, so->id);
        struct report_source r;
        if (idx >= 0 && engine_source_report(d->engine, idx, loop_mono_ns(), &r) == 0) {
            (void)engine_remove_source(d->engine, so->id);
            (void)executor_remove_source(d->ex, so->id);
            log_debug("Removed source %s (reload)", r.name); /* chronyd 4.3 logs nothing */
        }
        so->id = -1;
    }
    for (size_t k = 0; k < EXECUTOR_MAX_SOURCES; k++)
        if (d->named[k].source_index == si)
            d->named[k].id = -1;
    for (size_t i = 0; i < d->n_pending; i++) {
        struct pending_name *p = &d->pending[i];
        if (p->source_index == si && !p->done) {
            resolve_free(p->req);
            p->req = NULL;
            p->done = 1;
        }
    }
    if (d->replace) {
        resolve_free(d->replace[si].req);
        d->replace[si].req = NULL;
    }
    d->dead[si] = 1;
}

/* reload sources: starts sourcedir line si (numeric now, a name beside the loop). Returns how
 * many sources were added. */
static int start_line_sources(struct daemon *d, size_t si, int64_t now)
{
    const struct conf_source *cs = &d->c->sources[si];
    if (!resolve_is_numeric(cs->name)) {
        struct pending_name *p = NULL;
        for (size_t i = 0; i < d->n_pending && !p; i++)
            if (d->pending[i].done)
                p = &d->pending[i];
        if (!p && d->n_pending < MAX_PENDING_NAMES)
            p = &d->pending[d->n_pending++];
        if (!p) {
            log_error("Too many sources, ignoring %s", cs->name);
            return 0;
        }
        memset(p, 0, sizeof *p);
        p->source_index = si;
        p->req = resolve_start(cs->name, d->o->family, (unsigned)cs->port);
        p->retry_mono = now;
        arm_resolve_timer(d, now);
        return 0;
    }
    struct addr addrs[POOL_MAX_ADDRS];
    int n = resolve_name(cs->name, d->o->family, (unsigned)cs->port, addrs, addrs_wanted(cs));
    if (n < 0) {
        log_warn("Could not resolve address of %s : %s", cs->name,
                 n == -EAGAIN ? "temporary failure" : "no address");
        return 0;
    }
    return add_resolved(d, cs, addrs, n, now);
}

/* `reload sources` (chronyd 4.3): the sourcedir files are read again and compared with the
 * lines read before by name, type, port and every option (conf_source_same): a line still
 * there keeps its sources with their state, a line gone has its sources removed, a new or
 * changed line is started as at start-up (a changed one is removed and added: chronyd
 * compares whole lines). Lines of the configuration file itself are never touched. */
static void reload_sources(void *ctx)
{
    struct daemon *d = ctx;
    int64_t now = loop_mono_ns();
    struct conf_env env;
    conf_files_env(&env, d->o->family);
    struct conf_source *s = NULL;
    size_t n = 0;
    if (conf_load_sourcedirs(d->c, &env, &s, &n) < 0) {
        log_error("Could not read all sourcedir files : out of memory");
        goto out;
    }
    size_t old_n = d->c->n_sources;
    unsigned char *dead = realloc(d->dead, old_n + n + 1);
    struct conf_source *v = realloc(d->c->sources, (old_n + n + 1) * sizeof *v);
    if (v)
        d->c->sources = v;
    if (dead) {
        if (!d->dead)
            memset(dead, 0, old_n);
        d->dead = dead;
    }
    struct replace_state *rs = d->replace ? realloc(d->replace, (old_n + n + 1) * sizeof *rs)
                                          : calloc(old_n + n + 1, sizeof *rs);
    if (rs)
        d->replace = rs;
    if (!v || !dead || !rs) {
        log_error("Could not reload sources : out of memory");
        goto out;
    }
    unsigned char *kept = calloc(n + 1, 1);
    if (!kept) {
        log_error("Could not reload sources : out of memory");
        goto out;
    }
    for (size_t si = d->n_conf_sources; si < old_n; si++) {
        if (d->dead[si])
            continue;
        size_t j = 0;
        while (j < n && (kept[j] || !conf_source_same(&d->c->sources[si], &s[j])))
            j++;
        if (j < n)
            kept[j] = 1;
        else
            remove_line_sources(d, si);
    }
    int added = 0;
    for (size_t j = 0; j < n; j++) {
        if (kept[j])
            continue;
        size_t si = d->c->n_sources++;
        d->c->sources[si] = s[j];
        s[j].name = s[j].file = NULL; /* moved */
        d->dead[si] = 0;
        memset(&d->replace[si], 0, sizeof d->replace[si]);
        added += start_line_sources(d, si, now);
    }
    free(kept);
    if (d->replace_timer <= 0)
        d->replace_timer = loop_add_timer(d->loop, now + REPLACE_CHECK_NS, on_replace_timer, d);
    if (added > 0)
        executor_start(d->ex);
out:
    for (size_t j = 0; j < n; j++)
        conf_source_free(&s[j]);
    free(s);
}

static void cleanup(struct daemon *d)
{
    for (size_t i = 0; i < d->n_pending; i++)
        resolve_free(d->pending[i].req);
    if (d->replace) {
        for (size_t i = 0; i < d->c->n_sources; i++)
            resolve_free(d->replace[i].req);
        free(d->replace);
        d->replace = NULL;
    }
    free(d->dead);
    d->dead = NULL;
    if (d->engine && !d->o->oneshot) {
        save_drift(d);
        (void)save_dumps(d);
    }
    cmdsrv_close(d->cmd);
    executor_free(d->ex);
    engine_free(d->engine);
    for (int k = 0; k < 3; k++)
        statlog_free(d->logs[k]);
    clocklinux_free(d->linux_clock);
    clockguard_fini(&d->guard);
    loop_free(d->loop);
    keys_free(d->keys); /* after the engine and server that borrowed it */
    d->keys = NULL;
    if (d->pidfile)
        files_pidfile_release(d->pidfile);
}

int daemon_run(const struct options *o, struct conf *c)
{
    struct daemon d;
    memset(&d, 0, sizeof d);
    d.o = o;
    d.c = c;
    for (size_t k = 0; k < EXECUTOR_MAX_SOURCES; k++)
        d.named[k].id = d.origin[k].id = -1;
    d.last_selected = -1;
    d.exit_status = 1;
    /* systemd's Type=notify (os/notify.h): READY=1 once running, STOPPING=1 at the end. */
    struct notify nfy;
    if (notify_init(&nfy) < 0)
        log_warn("Ignoring NOTIFY_SOCKET : not a socket path or @name");

    log_info("tempusd version %s starting (%s)", TEMPUS_VERSION, DAEMON_FEATURES);
    if (o->sched_priority > 0) {
        int r = proc_set_fifo_priority(o->sched_priority);
        if (r < 0)
            log_warn("Could not set SCHED_FIFO priority %d : %s", o->sched_priority, strerror(-r));
    }
    if (o->mlock || c->lock_all) {
        int r = proc_lock_memory();
        if (r < 0)
            log_warn("Could not lock memory : %s", strerror(-r));
    }
    if (o->scfilter && !seccomp_available())
        log_warn("System call filter (-F) not supported : running without it");
    if (o->reload_dump && !c->dumpdir)
        log_warn("-r given without dumpdir : starting without saved samples");

    /* -Q is client-only: no pidfile (chronyd's behaviour). */
    if (o->oneshot != 'Q' && c->pidfile && c->pidfile[0]) {
        char dir[4096];
        snprintf(dir, sizeof dir, "%s", c->pidfile);
        char *slash = strrchr(dir, '/');
        if (slash && slash != dir) {
            *slash = '\0';
            /* 0750 as chronyd's rundir, and the daemon user's (before the privilege drop):
             * the control socket shares it by default (cmdsrv_io.h: an existing directory
             * must belong to that user), and the pid file can be removed at exit. */
            const char *user = o->user ? o->user : c->user;
            int r = privs_make_user_dir(dir, 0750, user);
            if (r < 0 && r != -ENOENT) /* no such user: the privilege drop says so */
                log_warn("Could not create directory %s for %s : %s", dir, user ? user : "",
                         strerror(-r));
        }
        int other = 0;
        int r = files_pidfile_claim(c->pidfile, &other);
        if (r == -EEXIST) {
            log_error("Fatal error : Another tempusd may already be running (pid=%d), check %s",
                      other, c->pidfile);
            return 1;
        }
        if (r < 0)
            log_warn("Could not write pidfile %s : %s", c->pidfile, strerror(-r));
        else
            d.pidfile = c->pidfile;
    }
    if (c->logdir) {
        int r = files_mkdir_p(c->logdir, 0750);
        if (r < 0)
            log_warn("Could not create directory %s : %s", c->logdir, strerror(-r));
    }
    if (c->dumpdir && !o->oneshot) {
        /* 0750 and the daemon user's (chronyd's), as it is written after the drop. */
        const char *user = o->user ? o->user : c->user;
        int r = privs_make_user_dir(c->dumpdir, 0750, user);
        if (r < 0 && r != -ENOENT)
            log_warn("Could not create directory %s : %s", c->dumpdir, strerror(-r));
    }

    int status = 1;
    d.loop = loop_new();
    if (!d.loop || setup_clock(&d) != 0) {
        log_error("Fatal error : out of memory");
        goto out;
    }
    if (o->set_from_rtc)
        set_from_driftfile(&d);
    /* before anything borrows d.ops: the engine's clock operations go through the smoother */
    if (c->smoothtime_set && !o->oneshot)
        smoothing_init(&d.sm, c->smoothtime_max_freq_ppm, c->smoothtime_max_wander_ppm_per_s,
                       c->smoothtime_leaponly, &d.ops, &d.guard);

    struct engine_params ep;
    fill_engine_params(c, o, &ep);
    if (c->driftfile) {
        double f, s;
        int r = driftfile_load(c->driftfile, &f, &s);
        if (r == 0) {
            ep.have_initial_freq = 1;
            ep.initial_freq_ppm = f;
            ep.initial_skew_ppm = s;
            log_info("Frequency %.3f +/- %.3f ppm read from %s", f, s, c->driftfile);
        } else if (r == -EINVAL) {
            log_warn("Could not read valid frequency and skew from driftfile %s", c->driftfile);
        }
    }
    uint64_t seed = make_seed();
    d.start_mono = loop_mono_ns();
    d.engine = engine_new(&ep, &d.ops, seed, d.start_mono);
    struct executor_params xp;
    int want_server = fill_executor_params(c, o, seed, &xp);
    struct executor_callbacks cb = {&d, map_rx, after_engine, d.sm.on ? serve_map : NULL,
                                    d.sm.on ? serve_ref : NULL};
    d.ex = d.engine ? executor_new(&xp, d.loop, d.engine, &d.ops, &cb) : NULL;
    if (!d.engine || !d.ex) {
        log_error("Fatal error : out of memory");
        goto out;
    }
    load_leapsectz(&d);
    open_logs(&d);
    if (want_server)
        executor_open_server(d.ex);
    d.cmd = cmdsrv_open(c, o->user ? o->user : c->user, o->family, o->oneshot == 'Q',
                        d.guard.using_null, d.loop, d.engine, d.ex);
    cmdsrv_on_cyclelogs(d.cmd, cycle_logs, &d);
    cmdsrv_on_dump(d.cmd, dump_now, &d);
    if (d.sm.on) {
        smoothing_set_executor(&d.sm, d.ex);
        cmdsrv_on_smoothing(d.cmd, smoothing_cmd, &d.sm);
    }
    d.n_conf_sources = c->n_sources;
    load_sourcedirs(&d);
    if (c->keyfile) {
        d.keys = keyfile_load(c->keyfile);
        use_keys(&d);
        keyfile_check_sources(c, d.keys);
    }
    cmdsrv_on_rekey(d.cmd, rekey, &d);
    if (!o->oneshot)
        cmdsrv_on_reload_sources(d.cmd, reload_sources, &d);
    d.dump_loading = o->reload_dump && c->dumpdir && !o->oneshot;
    d.dump_started = o->oneshot != 0; /* -q/-Q leave the dump files alone */
    int n = add_sources(&d, loop_mono_ns());
    finish_dump_start(&d);
    if (o->oneshot && n == 0) {
        log_info("No suitable source for synchronisation");
        goto out;
    }
    if (drop_privileges(&d) != 0)
        goto out;
    if (signals_install() != 0)
        log_warn("Could not install signal handlers");
    /* -F: after the privilege drop and the set-up, before the first packet (os/seccomp.h). */
    if (o->scfilter && seccomp_available()) {
        int f = seccomp_apply(o->scfilter);
        if (f < 0) {
            log_error("Fatal error : Failed to load seccomp rules : %s", strerror(-f));
            goto out;
        }
    }
    d.last_drift_save_mono = loop_mono_ns();
    executor_start(d.ex);
    daemon_detach_finish();
    (void)notify_send(&nfy, "READY=1\nSTATUS=Running");
    int r = loop_run(d.loop, check_stop, &d);
    if (r < 0) {
        log_error("Fatal error : poll() failed : %s", strerror(-r));
        goto out;
    }
    status = d.exit_status;
out:
    (void)notify_send(&nfy, "STOPPING=1");
    cleanup(&d);
    log_info("tempusd exiting");
    return status;
}
