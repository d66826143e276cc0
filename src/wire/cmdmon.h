/* chrony's control protocol ("cmdmon", version 6): header, primitives, request and reply
 * bodies, in both directions.
 *
 * Facts from shared/spec/chrony-cmdmon-protocol.md (section numbers below refer to it). The
 * client (tempusc) encodes requests and decodes replies; the daemon decodes requests and
 * encodes replies with the same code. Pure: no I/O, no allocation, no state.
 *
 * Values are host-order C types. Chrony "Float" fields are held as doubles: decode gives the
 * exact value of the wire word, encode reproduces chrony's rounding bit for bit (§9.1).
 */
#ifndef TEMPUS_WIRE_CMDMON_H
#define TEMPUS_WIRE_CMDMON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define CMDMON_PROTO_VERSION     6
#define CMDMON_PROTO_VERSION_OLD 5 /* chronyc falls back to this one, without padding (§5) */
#define CMDMON_PKT_REQUEST       1
#define CMDMON_PKT_REPLY         2
#define CMDMON_REQ_HDR_LEN       20
#define CMDMON_REP_HDR_LEN       28
#define CMDMON_MAX_REQ_LEN       860 /* longer datagrams are dropped by the server (§3.3) */
#define CMDMON_MAX_REP_LEN       520 /* CLIENT_ACCESSES_BY_INDEX3 */
#define CMDMON_NAME_LEN          256 /* ADD_SOURCE name, NTP_SOURCE_NAME reply */
#define CMDMON_MAX_CLIENTS       8   /* records per CLIENT_ACCESSES_BY_INDEX3 reply */
#define CMDMON_MAX_MANUAL        16  /* samples per MANUAL_LIST2 reply */
#define CMDMON_SERVER_STATS_MAX  17  /* counters in SERVER_STATS4 */

/* Request codes (§6.1). */
enum cmdmon_req_code {
    CMDMON_REQ_NULL = 0,
    CMDMON_REQ_ONLINE = 1,
    CMDMON_REQ_OFFLINE = 2,
    CMDMON_REQ_BURST = 3,
    CMDMON_REQ_MODIFY_MINPOLL = 4,
    CMDMON_REQ_MODIFY_MAXPOLL = 5,
    CMDMON_REQ_DUMP = 6,
    CMDMON_REQ_MODIFY_MAXDELAY = 7,
    CMDMON_REQ_MODIFY_MAXDELAYRATIO = 8,
    CMDMON_REQ_MODIFY_MAXUPDATESKEW = 9,
    CMDMON_REQ_LOGON = 10,
    CMDMON_REQ_SETTIME = 11,
    CMDMON_REQ_MANUAL = 13,
    CMDMON_REQ_N_SOURCES = 14,
    CMDMON_REQ_SOURCE_DATA = 15,
    CMDMON_REQ_REKEY = 16,
    CMDMON_REQ_ALLOW = 17,
    CMDMON_REQ_ALLOWALL = 18,
    CMDMON_REQ_DENY = 19,
    CMDMON_REQ_DENYALL = 20,
    CMDMON_REQ_CMDALLOW = 21,
    CMDMON_REQ_CMDALLOWALL = 22,
    CMDMON_REQ_CMDDENY = 23,
    CMDMON_REQ_CMDDENYALL = 24,
    CMDMON_REQ_ACCHECK = 25,
    CMDMON_REQ_CMDACCHECK = 26,
    CMDMON_REQ_DEL_SOURCE = 29,
    CMDMON_REQ_WRITERTC = 30,
    CMDMON_REQ_DFREQ = 31,
    CMDMON_REQ_TRACKING = 33,
    CMDMON_REQ_SOURCESTATS = 34,
    CMDMON_REQ_RTCREPORT = 35,
    CMDMON_REQ_TRIMRTC = 36,
    CMDMON_REQ_CYCLELOGS = 37,
    CMDMON_REQ_MANUAL_LIST = 41,
    CMDMON_REQ_MANUAL_DELETE = 42,
    CMDMON_REQ_MAKESTEP = 43,
    CMDMON_REQ_ACTIVITY = 44,
    CMDMON_REQ_MODIFY_MINSTRATUM = 45,
    CMDMON_REQ_MODIFY_POLLTARGET = 46,
    CMDMON_REQ_MODIFY_MAXDELAYDEVRATIO = 47,
    CMDMON_REQ_RESELECT = 48,
    CMDMON_REQ_RESELECTDISTANCE = 49,
    CMDMON_REQ_MODIFY_MAKESTEP = 50,
    CMDMON_REQ_SMOOTHING = 51,
    CMDMON_REQ_SMOOTHTIME = 52,
    CMDMON_REQ_REFRESH = 53,
    CMDMON_REQ_SERVER_STATS = 54,
    CMDMON_REQ_LOCAL2 = 56,
    CMDMON_REQ_NTP_DATA = 57,
    CMDMON_REQ_SHUTDOWN = 62,
    CMDMON_REQ_ONOFFLINE = 63,
    CMDMON_REQ_ADD_SOURCE = 64,
    CMDMON_REQ_NTP_SOURCE_NAME = 65,
    CMDMON_REQ_RESET_SOURCES = 66,
    CMDMON_REQ_AUTH_DATA = 67,
    CMDMON_REQ_CLIENT_ACCESSES_BY_INDEX3 = 68,
    CMDMON_REQ_SELECT_DATA = 69,
    CMDMON_REQ_RELOAD_SOURCES = 70,
    CMDMON_REQ_DOFFSET2 = 71,
    CMDMON_REQ_MODIFY_SELECTOPTS = 72,
    CMDMON_REQ_MODIFY_OFFSET = 73,
    CMDMON_REQ_LOCAL3 = 74,
    CMDMON_REQ_COUNT = 75, /* number of request types known (4.6+) */
};

