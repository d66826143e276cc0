/* cmdmon: primitives, code tables, lengths, headers (see cmdmon.h). */
#include "wire/cmdmon.h"

#include <math.h>
#include <string.h>

#include "wire/cmdmon_bytes.h"

/* ---- Float (§9.1) ---- */

#define FLOAT_COEF_BITS 25
#define FLOAT_EXP_MIN   (-64)
#define FLOAT_EXP_MAX   63

double cmdmon_float_decode(uint32_t word)
{
    int e = (int)(word >> FLOAT_COEF_BITS);
    if (e >= 64)
        e -= 128;
    int32_t c = (int32_t)(word & 0x1FFFFFFu);
    if (c >= (1 << 24))
        c -= (1 << 25);
    return ldexp((double)c, e - FLOAT_COEF_BITS);
}

uint32_t cmdmon_float_encode(double v)
{
    int neg = 0, exp;
    int32_t coef;

    if (isnan(v)) {
        v = 0.0;
    } else if (v < 0.0) {
        neg = 1;
        v = -v;
    }
    int32_t coef_max = (1 << 24) - 1 + neg;

    if (v < 1e-100) {
        exp = 0;
        coef = 0;
    } else if (v > 1e100) {
        exp = FLOAT_EXP_MAX;
        coef = coef_max;
    } else {
        /* The same expressions as chrony, so that the truncations match. */
        exp = (int)(log(v) / log(2.0) + 1.0);
        coef = (int32_t)(ldexp(v, FLOAT_COEF_BITS - exp) + 0.5);
        while (coef > coef_max) {
            coef >>= 1;
            exp++;
        }
        if (exp > FLOAT_EXP_MAX) {
            exp = FLOAT_EXP_MAX;
            coef = coef_max;
        } else if (exp < FLOAT_EXP_MIN) {
            if (exp + FLOAT_COEF_BITS >= FLOAT_EXP_MIN) {
                coef >>= FLOAT_EXP_MIN - exp;
                exp = FLOAT_EXP_MIN;
            } else {
                exp = 0;
                coef = 0;
            }
        }
    }
    uint32_t ucoef = (uint32_t)coef;
    if (neg)
        ucoef = (0u - ucoef) & 0x1FFFFFFu;
    return ((uint32_t)exp & 0x7Fu) << FLOAT_COEF_BITS | ucoef;
}

/* ---- code tables ---- */

struct req_info {
    const char *name;
    int body_len;       /* -1: unknown code */
    uint16_t reply;     /* reply code on success, newest format */
    uint16_t reply_old; /* oldest reply format still served (length floor), 0 = same */
};

