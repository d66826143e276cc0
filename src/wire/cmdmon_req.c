/* cmdmon: request bodies (§7), both directions. Offsets are from the start of the body. */
#include <string.h>

#include "wire/cmdmon.h"
#include "wire/cmdmon_bytes.h"

/* ADD_SOURCE layout (§7). */
enum {
    ADD_TYPE = 0,
    ADD_NAME = 4,
    ADD_PORT = 260,
    ADD_MINPOLL = 264,
    ADD_MAXPOLL = 268,
    ADD_PRESEND = 272,
    ADD_MIN_STRATUM = 276,
    ADD_POLL_TARGET = 280,
    ADD_VERSION = 284,
    ADD_MAX_SOURCES = 288,
    ADD_MIN_SAMPLES = 292,
    ADD_MAX_SAMPLES = 296,
    ADD_AUTHKEY = 300,
    ADD_NTS_PORT = 304,
    ADD_MAX_DELAY = 308,
    ADD_MAX_DELAY_RATIO = 312,
    ADD_MAX_DELAY_DEV_RATIO = 316,
    ADD_MIN_DELAY = 320,
    ADD_ASYMMETRY = 324,
    ADD_OFFSET = 328,
    ADD_FLAGS = 332,
    ADD_FILTER_LENGTH = 336,
    ADD_CERT_SET = 340,
    ADD_MAX_DELAY_QUANT = 344,
    ADD_MAX_UNREACH = 348,
};

static void put_add_source(const struct cmdmon_req_add_source *a, uint8_t *b)
{
    cmdmon_put32(b, ADD_TYPE, a->type);
    /* The name field must end in NUL; a longer name is cut so that it does. */
    size_t n = strnlen(a->name, CMDMON_NAME_LEN - 1);
    memcpy(b + ADD_NAME, a->name, n);
    cmdmon_put32(b, ADD_PORT, a->port);
    cmdmon_puti32(b, ADD_MINPOLL, a->minpoll);
    cmdmon_puti32(b, ADD_MAXPOLL, a->maxpoll);
    cmdmon_puti32(b, ADD_PRESEND, a->presend_minpoll);
    cmdmon_put32(b, ADD_MIN_STRATUM, a->min_stratum);
    cmdmon_put32(b, ADD_POLL_TARGET, a->poll_target);
    cmdmon_put32(b, ADD_VERSION, a->version);
    cmdmon_put32(b, ADD_MAX_SOURCES, a->max_sources);
    cmdmon_puti32(b, ADD_MIN_SAMPLES, a->min_samples);
    cmdmon_puti32(b, ADD_MAX_SAMPLES, a->max_samples);
    cmdmon_put32(b, ADD_AUTHKEY, a->authkey);
    cmdmon_put32(b, ADD_NTS_PORT, a->nts_port);
    cmdmon_putf(b, ADD_MAX_DELAY, a->max_delay);
    cmdmon_putf(b, ADD_MAX_DELAY_RATIO, a->max_delay_ratio);
    cmdmon_putf(b, ADD_MAX_DELAY_DEV_RATIO, a->max_delay_dev_ratio);
    cmdmon_putf(b, ADD_MIN_DELAY, a->min_delay);
    cmdmon_putf(b, ADD_ASYMMETRY, a->asymmetry);
    cmdmon_putf(b, ADD_OFFSET, a->offset);
    cmdmon_put32(b, ADD_FLAGS, a->flags);
    cmdmon_puti32(b, ADD_FILTER_LENGTH, a->filter_length);
    cmdmon_put32(b, ADD_CERT_SET, a->cert_set);
    cmdmon_putf(b, ADD_MAX_DELAY_QUANT, a->max_delay_quant);
    cmdmon_puti32(b, ADD_MAX_UNREACH, a->max_unreach);
}

