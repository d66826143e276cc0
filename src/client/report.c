/* chronyc report printers (see report.h). Widths, labels and legends are chronyc's, from
 * shared/spec/chronyc-output-formats.md and the captured outputs it points to. */
#include "client/report.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

#include "client/fmt.h"
#include "client/names.h"

/* The -v legends, copied from chronyc's captured output (chrony43/<report>-v.txt). */
static const char legend_sources[] =
    "\n"
    "  .-- Source mode  '^' = server, '=' = peer, '#' = local clock.\n"
    " / .- Source state '*' = current best, '+' = combined, '-' = not combined,\n"
    "| /             'x' = may be in error, '~' = too variable, '?' = unusable.\n"
    "||                                                 .- xxxx [ yyyy ] +/- zzzz\n"
    "||      Reachability register (octal) -.           |  xxxx = adjusted offset,\n"
    "||      Log2(Polling interval) --.      |          |  yyyy = measured offset,\n"
    "||                                \\     |          |  zzzz = estimated error.\n"
    "||                                 |    |           \\\n";
static const char legend_sourcestats[] =
    "                             .- Number of sample points in measurement set.\n"
    "                            /    .- Number of residual runs with same sign.\n"
    "                           |    /    .- Length of measurement set (time).\n"
    "                           |   |    /      .- Est. clock freq error (ppm).\n"
    "                           |   |   |      /           .- Est. error in freq.\n"
    "                           |   |   |     |           /         .- Est. offset.\n"
    "                           |   |   |     |          |          |   On the -.\n"
    "                           |   |   |     |          |          |   samples. \\\n"
    "                           |   |   |     |          |          |             |\n";
static const char legend_selectdata[] =
    "  . State: N - noselect, s - unsynchronised, M - missing samples,\n"
    " /         d/D - large distance, ~ - jittery, w/W - waits for others,\n"
    "|          S - stale, O - orphan, T - not trusted, P - not preferred,\n"
    "|          U - waits for update,, x - falseticker, + - combined, * - best.\n"
    "|   Effective options   ---------.  (N - noselect, P - prefer\n"
    "|   Configured options  ----.     \\  T - trust, R - require)\n"
    "|   Auth. enabled (Y/N) -.   \\     \\     Offset interval --.\n"
    "|                        |    |     |                       |\n";
static const char legend_authdata[] =
    "                             .- Auth. mechanism (NTS, SK - symmetric key)\n"
    "                            |   Key length -.  Cookie length (bytes) -.\n"
    "                            |       (bits)  |  Num. of cookies --.    |\n"
    "                            |               |  Key est. attempts  |   |\n"
    "                            |               |           |         |   |\n";

/* A header line and its row of '=' of the same length (text mode only). */
static void header(struct out *o, const char *h)
{
    out_text(o, "%s\n", h);
    size_t n = strlen(h);
    char line[128];
    if (n >= sizeof line)
        n = sizeof line - 1;
    memset(line, '=', n);
    line[n] = '\0';
    out_text(o, "%s\n", line);
}

static const char *refid_hex(char *buf, size_t len, uint32_t v)
{
    snprintf(buf, len, "%08X", (unsigned)v);
    return buf;
}

/* ---- tracking ---- */

