/* Report snapshots of the engine: what chronyc's tracking, sources, sourcestats, ntpdata and
 * selectdata show, as plain values filled by engine_tracking(), engine_source_report() and
 * engine_reference() (core/engine.h). No pointers inside: callers copy them freely.
 *
 * Sign conventions (chrony's): offsets named *_meas_s, est_offset_s, last_offset_s and
 * lo/hi limits are "positive = the local clock is ahead of the source / of true time";
 * current_correction_s is "positive = the local clock is slow" (chronyc prints it as
 * "seconds slow of NTP time"); freq_ppm is "positive = the uncorrected clock runs fast";
 * report_source.offset_s (ntpdata's Offset) follows NTP's theta: positive = local clock behind.
 */
#ifndef TEMPUS_CORE_REPORT_H
#define TEMPUS_CORE_REPORT_H

#include <stdint.h>

#include "base/addr.h"

/* Selection state as SOURCE_DATA's `state` field (chronyc's `*?x~+-`). */
enum report_state {
    REPORT_STATE_SELECTED = 0,      /* '*' */
    REPORT_STATE_NONSELECTABLE = 1, /* '?' */
    REPORT_STATE_FALSETICKER = 2,   /* 'x' */
    REPORT_STATE_JITTERY = 3,       /* '~' */
    REPORT_STATE_UNSELECTED = 4,    /* '+' combined */
    REPORT_STATE_SELECTABLE = 5,    /* '-' selectable, not combined */
};

/* Selection options as SELECT_DATA's conf_options/eff_options bits. */
#define REPORT_OPT_NOSELECT 0x1
#define REPORT_OPT_PREFER   0x2
#define REPORT_OPT_TRUST    0x4
#define REPORT_OPT_REQUIRE  0x8

/* ntpdata's test bits (NTP_DATA flags): bit 9 = test 1 ... bit 0 = test D; 1 = passed. */
#define REPORT_TEST_1             0x200
#define REPORT_TEST_2             0x100
#define REPORT_TEST_3             0x080
#define REPORT_TEST_5             0x040
#define REPORT_TEST_6             0x020
#define REPORT_TEST_7             0x010
#define REPORT_TEST_A             0x008
#define REPORT_TEST_B             0x004
#define REPORT_TEST_C             0x002
#define REPORT_TEST_D             0x001
#define REPORT_FLAG_INTERLEAVED   0x4000
#define REPORT_FLAG_AUTHENTICATED 0x8000

/* TRACKING. */
struct report_tracking {
    uint32_t ref_id;             /* 0 when unsynchronised */
    struct addr ref_addr;        /* selected source's address; family ADDR_UNSPEC if none */
    int selected_source_id;      /* engine source id of the selected source, -1 if none */
    int stratum;                 /* ours: selected source's stratum + 1; 0 when unsynchronised */
    int leap_status;             /* 0 normal, 1 insert, 2 delete, 3 unsynchronised */
    int64_t ref_time_real_ns;    /* local real time of the last clock update, 0 = never */
    double current_correction_s; /* remaining correction, positive = local clock slow */
    double last_offset_s;        /* offset estimated at the last update, positive = ahead */
    double rms_offset_s;         /* long-term RMS of last_offset_s */
    double freq_ppm;             /* the uncorrected clock's frequency error, positive = fast */
    double resid_freq_ppm;       /* reference's frequency minus ours, ppm */
    double skew_ppm;             /* error bound of freq_ppm */
    double root_delay_s;
    double root_dispersion_s; /* at the time of the report */
    double last_update_interval_s;
    /* Beyond chronyc's fields, for the simulator and tests: */
    int synced;              /* a source is selected and the clock is being disciplined */
    double est_offset_s;     /* engine's estimate of the local clock's offset now, +ahead */
    double est_offset_err_s; /* 1-sigma error of est_offset_s */
    uint32_t n_updates;      /* clock updates so far */
    uint32_t n_steps;        /* steps made so far */
    double applied_freq_ppm; /* what set_freq_ppm() was last given */
};

/* One source: SOURCE_DATA + SOURCESTATS + NTP_DATA + SELECT_DATA fields, and why it is not
 * selected, in words. */
struct report_source {
    int id;             /* engine source id */
    char name[64];      /* as given to engine_add_source() (truncated) */
    struct addr remote; /* remote address and port */
    uint32_t ref_id;    /* refid of the remote address (IPv4: the address; IPv6: MD5) */

    /* sources */
    int mode;  /* 0 server, 1 peer (SOURCE_DATA mode) */
    int state; /* enum report_state */
    int poll_log2;
    int stratum;               /* from the last valid packet */
    unsigned reach;            /* 8-bit register */
    uint32_t since_sample_s;   /* seconds since the last good sample, UINT32_MAX = none */
    double orig_latest_meas_s; /* last good sample's offset, positive = local ahead */
    double latest_meas_s;      /* same, adjusted for clock corrections made since */
    double latest_meas_err_s;  /* its error bound (root delay/2 + root dispersion) */

    /* sourcestats */
    uint32_t n_samples;
    uint32_t n_runs;
    uint32_t span_s;
    double sd_s;
    double resid_freq_ppm; /* source's frequency relative to our clock, ppm */
    double skew_ppm;
    double est_offset_s; /* estimated offset now, positive = local ahead */
    double est_offset_err_s;

    /* ntpdata (from the last packet that passed tests 1-3 and 5) */
    uint16_t remote_port;
    uint32_t key_id; /* the source's symmetric key (authdata); 0: none */
    int leap;        /* packet's LI */
    int version;
    int pkt_mode; /* 4 server, 2 symmetric passive, 1 symmetric active */
    int pkt_stratum;
    int pkt_poll;
    int precision;
    double root_delay_s;
    double root_dispersion_s;
    uint32_t pkt_ref_id;
    int64_t pkt_ref_time_real_ns;
    double offset_s; /* NTP theta of the last measurement: positive = local behind */
    double peer_delay_s;
    double peer_dispersion_s;
    double response_time_s;
    double jitter_asymmetry; /* -0.5 .. +0.5 */
    uint16_t test_flags;     /* REPORT_TEST_* | REPORT_FLAG_* of the last response */
    char tx_tss_char;        /* T1 of the last response: 'K' a kernel TX timestamp
                              * (engine_tx_timestamp()), 'D' the clock read before the send */
    char rx_tss_char;
    uint32_t total_kernel_tx; /* requests whose T1 was a kernel TX timestamp */
    uint32_t total_tx;
    uint32_t total_rx;
    uint32_t total_valid;
    uint32_t total_good;

    /* selectdata */
    char select_state_char; /* N M s d ~ w S O T x W P U D + * */
    int conf_options;       /* REPORT_OPT_* as configured */
    int eff_options;        /* REPORT_OPT_* in effect */
    uint32_t last_sample_ago_s;
    double score;
    double lo_limit_s; /* interval used in selection, relative to our clock */
    double hi_limit_s;
    int select_leap; /* leap of the source as used in voting */

    char reason[96]; /* why not selected, in words ("" when selected) */
};

/* What the server side needs to answer clients. */
struct report_reference {
    int synced;  /* 0: answer with LI 3, stratum 0 (16) */
    int leap;    /* 0..3 to put in LI */
    int stratum; /* ours (1..15), 16 when unsynchronised */
    uint32_t ref_id;
    int64_t ref_time_real_ns; /* local real time of the last update, 0 = never */
    double root_delay_s;
    double root_dispersion_s; /* grown to the time of the call */
    double freq_ppm;          /* as tracking's freq_ppm */
};

#endif