static void get_add_source(const uint8_t *b, struct cmdmon_req_add_source *a)
{
    a->type = cmdmon_get32(b, ADD_TYPE);
    /* Copied verbatim, so that a server can see a missing terminator (INVALIDNAME). */
    memcpy(a->name, b + ADD_NAME, CMDMON_NAME_LEN);
    a->port = cmdmon_get32(b, ADD_PORT);
    a->minpoll = cmdmon_geti32(b, ADD_MINPOLL);
    a->maxpoll = cmdmon_geti32(b, ADD_MAXPOLL);
    a->presend_minpoll = cmdmon_geti32(b, ADD_PRESEND);
    a->min_stratum = cmdmon_get32(b, ADD_MIN_STRATUM);
    a->poll_target = cmdmon_get32(b, ADD_POLL_TARGET);
    a->version = cmdmon_get32(b, ADD_VERSION);
    a->max_sources = cmdmon_get32(b, ADD_MAX_SOURCES);
    a->min_samples = cmdmon_geti32(b, ADD_MIN_SAMPLES);
    a->max_samples = cmdmon_geti32(b, ADD_MAX_SAMPLES);
    a->authkey = cmdmon_get32(b, ADD_AUTHKEY);
    a->nts_port = cmdmon_get32(b, ADD_NTS_PORT);
    a->max_delay = cmdmon_getf(b, ADD_MAX_DELAY);
    a->max_delay_ratio = cmdmon_getf(b, ADD_MAX_DELAY_RATIO);
    a->max_delay_dev_ratio = cmdmon_getf(b, ADD_MAX_DELAY_DEV_RATIO);
    a->min_delay = cmdmon_getf(b, ADD_MIN_DELAY);
    a->asymmetry = cmdmon_getf(b, ADD_ASYMMETRY);
    a->offset = cmdmon_getf(b, ADD_OFFSET);
    a->flags = cmdmon_get32(b, ADD_FLAGS);
    a->filter_length = cmdmon_geti32(b, ADD_FILTER_LENGTH);
    a->cert_set = cmdmon_get32(b, ADD_CERT_SET);
    a->max_delay_quant = cmdmon_getf(b, ADD_MAX_DELAY_QUANT);
    a->max_unreach = cmdmon_geti32(b, ADD_MAX_UNREACH);
}

/* Which value field a MODIFY_* command carries. */
static int modify_is_float(unsigned command)
{
    return command == CMDMON_REQ_MODIFY_MAXDELAY || command == CMDMON_REQ_MODIFY_MAXDELAYRATIO ||
           command == CMDMON_REQ_MODIFY_MAXDELAYDEVRATIO;
}