void report_tracking(struct out *o, const struct cmdmon_rep_tracking *t, const char *name)
{
    char b[FMT_MAX], c[FMT_MAX], j[FMT_MAX];

    out_rec_begin(o);
    out_text(o, "Reference ID    : ");
    out_str(o, "ref_id", "%s", refid_hex(b, sizeof b, t->ref_id));
    out_text(o, " (");
    out_str(o, "name", "%s", name);
    out_text(o, ")\nStratum         : ");
    out_uint(o, "stratum", "%u", t->stratum);
    out_text(o, "\nRef time (UTC)  : ");
    out_time(o, "ref_time", &t->ref_time);
    out_text(o, "\nSystem time     : ");
    snprintf(b, sizeof b, "%.9f seconds %s of NTP time", fabs(t->current_correction),
             t->current_correction > 0.0 ? "slow" : "fast");
    snprintf(c, sizeof c, "%.9f", t->current_correction);
    snprintf(j, sizeof j, "%.9g", t->current_correction);
    out_custom(o, "current_correction", b, c, j, false);
    out_text(o, "\nLast offset     : ");
    out_dbl(o, "last_offset", "%+.9f", t->last_offset);
    out_text(o, " seconds\nRMS offset      : ");
    out_dbl(o, "rms_offset", "%.9f", t->rms_offset);
    out_text(o, " seconds\nFrequency       : ");
    snprintf(b, sizeof b, "%.3f ppm %s", fabs(t->freq_ppm), t->freq_ppm > 0.0 ? "fast" : "slow");
    snprintf(c, sizeof c, "%.3f", t->freq_ppm);
    snprintf(j, sizeof j, "%.9g", t->freq_ppm);
    out_custom(o, "freq_ppm", b, c, j, false);
    out_text(o, "\nResidual freq   : ");
    out_dbl(o, "resid_freq_ppm", "%+.3f", t->resid_freq_ppm);
    out_text(o, " ppm\nSkew            : ");
    out_dbl(o, "skew_ppm", "%.3f", t->skew_ppm);
    out_text(o, " ppm\nRoot delay      : ");
    out_dbl(o, "root_delay", "%.9f", t->root_delay);
    out_text(o, " seconds\nRoot dispersion : ");
    out_dbl(o, "root_dispersion", "%.9f", t->root_dispersion);
    out_text(o, " seconds\nUpdate interval : ");
    out_dbl(o, "last_update_interval", "%.1f", t->last_update_interval);
    out_text(o, " seconds\nLeap status     : ");
    out_leap(o, "leap_status", t->leap_status, false);
    out_text(o, "\n");
    out_rec_end(o);
}

void report_waitsync_try(struct out *o, int try_no, const struct cmdmon_rep_tracking *t)
{
    char b[FMT_MAX];
    out_rec_begin(o);
    out_text(o, "try: ");
    out_int(o, "try", "%d", try_no);
    out_text(o, ", refid: ");
    out_str(o, "ref_id", "%s", refid_hex(b, sizeof b, t->ref_id));
    out_text(o, ", correction: ");
    out_dbl(o, "correction", "%.9f", fabs(t->current_correction));
    out_text(o, ", skew: ");
    out_dbl(o, "skew_ppm", "%.3f", t->skew_ppm);
    out_text(o, "\n");
    out_rec_end(o);
}

/* ---- sources ---- */

void report_sources_header(struct out *o, bool verbose)
{
    if (verbose)
        out_text(o, "%s", legend_sources);
    header(o, "MS Name/IP address         Stratum Poll Reach LastRx Last sample               ");
}

const char *report_mode_name(unsigned mode)
{
    static const char *const n[] = {"server", "peer", "refclock"};
    return mode < 3 ? n[mode] : "unknown";
}

const char *report_state_name(unsigned state)
{
    static const char *const n[] = {"selected", "nonselectable", "falseticker",
                                    "jittery",  "combined",      "selectable"};
    return state < 6 ? n[state] : "unknown";
}

