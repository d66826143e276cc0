/* cmdsrv: tempusd's side of chrony's control protocol. A decoded request plus its context
 * (transport, sender, the engine's reports, the client log) in, reply bytes out, with
 * chronyd 4.3's access rules:
 *  - Unix socket: every command;
 *  - UDP: only from 127.0.0.1/::1 or a cmdallow address (anything else is dropped
 *    silently), only the open (monitoring) set of spec §2.3 (the rest get UNAUTH), and
 *    cmdratelimit for non-localhost senders;
 *  - a reply is sent only if it is not longer than the request (§3.3).
 * No system calls: commands that need the daemon (shutdown, add/delete source, ...) go
 * through struct cmdsrv_hooks. The socket side is cmdsrv_io.h.
 */
#ifndef TEMPUS_DAEMON_CMDSRV_H
#define TEMPUS_DAEMON_CMDSRV_H

#include <stddef.h>
#include <stdint.h>

#include "base/addr.h"
#include "core/clientlog.h"
#include "daemon/executor.h"
#include "wire/cmdmon.h"

struct engine;
struct conf;

enum cmdsrv_transport {
    CMDSRV_UNIX = 0,
    CMDSRV_UDP = 1,
};

#define CMDSRV_MAX_RULES     256
#define CMDSRV_CMD_LOG_BYTES 32768 /* command client log: at most 256 records */
#define CMDSRV_MAX_SOURCES   128   /* online/offline state kept per engine source id below this */

/* What the daemon does for cmdsrv. Any member may be NULL. */
struct cmdsrv_hooks {
    void *ctx;
    /* Runs a command cmdsrv cannot do on the engine alone: SHUTDOWN, CYCLELOGS, DUMP,
     * ADD_SOURCE, DEL_SOURCE, LOCAL2/3, ALLOW..DENYALL, RELOAD_SOURCES, REFRESH, RESELECT,
     * RESET_SOURCES and the MODIFY_* family. Returns a CMDMON_STT_* status. NULL hook:
     * those commands answer FAILED. */
    int (*run)(void *ctx, const struct cmdmon_request *req);
    /* Called after cmdsrv changed the engine (burst, online, makestep ...), so the daemon
     * re-arms the engine's timer. */
    void (*engine_changed)(void *ctx);
    /* NTP server counters for serverstats (ntp_* fields; cmd_* come from cmdsrv). */
    void (*ntp_stats)(void *ctx, struct clientlog_stats *out);
};

struct cmdsrv_params {
    struct access_rule cmd_rules[CMDSRV_MAX_RULES]; /* cmdallow/cmddeny */
    size_t n_cmd_rules;
    struct access_rule ntp_rules[CMDSRV_MAX_RULES]; /* allow/deny (for ACCHECK) */
    size_t n_ntp_rules;
    struct clientlog_ratelimit cmdratelimit; /* enabled = 0: off */
    size_t clientloglimit;                   /* bytes, 0 = default */
    int noclientlog;
    int local_enabled; /* `local`: tracking shows the local reference when unsynchronised */
    int local_stratum;
    double local_distance_s;
    /* The clock is not controlled (-x): MAKESTEP answers FAILED and nothing moves, as
     * chronyd -x 4.3 (its null driver cannot step: "500 Failure"). */
    int clock_fixed;
    uint64_t seed;
};

/* Fills p from the configuration (cmdallow/cmddeny, allow/deny, cmdratelimit,
 * clientloglimit, noclientlog, local); seed as given. */
void cmdsrv_params_from_conf(const struct conf *c, uint64_t seed, struct cmdsrv_params *p);

struct cmdsrv;

/* A new dispatcher over engine (borrowed, may be NULL: every report then says "no
 * sources"/unsynchronised). hooks is copied. ntp_log (borrowed, may be NULL) is the NTP
 * server's client log: `clients` shows one row per address with the NTP counters from it and
 * the command counters from cmdsrv's own log, and
 * serverstats takes its NTP counters (unless hooks->ntp_stats is set). NULL on ENOMEM. */
