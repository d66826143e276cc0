/* wire/ntp: the captured chrony packets parse to what decoded.json says and rebuild byte-exact;
 * random packets round-trip; every malformed length and extension-field layout is refused
 * with the right verdict; reference IDs and kiss codes. */
#include <inttypes.h>
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "base/ntp_time.h"
#include "base/prng.h"
#include "wire/ntp.h"

static const char *const vector_files[] = {
    "ipv4-iburst-1.hex", "ipv4-iburst-2.hex", "ipv4-steady.hex",
    "ipv6-iburst-1.hex", "ipv6-iburst-2.hex", "ipv6-steady.hex",
};

static char *slurp(const char *path)
{
    FILE *f = fopen(path, "rb");
    char *buf;
    long n;
    if (!f)
        return NULL;
    fseek(f, 0, SEEK_END);
    n = ftell(f);
    fseek(f, 0, SEEK_SET);
    buf = malloc((size_t)n + 1);
    if (buf && fread(buf, 1, (size_t)n, f) != (size_t)n) {
        free(buf);
        buf = NULL;
    }
    if (buf)
        buf[n] = '\0';
    fclose(f);
    return buf;
}

static void vector_path(char *out, size_t len, const char *name)
{
    const char *shared = getenv("TEMPUS_SHARED");
    snprintf(out, len, "%s/vectors/ntp/%s", shared ? shared : "/work/shared", name);
}

/* Reads the hex payload after "<role> " in a .hex file. Returns its length. */
static size_t read_hex(const char *text, const char *role, uint8_t *out, size_t max)
{
    char key[32];
    const char *p;
    size_t n = 0;
    snprintf(key, sizeof key, "\n%s ", role);
    p = strstr(text, key);
    assert_non_null(p);
    p += strlen(key);
    while (n < max && p[0] && p[0] != '\n' && p[1]) {
        unsigned v;
        assert_int_equal(sscanf(p, "%2x", &v), 1);
        out[n++] = (uint8_t)v;
        p += 2;
    }
    return n;
}

/* The JSON object in decoded.json for file and role ("request"/"reply"): returns a pointer
 * to its text (up to the closing brace, NUL-terminated into a copy). */
static char *json_object(const char *json, const char *file, const char *role)
{
    char needle[96];
    const char *p = json;
    snprintf(needle, sizeof needle, "\"file\": \"%s\"", file);
    while ((p = strstr(p, needle)) != NULL) {
        const char *start = p, *end = strchr(p, '}');
        char *obj, *r;
        while (start > json && *start != '{')
            start--;
        obj = strndup(start, (size_t)(end - start));
        r = strstr(obj, "\"role\": \"");
        if (r && strncmp(r + 9, role, strlen(role)) == 0)
            return obj;
        free(obj);
        p = end;
    }
    return NULL;
}

static const char *json_value(const char *obj, const char *key)
{
    char needle[64];
    const char *p;
    snprintf(needle, sizeof needle, "\"%s\": ", key);
    p = strstr(obj, needle);
    assert_non_null(p);
    return p + strlen(needle);
}

static long json_int(const char *obj, const char *key)
{
    return strtol(json_value(obj, key), NULL, 10);
}

static double json_double(const char *obj, const char *key)
{
    return strtod(json_value(obj, key), NULL);
}