static const struct req_info req_table[CMDMON_REQ_COUNT] = {
    [0] = {"NULL", 0, CMDMON_REP_NULL, 0},
    [1] = {"ONLINE", 40, CMDMON_REP_NULL, 0},
    [2] = {"OFFLINE", 40, CMDMON_REP_NULL, 0},
    [3] = {"BURST", 48, CMDMON_REP_NULL, 0},
    [4] = {"MODIFY_MINPOLL", 24, CMDMON_REP_NULL, 0},
    [5] = {"MODIFY_MAXPOLL", 24, CMDMON_REP_NULL, 0},
    [6] = {"DUMP", 4, CMDMON_REP_NULL, 0},
    [7] = {"MODIFY_MAXDELAY", 24, CMDMON_REP_NULL, 0},
    [8] = {"MODIFY_MAXDELAYRATIO", 24, CMDMON_REP_NULL, 0},
    [9] = {"MODIFY_MAXUPDATESKEW", 4, CMDMON_REP_NULL, 0},
    [10] = {"LOGON", 12, CMDMON_REP_NULL, 0},
    [11] = {"SETTIME", 12, CMDMON_REP_MANUAL_TIMESTAMP2, 0},
    [12] = {"LOCAL", -1, 0, 0},
    [13] = {"MANUAL", 4, CMDMON_REP_NULL, 0},
    [14] = {"N_SOURCES", 0, CMDMON_REP_N_SOURCES, 0},
    [15] = {"SOURCE_DATA", 4, CMDMON_REP_SOURCE_DATA, 0},
    [16] = {"REKEY", 0, CMDMON_REP_NULL, 0},
    [17] = {"ALLOW", 24, CMDMON_REP_NULL, 0},
    [18] = {"ALLOWALL", 24, CMDMON_REP_NULL, 0},
    [19] = {"DENY", 24, CMDMON_REP_NULL, 0},
    [20] = {"DENYALL", 24, CMDMON_REP_NULL, 0},
    [21] = {"CMDALLOW", 24, CMDMON_REP_NULL, 0},
    [22] = {"CMDALLOWALL", 24, CMDMON_REP_NULL, 0},
    [23] = {"CMDDENY", 24, CMDMON_REP_NULL, 0},
    [24] = {"CMDDENYALL", 24, CMDMON_REP_NULL, 0},
    [25] = {"ACCHECK", 20, CMDMON_REP_NULL, 0},
    [26] = {"CMDACCHECK", 20, CMDMON_REP_NULL, 0},
    [27] = {"ADD_SERVER", -1, 0, 0},
    [28] = {"ADD_PEER", -1, 0, 0},
    [29] = {"DEL_SOURCE", 20, CMDMON_REP_NULL, 0},
    [30] = {"WRITERTC", 0, CMDMON_REP_NULL, 0},
    [31] = {"DFREQ", 4, CMDMON_REP_NULL, 0},
    [32] = {"DOFFSET", -1, 0, 0},
    [33] = {"TRACKING", 0, CMDMON_REP_TRACKING, 0},
    [34] = {"SOURCESTATS", 4, CMDMON_REP_SOURCESTATS, 0},
    [35] = {"RTCREPORT", 0, CMDMON_REP_RTC, 0},
    [36] = {"TRIMRTC", 0, CMDMON_REP_NULL, 0},
    [37] = {"CYCLELOGS", 0, CMDMON_REP_NULL, 0},
    [38] = {"SUBNETS_ACCESSED", -1, 0, 0},
    [39] = {"CLIENT_ACCESSES", -1, 0, 0},
    [40] = {"CLIENT_ACCESSES_BY_INDEX", -1, 0, 0},
    [41] = {"MANUAL_LIST", 0, CMDMON_REP_MANUAL_LIST2, 0},
    [42] = {"MANUAL_DELETE", 4, CMDMON_REP_NULL, 0},
    [43] = {"MAKESTEP", 0, CMDMON_REP_NULL, 0},
    [44] = {"ACTIVITY", 0, CMDMON_REP_ACTIVITY, 0},
    [45] = {"MODIFY_MINSTRATUM", 24, CMDMON_REP_NULL, 0},
    [46] = {"MODIFY_POLLTARGET", 24, CMDMON_REP_NULL, 0},
    [47] = {"MODIFY_MAXDELAYDEVRATIO", 24, CMDMON_REP_NULL, 0},
    [48] = {"RESELECT", 0, CMDMON_REP_NULL, 0},
    [49] = {"RESELECTDISTANCE", 4, CMDMON_REP_NULL, 0},
    [50] = {"MODIFY_MAKESTEP", 8, CMDMON_REP_NULL, 0},
    [51] = {"SMOOTHING", 0, CMDMON_REP_SMOOTHING, 0},
    [52] = {"SMOOTHTIME", 4, CMDMON_REP_NULL, 0},
    [53] = {"REFRESH", 0, CMDMON_REP_NULL, 0},
    [54] = {"SERVER_STATS", 0, CMDMON_REP_SERVER_STATS4, CMDMON_REP_SERVER_STATS3},
    [55] = {"CLIENT_ACCESSES_BY_INDEX2", -1, 0, 0},
    [56] = {"LOCAL2", 16, CMDMON_REP_NULL, 0},
    [57] = {"NTP_DATA", 20, CMDMON_REP_NTP_DATA2, CMDMON_REP_NTP_DATA},
    [58] = {"ADD_SERVER2", -1, 0, 0},
    [59] = {"ADD_PEER2", -1, 0, 0},
    [60] = {"ADD_SERVER3", -1, 0, 0},
    [61] = {"ADD_PEER3", -1, 0, 0},
    [62] = {"SHUTDOWN", 0, CMDMON_REP_NULL, 0},
    [63] = {"ONOFFLINE", 0, CMDMON_REP_NULL, 0},
    [64] = {"ADD_SOURCE", 352, CMDMON_REP_NULL, 0},
    [65] = {"NTP_SOURCE_NAME", 20, CMDMON_REP_NTP_SOURCE_NAME, 0},
    [66] = {"RESET_SOURCES", 0, CMDMON_REP_NULL, 0},
    [67] = {"AUTH_DATA", 20, CMDMON_REP_AUTH_DATA, 0},
    [68] = {"CLIENT_ACCESSES_BY_INDEX3", 16, CMDMON_REP_CLIENT_ACCESSES_BY_INDEX3, 0},
    [69] = {"SELECT_DATA", 4, CMDMON_REP_SELECT_DATA, 0},
    [70] = {"RELOAD_SOURCES", 0, CMDMON_REP_NULL, 0},
    [71] = {"DOFFSET2", 4, CMDMON_REP_NULL, 0},
    [72] = {"MODIFY_SELECTOPTS", 32, CMDMON_REP_NULL, 0},
    [73] = {"MODIFY_OFFSET", 28, CMDMON_REP_NULL, 0},
    [74] = {"LOCAL3", 28, CMDMON_REP_NULL, 0},
};

