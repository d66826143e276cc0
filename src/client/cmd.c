/* tempusc command table and runners (see cmd.h). */
#include "client/cmd.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

#include "client/fmt.h"
#include "client/names.h"
#include "client/report.h"

#define MAX_WORDS 64

/* ---- exchanges and status lines ---- */

/* Result of one exchange as chronyc reports it: a status code (0, 8, 9 are successes), or
 * one of the client-side failures below. */
enum {
    EX_NO_REPLY = 1000, /* 506 */
    EX_BAD_REPLY,       /* 508 */
    EX_VERSION,         /* 517 */
};

static bool ex_ok(int r)
{
    return r == CMDMON_STT_SUCCESS || r == CMDMON_STT_ACCESSALLOWED || r == CMDMON_STT_ACCESSDENIED;
}

static const char *ex_message(int r)
{
    switch (r) {
    case EX_NO_REPLY:
        return "506 Cannot talk to daemon";
    case EX_BAD_REPLY:
        return "508 Bad reply from daemon";
    case EX_VERSION:
        return "517 Protocol version mismatch";
    default:
        return cmdmon_status_message((unsigned)r);
    }
}

/* A status line: stdout in text and CSV (as chronyc), a "status" member in JSON. */
static void status_line(struct cmd_ctx *c, int r)
{
    if (c->out.mode == OUT_JSON) {
        out_doc_unwind(&c->out);
        out_custom(&c->out, "status", "", "", ex_message(r), true);
        out_custom(&c->out, "ok", "", "", ex_ok(r) ? "true" : "false", false);
    } else {
        fprintf(c->out.f, "%s\n", ex_message(r));
    }
}

/* Sends req; accepts a reply whose code is one of ok_replies (0-terminated). Returns the
 * status (0/8/9 on success) or EX_*. Prints nothing. */
static int exchange(struct cmd_ctx *c, unsigned command, struct cmdmon_request *req,
                    struct cmdmon_reply *rep, const uint16_t *ok_replies)
{
    req->command = (uint16_t)command;
    switch (transport_exchange(c->t, req, rep)) {
    case TRANSPORT_NO_REPLY:
        return EX_NO_REPLY;
    case TRANSPORT_VERSION_MISMATCH:
        return EX_VERSION;
    case TRANSPORT_OK:
        break;
    }
    if (!ex_ok(rep->status))
        return rep->status;
    for (const uint16_t *r = ok_replies; *r; r++)
        if (rep->reply == *r)
            return rep->status;
    return EX_BAD_REPLY;
}

/* exchange() that prints the failure line; 0 on success, -1 (printed) on failure. */
static int request(struct cmd_ctx *c, unsigned command, struct cmdmon_request *req,
                   struct cmdmon_reply *rep, const uint16_t *ok_replies)
{
    int r = exchange(c, command, req, rep, ok_replies);
    if (ex_ok(r))
        return 0;
    status_line(c, r);
    return -1;
}

static const uint16_t rep_null[] = {CMDMON_REP_NULL, 0};
static const uint16_t rep_n_sources[] = {CMDMON_REP_N_SOURCES, 0};
static const uint16_t rep_source_data[] = {CMDMON_REP_SOURCE_DATA, 0};
static const uint16_t rep_tracking[] = {CMDMON_REP_TRACKING, 0};
static const uint16_t rep_sourcestats[] = {CMDMON_REP_SOURCESTATS, 0};
static const uint16_t rep_select_data[] = {CMDMON_REP_SELECT_DATA, 0};
/* Older formats of the same report are decoded too (spec §11.2). */
static const uint16_t rep_ntp_data[] = {CMDMON_REP_NTP_DATA2, CMDMON_REP_NTP_DATA, 0};
static const uint16_t rep_server_stats[] = {CMDMON_REP_SERVER_STATS4, CMDMON_REP_SERVER_STATS3,
                                            CMDMON_REP_SERVER_STATS2, CMDMON_REP_SERVER_STATS, 0};
static const uint16_t rep_source_name[] = {CMDMON_REP_NTP_SOURCE_NAME, 0};
static const uint16_t rep_auth_data[] = {CMDMON_REP_AUTH_DATA, 0};
static const uint16_t rep_clients[] = {CMDMON_REP_CLIENT_ACCESSES_BY_INDEX3, 0};
static const uint16_t rep_activity[] = {CMDMON_REP_ACTIVITY, 0};
static const uint16_t rep_smoothing[] = {CMDMON_REP_SMOOTHING, 0};
static const uint16_t rep_rtc[] = {CMDMON_REP_RTC, 0};
static const uint16_t rep_manual_list[] = {CMDMON_REP_MANUAL_LIST2, 0};
static const uint16_t rep_manual_ts[] = {CMDMON_REP_MANUAL_TIMESTAMP2, 0};

/* ---- argument parsing helpers ---- */

static void syntax_error(const char *command)
{
    fprintf(stderr, "Invalid syntax for %s command\n", command);
}

static bool parse_int(const char *s, long lo, long hi, int32_t *out)
{
    char *end;
    errno = 0;
    long v = strtol(s, &end, 10);
    if (end == s || *end || errno || v < lo || v > hi)
        return false;
    *out = (int32_t)v;
    return true;
}

static bool parse_double(const char *s, double *out)
{
    char *end;
    errno = 0;
    double v = strtod(s, &end);
    if (end == s || *end || errno)
        return false;
    *out = v;
    return true;
}

static int parse_addr(struct cmd_ctx *c, const char *text, struct cmdmon_ip *ip)
{
    if (names_parse(text, c->family, ip) != 0) {
        fprintf(stderr, "Could not get address for hostname\n");
        return -1;
    }
    return 0;
}

/* A source given as an address, or as a reference clock's refid (up to 4 characters). */
static int parse_addr_or_refid(struct cmd_ctx *c, const char *text, struct cmdmon_ip *ip,
                               uint32_t *ref_id)
{
    memset(ip, 0, sizeof *ip);
    *ref_id = 0;
    if (names_is_numeric(text) || !strncmp(text, "ID#", 3) || strlen(text) > 4)
        return parse_addr(c, text, ip);
    for (size_t i = 0; i < 4; i++)
        *ref_id = *ref_id << 8 | (i < strlen(text) ? (uint8_t)text[i] : 0u);
    return 0;
}

/* ---- names of sources ---- */

/* Name of an NTP source for a table: -N name, or reverse DNS / numeric. */
static void source_name(struct cmd_ctx *c, const struct cmdmon_ip *ip, bool truncate, char *buf,
                        size_t len)
{
    if (c->source_names &&
        (ip->family == CMDMON_FAMILY_INET4 || ip->family == CMDMON_FAMILY_INET6)) {
        struct cmdmon_request req;
        struct cmdmon_reply rep;
        memset(&req, 0, sizeof req);
        req.u.ip = *ip;
        if (exchange(c, CMDMON_REQ_NTP_SOURCE_NAME, &req, &rep, rep_source_name) ==
                CMDMON_STT_SUCCESS &&
            rep.u.ntp_source_name[CMDMON_NAME_LEN - 1] == '\0') {
            snprintf(buf, len, "%s", rep.u.ntp_source_name);
            return;
        }
        snprintf(buf, len, "?");
        return;
    }
    names_lookup(ip, c->numeric, truncate, buf, len);
}