void report_sources_row(struct out *o, const struct cmdmon_rep_source_data *s, const char *name)
{
    static const char modes[] = "^=#", states[] = "*?x~+-";
    char m[2] = {s->mode < 3 ? modes[s->mode] : ' ', 0};
    char st[2] = {s->state < 6 ? states[s->state] : ' ', 0};

    out_rec_begin(o);
    out_str(o, "mode", "%s", m);
    out_str(o, "state", "%s", st);
    out_json_str(o, "mode_name", report_mode_name(s->mode));
    out_json_str(o, "state_name", report_state_name(s->state));
    out_text(o, " ");
    out_str(o, "name", "%-27s", name);
    out_text(o, "  ");
    out_int(o, "stratum", "%2d", s->stratum);
    out_text(o, "  ");
    out_int(o, "poll", "%2d", s->poll);
    out_text(o, "   ");
    out_uint(o, "reach", "%3o", s->reachability);
    out_text(o, "  ");
    out_interval(o, "last_rx", s->since_sample);
    out_text(o, "  ");
    out_offset(o, "latest_meas", s->latest_meas, true);
    out_text(o, "[");
    out_offset(o, "orig_latest_meas", s->orig_latest_meas, true);
    out_text(o, "] +/- ");
    out_offset(o, "latest_meas_err", s->latest_meas_err, false);
    out_text(o, "\n");
    if (s->state != CMDMON_SRC_SELECTED)
        out_json_str(o, "reason", report_source_state_reason(s->state));
    out_rec_end(o);
}

/* ---- sourcestats ---- */

void report_sourcestats_header(struct out *o, bool verbose)
{
    if (verbose)
        out_text(o, "%s", legend_sourcestats);
    header(o, "Name/IP Address            NP  NR  Span  Frequency  Freq Skew  Offset  Std Dev");
}

void report_sourcestats_row(struct out *o, const struct cmdmon_rep_sourcestats *s, const char *name)
{
    out_rec_begin(o);
    out_str(o, "name", "%-25s", name);
    out_text(o, " ");
    out_uint(o, "n_samples", "%3u", s->n_samples);
    out_text(o, " ");
    out_uint(o, "n_runs", "%3u", s->n_runs);
    out_text(o, "  ");
    out_interval(o, "span", s->span_seconds);
    out_text(o, " ");
    out_freq(o, "resid_freq_ppm", s->resid_freq_ppm, true);
    out_text(o, " ");
    out_freq(o, "skew_ppm", s->skew_ppm, false);
    out_text(o, "  ");
    out_offset(o, "est_offset", s->est_offset, true);
    out_text(o, "  ");
    out_offset(o, "sd", s->sd, false);
    out_json_num(o, "est_offset_err", s->est_offset_err);
    out_text(o, "\n");
    out_rec_end(o);
}

/* ---- selectdata ---- */

void report_selectdata_header(struct out *o, bool verbose)
{
    if (verbose)
        out_text(o, "%s", legend_selectdata);
    header(o, "S Name/IP Address        Auth COpts EOpts Last Score     Interval  Leap");
}

const char *report_select_reason(unsigned c)
{
    switch (c) {
    case 'N':
        return "not selectable: configured with noselect";
    case 's':
        return "not selectable: the source is not synchronised";
    case 'M':
        return "not selectable: not enough measurements yet";
    case 'd':
        return "not selectable: its root distance is larger than maxdistance";
    case '~':
        return "not selectable: its jitter is larger than maxjitter";
    case 'w':
        return "waiting: other sources still have too few measurements";
    case 'S':
        return "not selectable: its measurements are stale compared with the other sources";
    case 'O':
        return "not selectable: its stratum is at or above the local orphan stratum";
    case 'T':
        return "rejected: its interval does not agree with the trusted sources";
    case 'x':
        return "falseticker: its interval or offset does not agree with the majority's";
    case 'W':
        return "waiting: a source with the require option is not selectable yet";
    case 'P':
        return "not combined: another selectable source is preferred";
    case 'U':
        return "waiting: a new measurement is needed after the best source changed";
    case 'D':
        return "not combined: its root distance is too large to combine (combinelimit)";
    case 'r':
        return "not selectable: rejected by the daemon's selection options";
    case '+':
        return "combined with the best source, but not the best itself";
    case '*':
        return "selected: the best source, the clock follows it";
    case '-':
        return "not combined: selectable, but left out of the combination";
    default:
        return "unknown selection state";
    }
}

