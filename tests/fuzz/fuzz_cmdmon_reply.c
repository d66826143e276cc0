/* Fuzz target: the control-reply decoder tempusc uses (wire/cmdmon cmdmon_reply_decode),
 * and tempusc's report printers (client/report) fed the decoded reply, as tempusc would,
 * in text, CSV or JSON.
 *
 * Input: one option byte (bits 0-1 output mode: text, CSV, JSON, text; bit 2 verbose
 * headers), then the reply datagram.
 * Checks: the verdict is one of three; a decoded reply re-encodes, and decoding and
 * encoding that again gives the same bytes; printing never crashes or overruns. */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "client/names.h"
#include "client/out.h"
#include "client/report.h"
#include "fuzz_common.h"
#include "wire/cmdmon.h"

#define FUZZ_BUF 2048

static FILE *sink(void)
{
    static FILE *f;
    if (f == NULL)
        f = fopen("/dev/null", "w");
    FUZZ_CHECK(f != NULL);
    return f;
}

static void print_reply(struct out *o, const struct cmdmon_reply *rep, bool verbose)
{
    char name[256];
    switch (rep->reply) {
    case CMDMON_REP_TRACKING:
        report_tracking(o, &rep->u.tracking,
                        names_lookup(&rep->u.tracking.ip_addr, true, false, name, sizeof name));
        break;
    case CMDMON_REP_SOURCE_DATA:
        report_sources_header(o, verbose);
        out_list_begin(o, "sources");
        report_sources_row(
            o, &rep->u.source_data,
            names_lookup(&rep->u.source_data.ip_addr, true, true, name, sizeof name));
        out_list_end(o);
        (void)report_source_state_reason(rep->u.source_data.state);
        (void)report_mode_name(rep->u.source_data.mode);
        (void)report_state_name(rep->u.source_data.state);
        break;
    case CMDMON_REP_SOURCESTATS:
        report_sourcestats_header(o, verbose);
        out_list_begin(o, "sources");
        report_sourcestats_row(
            o, &rep->u.sourcestats,
            names_lookup(&rep->u.sourcestats.ip_addr, true, true, name, sizeof name));
        out_list_end(o);
        break;
    case CMDMON_REP_SELECT_DATA:
        report_selectdata_header(o, verbose);
        out_list_begin(o, "sources");
        report_selectdata_row(
            o, &rep->u.select_data,
            names_lookup(&rep->u.select_data.ip_addr, true, true, name, sizeof name));
        out_list_end(o);
        (void)report_select_reason(rep->u.select_data.state_char);
        break;
    case CMDMON_REP_NTP_DATA:
    case CMDMON_REP_NTP_DATA2:
        report_ntpdata(o, &rep->u.ntp_data, rep->reply == CMDMON_REP_NTP_DATA2);
        break;
    case CMDMON_REP_ACTIVITY:
        report_activity(o, &rep->u.activity);
        break;
    case CMDMON_REP_SERVER_STATS:
    case CMDMON_REP_SERVER_STATS2:
    case CMDMON_REP_SERVER_STATS3:
    case CMDMON_REP_SERVER_STATS4:
        report_serverstats(o, &rep->u.server_stats);
        break;
    case CMDMON_REP_CLIENT_ACCESSES_BY_INDEX3: {
        const struct cmdmon_rep_client_accesses *ca = &rep->u.client_accesses;
        uint32_t n = ca->n_clients < CMDMON_MAX_CLIENTS ? ca->n_clients : CMDMON_MAX_CLIENTS;
        report_clients_header(o, verbose);
        out_list_begin(o, "clients");
        for (uint32_t i = 0; i < n; i++)
            report_clients_row(o, &ca->clients[i],
                               names_lookup(&ca->clients[i].ip, true, true, name, sizeof name),
                               verbose);
        out_list_end(o);
        break;
    }
    case CMDMON_REP_AUTH_DATA:
        report_authdata_header(o, verbose);
        out_list_begin(o, "sources");
        report_authdata_row(o, &rep->u.auth_data, "s0");
        out_list_end(o);
        break;
    case CMDMON_REP_SMOOTHING:
        report_smoothing(o, &rep->u.smoothing);
        break;
    case CMDMON_REP_RTC:
        report_rtc(o, &rep->u.rtc);
        break;
    case CMDMON_REP_MANUAL_LIST2:
        report_manual_list(o, &rep->u.manual_list);
        break;
    default:
        break;
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    uint8_t opt = data[0];
    data++;
    size--;

    struct cmdmon_reply rep;
    memset(&rep, 0, sizeof rep);
    enum cmdmon_rep_verdict v = cmdmon_reply_decode(data, size, &rep);
    FUZZ_CHECK(v == CMDMON_REP_OK || v == CMDMON_REP_BAD || v == CMDMON_REP_SHORT);
    if (v == CMDMON_REP_BAD)
        return 0;
    FUZZ_CHECK(cmdmon_rep_name(rep.reply) != NULL);
    FUZZ_CHECK(cmdmon_status_message(rep.status) != NULL);
    if (v != CMDMON_REP_OK)
        return 0;
    FUZZ_CHECK(size >= cmdmon_reply_len(rep.reply));

    static uint8_t enc1[FUZZ_BUF], enc2[FUZZ_BUF];
    int n1 = cmdmon_reply_encode(&rep, enc1, sizeof enc1);
    if (n1 >= 0) {
        struct cmdmon_reply rep2;
        memset(&rep2, 0, sizeof rep2);
        FUZZ_CHECK(cmdmon_reply_decode(enc1, (size_t)n1, &rep2) == CMDMON_REP_OK);
        FUZZ_CHECK(rep2.reply == rep.reply && rep2.status == rep.status &&
                   rep2.sequence == rep.sequence && rep2.command == rep.command);
        int n2 = cmdmon_reply_encode(&rep2, enc2, sizeof enc2);
        FUZZ_CHECK(n2 == n1);
        FUZZ_CHECK(memcmp(enc1, enc2, (size_t)n1) == 0);
    }

    static const enum out_mode modes[4] = {OUT_TEXT, OUT_CSV, OUT_JSON, OUT_TEXT};
    struct out o;
    out_init(&o, sink(), modes[opt & 3]);
    out_doc_begin(&o, "fuzz");
    print_reply(&o, &rep, (opt >> 2) & 1);
    if (o.mode == OUT_JSON)
        out_doc_unwind(&o);
    out_doc_end(&o);
    return 0;
}