/* Reply codes (§6.2). */
enum cmdmon_rep_code {
    CMDMON_REP_NULL = 1,
    CMDMON_REP_N_SOURCES = 2,
    CMDMON_REP_SOURCE_DATA = 3,
    CMDMON_REP_TRACKING = 5,
    CMDMON_REP_SOURCESTATS = 6,
    CMDMON_REP_RTC = 7,
    CMDMON_REP_ACTIVITY = 12,
    CMDMON_REP_SMOOTHING = 13,
    CMDMON_REP_SERVER_STATS = 14,
    CMDMON_REP_NTP_DATA = 16,
    CMDMON_REP_MANUAL_TIMESTAMP2 = 17,
    CMDMON_REP_MANUAL_LIST2 = 18,
    CMDMON_REP_NTP_SOURCE_NAME = 19,
    CMDMON_REP_AUTH_DATA = 20,
    CMDMON_REP_CLIENT_ACCESSES_BY_INDEX3 = 21,
    CMDMON_REP_SERVER_STATS2 = 22,
    CMDMON_REP_SELECT_DATA = 23,
    CMDMON_REP_SERVER_STATS3 = 24,
    CMDMON_REP_SERVER_STATS4 = 25,
    CMDMON_REP_NTP_DATA2 = 26,
};

/* Status codes (§6.3). */
enum cmdmon_status {
    CMDMON_STT_SUCCESS = 0,
    CMDMON_STT_FAILED = 1,
    CMDMON_STT_UNAUTH = 2,
    CMDMON_STT_INVALID = 3,
    CMDMON_STT_NOSUCHSOURCE = 4,
    CMDMON_STT_INVALIDTS = 5,
    CMDMON_STT_NOTENABLED = 6,
    CMDMON_STT_BADSUBNET = 7,
    CMDMON_STT_ACCESSALLOWED = 8,
    CMDMON_STT_ACCESSDENIED = 9,
    CMDMON_STT_NOHOSTACCESS = 10,
    CMDMON_STT_SOURCEALREADYKNOWN = 11,
    CMDMON_STT_TOOMANYSOURCES = 12,
    CMDMON_STT_NORTC = 13,
    CMDMON_STT_BADRTCFILE = 14,
    CMDMON_STT_INACTIVE = 15,
    CMDMON_STT_BADSAMPLE = 16,
    CMDMON_STT_INVALIDAF = 17,
    CMDMON_STT_BADPKTVERSION = 18,
    CMDMON_STT_BADPKTLENGTH = 19,
    CMDMON_STT_INVALIDNAME = 21,
};

