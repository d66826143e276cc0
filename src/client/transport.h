/* tempusc's side of the control protocol transport (spec §2.4, §4.5, §5): the host list
 * (Unix socket paths and UDP addresses), chronyc's retry/timeout/sequence logic, reply
 * matching, and the protocol version 5 fallback.
 *
 * For tests, a replay mode reads captured exchanges (TEMPUS_REPLAY=DIR/NAME: NAME.01.hex,
 * NAME.02.hex, ...) instead of a socket: every request sent is compared with the captured
 * one (sequence number aside, zero padding allowed to differ in length) and the captured
 * reply is returned. Differences are reported on stderr as "replay: ..." lines.
 */
#ifndef TEMPUS_CLIENT_TRANSPORT_H
#define TEMPUS_CLIENT_TRANSPORT_H

#include <stdbool.h>
#include <stdint.h>

#include "wire/cmdmon.h"

/* tempusd's socket first; chronyd's next, so tempusc also watches a local chronyd with its
 * privileged commands; then UDP, as chronyc. A missing socket fails over at once. */
#define TRANSPORT_DEFAULT_HOSTS   "/run/tempus/tempusd.sock,/run/chrony/chronyd.sock,127.0.0.1,::1"
#define TRANSPORT_DEFAULT_PORT    323
#define TRANSPORT_DEFAULT_TIMEOUT 1000 /* ms, doubled on every retry */
#define TRANSPORT_DEFAULT_RETRIES 2

struct transport;

struct transport_opts {
    const char *hosts;  /* comma-separated; NULL: TRANSPORT_DEFAULT_HOSTS */
    uint16_t port;      /* UDP port */
    int family;         /* 0, 4 or 6 (-4/-6) */
    const char *replay; /* NULL, or DIR/NAME of captured exchanges */
};

enum transport_result {
    TRANSPORT_OK = 0,           /* *rep holds a matching reply (any status) */
    TRANSPORT_NO_REPLY,         /* "506 Cannot talk to daemon" */
    TRANSPORT_VERSION_MISMATCH, /* "517 Protocol version mismatch" */
};

/* Resolves the host list. Returns NULL (and prints why on stderr) when no entry is usable. */
struct transport *transport_new(const struct transport_opts *opts);

/* Closes the socket, removes the client's Unix socket file. NULL is a no-op. */
void transport_free(struct transport *t);

/* Opens the first entry that can be opened. 0, or -1 if none can. */
int transport_open(struct transport *t);

/* Sends req (version, sequence and attempt are set here) and waits for its reply, retrying
 * and moving along the host list as chronyc does. */
enum transport_result transport_exchange(struct transport *t, struct cmdmon_request *req,
                                         struct cmdmon_reply *rep);

void transport_set_timeout(struct transport *t, int timeout_ms);
void transport_set_retries(struct transport *t, int retries);

/* 0 when every captured exchange was used and matched (replay mode), -1 otherwise; always 0
 * outside replay mode. */
int transport_replay_check(const struct transport *t);

#endif