/* "eeb195f4.850b7a6d (2026-11-25T17:14:28.519706393 UTC)" or "0" */
static void check_ts(const char *obj, const char *key, struct ntp_ts64 ts)
{
    const char *v = json_value(obj, key);
    char hex[32], iso[64];
    struct ntp_time_civil c;
    int64_t ns;
    if (strncmp(v, "\"0\"", 3) == 0) {
        assert_true(ntp_time_is_zero(ts));
        return;
    }
    snprintf(hex, sizeof hex, "\"%08" PRIx32 ".%08" PRIx32 " (", ts.sec, ts.frac);
    assert_memory_equal(v, hex, strlen(hex));
    /* The file converts in era 0 and truncates to the ns; we round, so allow 1 ns. */
    ns = ntp_time_to_ns_split(ts, -(int64_t)NTP_TIME_UNIX_OFFSET_S);
    ntp_time_civil_from_ns(ns, &c);
    snprintf(iso, sizeof iso, "%04" PRId64 "-%02d-%02dT%02d:%02d:%02d.", c.year, c.month, c.day,
             c.hour, c.minute, c.second);
    assert_memory_equal(v + strlen(hex), iso, strlen(iso));
    {
        long file_ns = strtol(v + strlen(hex) + strlen(iso), NULL, 10);
        int64_t trunc = (int64_t)(((uint64_t)ts.frac * 1000000000ULL) >> 32);
        assert_int_equal(file_ns, trunc);
        assert_true(c.nsec - trunc >= 0 && c.nsec - trunc <= 1);
    }
}

static void check_against_json(const char *obj, const struct ntp_packet *p, size_t len)
{
    char refid[16];
    assert_int_equal(json_int(obj, "li"), p->leap);
    assert_int_equal(json_int(obj, "vn"), p->version);
    assert_int_equal(json_int(obj, "mode"), p->mode);
    assert_int_equal(json_int(obj, "stratum"), p->stratum);
    assert_int_equal(json_int(obj, "poll"), p->poll);
    /* decoded.json shows the request's precision byte 0x20 as 32 (it is signed: also 32). */
    assert_int_equal(json_int(obj, "precision"), p->precision);
    assert_true(fabs(json_double(obj, "root_delay") - ntp_root_delay_s(p)) < 1e-9);
    assert_true(fabs(json_double(obj, "root_dispersion") - ntp_root_dispersion_s(p)) < 1e-9);
    snprintf(refid, sizeof refid, "\"%08" PRIx32 "\"", p->refid);
    assert_memory_equal(json_value(obj, "refid"), refid, strlen(refid));
    check_ts(obj, "ref", p->reference);
    check_ts(obj, "org", p->origin);
    check_ts(obj, "rx", p->receive);
    check_ts(obj, "tx", p->transmit);
    assert_int_equal(json_int(obj, "len"), (long)len);
    assert_memory_equal(json_value(obj, "ext"), "\"\"", 2);
}

static void test_captured_vectors(void **state)
{
    char path[512], *json;
    (void)state;
    vector_path(path, sizeof path, "decoded.json");
    json = slurp(path);
    assert_non_null(json);
    for (size_t i = 0; i < sizeof vector_files / sizeof vector_files[0]; i++) {
        char *text, *obj;
        uint8_t req[128], rep[128], again[128];
        size_t req_len, rep_len;
        struct ntp_packet rq, rp;
        struct ntp_layout lay;

        vector_path(path, sizeof path, vector_files[i]);
        text = slurp(path);
        assert_non_null(text);
        req_len = read_hex(text, "request", req, sizeof req);
        rep_len = read_hex(text, "reply", rep, sizeof rep);
        assert_int_equal(req_len, 48);
        assert_int_equal(rep_len, 48);

        assert_int_equal(ntp_parse(req, req_len, &rq, &lay), NTP_OK);
        assert_int_equal(lay.n_ef, 0);
        assert_int_equal(lay.mac_len, 0);
        obj = json_object(json, vector_files[i], "request");
        assert_non_null(obj);
        check_against_json(obj, &rq, req_len);
        free(obj);
        assert_int_equal(ntp_parse(rep, rep_len, &rp, &lay), NTP_OK);
        obj = json_object(json, vector_files[i], "reply");
        assert_non_null(obj);
        check_against_json(obj, &rp, rep_len);
        free(obj);

        /* What the README says chrony does: requests reveal nothing, replies echo. */
        assert_int_equal(rq.mode, NTP_MODE_CLIENT);
        assert_int_equal(rq.precision, 32);
        assert_true(ntp_time_is_zero(rq.origin) && ntp_time_is_zero(rq.receive));
        assert_int_equal(rp.mode, NTP_MODE_SERVER);
        assert_int_equal(rp.version, rq.version);
        assert_int_equal(rp.poll, rq.poll);
        assert_true(ntp_time_equal(rp.origin, rq.transmit));
        assert_int_equal(rp.refid, NTP_REFID_LOCAL);
        assert_int_equal(rp.receive.frac & 1, 1); /* chrony's RX marker */
        assert_int_equal(rp.transmit.frac & 1, 0);
        assert_false(ntp_is_kod(&rp));

        /* Rebuild byte-exact. */
        assert_int_equal(ntp_build(&rq, again, sizeof again), 48);
        assert_memory_equal(again, req, 48);
        assert_int_equal(ntp_build(&rp, again, sizeof again), 48);
        assert_memory_equal(again, rep, 48);
        free(text);
    }
    free(json);
}