struct rep_info {
    const char *name;
    uint16_t body_len;
};

#define REP_MAX 27
static const struct rep_info rep_table[REP_MAX] = {
    [1] = {"NULL", 0},
    [2] = {"N_SOURCES", 4},
    [3] = {"SOURCE_DATA", 48},
    [5] = {"TRACKING", 76},
    [6] = {"SOURCESTATS", 56},
    [7] = {"RTC", 28},
    [12] = {"ACTIVITY", 20},
    [13] = {"SMOOTHING", 24},
    [14] = {"SERVER_STATS", 20},
    [16] = {"NTP_DATA", 124},
    [17] = {"MANUAL_TIMESTAMP2", 12},
    [18] = {"MANUAL_LIST2", 388},
    [19] = {"NTP_SOURCE_NAME", 256},
    [20] = {"AUTH_DATA", 24},
    [21] = {"CLIENT_ACCESSES_BY_INDEX3", 492},
    [22] = {"SERVER_STATS2", 32},
    [23] = {"SELECT_DATA", 48},
    [24] = {"SERVER_STATS3", 44},
    [25] = {"SERVER_STATS4", 168},
    [26] = {"NTP_DATA2", 144},
};

const char *cmdmon_req_name(unsigned command)
{
    if (command >= CMDMON_REQ_COUNT)
        return "?";
    return req_table[command].name;
}

const char *cmdmon_rep_name(unsigned reply)
{
    if (reply >= REP_MAX || !rep_table[reply].name)
        return "?";
    return rep_table[reply].name;
}

const char *cmdmon_status_message(unsigned status)
{
    static const char *const msgs[] = {
        [0] = "200 OK",
        [1] = "500 Failure",
        [2] = "501 Not authorised",
        [3] = "502 Invalid command",
        [4] = "503 No such source",
        [5] = "504 Duplicate or stale logon detected",
        [6] = "505 Facility not enabled in daemon",
        [7] = "507 Bad subnet",
        [8] = "208 Access allowed",
        [9] = "209 Access denied",
        [10] = "510 No command access from this host",
        [11] = "511 Source already present",
        [12] = "512 Too many sources present",
        [13] = "513 RTC driver not running",
        [14] = "514 Can't write RTC parameters",
        [15] = "519 Client logging is not active in the daemon",
        [16] = "516 Sample index out of range",
        [17] = "515 Invalid address family",
        [18] = "517 Protocol version mismatch",
        [19] = "518 Packet length mismatch",
        [21] = "521 Invalid name",
    };
    if (status < sizeof msgs / sizeof msgs[0] && msgs[status])
        return msgs[status];
    return "520 Got unexpected error from daemon";
}

