/* A small simulated world for the engine's unit tests: a client clock with a frequency error
 * (and optional random-walk wander), up to eight servers answering from true time (plus a
 * per-server offset) over links with a base delay and exponential jitter each way, a queue of
 * replies in flight. The engine under test is driven only through its entry points:
 * world_run() delivers replies and runs its timers in true-time order.
 * Used by test_engine.c, test_engine_saved.c and test_tzif.c, tests/unit/daemon's
 * test_cmdsrv_engine.c and tests/fuzz/fuzz_cmdsrv.c. */
#ifndef TEMPUS_TESTS_UNIT_CORE_ENGINE_WORLD_H
#define TEMPUS_TESTS_UNIT_CORE_ENGINE_WORLD_H

#include <stddef.h>
#include <stdint.h>

#include "base/prng.h"
#include "core/clock_ops.h"
#include "core/engine.h"

#define WORLD_EPOCH_NS 1780000000000000000LL /* 2026-05-28: real time at true time 0 */
#define WORLD_MAXQ     64
#define WORLD_MAXSRV   8

struct world_reply {
    int64_t at_ns; /* true time of arrival at the client */
    int src;
    uint8_t pkt[48];
};

struct world {
    int64_t t_ns; /* true time since start; also the client's mono clock */
    double x_s;   /* local - true */
    double f0_ppm, adj_ppm;
    double wander_ppm; /* random walk of f0: sd of the change per second (0 = none) */
    int steps;
    int64_t epoch_ns; /* real time at true time 0 (world_init: WORLD_EPOCH_NS) */
    int srv_leap;     /* LI of every server's replies (0) */
    int armed_leap;   /* the last leap the engine set on the clock (-1: none) */
    struct prng rng;
    int nsrv;
    double srv_offset_s[WORLD_MAXSRV];
    double base_s[WORLD_MAXSRV], jit_up_s[WORLD_MAXSRV], jit_down_s[WORLD_MAXSRV];
    int drop_all[WORLD_MAXSRV];
    int kod_rate[WORLD_MAXSRV];
    int srv_stratum[WORLD_MAXSRV];    /* 0: 1 */
    uint32_t srv_refid[WORLD_MAXSRV]; /* 0: GPS */
    struct world_reply q[WORLD_MAXQ];
    int nq;
    int sent[WORLD_MAXSRV];
    uint8_t last_req[WORLD_MAXSRV][48];
    /* steps (a reply delivered or timers run) world_run may take in all (0: no limit; the
     * fuzz target's time budget): once spent, world_run only moves time on */
    int max_events;
    int events;       /* steps world_run took so far */
    struct engine *e; /* the engine under test, created and freed by the test */
    /* world_engine_new's clock and packet path on this world (the engine keeps &ops) */
    struct clock_ops ops;
    struct engine_io io;
};

/* nsrv servers, LAN links (50 us + 10 us jitter each way), everything else zero. */
void world_init(struct world *w, int nsrv, uint64_t seed);

/* Moves true time to t_ns (never backwards), the client clock drifting meanwhile. */
void world_advance(struct world *w, int64_t t_ns);

/* The client's real clock (clock_ops.read_real_ns; ctx is the world). */
int64_t world_read_ns(void *ctx);

/* The client clock's operations, with ctx = w. A step of 1e6 s or more is refused (-ERANGE:
 * the fuzz target's wild offsets would overflow the clock's nanoseconds). */
struct clock_ops world_clock_ops(struct world *w);

/* engine_io.send (ctx is the world): the request to server id is answered into the queue
 * unless that server drops everything; asserts that it is a 48-octet client request. */
int world_send(void *ctx, int id, const uint8_t *pkt, size_t len);

/* Runs the world until true time end_ns. Returns the RMS of x over samples every second
 * after from_ns (0 if none). */
double world_run(struct world *w, const struct engine_io *io, int64_t end_ns, int64_t from_ns);

/* The usual set-up: fills w->ops (world_clock_ops) and w->io (world_send), then creates w->e
 * = engine_new(p, &w->ops, seed, 0) (p NULL: engine defaults) and returns it. The test frees
 * w->e; w must not move while the engine lives. */
struct engine *world_engine_new(struct world *w, const struct engine_params *p, uint64_t seed);

/* Adds a source 192.0.2.last_octet:123 named "sN" to w->e. */
int world_add_src(struct world *w, struct engine_source_params *sp, int last_octet);

#endif