const char *report_source_state_reason(unsigned state)
{
    switch (state) {
    case CMDMON_SRC_SELECTED:
        return "selected: the best source, the clock follows it";
    case CMDMON_SRC_NONSELECTABLE:
        return "unusable: unreachable, too few samples, or excluded by its options";
    case CMDMON_SRC_FALSETICKER:
        return "falseticker: its interval or offset does not agree with the majority's";
    case CMDMON_SRC_JITTERY:
        return "too variable: its jitter is larger than maxjitter";
    case CMDMON_SRC_UNSELECTED:
        return "combined with the best source, but not the best itself";
    case CMDMON_SRC_SELECTABLE:
        return "selectable but not combined (an outlier of the selected cluster)";
    default:
        return "unknown state";
    }
}

static void options_chars(char out[6], unsigned opts)
{
    out[0] = opts & CMDMON_SELECT_NOSELECT ? 'N' : '-';
    out[1] = opts & CMDMON_SELECT_PREFER ? 'P' : '-';
    out[2] = opts & CMDMON_SELECT_TRUST ? 'T' : '-';
    out[3] = opts & CMDMON_SELECT_REQUIRE ? 'R' : '-';
    out[4] = '-';
    out[5] = '\0';
}

/* Five option characters: one text field, five CSV fields, one JSON string. */
static void options_field(struct out *o, const char *key, unsigned opts)
{
    char ch[6];
    options_chars(ch, opts);
    if (o->mode == OUT_CSV) {
        for (int i = 0; i < 5; i++) {
            char one[2] = {ch[i], 0};
            out_str(o, NULL, "%s", one);
        }
    } else {
        out_str(o, key, "%s", ch);
    }
}

void report_selectdata_row(struct out *o, const struct cmdmon_rep_select_data *s, const char *name)
{
    char st[2] = {(char)s->state_char, 0};
    out_rec_begin(o);
    out_str(o, "state", "%s", st);
    out_text(o, " ");
    out_str(o, "name", "%-25s", name);
    out_text(o, " ");
    out_str(o, "auth", "%s", s->authentication ? "Y" : "N");
    out_text(o, " ");
    options_field(o, "conf_options", s->conf_options);
    out_text(o, " ");
    options_field(o, "eff_options", s->eff_options);
    out_text(o, " ");
    out_interval(o, "last_sample_ago", s->last_sample_ago);
    out_text(o, " ");
    out_dbl(o, "score", "%5.1f", s->score);
    out_text(o, " ");
    out_offset(o, "lo_limit", s->lo_limit, true);
    out_text(o, " ");
    out_offset(o, "hi_limit", s->hi_limit, true);
    out_text(o, "  ");
    out_leap(o, "leap", s->leap, true);
    out_text(o, "\n");
    if (s->state_char != '*')
        out_json_str(o, "reason", report_select_reason(s->state_char));
    out_rec_end(o);
}

/* ---- ntpdata ---- */

static const char *ntp_mode_name(unsigned mode)
{
    switch (mode) {
    case 1:
        return "Symmetric active";
    case 2:
        return "Symmetric passive";
    case 4:
        return "Server";
    default:
        return "Invalid";
    }
}

static const char *tss_name(unsigned c)
{
    switch (c) {
    case 'D':
        return "Daemon";
    case 'K':
        return "Kernel";
    case 'H':
        return "Hardware";
    default:
        return "Invalid";
    }
}

static void addr_with_refid(struct out *o, const char *key, const char *refkey,
                            const struct cmdmon_ip *ip)
{
    char a[64], r[16];
    out_str(o, key, "%s", names_numeric(ip, a, sizeof a));
    out_text(o, " (");
    out_str(o, refkey, "%s", refid_hex(r, sizeof r, names_refid(ip)));
    out_text(o, ")");
}