/* ---- lengths ---- */

int cmdmon_request_body_len(unsigned command)
{
    if (command >= CMDMON_REQ_COUNT)
        return -1;
    return req_table[command].body_len;
}

size_t cmdmon_reply_len(unsigned reply)
{
    if (reply >= REP_MAX || !rep_table[reply].name)
        return 0;
    return CMDMON_REP_HDR_LEN + (size_t)rep_table[reply].body_len;
}

int cmdmon_request_reply_len(unsigned command)
{
    if (cmdmon_request_body_len(command) < 0)
        return -1;
    return (int)cmdmon_reply_len(req_table[command].reply);
}

static int padded_len(int body_len, size_t reply_len)
{
    int lq = CMDMON_REQ_HDR_LEN + body_len;
    return lq > (int)reply_len ? lq : (int)reply_len;
}

int cmdmon_request_len(unsigned command)
{
    int body = cmdmon_request_body_len(command);
    if (body < 0)
        return -1;
    return padded_len(body, cmdmon_reply_len(req_table[command].reply));
}

int cmdmon_request_min_len(unsigned command)
{
    int body = cmdmon_request_body_len(command);
    if (body < 0)
        return -1;
    uint16_t rep =
        req_table[command].reply_old ? req_table[command].reply_old : req_table[command].reply;
    return padded_len(body, cmdmon_reply_len(rep));
}

/* ---- requests ---- */

int cmdmon_request_encode(const struct cmdmon_request *req, uint8_t *buf, size_t cap)
{
    int body = cmdmon_request_body_len(req->command);
    if (body < 0)
        return -1;
    int len = req->version == CMDMON_PROTO_VERSION_OLD ? CMDMON_REQ_HDR_LEN + body
                                                       : cmdmon_request_len(req->command);
    if ((size_t)len > cap)
        return -1;
    memset(buf, 0, (size_t)len);
    cmdmon_put8(buf, 0, req->version);
    cmdmon_put8(buf, 1, CMDMON_PKT_REQUEST);
    cmdmon_put16(buf, 4, req->command);
    cmdmon_put16(buf, 6, req->attempt);
    cmdmon_put32(buf, 8, req->sequence);
    cmdmon_req_body_put(req, buf + CMDMON_REQ_HDR_LEN);
    return len;
}

enum cmdmon_req_verdict cmdmon_request_decode(const uint8_t *buf, size_t len,
                                              struct cmdmon_request *out)
{
    memset(out, 0, sizeof *out);
    if (len < CMDMON_REP_HDR_LEN || len > CMDMON_MAX_REQ_LEN)
        return CMDMON_REQ_DROP;
    if (buf[1] != CMDMON_PKT_REQUEST || buf[2] != 0 || buf[3] != 0)
        return CMDMON_REQ_DROP;
    out->version = buf[0];
    out->command = cmdmon_get16(buf, 4);
    out->attempt = cmdmon_get16(buf, 6);
    out->sequence = cmdmon_get32(buf, 8);
    if (out->version != CMDMON_PROTO_VERSION)
        return out->version >= CMDMON_PROTO_VERSION_OLD ? CMDMON_REQ_BADVERSION : CMDMON_REQ_DROP;
    int min_len = cmdmon_request_min_len(out->command);
    if (min_len < 0)
        return CMDMON_REQ_INVALID;
    if (len < (size_t)min_len)
        return CMDMON_REQ_BADLENGTH;
    cmdmon_req_body_get(buf + CMDMON_REQ_HDR_LEN, out);
    return CMDMON_REQ_OK;
}

/* ---- replies ---- */

