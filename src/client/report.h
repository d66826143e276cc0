/* Printers of chronyc's reports (shared/spec/chronyc-output-formats.md §2-§11), one per
 * report or table row, through struct out so that text, CSV and JSON come from one place.
 * Names are resolved by the caller (they may need NTP_SOURCE_NAME exchanges). Tables: the
 * caller wraps rows in out_list_begin/out_list_end. */
#ifndef TEMPUS_CLIENT_REPORT_H
#define TEMPUS_CLIENT_REPORT_H

#include <stdbool.h>

#include "client/out.h"
#include "wire/cmdmon.h"

void report_tracking(struct out *o, const struct cmdmon_rep_tracking *t, const char *name);
void report_waitsync_try(struct out *o, int try_no, const struct cmdmon_rep_tracking *t);

void report_sources_header(struct out *o, bool verbose);
void report_sources_row(struct out *o, const struct cmdmon_rep_source_data *s, const char *name);

void report_sourcestats_header(struct out *o, bool verbose);
void report_sourcestats_row(struct out *o, const struct cmdmon_rep_sourcestats *s,
                            const char *name);

void report_selectdata_header(struct out *o, bool verbose);
void report_selectdata_row(struct out *o, const struct cmdmon_rep_select_data *s, const char *name);

/* One ntpdata report (the caller prints the blank separator line). v2: NTP_DATA2 counters. */
void report_ntpdata(struct out *o, const struct cmdmon_rep_ntp_data *n, bool v2);

void report_activity(struct out *o, const struct cmdmon_rep_activity *a);
void report_serverstats(struct out *o, const struct cmdmon_rep_server_stats *s);

void report_clients_header(struct out *o, bool nke);
void report_clients_row(struct out *o, const struct cmdmon_rep_client *c, const char *name,
                        bool nke);

void report_authdata_header(struct out *o, bool verbose);
void report_authdata_row(struct out *o, const struct cmdmon_rep_auth_data *a, const char *name);

void report_smoothing(struct out *o, const struct cmdmon_rep_smoothing *s);
void report_rtc(struct out *o, const struct cmdmon_rep_rtc *r);
void report_manual_list(struct out *o, const struct cmdmon_rep_manual_list *m);

/* Why a source is in a SELECT_DATA state, in words (tempus extension; never NULL). '*' is
 * the selected source. */
const char *report_select_reason(unsigned state_char);

/* The same for a SOURCE_DATA state (coarser: chronyc's sources column). */
const char *report_source_state_reason(unsigned state);

/* Names of SOURCE_DATA mode and state for JSON ("server", "selected", ...). */
const char *report_mode_name(unsigned mode);
const char *report_state_name(unsigned state);

#endif