static void random_header(struct prng *p, struct ntp_packet *h, unsigned version)
{
    h->leap = (uint8_t)prng_below(p, 4);
    h->version = (uint8_t)version;
    h->mode = (uint8_t)prng_below(p, 8);
    h->stratum = (uint8_t)prng_below(p, 256);
    h->poll = (int8_t)((int)prng_below(p, 256) - 128);
    h->precision = (int8_t)((int)prng_below(p, 256) - 128);
    h->root_delay = prng_next_u32(p);
    h->root_dispersion = prng_next_u32(p);
    h->refid = prng_next_u32(p);
    h->reference = ntp_time_ts_from_u64(prng_next_u64(p));
    h->origin = ntp_time_ts_from_u64(prng_next_u64(p));
    h->receive = ntp_time_ts_from_u64(prng_next_u64(p));
    h->transmit = ntp_time_ts_from_u64(prng_next_u64(p));
}

static int same_header(const struct ntp_packet *a, const struct ntp_packet *b)
{
    return a->leap == b->leap && a->version == b->version && a->mode == b->mode &&
           a->stratum == b->stratum && a->poll == b->poll && a->precision == b->precision &&
           a->root_delay == b->root_delay && a->root_dispersion == b->root_dispersion &&
           a->refid == b->refid && ntp_time_equal(a->reference, b->reference) &&
           ntp_time_equal(a->origin, b->origin) && ntp_time_equal(a->receive, b->receive) &&
           ntp_time_equal(a->transmit, b->transmit);
}

static void test_random_round_trips(void **state)
{
    struct prng p;
    (void)state;
    prng_seed(&p, 4242);
    for (int i = 0; i < 20000; i++) {
        struct ntp_packet h, back;
        struct ntp_layout lay;
        uint8_t buf[NTP_MAX_PACKET_LEN], bodies[4][60];
        uint16_t types[4];
        size_t lens[4], len;
        unsigned n_ef = (unsigned)prng_below(&p, 4), j;
        int with_mac = (int)prng_below(&p, 2);
        random_header(&p, &h, 4);
        len = ntp_build(&h, buf, sizeof buf);
        assert_int_equal(len, 48);
        for (j = 0; j < n_ef; j++) {
            int last_without_mac = j + 1 == n_ef && !with_mac;
            types[j] = (uint16_t)prng_next_u32(&p);
            lens[j] = (size_t)prng_below(&p, 60);
            prng_fill(&p, bodies[j], lens[j]);
            len = ntp_append_ef(buf, sizeof buf, len, types[j], bodies[j], lens[j],
                                last_without_mac ? NTP_EF_MIN_LAST_LEN : 0);
            assert_true(len > 0);
        }
        if (with_mac) {
            size_t mac = prng_below(&p, 2) ? 20 : 24;
            prng_fill(&p, buf + len, mac);
            buf[len] |= 0x01; /* a non-zero key ID */
            len += mac;
        }
        assert_int_equal(ntp_parse(buf, len, &back, &lay), NTP_OK);
        assert_true(same_header(&back, &h));
        assert_int_equal(lay.len, len);
        assert_int_equal(lay.n_ef, n_ef);
        assert_int_equal(lay.mac_len > 0, with_mac);
        if (with_mac)
            assert_int_equal(lay.mac_off + lay.mac_len, len);
        {
            struct ntp_ef_iter it;
            struct ntp_ef ef;
            j = 0;
            ntp_ef_iter_init(&it, buf, &lay);
            while (ntp_ef_next(&it, &ef)) {
                assert_true(j < n_ef);
                assert_int_equal(ef.type, types[j]);
                assert_int_equal(ef.length % 4, 0);
                assert_true(ef.length >= 16 && ef.body_len == (size_t)ef.length - 4);
                assert_true(ef.body_len >= lens[j]);
                assert_true(ef.body >= buf + 48 && ef.body + ef.body_len <= buf + len);
                for (size_t k = 0; k < lens[j]; k++)
                    assert_int_equal(ef.body[k], bodies[j][k]);
                for (size_t k = lens[j]; k < ef.body_len; k++)
                    assert_int_equal(ef.body[k], 0); /* zero padding */
                j++;
            }
            assert_int_equal(j, n_ef);
        }
        /* And re-encoding the decoded header gives the same bytes. */
        {
            uint8_t again[48];
            ntp_header_encode(&back, again);
            assert_memory_equal(again, buf, 48);
        }
    }
}