/* IPAddr families on the wire (§9.3). */
enum cmdmon_family {
    CMDMON_FAMILY_UNSPEC = 0,
    CMDMON_FAMILY_INET4 = 1,
    CMDMON_FAMILY_INET6 = 2,
    CMDMON_FAMILY_ID = 3,
};

/* SOURCE_DATA state and mode (§8.2). */
enum cmdmon_src_state {
    CMDMON_SRC_SELECTED = 0,
    CMDMON_SRC_NONSELECTABLE = 1,
    CMDMON_SRC_FALSETICKER = 2,
    CMDMON_SRC_JITTERY = 3,
    CMDMON_SRC_UNSELECTED = 4,
    CMDMON_SRC_SELECTABLE = 5,
};
enum cmdmon_src_mode {
    CMDMON_SRC_MODE_CLIENT = 0,
    CMDMON_SRC_MODE_PEER = 1,
    CMDMON_SRC_MODE_REF = 2,
};

/* ADD_SOURCE type and flags (§7). */
#define CMDMON_ADD_SERVER 1u
#define CMDMON_ADD_PEER   2u
#define CMDMON_ADD_POOL   3u

#define CMDMON_ADD_FLAG_ONLINE      0x1u
#define CMDMON_ADD_FLAG_AUTOOFFLINE 0x2u
#define CMDMON_ADD_FLAG_IBURST      0x4u
#define CMDMON_ADD_FLAG_PREFER      0x8u
#define CMDMON_ADD_FLAG_NOSELECT    0x10u
#define CMDMON_ADD_FLAG_TRUST       0x20u
#define CMDMON_ADD_FLAG_REQUIRE     0x40u
#define CMDMON_ADD_FLAG_INTERLEAVED 0x80u
#define CMDMON_ADD_FLAG_BURST       0x100u
#define CMDMON_ADD_FLAG_NTS         0x200u
#define CMDMON_ADD_FLAG_COPY        0x400u
#define CMDMON_ADD_FLAG_EF_EXP_MONO 0x800u
#define CMDMON_ADD_FLAG_EF_EXP_NET  0x1000u
#define CMDMON_ADD_FLAG_IPV4        0x2000u
#define CMDMON_ADD_FLAG_IPV6        0x4000u

/* SELECT_DATA option bits, also the MODIFY_SELECTOPTS mask bits (§8.15). */
#define CMDMON_SELECT_NOSELECT 0x1u
#define CMDMON_SELECT_PREFER   0x2u
#define CMDMON_SELECT_TRUST    0x4u
#define CMDMON_SELECT_REQUIRE  0x8u

/* An IPAddr: IPv4 in addr[0..3], IPv6 in addr[0..15], an ID in id. */
struct cmdmon_ip {
    uint16_t family; /* enum cmdmon_family; anything else encodes as UNSPEC */
    uint8_t addr[16];
    uint32_t id;
};

/* A Timespec (§9.2). sec is the full 64-bit count; high word 0x7FFFFFFF decodes as 0. */
struct cmdmon_timespec {
    uint64_t sec;
    uint32_t nsec;
};

/* ---- request bodies (§7) ---- */

struct cmdmon_req_mask_addr { /* ONLINE, OFFLINE, BURST */
    struct cmdmon_ip mask;
    struct cmdmon_ip address;
    int32_t n_good_samples;  /* BURST only */
    int32_t n_total_samples; /* BURST only */
};

struct cmdmon_req_modify { /* MODIFY_* with an address and one value */
    struct cmdmon_ip address;
    int32_t ival; /* MINPOLL, MAXPOLL, MINSTRATUM, POLLTARGET */
    double fval;  /* MAXDELAY (s), MAXDELAYRATIO, MAXDELAYDEVRATIO */
};

