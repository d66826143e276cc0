/* From the configuration to the engine's parameters (core/engine.h), so that wiring a
 * daemon or a simulator scenario from a chrony.conf is one call per source. */
#ifndef TEMPUS_DAEMON_CONF_ENGINE_H
#define TEMPUS_DAEMON_CONF_ENGINE_H

#include "core/engine.h"
#include "daemon/conf.h"
#include "wire/cmdmon.h"

/* Fills every field of *p from c's selection and discipline directives (chrony defaults
 * where c has none). The drift-file fields are left "unknown" (have_initial_freq 0). */
void conf_engine_params(const struct conf *c, struct engine_params *p);

/* Fills every field of *sp from source s, applying chronyd's clamping: minpoll/maxpoll
 * below -7 reset to the default and above 24 cut to 24, maxpoll >= minpoll, maxdelay
 * 0..1000 s, ratios 0..1e6, minstratum <= 15, version 1..4 (0 = 4), global minsamples /
 * maxsamples where the source has none. Peers get kind PEER. */
void conf_engine_source_params(const struct conf *c, const struct conf_source *s,
                               struct engine_source_params *sp);

/* The source line a run-time `add server|pool|peer` request stands for (`add server NAME
 * OPTIONS` is `server NAME OPTIONS`): fed to conf_engine_source_params() with the running
 * configuration, a source added at run time is configured exactly as one from the file
 * (global minsamples/maxsamples where the request has -1, chronyd's clamping). cs->name and
 * cs->file stay NULL (nothing to free). */
void conf_source_from_cmdmon(const struct cmdmon_req_add_source *a, struct conf_source *cs);

#endif