int cmdmon_reply_encode(const struct cmdmon_reply *rep, uint8_t *buf, size_t cap)
{
    size_t len = cmdmon_reply_len(rep->reply);
    if (len == 0 || len > cap)
        return -1;
    memset(buf, 0, len);
    cmdmon_put8(buf, 0, rep->version);
    cmdmon_put8(buf, 1, CMDMON_PKT_REPLY);
    cmdmon_put16(buf, 4, rep->command);
    cmdmon_put16(buf, 6, rep->reply);
    cmdmon_put16(buf, 8, rep->status);
    cmdmon_put32(buf, 16, rep->sequence);
    cmdmon_rep_body_put(rep, buf + CMDMON_REP_HDR_LEN);
    return (int)len;
}

enum cmdmon_rep_verdict cmdmon_reply_decode(const uint8_t *buf, size_t len,
                                            struct cmdmon_reply *out)
{
    memset(out, 0, sizeof *out);
    if (len < CMDMON_REP_HDR_LEN || buf[1] != CMDMON_PKT_REPLY || buf[2] != 0 || buf[3] != 0)
        return CMDMON_REP_BAD;
    out->version = buf[0];
    out->command = cmdmon_get16(buf, 4);
    out->reply = cmdmon_get16(buf, 6);
    out->status = cmdmon_get16(buf, 8);
    out->sequence = cmdmon_get32(buf, 16);
    size_t need = cmdmon_reply_len(out->reply);
    if (need == 0)
        return CMDMON_REP_OK; /* unknown code: no body; the caller rejects the code */
    if (len < need)
        return CMDMON_REP_SHORT;
    cmdmon_rep_body_get(buf + CMDMON_REP_HDR_LEN, out);
    return CMDMON_REP_OK;
}

/* ---- server helpers ---- */

int cmdmon_verdict_status(enum cmdmon_req_verdict v)
{
    switch (v) {
    case CMDMON_REQ_BADVERSION:
        return CMDMON_STT_BADPKTVERSION;
    case CMDMON_REQ_INVALID:
        return CMDMON_STT_INVALID;
    case CMDMON_REQ_BADLENGTH:
        return CMDMON_STT_BADPKTLENGTH;
    case CMDMON_REQ_OK:
    case CMDMON_REQ_DROP:
    default:
        return -1;
    }
}

bool cmdmon_request_open_udp(unsigned command)
{
    switch (command) {
    case CMDMON_REQ_NULL:
    case CMDMON_REQ_LOGON:
    case CMDMON_REQ_N_SOURCES:
    case CMDMON_REQ_SOURCE_DATA:
    case CMDMON_REQ_TRACKING:
    case CMDMON_REQ_SOURCESTATS:
    case CMDMON_REQ_RTCREPORT:
    case CMDMON_REQ_MANUAL_LIST:
    case CMDMON_REQ_ACTIVITY:
    case CMDMON_REQ_SMOOTHING:
    case CMDMON_REQ_NTP_SOURCE_NAME:
        return true;
    default:
        return false;
    }
}

unsigned cmdmon_reply_code_for(unsigned command, size_t request_len)
{
    if (cmdmon_request_body_len(command) < 0)
        return 0;
    if (command == CMDMON_REQ_SERVER_STATS)
        return request_len >= 196  ? CMDMON_REP_SERVER_STATS4
               : request_len >= 72 ? CMDMON_REP_SERVER_STATS3
                                   : CMDMON_REP_SERVER_STATS2;
    if (command == CMDMON_REQ_NTP_DATA)
        return request_len >= 172 ? CMDMON_REP_NTP_DATA2 : CMDMON_REP_NTP_DATA;
    return req_table[command].reply;
}

void cmdmon_reply_init(const struct cmdmon_request *req, struct cmdmon_reply *rep)
{
    memset(rep, 0, sizeof *rep);
    rep->version = CMDMON_PROTO_VERSION;
    rep->command = req->command;
    rep->sequence = req->sequence;
    rep->reply = CMDMON_REP_NULL;
    rep->status = CMDMON_STT_SUCCESS;
}
