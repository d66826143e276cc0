/* Scenario files (tests/sim/NAME.scn): what the world looks like and what happens in it.
 * Parsed into plain values; the format is documented in docs/design/simulator.md.
 *
 *   # comment                 key = value, one per line; values may carry units
 *   duration = 6h             run length (ns us ms s m h d; a bare number is seconds)
 *   warmup = 30m              statistics start after this
 *   sample = 10s              CSV row interval
 *   epoch = 2026-12-31T22:00:00Z   true UTC time at the start (or Unix seconds)
 *   leap = insert | delete | none  a leap second at the end of the epoch's UTC day
 *   [client]                  the engine under test: chrony.conf-like directives
 *   makestep = 1.0 3
 *   [clock]                   the client's oscillator
 *   offset = 100s  freq = 50ppm  wander = 0.001ppm  temp = 2.5ppm  temp_period = 2h
 *   [server]                  one block per server, numbered 1.. in file order
 *   name = lan  offset = 0  freq = 0ppm  stratum = 1
 *   source = iburst minpoll 4 maxpoll 6 prefer   (the client's options for it)
 *   up = 50us exp 10us loss 0.2        client -> server:  DELAY [DIST JITTER] [loss P]
 *   down = 50us exp 10us               server -> client;  link = sets both
 *   sync = 2                 the server is a tempus engine syncing from server 2, with
 *   sync_source = ... sync_link = ... clock.freq = ... (its own oscillator)
 *   at 3h: server 1 down      events: server N down|up|offset S|freq PPM,
 *                             link N down|up|loss P, clock step S|freq PPM
 */
#ifndef TEMPUS_SIM_SCENARIO_H
#define TEMPUS_SIM_SCENARIO_H

#include <stddef.h>
#include <stdint.h>

#include "core/engine.h"
#include "sim/clock.h"
#include "sim/link.h"

#define SIMSCN_MAX_SERVERS 16
#define SIMSCN_MAX_EVENTS  64
#define SIMSCN_NAME_MAX    32

struct simscn_server {
    char name[SIMSCN_NAME_MAX];
    double offset_s;                    /* reference server: its clock minus true time */
    double freq_ppm;                    /* reference server: its clock's drift */
    int stratum;                        /* reference server's stratum (1) */
    double proc_s;                      /* time between receiving a request and sending the reply */
    struct engine_source_params source; /* the client's options for this server */
    struct simlink_params up, down;     /* client -> server, server -> client */
    int sync; /* 0: reference server; k: a tempus engine syncing from server k */
    struct engine_source_params sync_source;
    struct simlink_params sync_up, sync_down;
    struct simclock_params clock; /* an engine server's oscillator */
};

enum simscn_event_kind {
    SIMSCN_EV_SERVER_DOWN,
    SIMSCN_EV_SERVER_UP,
    SIMSCN_EV_SERVER_OFFSET, /* value: new offset_s */
    SIMSCN_EV_SERVER_FREQ,   /* value: new freq_ppm */
    SIMSCN_EV_LINK_DOWN,     /* both directions between client and server */
    SIMSCN_EV_LINK_UP,
    SIMSCN_EV_LINK_LOSS,  /* value: loss probability, both directions */
    SIMSCN_EV_CLOCK_STEP, /* value: s added to the client's clock (a disturbance) */
    SIMSCN_EV_CLOCK_FREQ, /* value: the client oscillator's new base frequency error */
};

struct simscn_event {
    int64_t t_ns;
    enum simscn_event_kind kind;
    int server; /* 1-based; 0 for clock events */
    double value;
};

struct simscn {
    int64_t duration_ns;
    int64_t warmup_ns;
    int64_t sample_ns;
    int64_t epoch_real_ns;
    int leap; /* +1 insert, -1 delete, 0 none */
    struct engine_params client;
    struct simclock_params clock;
    int nservers;
    struct simscn_server servers[SIMSCN_MAX_SERVERS];
    int nevents;
    struct simscn_event events[SIMSCN_MAX_EVENTS];
};

/* Defaults: 6 h, warm-up 30 min, sample 1 s, epoch 2026-01-01, chrony's defaults for the
 * client, a perfect clock, no servers. */
void simscn_default(struct simscn *s);

/* Parses a scenario from text (NUL-terminated). On error returns -1 and writes
 * "line N: what" into err (errlen bytes); 0 on success. */
int simscn_parse(struct simscn *s, const char *text, char *err, size_t errlen);

/* Parses one value with an optional unit into seconds: "50us" -> 50e-6; "6h" -> 21600. */
int simscn_parse_duration_s(const char *text, double *out_s);

/* Parses chrony's source options ("iburst minpoll 4 maxpoll 6 prefer") onto *sp (which
 * holds the defaults). 0, or -1 with the bad word in err. */
int simscn_parse_source_opts(const char *text, struct engine_source_params *sp, char *err,
                             size_t errlen);

/* Parses a link spec "DELAY [DIST JITTER] [loss P]" onto *lp. 0 or -1. */
int simscn_parse_link(const char *text, struct simlink_params *lp);

#endif
