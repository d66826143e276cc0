/* Fuzz target: the control-request decoder tempusd will use (wire/cmdmon
 * cmdmon_request_decode) on any datagram. Checks: the verdict is one of the five; a decoded
 * request re-encodes, and decoding and encoding that again gives the same bytes (the codec
 * is a fixed point after one round); the text forms never fail. */
#include <stdint.h>
#include <string.h>

#include "fuzz_common.h"
#include "wire/cmdmon.h"

#define FUZZ_BUF 2048

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct cmdmon_request req;
    memset(&req, 0, sizeof req);
    enum cmdmon_req_verdict v = cmdmon_request_decode(data, size, &req);
    FUZZ_CHECK(v == CMDMON_REQ_OK || v == CMDMON_REQ_DROP || v == CMDMON_REQ_BADVERSION ||
               v == CMDMON_REQ_INVALID || v == CMDMON_REQ_BADLENGTH);
    if (v == CMDMON_REQ_DROP)
        return 0;
    FUZZ_CHECK(cmdmon_req_name(req.command) != NULL);
    (void)cmdmon_request_body_len(req.command);
    (void)cmdmon_request_reply_len(req.command);
    if (v != CMDMON_REQ_OK)
        return 0;
    /* An accepted request is at least as long as the smallest form the server serves. */
    int min_len = cmdmon_request_min_len(req.command);
    if (min_len >= 0 && req.version == CMDMON_PROTO_VERSION)
        FUZZ_CHECK(size >= (size_t)min_len);

    static uint8_t enc1[FUZZ_BUF], enc2[FUZZ_BUF];
    int n1 = cmdmon_request_encode(&req, enc1, sizeof enc1);
    if (n1 < 0) /* NULL/LOGON and other header-only commands the encoder does not know */
        return 0;
    struct cmdmon_request req2;
    memset(&req2, 0, sizeof req2);
    FUZZ_CHECK(cmdmon_request_decode(enc1, (size_t)n1, &req2) == CMDMON_REQ_OK);
    FUZZ_CHECK(req2.command == req.command && req2.version == req.version &&
               req2.sequence == req.sequence && req2.attempt == req.attempt);
    int n2 = cmdmon_request_encode(&req2, enc2, sizeof enc2);
    FUZZ_CHECK(n2 == n1);
    FUZZ_CHECK(memcmp(enc1, enc2, (size_t)n1) == 0);
    return 0;
}