static int get_n_sources(struct cmd_ctx *c, uint32_t *n)
{
    struct cmdmon_request req;
    struct cmdmon_reply rep;
    memset(&req, 0, sizeof req);
    if (request(c, CMDMON_REQ_N_SOURCES, &req, &rep, rep_n_sources) < 0)
        return -1;
    *n = rep.u.n_sources;
    return 0;
}

static int get_source_data(struct cmd_ctx *c, uint32_t i, struct cmdmon_rep_source_data *sd)
{
    struct cmdmon_request req;
    struct cmdmon_reply rep;
    memset(&req, 0, sizeof req);
    req.u.index = i;
    if (request(c, CMDMON_REQ_SOURCE_DATA, &req, &rep, rep_source_data) < 0)
        return -1;
    *sd = rep.u.source_data;
    return 0;
}

/* Flags of the table commands: -a (all, also unresolved) and -v (legend). */
static int table_flags(int argc, char **argv, const char *cmd, bool *all, bool *verbose)
{
    *all = *verbose = false;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "-a"))
            *all = true;
        else if (!strcmp(argv[i], "-v"))
            *verbose = true;
        else {
            syntax_error(cmd);
            return -1;
        }
    }
    return 0;
}

/* ---- report commands ---- */

static int run_tracking(struct cmd_ctx *c, int argc, char **argv)
{
    struct cmdmon_request req;
    struct cmdmon_reply rep;
    char name[NAMES_MAX];
    (void)argv;
    if (argc > 1) {
        syntax_error("tracking");
        return 1;
    }
    memset(&req, 0, sizeof req);
    if (request(c, CMDMON_REQ_TRACKING, &req, &rep, rep_tracking) < 0)
        return 1;
    const struct cmdmon_rep_tracking *t = &rep.u.tracking;
    if (t->ip_addr.family == CMDMON_FAMILY_UNSPEC)
        fmt_refid_text(name, sizeof name, t->ref_id);
    else
        source_name(c, &t->ip_addr, false, name, sizeof name);
    report_tracking(&c->out, t, name);
    return 0;
}

struct explained {
    char name[NAMES_MAX];
    const char *why;
};

static void print_explanations(struct cmd_ctx *c, const struct explained *e, int n)
{
    if (!c->explain || c->out.mode != OUT_TEXT || n == 0)
        return;
    out_text(&c->out, "\nWhy sources are not selected:\n");
    for (int i = 0; i < n; i++)
        out_text(&c->out, "  %s: %s\n", e[i].name, e[i].why);
}

#define MAX_EXPLAINED 64

/* The reason a source is not selected: SELECT_DATA's letter when the daemon answers it (it
 * needs the Unix socket on chronyd), else the coarser SOURCE_DATA state. */
static const char *explain_source(struct cmd_ctx *c, uint32_t index, unsigned state)
{
    struct cmdmon_request req;
    struct cmdmon_reply rep;
    memset(&req, 0, sizeof req);
    req.u.index = index;
    if (exchange(c, CMDMON_REQ_SELECT_DATA, &req, &rep, rep_select_data) == CMDMON_STT_SUCCESS)
        return report_select_reason(rep.u.select_data.state_char);
    return report_source_state_reason(state);
}

static int run_sources(struct cmd_ctx *c, int argc, char **argv)
{
    bool all, verbose;
    uint32_t n;
    struct explained why[MAX_EXPLAINED];
    int n_why = 0, rc = 0;
    if (table_flags(argc, argv, "sources", &all, &verbose) < 0)
        return 1;
    if (get_n_sources(c, &n) < 0)
        return 1;
    report_sources_header(&c->out, verbose);
    out_list_begin(&c->out, "sources");
    for (uint32_t i = 0; i < n; i++) {
        struct cmdmon_rep_source_data sd;
        char name[NAMES_MAX];
        if (get_source_data(c, i, &sd) < 0) {
            rc = 1;
            break;
        }
        if (sd.ip_addr.family == CMDMON_FAMILY_ID && !all)
            continue;
        if (sd.mode == CMDMON_SRC_MODE_REF && sd.ip_addr.family == CMDMON_FAMILY_INET4) {
            uint32_t id = (uint32_t)sd.ip_addr.addr[0] << 24 | (uint32_t)sd.ip_addr.addr[1] << 16 |
                          (uint32_t)sd.ip_addr.addr[2] << 8 | sd.ip_addr.addr[3];
            fmt_refid_text(name, sizeof name, id);
        } else {
            source_name(c, &sd.ip_addr, true, name, sizeof name);
        }
        report_sources_row(&c->out, &sd, name);
        if (c->explain && sd.state != CMDMON_SRC_SELECTED && n_why < MAX_EXPLAINED) {
            snprintf(why[n_why].name, sizeof why[n_why].name, "%s", name);
            why[n_why++].why = explain_source(c, i, sd.state);
        }
    }
    if (rc == 0) {
        out_list_end(&c->out);
        print_explanations(c, why, n_why);
    }
    return rc;
}

static int run_sourcestats(struct cmd_ctx *c, int argc, char **argv)
{
    bool all, verbose;
    uint32_t n;
    if (table_flags(argc, argv, "sourcestats", &all, &verbose) < 0)
        return 1;
    if (get_n_sources(c, &n) < 0)
        return 1;
    report_sourcestats_header(&c->out, verbose);
    out_list_begin(&c->out, "sources");
    for (uint32_t i = 0; i < n; i++) {
        struct cmdmon_request req;
        struct cmdmon_reply rep;
        char name[NAMES_MAX];
        memset(&req, 0, sizeof req);
        req.u.index = i;
        if (request(c, CMDMON_REQ_SOURCESTATS, &req, &rep, rep_sourcestats) < 0)
            return 1;
        const struct cmdmon_rep_sourcestats *s = &rep.u.sourcestats;
        if (s->ip_addr.family == CMDMON_FAMILY_ID && !all)
            continue;
        if (s->ip_addr.family == CMDMON_FAMILY_UNSPEC)
            fmt_refid_text(name, sizeof name, s->ref_id);
        else
            source_name(c, &s->ip_addr, true, name, sizeof name);
        report_sourcestats_row(&c->out, s, name);
    }
    out_list_end(&c->out);
    return 0;
}

static int run_selectdata(struct cmd_ctx *c, int argc, char **argv)
{
    bool all, verbose;
    uint32_t n;
    struct explained why[MAX_EXPLAINED];
    int n_why = 0;
    if (table_flags(argc, argv, "selectdata", &all, &verbose) < 0)
        return 1;
    if (get_n_sources(c, &n) < 0)
        return 1;
    report_selectdata_header(&c->out, verbose);
    out_list_begin(&c->out, "sources");
    for (uint32_t i = 0; i < n; i++) {
        struct cmdmon_request req;
        struct cmdmon_reply rep;
        char name[NAMES_MAX];
        memset(&req, 0, sizeof req);
        req.u.index = i;
        if (request(c, CMDMON_REQ_SELECT_DATA, &req, &rep, rep_select_data) < 0)
            return 1;
        const struct cmdmon_rep_select_data *s = &rep.u.select_data;
        if (s->ip_addr.family == CMDMON_FAMILY_ID && !all)
            continue;
        if (s->ip_addr.family == CMDMON_FAMILY_UNSPEC)
            fmt_refid_text(name, sizeof name, s->ref_id);
        else
            source_name(c, &s->ip_addr, true, name, sizeof name);
        report_selectdata_row(&c->out, s, name);
        if (s->state_char != '*' && n_why < MAX_EXPLAINED) {
            snprintf(why[n_why].name, sizeof why[n_why].name, "%s", name);
            why[n_why++].why = report_select_reason(s->state_char);
        }
    }
    out_list_end(&c->out);
    print_explanations(c, why, n_why);
    return 0;
}

