/* What a scenario's servers answer with, shared by tempus-sim (sim/run.c) and the
 * syscall-level simulator (tests/simhost), so that both worlds serve the same time: a
 * reference server's clock (true time plus an offset drifting at a set frequency) and the
 * reference of either kind of server (a reference server's fixed stratum, a tempus engine's
 * own tracking). Pure: time comes in as arguments.
 */
#ifndef TEMPUS_SIM_REFSERVER_H
#define TEMPUS_SIM_REFSERVER_H

#include <stdint.h>

#include "core/engine.h"
#include "core/server.h"
#include "sim/clock.h"
#include "sim/scenario.h"

/* Servers' timestamps: precision 2^-25 s (~30 ns), about what chronyd measures on Linux
 * with nanosecond clocks; core/server randomises the bits below it. */
#define SIMREF_PRECISION_LOG2 (-25)

/* A reference server's clock at true time t_ns (on truth's timescale): its offset_s at
 * t_set_ns, drifting at freq_ppm since. */
int64_t simref_clock_ns(const struct simclock *truth, int64_t t_ns, double offset_s,
                        double freq_ppm, int64_t t_set_ns);

/* The reference an engine server answers with: eng's tracking at its mono time mono_ns
 * (root dispersion already grown to now, so no further growth). */
void simref_engine(struct engine *eng, int64_t mono_ns, struct server_ref *ref);

/* The reference of reference server k (sv) at true time t_ns, its clock reading clk_ns:
 * stratum sv->stratum (refid GPS at stratum 1, 10.0.0.k above), announcing the world's leap
 * second (truth) until it happens, reference time on a 16 s grid. */
void simref_fixed(const struct simscn_server *sv, int k, const struct simclock *truth, int64_t t_ns,
                  int64_t clk_ns, struct server_ref *ref);

#endif