static void make_header(uint8_t *buf, unsigned version, unsigned mode)
{
    memset(buf, 0, 48);
    buf[0] = (uint8_t)(version << 3 | mode);
}

static void put_ef(uint8_t *buf, size_t off, uint16_t type, uint16_t len)
{
    buf[off] = (uint8_t)(type >> 8);
    buf[off + 1] = (uint8_t)type;
    buf[off + 2] = (uint8_t)(len >> 8);
    buf[off + 3] = (uint8_t)len;
}

static enum ntp_verdict parse(const uint8_t *buf, size_t len, struct ntp_layout *lay)
{
    struct ntp_packet p;
    return ntp_parse(buf, len, &p, lay);
}

static void test_malformed_lengths(void **state)
{
    uint8_t *buf;
    struct ntp_layout lay;
    (void)state;
    /* Every length below the header, exactly sized so ASan sees any overread. */
    for (size_t len = 0; len < 48; len++) {
        buf = calloc(1, len ? len : 1);
        if (len > 0)
            buf[0] = 0x23;
        assert_int_equal(parse(buf, len, &lay), NTP_BAD_SHORT);
        free(buf);
    }
    /* Lengths not a multiple of 4, for every version. */
    for (size_t len = 49; len < 200; len++) {
        if (len % 4 == 0)
            continue;
        buf = calloc(1, len);
        make_header(buf, 4, 3);
        assert_int_equal(parse(buf, len, &lay), NTP_BAD_ALIGN);
        free(buf);
    }
    /* Versions 0 and 5..7 (length good). */
    for (unsigned v = 0; v < 8; v++) {
        uint8_t b[48];
        make_header(b, v, 3);
        assert_int_equal(parse(b, 48, &lay), v >= 1 && v <= 4 ? NTP_OK : NTP_BAD_VERSION);
    }
    assert_string_equal(ntp_verdict_name(NTP_OK), "ok");
    assert_string_equal(ntp_verdict_name(NTP_BAD_SHORT), "too short");
    assert_string_equal(ntp_verdict_name(NTP_VERDICT_COUNT), "?");
    for (int v = 0; v < NTP_VERDICT_COUNT; v++)
        assert_true(strlen(ntp_verdict_name((enum ntp_verdict)v)) > 1);
}

/* Every trailer length 4..96 after the header in NTPv4, with a single extension field whose
 * length field claims the whole trailer, and in NTPv3. */