static int ntpdata_one(struct cmd_ctx *c, const struct cmdmon_ip *ip, bool blank_before)
{
    struct cmdmon_request req;
    struct cmdmon_reply rep;
    memset(&req, 0, sizeof req);
    req.u.ip = *ip;
    if (request(c, CMDMON_REQ_NTP_DATA, &req, &rep, rep_ntp_data) < 0)
        return -1;
    if (blank_before)
        out_text(&c->out, "\n");
    report_ntpdata(&c->out, &rep.u.ntp_data, rep.reply == CMDMON_REP_NTP_DATA2);
    return 0;
}

static int run_ntpdata(struct cmd_ctx *c, int argc, char **argv)
{
    struct cmdmon_ip ip;
    if (argc > 2) {
        syntax_error("ntpdata");
        return 1;
    }
    out_list_begin(&c->out, "sources");
    if (argc == 2) {
        if (parse_addr(c, argv[1], &ip) < 0)
            return 1;
        return ntpdata_one(c, &ip, false) < 0;
    }
    uint32_t n;
    if (get_n_sources(c, &n) < 0)
        return 1;
    for (uint32_t i = 0; i < n; i++) {
        struct cmdmon_rep_source_data sd;
        if (get_source_data(c, i, &sd) < 0)
            return 1;
        if (sd.mode > CMDMON_SRC_MODE_PEER ||
            (sd.ip_addr.family != CMDMON_FAMILY_INET4 && sd.ip_addr.family != CMDMON_FAMILY_INET6))
            continue;
        if (ntpdata_one(c, &sd.ip_addr, true) < 0)
            return 1;
    }
    out_list_end(&c->out);
    return 0;
}

static int run_authdata(struct cmd_ctx *c, int argc, char **argv)
{
    bool all, verbose;
    uint32_t n;
    if (table_flags(argc, argv, "authdata", &all, &verbose) < 0)
        return 1;
    if (get_n_sources(c, &n) < 0)
        return 1;
    report_authdata_header(&c->out, verbose);
    out_list_begin(&c->out, "sources");
    for (uint32_t i = 0; i < n; i++) {
        struct cmdmon_rep_source_data sd;
        struct cmdmon_request req;
        struct cmdmon_reply rep;
        char name[NAMES_MAX];
        if (get_source_data(c, i, &sd) < 0)
            return 1;
        if (sd.mode > CMDMON_SRC_MODE_PEER || (sd.ip_addr.family == CMDMON_FAMILY_ID && !all))
            continue;
        memset(&req, 0, sizeof req);
        req.u.ip = sd.ip_addr;
        if (request(c, CMDMON_REQ_AUTH_DATA, &req, &rep, rep_auth_data) < 0)
            return 1;
        source_name(c, &sd.ip_addr, true, name, sizeof name);
        report_authdata_row(&c->out, &rep.u.auth_data, name);
    }
    out_list_end(&c->out);
    return 0;
}

static int run_clients(struct cmd_ctx *c, int argc, char **argv)
{
    bool nke = false;
    uint32_t min_hits = 0, reset = 0;
    for (int i = 1; i < argc; i++) {
        int32_t v;
        if (!strcmp(argv[i], "-k"))
            nke = true;
        else if (!strcmp(argv[i], "-r"))
            reset = 1;
        else if (!strcmp(argv[i], "-p") && i + 1 < argc &&
                 parse_int(argv[i + 1], 0, INT32_MAX, &v)) {
            min_hits = (uint32_t)v;
            i++;
        } else {
            syntax_error("clients");
            return 1;
        }
    }
    report_clients_header(&c->out, nke);
    out_list_begin(&c->out, "clients");
    uint32_t first = 0;
    for (int page = 0; page < 1000000; page++) {
        struct cmdmon_request req;
        struct cmdmon_reply rep;
        memset(&req, 0, sizeof req);
        req.u.clients.first_index = first;
        req.u.clients.n_clients = CMDMON_MAX_CLIENTS;
        req.u.clients.min_hits = min_hits;
        req.u.clients.reset = reset;
        if (request(c, CMDMON_REQ_CLIENT_ACCESSES_BY_INDEX3, &req, &rep, rep_clients) < 0)
            return 1;
        const struct cmdmon_rep_client_accesses *ca = &rep.u.client_accesses;
        uint32_t got = ca->n_clients < CMDMON_MAX_CLIENTS ? ca->n_clients : CMDMON_MAX_CLIENTS;
        for (uint32_t i = 0; i < got; i++) {
            char name[NAMES_MAX];
            if (ca->clients[i].ip.family == CMDMON_FAMILY_UNSPEC)
                continue;
            names_lookup(&ca->clients[i].ip, c->numeric, true, name, sizeof name);
            report_clients_row(&c->out, &ca->clients[i], name, nke);
        }
        if (ca->next_index >= ca->n_indices || ca->n_clients < CMDMON_MAX_CLIENTS ||
            ca->next_index <= first)
            break;
        first = ca->next_index;
    }
    out_list_end(&c->out);
    return 0;
}

/* A report from one request with an empty body. */
static int simple_report(struct cmd_ctx *c, int argc, const char *name, unsigned command,
                         const uint16_t *ok, struct cmdmon_reply *rep)
{
    struct cmdmon_request req;
    if (argc > 1) {
        syntax_error(name);
        return -1;
    }
    memset(&req, 0, sizeof req);
    return request(c, command, &req, rep, ok);
}

static int run_activity(struct cmd_ctx *c, int argc, char **argv)
{
    struct cmdmon_reply rep;
    (void)argv;
    if (simple_report(c, argc, "activity", CMDMON_REQ_ACTIVITY, rep_activity, &rep) < 0)
        return 1;
    report_activity(&c->out, &rep.u.activity);
    return 0;
}

static int run_serverstats(struct cmd_ctx *c, int argc, char **argv)
{
    struct cmdmon_reply rep;
    (void)argv;
    if (simple_report(c, argc, "serverstats", CMDMON_REQ_SERVER_STATS, rep_server_stats, &rep) < 0)
        return 1;
    report_serverstats(&c->out, &rep.u.server_stats);
    return 0;
}

static int run_smoothing(struct cmd_ctx *c, int argc, char **argv)
{
    struct cmdmon_reply rep;
    (void)argv;
    if (simple_report(c, argc, "smoothing", CMDMON_REQ_SMOOTHING, rep_smoothing, &rep) < 0)
        return 1;
    report_smoothing(&c->out, &rep.u.smoothing);
    return 0;
}

static int run_rtcdata(struct cmd_ctx *c, int argc, char **argv)
{
    struct cmdmon_reply rep;
    (void)argv;
    if (simple_report(c, argc, "rtcdata", CMDMON_REQ_RTCREPORT, rep_rtc, &rep) < 0)
        return 1;
    report_rtc(&c->out, &rep.u.rtc);
    return 0;
}

static int run_sourcename(struct cmd_ctx *c, int argc, char **argv)
{
    struct cmdmon_request req;
    struct cmdmon_reply rep;
    if (argc != 2) {
        syntax_error("sourcename");
        return 1;
    }
    memset(&req, 0, sizeof req);
    if (parse_addr(c, argv[1], &req.u.ip) < 0)
        return 1;
    if (request(c, CMDMON_REQ_NTP_SOURCE_NAME, &req, &rep, rep_source_name) < 0)
        return 1;
    const char *s = rep.u.ntp_source_name;
    bool ok = s[CMDMON_NAME_LEN - 1] == '\0';
    for (size_t i = 0; ok && s[i]; i++)
        ok = isgraph((unsigned char)s[i]) != 0;
    if (!ok) {
        status_line(c, EX_BAD_REPLY);
        return 1;
    }
    out_rec_begin(&c->out);
    out_str(&c->out, "name", "%s", s);
    out_text(&c->out, "\n");
    out_rec_end(&c->out);
    return 0;
}