void report_ntpdata(struct out *o, const struct cmdmon_rep_ntp_data *n, bool v2)
{
    char b[FMT_MAX], c[FMT_MAX];
    int poll = n->poll < -31 ? -31 : n->poll > 31 ? 31 : n->poll;

    out_rec_begin(o);
    out_text(o, "Remote address  : ");
    addr_with_refid(o, "remote_addr", "remote_refid", &n->remote_addr);
    out_text(o, "\nRemote port     : ");
    out_uint(o, "remote_port", "%u", n->remote_port);
    out_text(o, "\nLocal address   : ");
    addr_with_refid(o, "local_addr", "local_refid", &n->local_addr);
    out_text(o, "\nLeap status     : ");
    out_leap(o, "leap", n->leap, false);
    out_text(o, "\nVersion         : ");
    out_uint(o, "version", "%u", n->version);
    out_text(o, "\nMode            : ");
    out_str(o, "mode", "%s", ntp_mode_name(n->mode));
    out_text(o, "\nStratum         : ");
    out_uint(o, "stratum", "%u", n->stratum);
    out_text(o, "\nPoll interval   : ");
    out_int(o, "poll", "%d", n->poll);
    out_text(o, " (");
    out_dbl(o, "poll_seconds", "%.0f", ldexp(1.0, poll));
    out_text(o, " seconds)\nPrecision       : ");
    out_int(o, "precision", "%d", n->precision);
    out_text(o, " (");
    out_dbl(o, "precision_seconds", "%.9f", ldexp(1.0, n->precision));
    out_text(o, " seconds)\nRoot delay      : ");
    out_dbl(o, "root_delay", "%.6f", n->root_delay);
    out_text(o, " seconds\nRoot dispersion : ");
    out_dbl(o, "root_dispersion", "%.6f", n->root_dispersion);
    out_text(o, " seconds\nReference ID    : ");
    out_str(o, "ref_id", "%s", refid_hex(b, sizeof b, n->ref_id));
    out_text(o, " (");
    out_str(o, "ref_id_text", "%s", n->stratum <= 1 ? fmt_refid_text(c, sizeof c, n->ref_id) : "");
    out_text(o, ")\nReference time  : ");
    out_time(o, "ref_time", &n->ref_time);
    out_text(o, "\nOffset          : ");
    out_dbl(o, "offset", "%+.9f", n->offset);
    out_text(o, " seconds\nPeer delay      : ");
    out_dbl(o, "peer_delay", "%.9f", n->peer_delay);
    out_text(o, " seconds\nPeer dispersion : ");
    out_dbl(o, "peer_dispersion", "%.9f", n->peer_dispersion);
    out_text(o, " seconds\nResponse time   : ");
    out_dbl(o, "response_time", "%.9f", n->response_time);
    out_text(o, " seconds\nJitter asymmetry: ");
    out_dbl(o, "jitter_asymmetry", "%+.2f", n->jitter_asymmetry);
    out_text(o, "\nNTP tests       : ");
    out_str(o, "tests_1_3", "%s", fmt_bits(b, sizeof b, (unsigned)n->flags >> 7, 3));
    out_text(o, " ");
    out_str(o, "tests_5_7", "%s", fmt_bits(b, sizeof b, (unsigned)n->flags >> 4, 3));
    out_text(o, " ");
    out_str(o, "tests_a_d", "%s", fmt_bits(b, sizeof b, n->flags, 4));
    out_text(o, "\nInterleaved     : ");
    out_bool(o, "interleaved", n->flags & 0x4000);
    out_text(o, "\nAuthenticated   : ");
    out_bool(o, "authenticated", n->flags & 0x8000);
    out_text(o, "\nTX timestamping : ");
    out_str(o, "tx_timestamping", "%s", tss_name(n->tx_tss_char));
    out_text(o, "\nRX timestamping : ");
    out_str(o, "rx_timestamping", "%s", tss_name(n->rx_tss_char));
    out_text(o, "\nTotal TX        : ");
    out_uint(o, "total_tx", "%u", n->total_tx_count);
    out_text(o, "\nTotal RX        : ");
    out_uint(o, "total_rx", "%u", n->total_rx_count);
    out_text(o, "\nTotal valid RX  : ");
    out_uint(o, "total_valid_rx", "%u", n->total_valid_count);
    out_text(o, "\nTotal good RX   : ");
    out_uint(o, "total_good_rx", "%u", n->total_good_count);
    if (v2) {
        out_text(o, "\nTotal kernel TX : ");
        out_uint(o, "total_kernel_tx", "%u", n->total_kernel_tx_ts);
        out_text(o, "\nTotal kernel RX : ");
        out_uint(o, "total_kernel_rx", "%u", n->total_kernel_rx_ts);
        out_text(o, "\nTotal HW TX     : ");
        out_uint(o, "total_hw_tx", "%u", n->total_hw_tx_ts);
        out_text(o, "\nTotal HW RX     : ");
        out_uint(o, "total_hw_rx", "%u", n->total_hw_rx_ts);
    }
    out_text(o, "\n");
    out_rec_end(o);
}