static void test_trailers(void **state)
{
    struct ntp_layout lay;
    (void)state;
    for (size_t rest = 4; rest <= 96; rest += 4) {
        size_t len = 48 + rest;
        uint8_t *buf = calloc(1, len);
        enum ntp_verdict want;
        make_header(buf, 4, 3);
        put_ef(buf, 48, 0x1234, (uint16_t)rest);
        if (rest >= 20 && rest <= 24)
            want = NTP_OK; /* a MAC */
        else if (rest < 16)
            want = NTP_BAD_EF_LENGTH;
        else if (rest < 28)
            want = NTP_BAD_EF_LAST_SHORT; /* 16: a last field without MAC */
        else
            want = NTP_OK;
        assert_int_equal(parse(buf, len, &lay), want);
        if (want == NTP_OK && rest >= 20 && rest <= 24) {
            assert_int_equal(lay.mac_off, 48);
            assert_int_equal(lay.mac_len, rest);
            assert_int_equal(lay.n_ef, 0);
        } else if (want == NTP_OK) {
            assert_int_equal(lay.n_ef, 1);
            assert_int_equal(lay.ef_len, rest);
            assert_int_equal(lay.mac_len, 0);
        }
        /* NTPv3: anything after the header is a MAC of 20..68 octets. */
        make_header(buf, 3, 3);
        assert_int_equal(parse(buf, len, &lay),
                         rest >= 20 && rest <= 68 ? NTP_OK : NTP_BAD_MAC_LENGTH);
        free(buf);
    }
    /* A 4-octet all-zero trailer is a crypto-NAK in both. */
    {
        uint8_t buf[52] = {0};
        make_header(buf, 4, 4);
        assert_int_equal(parse(buf, 52, &lay), NTP_OK);
        assert_int_equal(lay.crypto_nak, 1);
        make_header(buf, 2, 4);
        assert_int_equal(parse(buf, 52, &lay), NTP_OK);
        assert_int_equal(lay.crypto_nak, 1);
        buf[51] = 1; /* not zero: a too-short field / MAC */
        make_header(buf, 4, 4);
        assert_int_equal(parse(buf, 52, &lay), NTP_BAD_EF_LENGTH);
        make_header(buf, 2, 4);
        assert_int_equal(parse(buf, 52, &lay), NTP_BAD_MAC_LENGTH);
    }
}