static int run_waitsync(struct cmd_ctx *c, int argc, char **argv)
{
    int32_t max_tries = 0;
    double max_corr = 0.0, max_skew = 0.0, interval = 10.0;
    if (argc > 5 || (argc > 1 && !parse_int(argv[1], 0, INT32_MAX, &max_tries)) ||
        (argc > 2 && !parse_double(argv[2], &max_corr)) ||
        (argc > 3 && !parse_double(argv[3], &max_skew)) ||
        (argc > 4 && !parse_double(argv[4], &interval))) {
        syntax_error("waitsync");
        return 1;
    }
    if (interval < 0.1)
        interval = 0.1;
    out_list_begin(&c->out, "tries");
    for (int i = 1;; i++) {
        struct cmdmon_request req;
        struct cmdmon_reply rep;
        memset(&req, 0, sizeof req);
        if (request(c, CMDMON_REQ_TRACKING, &req, &rep, rep_tracking) < 0)
            return 1;
        const struct cmdmon_rep_tracking *t = &rep.u.tracking;
        report_waitsync_try(&c->out, i, t);
        bool synced = t->ip_addr.family != CMDMON_FAMILY_UNSPEC ||
                      (t->ref_id != 0 && t->ref_id != 0x7F7F0101u);
        if (synced && (max_corr <= 0.0 || fabs(t->current_correction) <= max_corr) &&
            (max_skew <= 0.0 || t->skew_ppm <= max_skew)) {
            out_list_end(&c->out);
            return 0;
        }
        if (max_tries > 0 && i >= max_tries)
            break;
        fflush(c->out.f);
        struct timespec ts = {.tv_sec = (time_t)interval,
                              .tv_nsec = (long)((interval - floor(interval)) * 1e9)};
        nanosleep(&ts, NULL);
    }
    out_list_end(&c->out);
    return 1;
}

static int run_manual(struct cmd_ctx *c, int argc, char **argv);

/* ---- state-changing commands: words -> one request ---- */

/* online/offline/burst selector: nothing (all sources) or ADDR, ADDR/BITS, MASK/ADDR. */
static int parse_selector(struct cmd_ctx *c, int argc, char **argv, int first,
                          struct cmdmon_req_mask_addr *m)
{
    if (argc == first)
        return 0; /* both UNSPEC: every source */
    if (argc != first + 1 ||
        names_parse_mask_addr(argv[first], c->family, &m->mask, &m->address) != 0)
        return -1;
    return 0;
}

static const struct {
    const char *name;
    unsigned command;
} empty_commands[] = {
    {"onoffline", CMDMON_REQ_ONOFFLINE}, {"refresh", CMDMON_REQ_REFRESH},
    {"reselect", CMDMON_REQ_RESELECT},   {"cyclelogs", CMDMON_REQ_CYCLELOGS},
    {"rekey", CMDMON_REQ_REKEY},         {"writertc", CMDMON_REQ_WRITERTC},
    {"trimrtc", CMDMON_REQ_TRIMRTC},     {"shutdown", CMDMON_REQ_SHUTDOWN},
};

static const struct {
    const char *name;
    unsigned command;
    bool is_float;
} modify_commands[] = {
    {"minpoll", CMDMON_REQ_MODIFY_MINPOLL, false},
    {"maxpoll", CMDMON_REQ_MODIFY_MAXPOLL, false},
    {"maxdelay", CMDMON_REQ_MODIFY_MAXDELAY, true},
    {"maxdelayratio", CMDMON_REQ_MODIFY_MAXDELAYRATIO, true},
    {"maxdelaydevratio", CMDMON_REQ_MODIFY_MAXDELAYDEVRATIO, true},
    {"minstratum", CMDMON_REQ_MODIFY_MINSTRATUM, false},
    {"polltarget", CMDMON_REQ_MODIFY_POLLTARGET, false},
};

static const struct {
    const char *name;
    unsigned command;
} float_commands[] = {
    {"maxupdateskew", CMDMON_REQ_MODIFY_MAXUPDATESKEW},
    {"reselectdist", CMDMON_REQ_RESELECTDISTANCE},
    {"dfreq", CMDMON_REQ_DFREQ},
    {"doffset", CMDMON_REQ_DOFFSET2},
};

static const struct {
    const char *name;
    unsigned command, command_all;
} access_commands[] = {
    {"allow", CMDMON_REQ_ALLOW, CMDMON_REQ_ALLOWALL},
    {"deny", CMDMON_REQ_DENY, CMDMON_REQ_DENYALL},
    {"cmdallow", CMDMON_REQ_CMDALLOW, CMDMON_REQ_CMDALLOWALL},
    {"cmddeny", CMDMON_REQ_CMDDENY, CMDMON_REQ_CMDDENYALL},
};

/* Valued options of add (the source directive's), and where they go in the request. */
enum add_opt_kind {
    ADD_OPT_INT,
    ADD_OPT_UINT,
    ADD_OPT_FLOAT,
};

#define ADD_FIELD(f) offsetof(struct cmdmon_req_add_source, f)
static const struct {
    const char *word;
    enum add_opt_kind kind;
    size_t offset;
    long lo, hi; /* integer range */
} add_options[] = {
    {"port", ADD_OPT_UINT, ADD_FIELD(port), 0, 65535},
    {"minpoll", ADD_OPT_INT, ADD_FIELD(minpoll), -32, 32},
    {"maxpoll", ADD_OPT_INT, ADD_FIELD(maxpoll), -32, 32},
    {"presend", ADD_OPT_INT, ADD_FIELD(presend_minpoll), -32, 100},
    {"minstratum", ADD_OPT_UINT, ADD_FIELD(min_stratum), 0, 16},
    {"polltarget", ADD_OPT_UINT, ADD_FIELD(poll_target), 0, INT32_MAX},
    {"version", ADD_OPT_UINT, ADD_FIELD(version), 0, 4},
    {"maxsources", ADD_OPT_UINT, ADD_FIELD(max_sources), 0, INT32_MAX},
    {"minsamples", ADD_OPT_INT, ADD_FIELD(min_samples), -1, INT32_MAX},
    {"maxsamples", ADD_OPT_INT, ADD_FIELD(max_samples), -1, INT32_MAX},
    {"key", ADD_OPT_UINT, ADD_FIELD(authkey), 0, INT32_MAX},
    {"ntsport", ADD_OPT_UINT, ADD_FIELD(nts_port), 0, 65535},
    {"certset", ADD_OPT_UINT, ADD_FIELD(cert_set), 0, INT32_MAX},
    {"filter", ADD_OPT_INT, ADD_FIELD(filter_length), 0, INT32_MAX},
    {"maxunreach", ADD_OPT_INT, ADD_FIELD(max_unreach), 0, INT32_MAX},
    {"maxdelay", ADD_OPT_FLOAT, ADD_FIELD(max_delay), 0, 0},
    {"maxdelayratio", ADD_OPT_FLOAT, ADD_FIELD(max_delay_ratio), 0, 0},
    {"maxdelaydevratio", ADD_OPT_FLOAT, ADD_FIELD(max_delay_dev_ratio), 0, 0},
    {"maxdelayquant", ADD_OPT_FLOAT, ADD_FIELD(max_delay_quant), 0, 0},
    {"mindelay", ADD_OPT_FLOAT, ADD_FIELD(min_delay), 0, 0},
    {"asymmetry", ADD_OPT_FLOAT, ADD_FIELD(asymmetry), 0, 0},
    {"offset", ADD_OPT_FLOAT, ADD_FIELD(offset), 0, 0},
};
#undef ADD_FIELD