/* ---- small reports ---- */

void report_activity(struct out *o, const struct cmdmon_rep_activity *a)
{
    out_text(o, "200 OK\n");
    out_rec_begin(o);
    out_int(o, "online", "%d", a->online);
    out_text(o, " sources online\n");
    out_int(o, "offline", "%d", a->offline);
    out_text(o, " sources offline\n");
    out_int(o, "burst_online", "%d", a->burst_online);
    out_text(o, " sources doing burst (return to online)\n");
    out_int(o, "burst_offline", "%d", a->burst_offline);
    out_text(o, " sources doing burst (return to offline)\n");
    out_int(o, "unresolved", "%d", a->unresolved);
    out_text(o, " sources with unknown address\n");
    out_rec_end(o);
}

void report_serverstats(struct out *o, const struct cmdmon_rep_server_stats *s)
{
    static const struct {
        enum cmdmon_server_stat field;
        const char *label, *key;
    } rows[] = {
        {CMDMON_SS_NTP_HITS, "NTP packets received", "ntp_hits"},
        {CMDMON_SS_NTP_DROPS, "NTP packets dropped", "ntp_drops"},
        {CMDMON_SS_CMD_HITS, "Command packets received", "cmd_hits"},
        {CMDMON_SS_CMD_DROPS, "Command packets dropped", "cmd_drops"},
        {CMDMON_SS_LOG_DROPS, "Client log records dropped", "log_drops"},
        {CMDMON_SS_NKE_HITS, "NTS-KE connections accepted", "nke_hits"},
        {CMDMON_SS_NKE_DROPS, "NTS-KE connections dropped", "nke_drops"},
        {CMDMON_SS_NTP_AUTH_HITS, "Authenticated NTP packets", "ntp_auth_hits"},
        {CMDMON_SS_NTP_INTERLEAVED_HITS, "Interleaved NTP packets", "ntp_interleaved_hits"},
        {CMDMON_SS_NTP_TIMESTAMPS, "NTP timestamps held", "ntp_timestamps"},
        {CMDMON_SS_NTP_SPAN_SECONDS, "NTP timestamp span", "ntp_span_seconds"},
        {CMDMON_SS_NTP_DAEMON_RX_TS, "NTP daemon RX timestamps", "ntp_daemon_rx_timestamps"},
        {CMDMON_SS_NTP_DAEMON_TX_TS, "NTP daemon TX timestamps", "ntp_daemon_tx_timestamps"},
        {CMDMON_SS_NTP_KERNEL_RX_TS, "NTP kernel RX timestamps", "ntp_kernel_rx_timestamps"},
        {CMDMON_SS_NTP_KERNEL_TX_TS, "NTP kernel TX timestamps", "ntp_kernel_tx_timestamps"},
        {CMDMON_SS_NTP_HW_RX_TS, "NTP hardware RX timestamps", "ntp_hw_rx_timestamps"},
        {CMDMON_SS_NTP_HW_TX_TS, "NTP hardware TX timestamps", "ntp_hw_tx_timestamps"},
    };
    out_rec_begin(o);
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
        unsigned f = rows[i].field;
        /* The oldest format (5 counters) has no NTS-KE and authentication fields. */
        bool present = s->n_fields == 5 ? (f == CMDMON_SS_NTP_HITS || f == CMDMON_SS_CMD_HITS ||
                                           f == CMDMON_SS_NTP_DROPS || f == CMDMON_SS_CMD_DROPS ||
                                           f == CMDMON_SS_LOG_DROPS)
                                        : f < s->n_fields;
        if (!present)
            continue;
        out_text(o, "%-27s: ", rows[i].label);
        out_uint(o, rows[i].key, "%llu", (unsigned long long)s->v[f]);
        out_text(o, "\n");
    }
    out_rec_end(o);
}

