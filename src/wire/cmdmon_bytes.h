/* Private to the cmdmon codec: big-endian field access and the shared field codecs. */
#ifndef TEMPUS_WIRE_CMDMON_BYTES_H
#define TEMPUS_WIRE_CMDMON_BYTES_H

#include <stdint.h>
#include <string.h>

#include "wire/cmdmon.h"

static inline void cmdmon_put8(uint8_t *p, size_t off, uint32_t v)
{
    p[off] = (uint8_t)(v & 0xFFu);
}

static inline void cmdmon_put16(uint8_t *p, size_t off, uint32_t v)
{
    p[off] = (uint8_t)((v >> 8) & 0xFFu);
    p[off + 1] = (uint8_t)(v & 0xFFu);
}

static inline void cmdmon_put32(uint8_t *p, size_t off, uint32_t v)
{
    p[off] = (uint8_t)(v >> 24);
    p[off + 1] = (uint8_t)((v >> 16) & 0xFFu);
    p[off + 2] = (uint8_t)((v >> 8) & 0xFFu);
    p[off + 3] = (uint8_t)(v & 0xFFu);
}

static inline void cmdmon_put64(uint8_t *p, size_t off, uint64_t v)
{
    cmdmon_put32(p, off, (uint32_t)(v >> 32));
    cmdmon_put32(p, off + 4, (uint32_t)(v & 0xFFFFFFFFu));
}

static inline void cmdmon_puti32(uint8_t *p, size_t off, int32_t v)
{
    cmdmon_put32(p, off, (uint32_t)v);
}

static inline void cmdmon_putf(uint8_t *p, size_t off, double v)
{
    cmdmon_put32(p, off, cmdmon_float_encode(v));
}

static inline uint8_t cmdmon_get8(const uint8_t *p, size_t off)
{
    return p[off];
}

static inline uint16_t cmdmon_get16(const uint8_t *p, size_t off)
{
    return (uint16_t)((unsigned)p[off] << 8 | p[off + 1]);
}

static inline uint32_t cmdmon_get32(const uint8_t *p, size_t off)
{
    return (uint32_t)p[off] << 24 | (uint32_t)p[off + 1] << 16 | (uint32_t)p[off + 2] << 8 |
           (uint32_t)p[off + 3];
}

static inline uint64_t cmdmon_get64(const uint8_t *p, size_t off)
{
    return (uint64_t)cmdmon_get32(p, off) << 32 | cmdmon_get32(p, off + 4);
}

static inline int32_t cmdmon_geti32(const uint8_t *p, size_t off)
{
    uint32_t u = cmdmon_get32(p, off);
    return u <= INT32_MAX ? (int32_t)u : (int32_t)(u - 0x80000000u) + INT32_MIN;
}

static inline int16_t cmdmon_geti16(const uint8_t *p, size_t off)
{
    uint16_t u = cmdmon_get16(p, off);
    return u <= INT16_MAX ? (int16_t)u : (int16_t)((int)u - 65536);
}

static inline int8_t cmdmon_geti8(const uint8_t *p, size_t off)
{
    uint8_t u = p[off];
    return u <= INT8_MAX ? (int8_t)u : (int8_t)((int)u - 256);
}

static inline double cmdmon_getf(const uint8_t *p, size_t off)
{
    return cmdmon_float_decode(cmdmon_get32(p, off));
}

/* IPAddr, 20 bytes (§9.3). */
static inline void cmdmon_put_ip(uint8_t *p, size_t off, const struct cmdmon_ip *ip)
{
    memset(p + off, 0, 20);
    switch (ip->family) {
    case CMDMON_FAMILY_INET4:
        memcpy(p + off, ip->addr, 4);
        break;
    case CMDMON_FAMILY_INET6:
        memcpy(p + off, ip->addr, 16);
        break;
    case CMDMON_FAMILY_ID:
        cmdmon_put32(p, off, ip->id);
        break;
    default:
        return; /* UNSPEC and unknown families: all zero */
    }
    cmdmon_put16(p, off + 16, ip->family);
}

static inline void cmdmon_get_ip(const uint8_t *p, size_t off, struct cmdmon_ip *ip)
{
    memset(ip, 0, sizeof *ip);
    ip->family = cmdmon_get16(p, off + 16);
    switch (ip->family) {
    case CMDMON_FAMILY_INET4:
        memcpy(ip->addr, p + off, 4);
        break;
    case CMDMON_FAMILY_INET6:
        memcpy(ip->addr, p + off, 16);
        break;
    case CMDMON_FAMILY_ID:
        ip->id = cmdmon_get32(p, off);
        break;
    default:
        break;
    }
}

/* Timespec, 12 bytes (§9.2). */
static inline void cmdmon_put_ts(uint8_t *p, size_t off, const struct cmdmon_timespec *ts)
{
    cmdmon_put64(p, off, ts->sec);
    cmdmon_put32(p, off + 8, ts->nsec);
}

static inline void cmdmon_get_ts(const uint8_t *p, size_t off, struct cmdmon_timespec *ts)
{
    uint32_t high = cmdmon_get32(p, off);
    if (high == 0x7FFFFFFFu) /* a 32-bit time_t sender: no high part */
        high = 0;
    ts->sec = (uint64_t)high << 32 | cmdmon_get32(p, off + 4);
    ts->nsec = cmdmon_get32(p, off + 8);
    if (ts->nsec > 999999999u)
        ts->nsec = 999999999u;
}

/* Body codecs, one per direction (cmdmon_req.c, cmdmon_rep.c). body points at the first
 * body byte and has room for the body length of the code (zero-filled by the caller). */
void cmdmon_req_body_put(const struct cmdmon_request *req, uint8_t *body);
void cmdmon_req_body_get(const uint8_t *body, struct cmdmon_request *req);
void cmdmon_rep_body_put(const struct cmdmon_reply *rep, uint8_t *body);
void cmdmon_rep_body_get(const uint8_t *body, struct cmdmon_reply *rep);

#endif