/* add server|pool|peer NAME [options], with chronyc's defaults (spec §7 ADD_SOURCE). */
static int build_add(struct cmd_ctx *c, int argc, char **argv, struct cmdmon_request *req)
{
    struct cmdmon_req_add_source *a = &req->u.add_source;
    if (argc < 3)
        return -1;
    if (!strcmp(argv[1], "server"))
        a->type = CMDMON_ADD_SERVER;
    else if (!strcmp(argv[1], "peer"))
        a->type = CMDMON_ADD_PEER;
    else if (!strcmp(argv[1], "pool"))
        a->type = CMDMON_ADD_POOL;
    else
        return -1;
    if (strlen(argv[2]) >= CMDMON_NAME_LEN)
        return -1;
    snprintf(a->name, sizeof a->name, "%s", argv[2]);
    a->port = 123;
    a->minpoll = 6;
    a->maxpoll = 10;
    a->presend_minpoll = 100;
    a->poll_target = 8;
    a->max_sources = 4;
    a->min_samples = -1;
    a->max_samples = -1;
    a->nts_port = 4460;
    a->max_delay = 3.0;
    a->max_delay_dev_ratio = 10.0;
    a->asymmetry = 1.0;
    a->max_unreach = 100000; /* chronyc 4.8; "reserved" for 4.3, which ignores it */
    a->flags = CMDMON_ADD_FLAG_ONLINE;

    static const struct {
        const char *word;
        uint32_t flag;
    } flags[] = {
        {"auto_offline", CMDMON_ADD_FLAG_AUTOOFFLINE},
        {"iburst", CMDMON_ADD_FLAG_IBURST},
        {"prefer", CMDMON_ADD_FLAG_PREFER},
        {"noselect", CMDMON_ADD_FLAG_NOSELECT},
        {"trust", CMDMON_ADD_FLAG_TRUST},
        {"require", CMDMON_ADD_FLAG_REQUIRE},
        {"xleave", CMDMON_ADD_FLAG_INTERLEAVED},
        {"burst", CMDMON_ADD_FLAG_BURST},
        {"nts", CMDMON_ADD_FLAG_NTS},
        {"copy", CMDMON_ADD_FLAG_COPY},
        {"ipv4", CMDMON_ADD_FLAG_IPV4},
        {"ipv6", CMDMON_ADD_FLAG_IPV6},
    };
    for (int i = 3; i < argc; i++) {
        const char *w = argv[i];
        bool done = false;
        if (!strcmp(w, "offline")) {
            a->flags &= ~CMDMON_ADD_FLAG_ONLINE;
            continue;
        }
        for (size_t k = 0; k < sizeof flags / sizeof flags[0]; k++) {
            if (!strcmp(w, flags[k].word)) {
                a->flags |= flags[k].flag;
                done = true;
            }
        }
        if (done)
            continue;
        if (i + 1 >= argc)
            return -1;
        const char *v = argv[++i];
        bool ok = false;
        if (!strcmp(w, "extfield")) {
            if (!strcasecmp(v, "F323")) {
                a->flags |= CMDMON_ADD_FLAG_EF_EXP_MONO;
                ok = true;
            } else if (!strcasecmp(v, "F324")) {
                a->flags |= CMDMON_ADD_FLAG_EF_EXP_NET;
                ok = true;
            }
        }
        for (size_t k = 0; k < sizeof add_options / sizeof add_options[0]; k++) {
            if (strcmp(w, add_options[k].word) != 0)
                continue;
            void *field = (char *)a + add_options[k].offset;
            int32_t iv;
            double dv;
            switch (add_options[k].kind) {
            case ADD_OPT_INT:
                ok = parse_int(v, add_options[k].lo, add_options[k].hi, &iv);
                if (ok)
                    *(int32_t *)field = iv;
                break;
            case ADD_OPT_UINT:
                ok = parse_int(v, add_options[k].lo, add_options[k].hi, &iv);
                if (ok)
                    *(uint32_t *)field = (uint32_t)iv;
                break;
            case ADD_OPT_FLOAT:
                ok = parse_double(v, &dv);
                if (ok)
                    *(double *)field = dv;
                break;
            }
        }
        if (!ok)
            return -1;
    }
    /* chronyc checks that the name resolves here before sending it. */
    struct cmdmon_ip ip;
    if (names_parse(a->name, c->family, &ip) != 0) {
        fprintf(stderr, "Invalid host/IP address\n");
        return -2;
    }
    return 0;
}

/* local [stratum N] [orphan] [distance D] [activate D] [waitsynced D] [waitunsynced D],
 * local off. Sets *v46 when an option of chrony 4.6+ (LOCAL3 only) is used. */
static int build_local(int argc, char **argv, struct cmdmon_request *req, bool *v46)
{
    struct cmdmon_req_local *l = &req->u.local;
    bool wait_unsynced_given = false;
    *v46 = false;
    if (argc == 2 && !strcmp(argv[1], "off"))
        return 0; /* everything 0 */
    l->on_off = 1;
    l->stratum = 10;
    l->distance_s = 1.0;
    for (int i = 1; i < argc; i++) {
        const char *w = argv[i];
        if (!strcmp(w, "orphan")) {
            l->orphan = 1;
            continue;
        }
        if (i + 1 >= argc)
            return -1;
        const char *v = argv[++i];
        if (!strcmp(w, "stratum")) {
            if (!parse_int(v, 1, 15, &l->stratum))
                return -1;
        } else if (!strcmp(w, "distance")) {
            if (!parse_double(v, &l->distance_s))
                return -1;
        } else if (!strcmp(w, "activate")) {
            if (!parse_double(v, &l->activate_s))
                return -1;
            *v46 = true;
        } else if (!strcmp(w, "waitsynced")) {
            if (!parse_double(v, &l->wait_synced_s))
                return -1;
            *v46 = true;
        } else if (!strcmp(w, "waitunsynced")) {
            if (!parse_double(v, &l->wait_unsynced_s))
                return -1;
            wait_unsynced_given = true;
            *v46 = true;
        } else {
            return -1;
        }
    }
    if (!wait_unsynced_given && l->orphan)
        l->wait_unsynced_s = 300.0;
    return 0;
}