struct cmdmon_req_subnet { /* ALLOW ... CMDDENYALL */
    struct cmdmon_ip ip;
    int32_t subnet_bits;
};

struct cmdmon_req_makestep {
    int32_t limit;
    double threshold_s;
};

struct cmdmon_req_local { /* LOCAL2 uses the first four fields, LOCAL3 all */
    int32_t on_off;
    int32_t stratum;
    double distance_s;
    int32_t orphan;
    double activate_s;
    double wait_synced_s;
    double wait_unsynced_s;
};

struct cmdmon_req_add_source {
    uint32_t type; /* CMDMON_ADD_SERVER/PEER/POOL */
    char name[CMDMON_NAME_LEN];
    uint32_t port;
    int32_t minpoll;
    int32_t maxpoll;
    int32_t presend_minpoll;
    uint32_t min_stratum;
    uint32_t poll_target;
    uint32_t version;
    uint32_t max_sources;
    int32_t min_samples;
    int32_t max_samples;
    uint32_t authkey;
    uint32_t nts_port;
    double max_delay;
    double max_delay_ratio;
    double max_delay_dev_ratio;
    double min_delay;
    double asymmetry;
    double offset;
    uint32_t flags;
    int32_t filter_length;
    uint32_t cert_set;
    double max_delay_quant;
    int32_t max_unreach; /* 4.8; "reserved" (0) before */
};

struct cmdmon_req_clients {
    uint32_t first_index;
    uint32_t n_clients;
    uint32_t min_hits;
    uint32_t reset;
};

struct cmdmon_req_selectopts {
    struct cmdmon_ip address;
    uint32_t ref_id;
    uint32_t mask;
    uint32_t options;
};

struct cmdmon_req_offset {
    struct cmdmon_ip address;
    uint32_t ref_id;
    double new_offset_s;
};

/* A request. Which union member is meaningful follows from command (see
 * cmdmon_request_encode). */
struct cmdmon_request {
    uint8_t version; /* CMDMON_PROTO_VERSION, or 5 after a fallback */
    uint16_t command;
    uint16_t attempt;
    uint32_t sequence;
    union {
        struct cmdmon_req_mask_addr mask_addr;
        struct cmdmon_req_modify modify;
        struct cmdmon_req_subnet subnet;
        struct cmdmon_ip ip; /* ACCHECK, CMDACCHECK, DEL_SOURCE, NTP_DATA, NTP_SOURCE_NAME,
                                AUTH_DATA */
        uint32_t index;      /* SOURCE_DATA, SOURCESTATS, SELECT_DATA */
        int32_t ival;        /* MANUAL, MANUAL_DELETE, SMOOTHTIME, DUMP */
        double fval;         /* MAXUPDATESKEW, DFREQ, RESELECTDISTANCE, DOFFSET2 */
        struct cmdmon_req_makestep makestep;
        struct cmdmon_timespec settime;
        struct cmdmon_req_local local;
        struct cmdmon_req_add_source add_source;
        struct cmdmon_req_clients clients;
        struct cmdmon_req_selectopts selectopts;
        struct cmdmon_req_offset offset;
    } u;
};

/* ---- reply bodies (§8) ---- */

struct cmdmon_rep_source_data {
    struct cmdmon_ip ip_addr;
    int16_t poll;
    uint16_t stratum;
    uint16_t state;
    uint16_t mode;
    uint16_t flags;
    uint16_t reachability;
    uint32_t since_sample; /* s; 0xFFFFFFFF = none */
    double orig_latest_meas;
    double latest_meas;
    double latest_meas_err;
};

struct cmdmon_rep_tracking {
    uint32_t ref_id;
    struct cmdmon_ip ip_addr;
    uint16_t stratum;
    uint16_t leap_status;
    struct cmdmon_timespec ref_time;
    double current_correction;
    double last_offset;
    double rms_offset;
    double freq_ppm;
    double resid_freq_ppm;
    double skew_ppm;
    double root_delay;
    double root_dispersion;
    double last_update_interval;
};