static void test_extension_layouts(void **state)
{
    uint8_t buf[256];
    struct ntp_layout lay;
    struct ntp_ef_iter it;
    struct ntp_ef ef;
    (void)state;

    /* 16-octet field followed by a 20-octet MAC: fine (RFC 7822: >= 16 with a MAC). */
    memset(buf, 0, sizeof buf);
    make_header(buf, 4, 3);
    put_ef(buf, 48, 0x0104, 16);
    buf[64] = 0x00, buf[67] = 0x01; /* key ID 1 */
    assert_int_equal(parse(buf, 48 + 16 + 20, &lay), NTP_OK);
    assert_int_equal(lay.n_ef, 1);
    assert_int_equal(lay.mac_off, 64);
    assert_int_equal(lay.mac_len, 20);

    /* Two fields 16 + 28 without MAC: fine; 28 + 16: last too short. */
    memset(buf, 0, sizeof buf);
    make_header(buf, 4, 3);
    put_ef(buf, 48, 0x0104, 16);
    put_ef(buf, 64, 0x0404, 28);
    assert_int_equal(parse(buf, 48 + 44, &lay), NTP_OK);
    assert_int_equal(lay.n_ef, 2);
    ntp_ef_iter_init(&it, buf, &lay);
    assert_true(ntp_ef_next(&it, &ef));
    assert_int_equal(ef.type, 0x0104);
    assert_int_equal(ef.length, 16);
    assert_ptr_equal(ef.body, buf + 52);
    assert_true(ntp_ef_next(&it, &ef));
    assert_int_equal(ef.type, 0x0404);
    assert_int_equal(ef.body_len, 24);
    assert_false(ntp_ef_next(&it, &ef));
    put_ef(buf, 48, 0x0404, 28);
    put_ef(buf, 76, 0x0104, 16);
    assert_int_equal(parse(buf, 48 + 44, &lay), NTP_BAD_EF_LAST_SHORT);

    /* Length not a multiple of 4, below 16, zero, past the end. */
    memset(buf, 0, sizeof buf);
    make_header(buf, 4, 3);
    put_ef(buf, 48, 1, 30);
    assert_int_equal(parse(buf, 48 + 32, &lay), NTP_BAD_EF_LENGTH);
    put_ef(buf, 48, 1, 12);
    assert_int_equal(parse(buf, 48 + 32, &lay), NTP_BAD_EF_LENGTH);
    put_ef(buf, 48, 1, 0);
    assert_int_equal(parse(buf, 48 + 32, &lay), NTP_BAD_EF_LENGTH);
    put_ef(buf, 48, 1, 36);
    assert_int_equal(parse(buf, 48 + 32, &lay), NTP_BAD_EF_OVERRUN);
    put_ef(buf, 48, 1, 0xFFFC);
    assert_int_equal(parse(buf, 48 + 32, &lay), NTP_BAD_EF_OVERRUN);
    /* A good 28 field then garbage of 8 octets (not a MAC, too short for a field). */
    put_ef(buf, 48, 1, 28);
    put_ef(buf, 76, 2, 8);
    assert_int_equal(parse(buf, 48 + 36, &lay), NTP_BAD_EF_LENGTH);

    /* Appending: padding, minimum sizes, no space. */
    {
        uint8_t out[100];
        size_t end;
        memset(out, 0xEE, sizeof out);
        end = ntp_append_ef(out, sizeof out, 48, 0xABCD, "xyz", 3, 0);
        assert_int_equal(end, 64);
        assert_int_equal(out[48], 0xAB);
        assert_int_equal(out[49], 0xCD);
        assert_int_equal(out[50], 0);
        assert_int_equal(out[51], 16);
        assert_memory_equal(out + 52, "xyz", 3);
        for (int k = 55; k < 64; k++)
            assert_int_equal(out[k], 0);
        assert_int_equal(out[64], 0xEE);
        assert_int_equal(ntp_append_ef(out, sizeof out, 48, 1, NULL, 0, 28), 76);
        assert_int_equal(ntp_append_ef(out, sizeof out, 48, 1, NULL, 0, 29), 80);
        assert_int_equal(ntp_append_ef(out, sizeof out, 48, 1, "abcdefghijklmnopq", 17, 0), 72);
        assert_int_equal(ntp_append_ef(out, sizeof out, 90, 1, NULL, 0, 0), 0);
        assert_int_equal(ntp_append_ef(out, sizeof out, 101, 1, NULL, 0, 0), 0);
        assert_int_equal(ntp_append_ef(out, 48, 48, 1, NULL, 0, 0), 0);
        assert_int_equal(ntp_build(&(struct ntp_packet){0}, out, 47), 0);
    }
}

/* Random bytes of every length up to 300: parse never reads outside (ASan build) and the
 * verdict agrees with the layout rules. */
static void test_random_garbage(void **state)
{
    struct prng p;
    (void)state;
    prng_seed(&p, 77);
    for (int i = 0; i < 30000; i++) {
        size_t len = (size_t)prng_below(&p, 300);
        uint8_t *buf = malloc(len ? len : 1);
        struct ntp_layout lay;
        enum ntp_verdict v;
        prng_fill(&p, buf, len);
        if (len > 0 && prng_below(&p, 2))
            buf[0] = (uint8_t)((buf[0] & 0xC7) | 0x20); /* version 4 */
        if (len >= 52 && prng_below(&p, 2))
            buf[50] = 0, buf[51] = (uint8_t)(len - 48); /* a plausible single field */
        v = parse(buf, len, &lay);
        if (len < 48)
            assert_int_equal(v, NTP_BAD_SHORT);
        else if (len % 4)
            assert_int_equal(v, NTP_BAD_ALIGN);
        if (v == NTP_OK) {
            size_t total = 48 + lay.ef_len + lay.mac_len + (lay.crypto_nak ? 4 : 0);
            assert_int_equal(total, len);
        }
        free(buf);
    }
}