void cmdmon_req_body_put(const struct cmdmon_request *req, uint8_t *b)
{
    const unsigned cmd = req->command;
    switch (cmd) {
    case CMDMON_REQ_ONLINE:
    case CMDMON_REQ_OFFLINE:
    case CMDMON_REQ_BURST:
        cmdmon_put_ip(b, 0, &req->u.mask_addr.mask);
        cmdmon_put_ip(b, 20, &req->u.mask_addr.address);
        if (cmd == CMDMON_REQ_BURST) {
            cmdmon_puti32(b, 40, req->u.mask_addr.n_good_samples);
            cmdmon_puti32(b, 44, req->u.mask_addr.n_total_samples);
        }
        break;
    case CMDMON_REQ_MODIFY_MINPOLL:
    case CMDMON_REQ_MODIFY_MAXPOLL:
    case CMDMON_REQ_MODIFY_MAXDELAY:
    case CMDMON_REQ_MODIFY_MAXDELAYRATIO:
    case CMDMON_REQ_MODIFY_MINSTRATUM:
    case CMDMON_REQ_MODIFY_POLLTARGET:
    case CMDMON_REQ_MODIFY_MAXDELAYDEVRATIO:
        cmdmon_put_ip(b, 0, &req->u.modify.address);
        if (modify_is_float(cmd))
            cmdmon_putf(b, 20, req->u.modify.fval);
        else
            cmdmon_puti32(b, 20, req->u.modify.ival);
        break;
    case CMDMON_REQ_ALLOW:
    case CMDMON_REQ_ALLOWALL:
    case CMDMON_REQ_DENY:
    case CMDMON_REQ_DENYALL:
    case CMDMON_REQ_CMDALLOW:
    case CMDMON_REQ_CMDALLOWALL:
    case CMDMON_REQ_CMDDENY:
    case CMDMON_REQ_CMDDENYALL:
        cmdmon_put_ip(b, 0, &req->u.subnet.ip);
        cmdmon_puti32(b, 20, req->u.subnet.subnet_bits);
        break;
    case CMDMON_REQ_ACCHECK:
    case CMDMON_REQ_CMDACCHECK:
    case CMDMON_REQ_DEL_SOURCE:
    case CMDMON_REQ_NTP_DATA:
    case CMDMON_REQ_NTP_SOURCE_NAME:
    case CMDMON_REQ_AUTH_DATA:
        cmdmon_put_ip(b, 0, &req->u.ip);
        break;
    case CMDMON_REQ_SOURCE_DATA:
    case CMDMON_REQ_SOURCESTATS:
    case CMDMON_REQ_SELECT_DATA:
        cmdmon_put32(b, 0, req->u.index);
        break;
    case CMDMON_REQ_MANUAL:
    case CMDMON_REQ_MANUAL_DELETE:
    case CMDMON_REQ_SMOOTHTIME:
    case CMDMON_REQ_DUMP:
        cmdmon_puti32(b, 0, req->u.ival);
        break;
    case CMDMON_REQ_MODIFY_MAXUPDATESKEW:
    case CMDMON_REQ_DFREQ:
    case CMDMON_REQ_RESELECTDISTANCE:
    case CMDMON_REQ_DOFFSET2:
        cmdmon_putf(b, 0, req->u.fval);
        break;
    case CMDMON_REQ_MODIFY_MAKESTEP:
        cmdmon_puti32(b, 0, req->u.makestep.limit);
        cmdmon_putf(b, 4, req->u.makestep.threshold_s);
        break;
    case CMDMON_REQ_SETTIME:
        cmdmon_put_ts(b, 0, &req->u.settime);
        break;
    case CMDMON_REQ_LOCAL2:
    case CMDMON_REQ_LOCAL3:
        cmdmon_puti32(b, 0, req->u.local.on_off);
        cmdmon_puti32(b, 4, req->u.local.stratum);
        cmdmon_putf(b, 8, req->u.local.distance_s);
        cmdmon_puti32(b, 12, req->u.local.orphan);
        if (cmd == CMDMON_REQ_LOCAL3) {
            cmdmon_putf(b, 16, req->u.local.activate_s);
            cmdmon_putf(b, 20, req->u.local.wait_synced_s);
            cmdmon_putf(b, 24, req->u.local.wait_unsynced_s);
        }
        break;
    case CMDMON_REQ_ADD_SOURCE:
        put_add_source(&req->u.add_source, b);
        break;
    case CMDMON_REQ_CLIENT_ACCESSES_BY_INDEX3:
        cmdmon_put32(b, 0, req->u.clients.first_index);
        cmdmon_put32(b, 4, req->u.clients.n_clients);
        cmdmon_put32(b, 8, req->u.clients.min_hits);
        cmdmon_put32(b, 12, req->u.clients.reset);
        break;
    case CMDMON_REQ_MODIFY_SELECTOPTS:
        cmdmon_put_ip(b, 0, &req->u.selectopts.address);
        cmdmon_put32(b, 20, req->u.selectopts.ref_id);
        cmdmon_put32(b, 24, req->u.selectopts.mask);
        cmdmon_put32(b, 28, req->u.selectopts.options);
        break;
    case CMDMON_REQ_MODIFY_OFFSET:
        cmdmon_put_ip(b, 0, &req->u.offset.address);
        cmdmon_put32(b, 20, req->u.offset.ref_id);
        cmdmon_putf(b, 24, req->u.offset.new_offset_s);
        break;
    case CMDMON_REQ_LOGON: /* obsolete; its 12 bytes are never looked at */
    default:
        break; /* empty bodies */
    }
}