struct cmdmon_rep_sourcestats {
    uint32_t ref_id;
    struct cmdmon_ip ip_addr;
    uint32_t n_samples;
    uint32_t n_runs;
    uint32_t span_seconds;
    double sd;
    double resid_freq_ppm;
    double skew_ppm;
    double est_offset;
    double est_offset_err;
};

struct cmdmon_rep_rtc {
    struct cmdmon_timespec ref_time;
    uint16_t n_samples;
    uint16_t n_runs;
    uint32_t span_seconds;
    double rtc_seconds_fast;
    double rtc_gain_rate_ppm;
};

struct cmdmon_rep_activity {
    int32_t online;
    int32_t offline;
    int32_t burst_online;
    int32_t burst_offline;
    int32_t unresolved;
};

struct cmdmon_rep_smoothing {
    uint32_t flags; /* 0x1 active, 0x2 leap-only */
    double offset;
    double freq_ppm;
    double wander_ppm;
    double last_update_ago;
    double remaining_time;
};

/* SERVER_STATS (14), 2 (22), 3 (24), 4 (25): one array in the order of §8.8 (SERVER_STATS
 * 14 is mapped into it too). n_fields says how many are present: 5, 8, 11 or 17. */
enum cmdmon_server_stat {
    CMDMON_SS_NTP_HITS = 0,
    CMDMON_SS_NKE_HITS,
    CMDMON_SS_CMD_HITS,
    CMDMON_SS_NTP_DROPS,
    CMDMON_SS_NKE_DROPS,
    CMDMON_SS_CMD_DROPS,
    CMDMON_SS_LOG_DROPS,
    CMDMON_SS_NTP_AUTH_HITS,
    CMDMON_SS_NTP_INTERLEAVED_HITS,
    CMDMON_SS_NTP_TIMESTAMPS,
    CMDMON_SS_NTP_SPAN_SECONDS,
    CMDMON_SS_NTP_DAEMON_RX_TS,
    CMDMON_SS_NTP_DAEMON_TX_TS,
    CMDMON_SS_NTP_KERNEL_RX_TS,
    CMDMON_SS_NTP_KERNEL_TX_TS,
    CMDMON_SS_NTP_HW_RX_TS,
    CMDMON_SS_NTP_HW_TX_TS,
};
struct cmdmon_rep_server_stats {
    unsigned n_fields;
    uint64_t v[CMDMON_SERVER_STATS_MAX];
};

/* NTP_DATA (16) and NTP_DATA2 (26). The last four counters exist in NTP_DATA2 only. */
struct cmdmon_rep_ntp_data {
    struct cmdmon_ip remote_addr;
    struct cmdmon_ip local_addr;
    uint16_t remote_port;
    uint8_t leap;
    uint8_t version;
    uint8_t mode;
    uint8_t stratum;
    int8_t poll;
    int8_t precision;
    double root_delay;
    double root_dispersion;
    uint32_t ref_id;
    struct cmdmon_timespec ref_time;
    double offset;
    double peer_delay;
    double peer_dispersion;
    double response_time;
    double jitter_asymmetry;
    uint16_t flags;
    uint8_t tx_tss_char;
    uint8_t rx_tss_char;
    uint32_t total_tx_count;
    uint32_t total_rx_count;
    uint32_t total_valid_count;
    uint32_t total_good_count;
    uint32_t total_kernel_tx_ts;
    uint32_t total_kernel_rx_ts;
    uint32_t total_hw_tx_ts;
    uint32_t total_hw_rx_ts;
};

struct cmdmon_rep_manual_timestamp {
    double offset;
    double dfreq_ppm;
    double new_afreq_ppm;
};

struct cmdmon_rep_manual_sample {
    struct cmdmon_timespec when;
    double slewed_offset;
    double orig_offset;
    double residual;
};
struct cmdmon_rep_manual_list {
    uint32_t n_samples; /* as received; only min(n, 16) entries are meaningful */
    struct cmdmon_rep_manual_sample samples[CMDMON_MAX_MANUAL];
};