static void test_refids(void **state)
{
    const uint8_t v4[4] = {192, 0, 2, 1};
    uint8_t v6[16] = {0};
    struct addr a;
    char text[5];
    struct ntp_packet p;
    (void)state;
    assert_int_equal(ntp_refid_ipv4(v4), 0xC0000201u);
    /* ::1 -> md5(15 zero octets, 1) = cf404dc8...; chronyd 4.3 shows the same refid for
     * its ::1 source (vectors/cmdmon/chrony43/tracking.txt: "CF404DC8 (::1)"). */
    v6[15] = 1;
    assert_int_equal(ntp_refid_ipv6(v6), 0xcf404dc8u);
    memset(&a, 0, sizeof a);
    a.family = ADDR_INET6;
    memcpy(a.bytes, v6, 16);
    assert_int_equal(ntp_refid_from_addr(&a), 0xcf404dc8u);
    a.family = ADDR_INET4;
    memcpy(a.bytes, v4, 4);
    assert_int_equal(ntp_refid_from_addr(&a), 0xC0000201u);
    a.family = ADDR_UNSPEC;
    assert_int_equal(ntp_refid_from_addr(&a), 0);

    assert_int_equal(ntp_refid_from_text("GPS"), 0x47505300u);
    assert_int_equal(ntp_refid_from_text("PPS0"), 0x50505330u);
    assert_int_equal(ntp_refid_from_text("LONGER"), ntp_refid_from_text("LONG"));
    assert_int_equal(ntp_refid_from_text(""), 0);
    assert_string_equal(ntp_refid_to_text(0x47505300u, text), "GPS");
    assert_string_equal(ntp_refid_to_text(NTP_KISS_RATE, text), "RATE");
    assert_string_equal(ntp_refid_to_text(0x7F7F0101u, text), "");
    assert_string_equal(ntp_refid_to_text(0, text), "");

    assert_int_equal(NTP_KISS_RATE, 0x52415445u);
    assert_int_equal(NTP_KISS_DENY, 0x44454E59u);
    assert_int_equal(NTP_KISS_RSTR, 0x52535452u);
    assert_true(ntp_is_kiss_code(NTP_KISS_RATE));
    assert_true(ntp_is_kiss_code(NTP_KISS_NTSN));
    assert_false(ntp_is_kiss_code(NTP_REFID_LOCAL));
    assert_false(ntp_is_kiss_code(ntp_refid_from_text("GPS")));

    memset(&p, 0, sizeof p);
    p.mode = NTP_MODE_SERVER;
    p.stratum = 0;
    p.refid = NTP_KISS_RATE;
    assert_true(ntp_is_kod(&p));
    assert_int_equal(ntp_stratum_effective(&p), 16);
    p.stratum = 2;
    assert_false(ntp_is_kod(&p));
    assert_int_equal(ntp_stratum_effective(&p), 2);
    p.stratum = 0;
    p.mode = NTP_MODE_CLIENT; /* a request's stratum 0 is not a kiss */
    assert_false(ntp_is_kod(&p));
    p.root_delay = 0x00018000u;
    p.root_dispersion = 0x00000001u;
    assert_true(ntp_root_delay_s(&p) == 1.5);
    assert_true(ntp_root_dispersion_s(&p) == 1.0 / 65536.0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_captured_vectors),
        cmocka_unit_test(test_random_round_trips),
        cmocka_unit_test(test_malformed_lengths),
        cmocka_unit_test(test_trailers),
        cmocka_unit_test(test_extension_layouts),
        cmocka_unit_test(test_random_garbage),
        cmocka_unit_test(test_refids),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