/* selectopts ADDR|REFID [+|-]OPTION... (4.4+). */
static int build_selectopts(struct cmd_ctx *c, int argc, char **argv, struct cmdmon_request *req)
{
    static const struct {
        const char *name;
        uint32_t mask, option;
    } opts[] = {
        {"noselect", CMDMON_SELECT_NOSELECT, CMDMON_ADD_FLAG_NOSELECT},
        {"prefer", CMDMON_SELECT_PREFER, CMDMON_ADD_FLAG_PREFER},
        {"trust", CMDMON_SELECT_TRUST, CMDMON_ADD_FLAG_TRUST},
        {"require", CMDMON_SELECT_REQUIRE, CMDMON_ADD_FLAG_REQUIRE},
    };
    struct cmdmon_req_selectopts *s = &req->u.selectopts;
    if (argc < 3 || parse_addr_or_refid(c, argv[1], &s->address, &s->ref_id) < 0)
        return -1;
    for (int i = 2; i < argc; i++) {
        const char *w = argv[i];
        if (w[0] != '+' && w[0] != '-')
            return -1;
        size_t k;
        for (k = 0; k < sizeof opts / sizeof opts[0]; k++)
            if (!strcmp(w + 1, opts[k].name))
                break;
        if (k == sizeof opts / sizeof opts[0])
            return -1;
        s->mask |= opts[k].mask;
        if (w[0] == '+')
            s->options |= opts[k].option;
        else
            s->options &= ~opts[k].option;
    }
    return 0;
}

/* settime TIME: a few getdate forms, in local time. */
static int parse_settime(int argc, char **argv, struct cmdmon_timespec *ts)
{
    static const char *const formats[] = {
        "%Y-%m-%d %H:%M:%S",
        "%Y-%m-%d %H:%M",
        "%b %d, %Y %H:%M:%S",
        "%b %d %Y %H:%M:%S",
        "%d %b %Y %H:%M:%S",
        "%H:%M:%S",
        "%H:%M",
    };
    char text[256] = "";
    for (int i = 1; i < argc; i++) {
        strncat(text, argv[i], sizeof text - strlen(text) - 2);
        if (i + 1 < argc)
            strcat(text, " ");
    }
    time_t now = time(NULL);
    for (size_t f = 0; f < sizeof formats / sizeof formats[0]; f++) {
        struct tm tm;
        localtime_r(&now, &tm);
        tm.tm_sec = 0;
        char *end = strptime(text, formats[f], &tm);
        if (!end || *end)
            continue;
        tm.tm_isdst = -1;
        time_t t = mktime(&tm);
        if (t == (time_t)-1)
            continue;
        ts->sec = (uint64_t)t;
        ts->nsec = 0;
        return 0;
    }
    return -1;
}

/* Builds the single request of a state-changing command. 0, -1 syntax error (caller prints),
 * -2 error already printed, 1 not a request-building command. */
static int build(struct cmd_ctx *c, int argc, char **argv, struct cmdmon_request *req, bool *v46)
{
    const char *w = argv[0];
    memset(req, 0, sizeof *req);
    *v46 = false;

    for (size_t i = 0; i < sizeof empty_commands / sizeof empty_commands[0]; i++)
        if (!strcmp(w, empty_commands[i].name)) {
            req->command = (uint16_t)empty_commands[i].command;
            return argc == 1 ? 0 : -1;
        }
    for (size_t i = 0; i < sizeof modify_commands / sizeof modify_commands[0]; i++)
        if (!strcmp(w, modify_commands[i].name)) {
            req->command = (uint16_t)modify_commands[i].command;
            if (argc != 3)
                return -1;
            if (parse_addr(c, argv[1], &req->u.modify.address) < 0)
                return -2;
            if (modify_commands[i].is_float)
                return parse_double(argv[2], &req->u.modify.fval) ? 0 : -1;
            return parse_int(argv[2], INT32_MIN, INT32_MAX, &req->u.modify.ival) ? 0 : -1;
        }
    for (size_t i = 0; i < sizeof float_commands / sizeof float_commands[0]; i++)
        if (!strcmp(w, float_commands[i].name)) {
            req->command = (uint16_t)float_commands[i].command;
            return argc == 2 && parse_double(argv[1], &req->u.fval) ? 0 : -1;
        }
    for (size_t i = 0; i < sizeof access_commands / sizeof access_commands[0]; i++)
        if (!strcmp(w, access_commands[i].name)) {
            int first = 1;
            req->command = (uint16_t)access_commands[i].command;
            if (argc > 1 && !strcmp(argv[1], "all")) {
                req->command = (uint16_t)access_commands[i].command_all;
                first = 2;
            }
            if (argc > first + 1)
                return -1;
            return names_parse_subnet(argc > first ? argv[first] : "", &req->u.subnet.ip,
                                      &req->u.subnet.subnet_bits) == 0
                       ? 0
                       : -1;
        }
    if (!strcmp(w, "accheck") || !strcmp(w, "cmdaccheck") || !strcmp(w, "delete")) {
        req->command = !strcmp(w, "accheck")      ? CMDMON_REQ_ACCHECK
                       : !strcmp(w, "cmdaccheck") ? CMDMON_REQ_CMDACCHECK
                                                  : CMDMON_REQ_DEL_SOURCE;
        if (argc != 2)
            return -1;
        return parse_addr(c, argv[1], &req->u.ip) < 0 ? -2 : 0;
    }
    if (!strcmp(w, "online") || !strcmp(w, "offline")) {
        req->command = !strcmp(w, "online") ? CMDMON_REQ_ONLINE : CMDMON_REQ_OFFLINE;
        return parse_selector(c, argc, argv, 1, &req->u.mask_addr);
    }
    if (!strcmp(w, "burst")) {
        int32_t good, total;
        char *slash;
        req->command = CMDMON_REQ_BURST;
        if (argc < 2 || !(slash = strchr(argv[1], '/')))
            return -1;
        *slash = '\0';
        if (!parse_int(argv[1], 0, INT32_MAX, &good) || !parse_int(slash + 1, 0, INT32_MAX, &total))
            return -1;
        req->u.mask_addr.n_good_samples = good;
        req->u.mask_addr.n_total_samples = total;
        return parse_selector(c, argc, argv, 2, &req->u.mask_addr);
    }
    if (!strcmp(w, "makestep")) {
        if (argc == 1) {
            req->command = CMDMON_REQ_MAKESTEP;
            return 0;
        }
        req->command = CMDMON_REQ_MODIFY_MAKESTEP;
        return argc == 3 && parse_double(argv[1], &req->u.makestep.threshold_s) &&
                       parse_int(argv[2], -1, INT32_MAX, &req->u.makestep.limit)
                   ? 0
                   : -1;
    }
    if (!strcmp(w, "dump")) {
        req->command = CMDMON_REQ_DUMP;
        return argc == 1 ? 0 : -1;
    }
    if (!strcmp(w, "smoothtime")) {
        req->command = CMDMON_REQ_SMOOTHTIME;
        if (argc != 2)
            return -1;
        if (!strcmp(argv[1], "reset"))
            req->u.ival = 0;
        else if (!strcmp(argv[1], "activate"))
            req->u.ival = 1;
        else
            return -1;
        return 0;
    }
    if (!strcmp(w, "manual")) {
        if (argc == 2 && !strcmp(argv[1], "on"))
            req->u.ival = 1;
        else if (argc == 2 && !strcmp(argv[1], "off"))
            req->u.ival = 0;
        else if (argc == 2 && !strcmp(argv[1], "reset"))
            req->u.ival = 2;
        else if (argc == 3 && !strcmp(argv[1], "delete")) {
            req->command = CMDMON_REQ_MANUAL_DELETE;
            return parse_int(argv[2], INT32_MIN, INT32_MAX, &req->u.ival) ? 0 : -1;
        } else
            return 1; /* manual list is a report */
        req->command = CMDMON_REQ_MANUAL;
        return 0;
    }
    if (!strcmp(w, "reload") || !strcmp(w, "reset")) {
        req->command = !strcmp(w, "reload") ? CMDMON_REQ_RELOAD_SOURCES : CMDMON_REQ_RESET_SOURCES;
        return argc == 2 && !strcmp(argv[1], "sources") ? 0 : -1;
    }
    if (!strcmp(w, "add")) {
        req->command = CMDMON_REQ_ADD_SOURCE;
        return build_add(c, argc, argv, req);
    }
    if (!strcmp(w, "local")) {
        int r = build_local(argc, argv, req, v46);
        req->command = *v46 ? CMDMON_REQ_LOCAL3 : CMDMON_REQ_LOCAL2;
        return r;
    }
    if (!strcmp(w, "selectopts")) {
        req->command = CMDMON_REQ_MODIFY_SELECTOPTS;
        return build_selectopts(c, argc, argv, req);
    }
    if (!strcmp(w, "offset")) {
        req->command = CMDMON_REQ_MODIFY_OFFSET;
        if (argc != 3 ||
            parse_addr_or_refid(c, argv[1], &req->u.offset.address, &req->u.offset.ref_id) < 0)
            return -1;
        return parse_double(argv[2], &req->u.offset.new_offset_s) ? 0 : -1;
    }
    if (!strcmp(w, "settime")) {
        req->command = CMDMON_REQ_SETTIME;
        if (argc < 2)
            return -1;
        if (parse_settime(argc, argv, &req->u.settime) < 0) {
            fprintf(c->out.f, "510 - Could not parse date string\n");
            return -2;
        }
        return 0;
    }
    return 1;
}

