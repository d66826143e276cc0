#include "base/log.h"

#include <stdio.h>

/* The one piece of mutable global state the pure layers share: installed once by main(). */
static log_sink_fn sink_fn;
static void *sink_ctx;
static enum log_level min_level = LOG_LEVEL_INFO;

void log_set_sink(log_sink_fn fn, void *ctx)
{
    sink_fn = fn;
    sink_ctx = ctx;
}

void log_set_min_level(enum log_level level)
{
    min_level = level;
}

int log_enabled(enum log_level level)
{
    return sink_fn != NULL && level >= min_level;
}

void log_vmsg(enum log_level level, const char *fmt, va_list ap)
{
    char buf[1024];

    if (!log_enabled(level))
        return;
    vsnprintf(buf, sizeof buf, fmt, ap);
    sink_fn(sink_ctx, level, buf);
}

void log_msg(enum log_level level, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    log_vmsg(level, fmt, ap);
    va_end(ap);
}

const char *log_level_name(enum log_level level)
{
    switch (level) {
    case LOG_LEVEL_DEBUG:
        return "DEBUG";
    case LOG_LEVEL_INFO:
        return "INFO";
    case LOG_LEVEL_WARN:
        return "WARN";
    case LOG_LEVEL_ERR:
        return "ERROR";
    }
    return "?";
}