struct cmdmon_rep_auth_data {
    uint16_t mode; /* 0 none, 1 symmetric key, 2 NTS */
    uint16_t key_type;
    uint32_t key_id;
    uint16_t key_length;
    uint16_t ke_attempts;
    uint32_t last_ke_ago;
    uint16_t cookies;
    uint16_t cookie_length;
    uint16_t nak;
};

struct cmdmon_rep_client {
    struct cmdmon_ip ip;
    uint32_t ntp_hits;
    uint32_t nke_hits;
    uint32_t cmd_hits;
    uint32_t ntp_drops;
    uint32_t nke_drops;
    uint32_t cmd_drops;
    int8_t ntp_interval;
    int8_t nke_interval;
    int8_t cmd_interval;
    int8_t ntp_timeout_interval;
    uint32_t last_ntp_hit_ago;
    uint32_t last_nke_hit_ago;
    uint32_t last_cmd_hit_ago;
};
struct cmdmon_rep_client_accesses {
    uint32_t n_indices;
    uint32_t next_index;
    uint32_t n_clients; /* as received; only min(n, 8) records are meaningful */
    struct cmdmon_rep_client clients[CMDMON_MAX_CLIENTS];
};

struct cmdmon_rep_select_data {
    uint32_t ref_id;
    struct cmdmon_ip ip_addr;
    uint8_t state_char;
    uint8_t authentication;
    uint8_t leap;
    uint16_t conf_options;
    uint16_t eff_options;
    uint32_t last_sample_ago;
    double score;
    double lo_limit;
    double hi_limit;
};

/* A reply. Which union member is meaningful follows from reply (the reply code). */
struct cmdmon_reply {
    uint8_t version;
    uint16_t command;
    uint16_t reply;
    uint16_t status;
    uint32_t sequence;
    union {
        uint32_t n_sources;
        struct cmdmon_rep_source_data source_data;
        struct cmdmon_rep_tracking tracking;
        struct cmdmon_rep_sourcestats sourcestats;
        struct cmdmon_rep_rtc rtc;
        struct cmdmon_rep_activity activity;
        struct cmdmon_rep_smoothing smoothing;
        struct cmdmon_rep_server_stats server_stats;
        struct cmdmon_rep_ntp_data ntp_data;
        struct cmdmon_rep_manual_timestamp manual_timestamp;
        struct cmdmon_rep_manual_list manual_list;
        char ntp_source_name[CMDMON_NAME_LEN];
        struct cmdmon_rep_auth_data auth_data;
        struct cmdmon_rep_client_accesses client_accesses;
        struct cmdmon_rep_select_data select_data;
    } u;
};

/* ---- primitives ---- */

/* Decodes a chrony Float word to its exact value (§9.1). */
double cmdmon_float_decode(uint32_t word);

/* Encodes v as chrony does, bit for bit (rounding, saturation, NaN -> 0). */
uint32_t cmdmon_float_encode(double v);

/* Text forms of codes, for logs and JSON. Unknown codes give "?" (never NULL). */
const char *cmdmon_req_name(unsigned command);
const char *cmdmon_rep_name(unsigned reply);

/* chronyc's message line for a status (§6.3), e.g. "501 Not authorised". */
const char *cmdmon_status_message(unsigned status);

/* ---- lengths (§3.3, §6) ---- */

/* Request body length of command, or -1 if this codec does not know the command (obsolete
 * codes 12, 27, 28, 32, 38-40, 55, 58-61 and codes >= CMDMON_REQ_COUNT). */
int cmdmon_request_body_len(unsigned command);

/* Expected reply length (28 + body) of a successful reply to command, newest format
 * (SERVER_STATS4, NTP_DATA2); -1 if unknown. */
int cmdmon_request_reply_len(unsigned command);

/* Length tempusc sends for a v6 request: max(20 + body, reply length). -1 if unknown. */
int cmdmon_request_len(unsigned command);

/* Smallest v6 request length a server accepts for command: like cmdmon_request_len but for
 * the oldest reply format still served (SERVER_STATS 72 -> SERVER_STATS3, NTP_DATA 152 ->
 * NTP_DATA). -1 if unknown. */
