/* Logging to an installed sink.
 *
 * Every layer logs through here; main() (or the simulator, or a test) installs the sink:
 * stderr with -d, syslog otherwise, a buffer stamped with simulated time in the simulator.
 * Without a sink, messages at LOG_LEVEL_WARN and above go nowhere: the pure layers never
 * write to a stream on their own.
 */
#ifndef TEMPUS_BASE_LOG_H
#define TEMPUS_BASE_LOG_H

#include <stdarg.h>

enum log_level {
    LOG_LEVEL_DEBUG = 0,
    LOG_LEVEL_INFO = 1,
    LOG_LEVEL_WARN = 2,
    LOG_LEVEL_ERR = 3,
};

/* Receives one formatted message without a trailing newline. msg is borrowed. */
typedef void (*log_sink_fn)(void *ctx, enum log_level level, const char *msg);

/* Installs fn (NULL: drop everything) with its context. Not thread-safe: call at start-up. */
void log_set_sink(log_sink_fn fn, void *ctx);

/* Messages below level are dropped before formatting (cheap on the packet path). */
void log_set_min_level(enum log_level level);

/* True when a message at level would reach the sink. */
int log_enabled(enum log_level level);

void log_msg(enum log_level level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void log_vmsg(enum log_level level, const char *fmt, va_list ap)
    __attribute__((format(printf, 2, 0)));

/* Name of a level as printed by the stderr sink: "DEBUG", "INFO", "WARN", "ERROR". */
const char *log_level_name(enum log_level level);

#define log_debug(...) log_msg(LOG_LEVEL_DEBUG, __VA_ARGS__)
#define log_info(...)  log_msg(LOG_LEVEL_INFO, __VA_ARGS__)
#define log_warn(...)  log_msg(LOG_LEVEL_WARN, __VA_ARGS__)
#define log_error(...) log_msg(LOG_LEVEL_ERR, __VA_ARGS__)

#endif
