/* os/signals: flag-setting handlers (see signals.h). */
#include "os/signals.h"

#include <errno.h>
#include <signal.h>
#include <string.h>

static volatile sig_atomic_t caught;

static void on_signal(int signo)
{
    caught = signo;
}

int signals_install(void)
{
    static const int term_signals[] = {SIGINT, SIGTERM, SIGQUIT, SIGHUP};
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    sa.sa_flags = 0; /* no SA_RESTART: poll() must return EINTR */
    for (size_t i = 0; i < sizeof term_signals / sizeof term_signals[0]; i++)
        if (sigaction(term_signals[i], &sa, NULL) != 0)
            return -errno;
    sa.sa_handler = SIG_IGN;
    if (sigaction(SIGPIPE, &sa, NULL) != 0)
        return -errno;
    return 0;
}

int signals_pending(void)
{
    return caught;
}

void signals_clear(void)
{
    caught = 0;
}