int cmdmon_request_min_len(unsigned command);

/* Total length of a reply with this reply code (28 + body); 0 for unknown codes. */
size_t cmdmon_reply_len(unsigned reply);

/* ---- requests ---- */

/* Encodes req into buf: header, body, zero padding to cmdmon_request_len (no padding for
 * version 5). Returns the datagram length, or -1 if the command is unknown or cap is too
 * small. Unused body bytes are zero. */
int cmdmon_request_encode(const struct cmdmon_request *req, uint8_t *buf, size_t cap);

/* What a server does with a received datagram (§4.4 steps 2, 3, 6, 7, 8). */
enum cmdmon_req_verdict {
    CMDMON_REQ_OK = 0,     /* *out is filled; dispatch it */
    CMDMON_REQ_DROP,       /* send nothing */
    CMDMON_REQ_BADVERSION, /* reply status BADPKTVERSION */
    CMDMON_REQ_INVALID,    /* reply status INVALID */
    CMDMON_REQ_BADLENGTH,  /* reply status BADPKTLENGTH */
};

/* Checks and decodes a request datagram. The header fields of *out (version, command,
 * sequence, attempt) are filled for every verdict but DROP, so that the error reply can be
 * built. The length check uses cmdmon_request_min_len; a server that needs the newest
 * format looks at len itself (spec §11.2: pick SERVER_STATS4/3 and NTP_DATA2/NTP_DATA by
 * request length). NULL (0) and LOGON (10) decode as OK, as chronyd 4.3 treats them; a
 * server imitating 4.7+ answers INVALID for them itself. The server must still send a reply
 * only if it is not longer than the request (§3.3). */
enum cmdmon_req_verdict cmdmon_request_decode(const uint8_t *buf, size_t len,
                                              struct cmdmon_request *out);

/* ---- server helpers ---- */

/* The status a server answers a verdict with: BADVERSION -> BADPKTVERSION, INVALID ->
 * INVALID, BADLENGTH -> BADPKTLENGTH; -1 for OK (dispatch) and DROP (no reply). */
int cmdmon_verdict_status(enum cmdmon_req_verdict v);

/* True for the commands chronyd 4.0-4.6 executes over UDP (§2.3 fixed table, with NULL and
 * LOGON); every other valid command gets UNAUTH there. */
bool cmdmon_request_open_udp(unsigned command);

/* The reply code a server answers command with on success, chosen by the request length
 * as §11.2 recommends: SERVER_STATS >= 196 -> SERVER_STATS4, >= 72 -> SERVER_STATS3, else
 * SERVER_STATS2; NTP_DATA >= 172 -> NTP_DATA2, else NTP_DATA. 0 for unknown commands. */
unsigned cmdmon_reply_code_for(unsigned command, size_t request_len);

/* ---- replies ---- */

/* Encodes rep (header and the body for rep->reply) into buf, zero-filled; reserved fields
 * that chronyd sends as 0xFF are 0xFF. Returns the length (cmdmon_reply_len), or -1 if the
 * reply code is unknown or cap is too small. */
int cmdmon_reply_encode(const struct cmdmon_reply *rep, uint8_t *buf, size_t cap);

enum cmdmon_rep_verdict {
    CMDMON_REP_OK = 0, /* header and body decoded */
    CMDMON_REP_BAD,    /* not a reply: shorter than 28, pkt_type != 2 or res != 0 */
    CMDMON_REP_SHORT,  /* header decoded, but shorter than its reply code needs (or the
                          code is unknown): chronyc counts this as a failed attempt */
};

/* Decodes a reply datagram. The header part of *out is set for OK and SHORT. The body is
 * decoded when the reply code is known and the datagram long enough for it. */
enum cmdmon_rep_verdict cmdmon_reply_decode(const uint8_t *buf, size_t len,
                                            struct cmdmon_reply *out);

/* Starts the reply to req (§4.4 step 5): version 6, the request's command and sequence,
 * reply NULL, status SUCCESS, empty body. */
void cmdmon_reply_init(const struct cmdmon_request *req, struct cmdmon_reply *rep);

#endif