void report_clients_header(struct out *o, bool nke)
{
    header(o,
           nke ? "Hostname                      NTP   Drop Int IntL Last  NTS-KE   Drop Int  Last"
               : "Hostname                      NTP   Drop Int IntL Last     Cmd   Drop Int  Last");
}

/* CLIENT INTERVAL: " -" for 127 (no data) in text; raw in CSV; null in JSON. */
static void client_interval(struct out *o, const char *key, int8_t v)
{
    char t[8], c[8];
    snprintf(t, sizeof t, v >= 127 ? " -" : "%2d", v);
    snprintf(c, sizeof c, "%d", v);
    out_custom(o, key, t, c, v >= 127 ? "null" : c, false);
}

void report_clients_row(struct out *o, const struct cmdmon_rep_client *c, const char *name,
                        bool nke)
{
    out_rec_begin(o);
    out_str(o, "name", "%-25s", name);
    out_text(o, "  ");
    out_uint(o, "ntp_hits", "%6u", c->ntp_hits);
    out_text(o, "  ");
    out_uint(o, "ntp_drops", "%5u", c->ntp_drops);
    out_text(o, "  ");
    client_interval(o, "ntp_interval", c->ntp_interval);
    out_text(o, "  ");
    client_interval(o, "ntp_timeout_interval", c->ntp_timeout_interval);
    out_text(o, "  ");
    out_interval(o, "last_ntp_hit_ago", c->last_ntp_hit_ago);
    out_text(o, "  ");
    out_uint(o, nke ? "nke_hits" : "cmd_hits", "%6u", nke ? c->nke_hits : c->cmd_hits);
    out_text(o, "  ");
    out_uint(o, nke ? "nke_drops" : "cmd_drops", "%5u", nke ? c->nke_drops : c->cmd_drops);
    out_text(o, "  ");
    client_interval(o, nke ? "nke_interval" : "cmd_interval",
                    nke ? c->nke_interval : c->cmd_interval);
    out_text(o, "  ");
    out_interval(o, nke ? "last_nke_hit_ago" : "last_cmd_hit_ago",
                 nke ? c->last_nke_hit_ago : c->last_cmd_hit_ago);
    out_text(o, "\n");
    out_rec_end(o);
}

void report_authdata_header(struct out *o, bool verbose)
{
    if (verbose)
        out_text(o, "%s", legend_authdata);
    header(o, "Name/IP address             Mode KeyID Type KLen Last Atmp  NAK Cook CLen");
}