/* Runs a state-changing command: one request, a status line. */
static int run_request(struct cmd_ctx *c, int argc, char **argv, struct cmdmon_request *req,
                       bool v46)
{
    struct cmdmon_reply rep;
    unsigned command = req->command;
    (void)argc;
    (void)argv;

    if (command == CMDMON_REQ_SETTIME) {
        int r = exchange(c, command, req, &rep, rep_manual_ts);
        /* chronyc sends settime "verbosely": 200 OK, then the result or 508. */
        if (r == EX_BAD_REPLY) {
            status_line(c, CMDMON_STT_SUCCESS);
            status_line(c, EX_BAD_REPLY);
            return 1;
        }
        status_line(c, r);
        if (!ex_ok(r))
            return 1;
        const struct cmdmon_rep_manual_timestamp *m = &rep.u.manual_timestamp;
        out_rec_begin(&c->out);
        out_text(&c->out, "Clock was ");
        out_dbl(&c->out, "offset", "%.2f", m->offset);
        out_text(&c->out, " seconds fast.  Frequency change = ");
        out_dbl(&c->out, "dfreq_ppm", "%.2f", m->dfreq_ppm);
        out_text(&c->out, "ppm, new frequency = ");
        out_dbl(&c->out, "new_afreq_ppm", "%.2f", m->new_afreq_ppm);
        out_text(&c->out, "ppm\n");
        out_rec_end(&c->out);
        return 0;
    }

    struct cmdmon_request saved = *req;
    int r = exchange(c, command, req, &rep, rep_null);
    /* chronyd 4.6+ no longer knows LOCAL2: try again in the LOCAL3 layout. */
    if (command == CMDMON_REQ_LOCAL2 && !v46 && r == CMDMON_STT_INVALID) {
        *req = saved;
        r = exchange(c, CMDMON_REQ_LOCAL3, req, &rep, rep_null);
    }
    status_line(c, r);
    return ex_ok(r) ? 0 : 1;
}

/* ---- local commands ---- */

static int run_keygen(struct cmd_ctx *c, int argc, char **argv)
{
    int32_t id = 1, bits = 160;
    const char *type = argc > 2 ? argv[2] : "SHA1";
    if (argc > 4 || (argc > 1 && !parse_int(argv[1], 0, INT32_MAX, &id)) ||
        (argc > 3 && !parse_int(argv[3], 0, INT32_MAX, &bits))) {
        syntax_error("keygen");
        return 1;
    }
    if (!strcmp(type, "AES128"))
        bits = 128;
    else if (!strcmp(type, "AES256"))
        bits = 256;
    else if (bits < 80)
        bits = 80;
    else if (bits > 4096)
        bits = 4096;
    uint8_t key[512];
    size_t n = (size_t)bits / 8;
    if (getrandom(key, n, 0) != (ssize_t)n) {
        fprintf(stderr, "Could not read random bytes\n");
        return 1;
    }
    fprintf(c->out.f, "%d %s HEX:", (int)id, type);
    for (size_t i = 0; i < n; i++)
        fprintf(c->out.f, "%02X", key[i]);
    fputc('\n', c->out.f);
    return 0;
}

static int run_manual(struct cmd_ctx *c, int argc, char **argv)
{
    struct cmdmon_reply rep;
    if (argc == 2 && !strcmp(argv[1], "list")) {
        struct cmdmon_request req;
        memset(&req, 0, sizeof req);
        if (request(c, CMDMON_REQ_MANUAL_LIST, &req, &rep, rep_manual_list) < 0)
            return 1;
        report_manual_list(&c->out, &rep.u.manual_list);
        return 0;
    }
    syntax_error("manual");
    return 1;
}

struct command {
    const char *name;
    int (*run)(struct cmd_ctx *c, int argc, char **argv);
};

static const struct command reports[] = {
    {"tracking", run_tracking},     {"sources", run_sources},   {"sourcestats", run_sourcestats},
    {"selectdata", run_selectdata}, {"ntpdata", run_ntpdata},   {"authdata", run_authdata},
    {"clients", run_clients},       {"activity", run_activity}, {"serverstats", run_serverstats},
    {"smoothing", run_smoothing},   {"rtcdata", run_rtcdata},   {"sourcename", run_sourcename},
    {"waitsync", run_waitsync},     {"keygen", run_keygen},
};

static const char *const all_names[] = {
    "accheck",
    "activity",
    "add",
    "allow",
    "authdata",
    "burst",
    "clients",
    "cmdaccheck",
    "cmdallow",
    "cmddeny",
    "cyclelogs",
    "delete",
    "deny",
    "dfreq",
    "dns",
    "doffset",
    "dump",
    "exit",
    "help",
    "keygen",
    "local",
    "makestep",
    "manual",
    "maxdelay",
    "maxdelaydevratio",
    "maxdelayratio",
    "maxpoll",
    "maxupdateskew",
    "minpoll",
    "minstratum",
    "ntpdata",
    "offline",
    "offset",
    "online",
    "onoffline",
    "polltarget",
    "quit",
    "refresh",
    "rekey",
    "reload",
    "reselect",
    "reselectdist",
    "reset",
    "retries",
    "rtcdata",
    "selectdata",
    "selectopts",
    "serverstats",
    "settime",
    "shutdown",
    "smoothing",
    "smoothtime",
    "sourcename",
    "sources",
    "sourcestats",
    "timeout",
    "tracking",
    "trimrtc",
    "waitsync",
    "writertc",
    NULL,
};

const char *const *cmd_names(void)
{
    return all_names;
}