struct cmdsrv *cmdsrv_new(const struct cmdsrv_params *p, struct engine *engine,
                          const struct clientlog *ntp_log, const struct cmdsrv_hooks *hooks);
void cmdsrv_free(struct cmdsrv *s);

/* Facts the executor has and the engine does not: which clock took a source's receive times
 * (ntpdata), the server's timestamp counters (serverstats), whether the local reference is
 * in use (tracking). A separate hook set, so that cmdsrv_hooks' initialisers stay as they
 * are. */
struct cmdsrv_ex_hooks {
    void *ctx;
    /* Receive timestamping of the source at remote (ntpdata's RX timestamping and Total
     * kernel RX): see executor_source_rx_ts(). NULL hook or nonzero return: daemon, 0. */
    int (*source_rx_ts)(void *ctx, const struct addr *remote, int *last_kernel, uint32_t *n_kernel);
    /* serverstats' timestamp counters, CMDMON_SS_NTP_DAEMON_RX_TS..HW_TX_TS in that order
     * (6 values). NULL hook: zeros. */
    void (*ntp_ts_stats)(void *ctx, uint64_t v[6]);
    /* 1 when the local reference is in use now (executor_local_active()), for tracking.
     * NULL hook: executor_local_in_use() with cmdsrv_params' local fields. */
    int (*local_active)(void *ctx, int64_t now_mono_ns);
    /* The NTP server's client records for `clients`, when they are not (only) ntp_log (the
     * server workers keep one table each): slot count, and one slot's row (1, or 0 when
     * empty). NULL hooks: ntp_log. */
    uint32_t (*ntp_clients_capacity)(void *ctx);
    int (*ntp_client_report)(void *ctx, uint32_t index, int64_t now_real_ns,
                             struct clientlog_report *out);
    /* Our address the source at remote answers to (ntpdata's Local address): 0 with *local
     * set, else nonzero (then the unspecified address of its family, as before). */
    int (*source_local_addr)(void *ctx, const struct addr *remote, struct addr *local);
};

/* Installs h (copied; NULL removes): ntpdata and serverstats use it from then on. */
void cmdsrv_set_ex_hooks(struct cmdsrv *s, const struct cmdsrv_ex_hooks *h);

/* `smoothtime`: fn answers SMOOTHING (option -1: fills *out) and SMOOTHTIME (0 reset, 1
 * activate; out NULL) with a CMDMON_STT_* status. Without it (fn NULL, the default) both
 * answer NOTENABLED, as chronyd without the directive. */
void cmdsrv_set_smoothing(struct cmdsrv *s,
                          int (*fn)(void *ctx, int option, struct cmdmon_rep_smoothing *out),
                          void *ctx);

/* Handles one request datagram req[0..len) that arrived over transport t from `from` (UDP:
 * address and port; Unix: NULL). now_mono_ns for the engine's reports, now_real_ns for the
 * client log. Writes the reply into out (cap >= CMDMON_MAX_REP_LEN) and returns its length,
 * or 0 when nothing must be sent. */
size_t cmdsrv_handle(struct cmdsrv *s, enum cmdsrv_transport t, const struct addr *from,
                     const uint8_t *req, size_t len, int64_t now_mono_ns, int64_t now_real_ns,
                     uint8_t *out, size_t cap);

/* The NTP allow/deny rules as changed by ALLOW..DENYALL so far (for the daemon's run hook,
 * which hands them to the executor). Borrowed; *n set to their count. */
const struct access_rule *cmdsrv_ntp_rules(const struct cmdsrv *s, size_t *n);

/* 1 when addr may send UDP commands (localhost, or allowed by the cmdallow rules). */
int cmdsrv_udp_allowed(const struct cmdsrv *s, const struct addr *addr);

#endif