void cmdmon_req_body_get(const uint8_t *b, struct cmdmon_request *req)
{
    const unsigned cmd = req->command;
    switch (cmd) {
    case CMDMON_REQ_ONLINE:
    case CMDMON_REQ_OFFLINE:
    case CMDMON_REQ_BURST:
        cmdmon_get_ip(b, 0, &req->u.mask_addr.mask);
        cmdmon_get_ip(b, 20, &req->u.mask_addr.address);
        if (cmd == CMDMON_REQ_BURST) {
            req->u.mask_addr.n_good_samples = cmdmon_geti32(b, 40);
            req->u.mask_addr.n_total_samples = cmdmon_geti32(b, 44);
        }
        break;
    case CMDMON_REQ_MODIFY_MINPOLL:
    case CMDMON_REQ_MODIFY_MAXPOLL:
    case CMDMON_REQ_MODIFY_MAXDELAY:
    case CMDMON_REQ_MODIFY_MAXDELAYRATIO:
    case CMDMON_REQ_MODIFY_MINSTRATUM:
    case CMDMON_REQ_MODIFY_POLLTARGET:
    case CMDMON_REQ_MODIFY_MAXDELAYDEVRATIO:
        cmdmon_get_ip(b, 0, &req->u.modify.address);
        if (modify_is_float(cmd))
            req->u.modify.fval = cmdmon_getf(b, 20);
        else
            req->u.modify.ival = cmdmon_geti32(b, 20);
        break;
    case CMDMON_REQ_ALLOW:
    case CMDMON_REQ_ALLOWALL:
    case CMDMON_REQ_DENY:
    case CMDMON_REQ_DENYALL:
    case CMDMON_REQ_CMDALLOW:
    case CMDMON_REQ_CMDALLOWALL:
    case CMDMON_REQ_CMDDENY:
    case CMDMON_REQ_CMDDENYALL:
        cmdmon_get_ip(b, 0, &req->u.subnet.ip);
        req->u.subnet.subnet_bits = cmdmon_geti32(b, 20);
        break;
    case CMDMON_REQ_ACCHECK:
    case CMDMON_REQ_CMDACCHECK:
    case CMDMON_REQ_DEL_SOURCE:
    case CMDMON_REQ_NTP_DATA:
    case CMDMON_REQ_NTP_SOURCE_NAME:
    case CMDMON_REQ_AUTH_DATA:
        cmdmon_get_ip(b, 0, &req->u.ip);
        break;
    case CMDMON_REQ_SOURCE_DATA:
    case CMDMON_REQ_SOURCESTATS:
    case CMDMON_REQ_SELECT_DATA:
        req->u.index = cmdmon_get32(b, 0);
        break;
    case CMDMON_REQ_MANUAL:
    case CMDMON_REQ_MANUAL_DELETE:
    case CMDMON_REQ_SMOOTHTIME:
    case CMDMON_REQ_DUMP:
        req->u.ival = cmdmon_geti32(b, 0);
        break;
    case CMDMON_REQ_MODIFY_MAXUPDATESKEW:
    case CMDMON_REQ_DFREQ:
    case CMDMON_REQ_RESELECTDISTANCE:
    case CMDMON_REQ_DOFFSET2:
        req->u.fval = cmdmon_getf(b, 0);
        break;
    case CMDMON_REQ_MODIFY_MAKESTEP:
        req->u.makestep.limit = cmdmon_geti32(b, 0);
        req->u.makestep.threshold_s = cmdmon_getf(b, 4);
        break;
    case CMDMON_REQ_SETTIME:
        cmdmon_get_ts(b, 0, &req->u.settime);
        break;
    case CMDMON_REQ_LOCAL2:
    case CMDMON_REQ_LOCAL3:
        req->u.local.on_off = cmdmon_geti32(b, 0);
        req->u.local.stratum = cmdmon_geti32(b, 4);
        req->u.local.distance_s = cmdmon_getf(b, 8);
        req->u.local.orphan = cmdmon_geti32(b, 12);
        if (cmd == CMDMON_REQ_LOCAL3) {
            req->u.local.activate_s = cmdmon_getf(b, 16);
            req->u.local.wait_synced_s = cmdmon_getf(b, 20);
            req->u.local.wait_unsynced_s = cmdmon_getf(b, 24);
        }
        break;
    case CMDMON_REQ_ADD_SOURCE:
        get_add_source(b, &req->u.add_source);
        break;
    case CMDMON_REQ_CLIENT_ACCESSES_BY_INDEX3:
        req->u.clients.first_index = cmdmon_get32(b, 0);
        req->u.clients.n_clients = cmdmon_get32(b, 4);
        req->u.clients.min_hits = cmdmon_get32(b, 8);
        req->u.clients.reset = cmdmon_get32(b, 12);
        break;
    case CMDMON_REQ_MODIFY_SELECTOPTS:
        cmdmon_get_ip(b, 0, &req->u.selectopts.address);
        req->u.selectopts.ref_id = cmdmon_get32(b, 20);
        req->u.selectopts.mask = cmdmon_get32(b, 24);
        req->u.selectopts.options = cmdmon_get32(b, 28);
        break;
    case CMDMON_REQ_MODIFY_OFFSET:
        cmdmon_get_ip(b, 0, &req->u.offset.address);
        req->u.offset.ref_id = cmdmon_get32(b, 20);
        req->u.offset.new_offset_s = cmdmon_getf(b, 24);
        break;
    default:
        break;
    }
}