void report_authdata_row(struct out *o, const struct cmdmon_rep_auth_data *a, const char *name)
{
    static const char *const modes[] = {"-", "SK", "NTS"};
    out_rec_begin(o);
    out_str(o, "name", "%-27s", name);
    out_text(o, " ");
    out_str(o, "mode", "%4s", a->mode < 3 ? modes[a->mode] : "?");
    out_text(o, " ");
    out_uint(o, "key_id", "%5u", a->key_id);
    out_text(o, " ");
    out_int(o, "key_type", "%4d", a->key_type);
    out_text(o, " ");
    out_int(o, "key_length", "%4d", a->key_length);
    out_text(o, " ");
    out_interval(o, "last_ke_ago", a->last_ke_ago);
    out_text(o, " ");
    out_int(o, "ke_attempts", "%4d", a->ke_attempts);
    out_text(o, " ");
    out_int(o, "nak", "%4d", a->nak);
    out_text(o, " ");
    out_int(o, "cookies", "%4d", a->cookies);
    out_text(o, " ");
    out_int(o, "cookie_length", "%4d", a->cookie_length);
    out_text(o, "\n");
    out_rec_end(o);
}

void report_smoothing(struct out *o, const struct cmdmon_rep_smoothing *s)
{
    out_rec_begin(o);
    out_text(o, "Active         : ");
    out_bool(o, "active", s->flags & 0x1);
    out_text(o, " ");
    out_str(o, "leap_only", "%s", s->flags & 0x2 ? "(leap second only)" : "");
    out_text(o, "\nOffset         : ");
    out_dbl(o, "offset", "%+.9f", s->offset);
    out_text(o, " seconds\nFrequency      : ");
    out_dbl(o, "freq_ppm", "%+.6f", s->freq_ppm);
    out_text(o, " ppm\nWander         : ");
    out_dbl(o, "wander_ppm", "%+.6f", s->wander_ppm);
    out_text(o, " ppm per second\nLast update    : ");
    out_dbl(o, "last_update_ago", "%.1f", s->last_update_ago);
    out_text(o, " seconds ago\nRemaining time : ");
    out_dbl(o, "remaining_time", "%.1f", s->remaining_time);
    out_text(o, " seconds\n");
    out_rec_end(o);
}

void report_rtc(struct out *o, const struct cmdmon_rep_rtc *r)
{
    out_rec_begin(o);
    out_text(o, "RTC ref time (UTC) : ");
    out_time(o, "ref_time", &r->ref_time);
    out_text(o, "\nNumber of samples  : ");
    out_uint(o, "n_samples", "%u", r->n_samples);
    out_text(o, "\nNumber of runs     : ");
    out_uint(o, "n_runs", "%u", r->n_runs);
    out_text(o, "\nSample span period : ");
    out_interval(o, "span_seconds", r->span_seconds);
    out_text(o, "\nRTC is fast by     : ");
    out_dbl(o, "rtc_seconds_fast", "%12.6f", r->rtc_seconds_fast);
    out_text(o, " seconds\nRTC gains time at  : ");
    out_dbl(o, "rtc_gain_rate_ppm", "%9.3f", r->rtc_gain_rate_ppm);
    out_text(o, " ppm\n");
    out_rec_end(o);
}

void report_manual_list(struct out *o, const struct cmdmon_rep_manual_list *m)
{
    unsigned n = m->n_samples < CMDMON_MAX_MANUAL ? m->n_samples : CMDMON_MAX_MANUAL;
    char b[FMT_MAX];
    out_text(o, "210 n_samples = %u\n", (unsigned)m->n_samples);
    header(o, "#    Date     Time(UTC)    Slewed   Original   Residual");
    out_list_begin(o, "samples");
    for (unsigned i = 0; i < n; i++) {
        const struct cmdmon_rep_manual_sample *s = &m->samples[i];
        out_rec_begin(o);
        out_int(o, "index", "%2d", (int)i);
        out_text(o, " ");
        out_str(o, "time", "%s", fmt_utc_iso(b, sizeof b, s->when.sec));
        out_text(o, " ");
        out_dbl(o, "slewed_offset", "%10.2f", s->slewed_offset);
        out_text(o, " ");
        out_dbl(o, "orig_offset", "%10.2f", s->orig_offset);
        out_text(o, " ");
        out_dbl(o, "residual", "%10.2f", s->residual);
        out_text(o, "\n");
        out_rec_end(o);
    }
    out_list_end(o);
}