void cmd_help(FILE *f)
{
    fputs("System clock:\n"
          "  tracking                  Display system time information\n"
          "  makestep                  Correct clock by stepping immediately\n"
          "  makestep <threshold> <updates>\n"
          "                            Configure automatic clock stepping\n"
          "  maxupdateskew <skew>      Modify maximum valid skew to update frequency\n"
          "  waitsync [<max-tries> [<max-correction> [<max-skew> [<interval>]]]]\n"
          "                            Wait until synchronised in specified limits\n"
          "\nTime sources:\n"
          "  sources [-a] [-v]         Display information about current sources\n"
          "  sourcestats [-a] [-v]     Display statistics about collected measurements\n"
          "  selectdata [-a] [-v]      Display information about source selection\n"
          "  reselect                  Force reselecting synchronisation source\n"
          "  reselectdist <dist>       Modify reselection distance\n"
          "\nNTP sources:\n"
          "  activity                  Check how many NTP sources are online/offline\n"
          "  authdata [-a]             Display information about authentication\n"
          "  ntpdata [<address>]       Display information about last valid measurement\n"
          "  add server <name> [options]\n"
          "  add pool <name> [options]\n"
          "  add peer <name> [options]  Add new NTP server, pool or peer\n"
          "  delete <address>          Remove server or peer\n"
          "  burst <n-good>/<n-max> [[<mask>/]<address>]\n"
          "                            Start rapid set of measurements\n"
          "  maxdelay|maxdelayratio|maxdelaydevratio|maxpoll|minpoll|minstratum|polltarget\n"
          "           <address> <value> Modify a source's parameter\n"
          "  offline|online [[<mask>/]<address>]\n"
          "                            Set sources offline / online\n"
          "  onoffline                 Set all sources online or offline according to network\n"
          "  refresh                   Refresh IP addresses\n"
          "  reload sources            Re-read *.sources files\n"
          "  sourcename <address>      Display original name\n"
          "\nManual time input:\n"
          "  manual off|on|reset       Disable/enable/reset settime command\n"
          "  manual list               Show previous settime entries\n"
          "  manual delete <index>     Delete previous settime entry\n"
          "  settime <time>            Set daemon time\n"
          "\nNTP access:\n"
          "  accheck <address>         Check whether address is allowed\n"
          "  clients [-p <packets>] [-k] [-r]\n"
          "                            Report on clients that accessed the server\n"
          "  serverstats               Display statistics of the server\n"
          "  allow|deny [all] [<subnet>] Allow or deny access to subnet\n"
          "  local [options]           Serve time even when not synchronised\n"
          "  local off                 Don't serve time when not synchronised\n"
          "  smoothtime reset|activate Reset/activate time smoothing\n"
          "  smoothing                 Display current time smoothing state\n"
          "\nMonitoring access:\n"
          "  cmdaccheck <address>      Check whether address is allowed\n"
          "  cmdallow|cmddeny [all] [<subnet>]\n"
          "\nReal-time clock:\n"
          "  rtcdata                   Print current RTC performance parameters\n"
          "  trimrtc                   Correct RTC relative to system clock\n"
          "  writertc                  Save RTC performance parameters to file\n"
          "\nOther daemon commands:\n"
          "  cyclelogs                 Close and re-open log files\n"
          "  dump                      Dump measurements and NTS keys/cookies\n"
          "  rekey                     Re-read keys\n"
          "  reset sources             Drop all measurements\n"
          "  shutdown                  Stop daemon\n"
          "\nClient commands:\n"
          "  dns -n|+n|-4|-6|-46       Configure name resolution\n"
          "  timeout <milliseconds>    Set initial response timeout\n"
          "  retries <retries>         Set maximum number of retries\n"
          "  keygen [<id> [<type> [<bits>]]] Generate key for key file\n"
          "  exit|quit                 Leave the program\n"
          "  help                      Generate this help\n",
          f);
}

/* Splits line into words in buf. Returns the count, or -1 if there are too many. */
static int split(char *buf, char **argv)
{
    int n = 0;
    for (char *p = strtok(buf, " \t\r\n"); p; p = strtok(NULL, " \t\r\n")) {
        if (n == MAX_WORDS)
            return -1;
        argv[n++] = p;
    }
    return n;
}

static int run_local_command(struct cmd_ctx *c, int argc, char **argv, bool *handled)
{
    int32_t v;
    *handled = true;
    const char *w = argv[0];
    if (!strcmp(w, "quit") || !strcmp(w, "exit")) {
        c->quit = true;
        return 0;
    }
    if (!strcmp(w, "help")) {
        cmd_help(c->out.f);
        return 0;
    }
    if (!strcmp(w, "timeout")) {
        if (argc != 2 || !parse_int(argv[1], 100, INT32_MAX, &v)) {
            syntax_error("timeout");
            return 1;
        }
        transport_set_timeout(c->t, v);
        return 0;
    }
    if (!strcmp(w, "retries")) {
        if (argc != 2 || !parse_int(argv[1], 0, 30, &v)) {
            syntax_error("retries");
            return 1;
        }
        transport_set_retries(c->t, v);
        return 0;
    }
    if (!strcmp(w, "dns")) {
        if (argc != 2) {
            syntax_error("dns");
            return 1;
        }
        if (!strcmp(argv[1], "-n"))
            c->numeric = true;
        else if (!strcmp(argv[1], "+n"))
            c->numeric = false;
        else if (!strcmp(argv[1], "-4"))
            c->family = 4;
        else if (!strcmp(argv[1], "-6"))
            c->family = 6;
        else if (!strcmp(argv[1], "-46"))
            c->family = 0;
        else {
            syntax_error("dns");
            return 1;
        }
        return 0;
    }
    if (!strcmp(w, "authhash") || !strcmp(w, "password")) {
        fprintf(stderr, "Authentication is no longer supported\n");
        return 0;
    }
    *handled = false;
    return 0;
}

static int run_words(struct cmd_ctx *c, int argc, char **argv)
{
    bool handled;
    int rc = run_local_command(c, argc, argv, &handled);
    if (handled)
        return rc;
    for (size_t i = 0; i < sizeof reports / sizeof reports[0]; i++)
        if (!strcmp(argv[0], reports[i].name))
            return reports[i].run(c, argc, argv);
    struct cmdmon_request req;
    bool v46;
    int r = build(c, argc, argv, &req, &v46);
    if (r == 1 && !strcmp(argv[0], "manual"))
        return run_manual(c, argc, argv);
    if (r == 1) {
        fprintf(stderr, "Unrecognized command\n");
        return 1;
    }
    if (r == -1) {
        syntax_error(argv[0]);
        return 1;
    }
    if (r < 0)
        return 1;
    return run_request(c, argc, argv, &req, v46);
}

int cmd_run_line(struct cmd_ctx *c, const char *line)
{
    char buf[4096];
    char *argv[MAX_WORDS];
    snprintf(buf, sizeof buf, "%s", line);
    char *hash = strchr(buf, '#');
    if (hash && (hash == buf || isspace((unsigned char)hash[-1])))
        *hash = '\0'; /* a comment, but not the '#' of ID#... */
    int argc = split(buf, argv);
    if (argc == 0)
        return 0;
    if (argc < 0) {
        fprintf(stderr, "Command too long\n");
        return 1;
    }
    out_doc_begin(&c->out, argv[0]);
    int rc = run_words(c, argc, argv);
    if (c->out.mode == OUT_JSON) {
        out_doc_unwind(&c->out);
        out_custom(&c->out, "exit_status", "", "", rc ? "1" : "0", false);
    }
    out_doc_end(&c->out);
    if (c->end_dot)
        fprintf(c->out.f, ".\n");
    fflush(c->out.f);
    return rc;
}

int cmd_build_request(struct cmd_ctx *c, const char *line, struct cmdmon_request *req)
{
    char buf[4096];
    char *argv[MAX_WORDS];
    bool v46;
    snprintf(buf, sizeof buf, "%s", line);
    int argc = split(buf, argv);
    if (argc <= 0)
        return -1;
    return build(c, argc, argv, req, &v46) == 0 ? 0 : -1;
}
