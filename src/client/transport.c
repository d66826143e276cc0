/* tempusc transport: Unix datagram socket and UDP, chronyc's retry logic (see transport.h). */
#include "client/transport.h"

#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#define MAX_ENTRIES 32
#define BUF_LEN     1024

struct entry {
    bool is_unix;
    char path[sizeof(((struct sockaddr_un *)0)->sun_path)];
    struct sockaddr_storage sa;
    socklen_t sa_len;
};

struct transport {
    struct entry entries[MAX_ENTRIES];
    int n_entries;
    int current; /* index of the open entry, -1 if none */
    int fd;
    char local_path[sizeof(((struct sockaddr_un *)0)->sun_path)]; /* our Unix socket */
    uint8_t version;
    int timeout_ms;
    int retries;
    /* replay mode */
    const char *replay;
    int replay_next; /* number of the next capture file to use (1-based) */
    bool replay_bad; /* a request differed or a capture was missing */
    uint8_t replay_reply[BUF_LEN];
    int replay_reply_len; /* -1: the capture had no reply */
};

static void add_entry(struct transport *t, const struct entry *e)
{
    if (t->n_entries < MAX_ENTRIES)
        t->entries[t->n_entries++] = *e;
}

static void add_host(struct transport *t, const char *name, uint16_t port, int family)
{
    struct entry e;
    memset(&e, 0, sizeof e);
    if (name[0] == '/') {
        if (strlen(name) >= sizeof e.path) {
            fprintf(stderr, "Unix socket path too long: %s\n", name);
            return;
        }
        e.is_unix = true;
        snprintf(e.path, sizeof e.path, "%s", name);
        add_entry(t, &e);
        return;
    }
    struct addrinfo hints, *res = NULL;
    char port_text[8];
    memset(&hints, 0, sizeof hints);
    hints.ai_family = family == 4 ? AF_INET : family == 6 ? AF_INET6 : AF_UNSPEC;
    hints.ai_socktype = SOCK_DGRAM;
    snprintf(port_text, sizeof port_text, "%u", (unsigned)port);
    if (getaddrinfo(name, port_text, &hints, &res) != 0)
        return; /* e.g. 127.0.0.1 with -6: skipped, like chronyc */
    for (struct addrinfo *ai = res; ai; ai = ai->ai_next) {
        if (ai->ai_addrlen > sizeof e.sa)
            continue;
        memset(&e, 0, sizeof e);
        memcpy(&e.sa, ai->ai_addr, ai->ai_addrlen);
        e.sa_len = ai->ai_addrlen;
        add_entry(t, &e);
    }
    freeaddrinfo(res);
}

struct transport *transport_new(const struct transport_opts *opts)
{
    struct transport *t = calloc(1, sizeof *t);
    if (!t)
        return NULL;
    t->fd = -1;
    t->current = -1;
    t->version = CMDMON_PROTO_VERSION;
    t->timeout_ms = TRANSPORT_DEFAULT_TIMEOUT;
    t->retries = TRANSPORT_DEFAULT_RETRIES;
    t->replay = opts->replay;
    t->replay_next = 1;
    if (t->replay)
        return t;

    char *list = strdup(opts->hosts ? opts->hosts : TRANSPORT_DEFAULT_HOSTS);
    if (!list) {
        free(t);
        return NULL;
    }
    char *save = NULL;
    for (char *h = strtok_r(list, ",", &save); h; h = strtok_r(NULL, ",", &save))
        add_host(t, h, opts->port, opts->family);
    free(list);
    return t;
}

static void close_current(struct transport *t)
{
    if (t->fd >= 0)
        close(t->fd);
    t->fd = -1;
    if (t->local_path[0])
        unlink(t->local_path);
    t->local_path[0] = '\0';
}

void transport_free(struct transport *t)
{
    if (!t)
        return;
    close_current(t);
    free(t);
}

/* Binds our own socket next to the server's (the server replies to our address; an
 * unbound socket gets no reply, §2.2), readable by a daemon running as another user. */
static int open_unix(struct transport *t, const struct entry *e)
{
    int fd = socket(AF_UNIX, SOCK_DGRAM, 0);
    if (fd < 0)
        return -1;
    struct sockaddr_un local, remote;
    memset(&local, 0, sizeof local);
    memset(&remote, 0, sizeof remote);
    local.sun_family = remote.sun_family = AF_UNIX;

    char dir[sizeof e->path];
    snprintf(dir, sizeof dir, "%s", e->path);
    char *slash = strrchr(dir, '/');
    if (slash == dir)
        dir[1] = '\0';
    else if (slash)
        *slash = '\0';
    int n = snprintf(local.sun_path, sizeof local.sun_path, "%s/tempusc.%d.sock",
                     strcmp(dir, "/") ? dir : "", (int)getpid());
    if (n < 0 || (size_t)n >= sizeof local.sun_path) {
        close(fd);
        return -1;
    }
    unlink(local.sun_path);
    if (bind(fd, (struct sockaddr *)&local, sizeof local) < 0) {
        close(fd);
        return -1;
    }
    snprintf(t->local_path, sizeof t->local_path, "%s", local.sun_path);
    if (chmod(local.sun_path, 0666) < 0) {
        /* Not fatal: a daemon running as our user can still reply. */
    }
    snprintf(remote.sun_path, sizeof remote.sun_path, "%s", e->path);
    if (connect(fd, (struct sockaddr *)&remote, sizeof remote) < 0) {
        close(fd);
        unlink(t->local_path);
        t->local_path[0] = '\0';
        return -1;
    }
    return fd;
}

static int open_udp(const struct entry *e)
{
    int fd = socket(e->sa.ss_family, SOCK_DGRAM, 0);
    if (fd < 0)
        return -1;
    if (connect(fd, (const struct sockaddr *)&e->sa, e->sa_len) < 0) {
        close(fd);
        return -1;
    }
    return fd;
}

/* Opens entries from index first on. 0 or -1. */
static int open_from(struct transport *t, int first)
{
    close_current(t);
    for (int i = first; i < t->n_entries; i++) {
        const struct entry *e = &t->entries[i];
        int fd = e->is_unix ? open_unix(t, e) : open_udp(e);
        if (fd >= 0) {
            t->fd = fd;
            t->current = i;
            return 0;
        }
    }
    t->current = t->n_entries;
    return -1;
}

int transport_open(struct transport *t)
{
    if (t->replay)
        return 0;
    return open_from(t, 0);
}

void transport_set_timeout(struct transport *t, int timeout_ms)
{
    t->timeout_ms = timeout_ms;
}

void transport_set_retries(struct transport *t, int retries)
{
    t->retries = retries;
}

static uint32_t random_u32(void)
{
    uint32_t v = 0;
    if (getrandom(&v, sizeof v, 0) != (ssize_t)sizeof v) {
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        v = (uint32_t)ts.tv_nsec ^ (uint32_t)getpid() << 16;
    }
    return v;
}

static int64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* ---- replay ---- */

static int hex_decode(const char *hex, uint8_t *out, size_t cap)
{
    size_t n = 0;
    while (hex[0] && hex[1] && hex[0] != '\n' && hex[0] != '\r') {
        unsigned v;
        if (n >= cap || sscanf(hex, "%2x", &v) != 1)
            return -1;
        out[n++] = (uint8_t)v;
        hex += 2;
    }
    return (int)n;
}

static void replay_send(struct transport *t, const uint8_t *buf, int len)
{
    char path[4096], line[4096];
    uint8_t want[BUF_LEN];
    int want_len = -1;
    t->replay_reply_len = -1;
    snprintf(path, sizeof path, "%s.%02d.hex", t->replay, t->replay_next);
    FILE *f = fopen(path, "r");
    if (!f) {
        fprintf(stderr, "replay: no capture %s for request %d (%s)\n", path, t->replay_next,
                cmdmon_req_name((unsigned)buf[4] << 8 | buf[5]));
        t->replay_bad = true;
        t->replay_next++;
        return;
    }
    while (fgets(line, sizeof line, f)) {
        if (!strncmp(line, "request ", 8))
            want_len = hex_decode(line + 8, want, sizeof want);
        else if (!strncmp(line, "reply ", 6) && line[6] != '(')
            t->replay_reply_len = hex_decode(line + 6, t->replay_reply, sizeof t->replay_reply);
    }
    fclose(f);
    /* Same bytes apart from the sequence number (8..11); a length difference is allowed
     * only where the longer one holds zeros (padding of another chrony generation). */
    int common = len < want_len ? len : want_len;
    int diff = -1;
    for (int i = 0; i < common && diff < 0; i++)
        if ((i < 8 || i > 11) && buf[i] != want[i])
            diff = i;
    for (int i = common; i < len && diff < 0; i++)
        if (buf[i])
            diff = i;
    for (int i = common; i < want_len && diff < 0; i++)
        if (want[i])
            diff = i;
    if (want_len < 0 || diff >= 0) {
        fprintf(stderr, "replay: request %d differs from %s at byte %d (%d vs %d bytes)\n",
                t->replay_next, path, diff, len, want_len);
        t->replay_bad = true;
    }
    /* Answer with our sequence number, as the daemon would have. */
    if (t->replay_reply_len >= 20) {
        t->replay_reply[16] = buf[8];
        t->replay_reply[17] = buf[9];
        t->replay_reply[18] = buf[10];
        t->replay_reply[19] = buf[11];
    }
    t->replay_next++;
}

int transport_replay_check(const struct transport *t)
{
    if (!t->replay)
        return 0;
    char path[4096];
    snprintf(path, sizeof path, "%s.%02d.hex", t->replay, t->replay_next);
    if (access(path, F_OK) == 0) {
        fprintf(stderr, "replay: capture %s was not used\n", path);
        return -1;
    }
    return t->replay_bad ? -1 : 0;
}

/* ---- exchange ---- */

enum attempt_result {
    ATTEMPT_REPLY,    /* valid reply in *rep */
    ATTEMPT_TIMEOUT,  /* nothing valid before the deadline */
    ATTEMPT_RESEND,   /* valid but too short: counts as a failed attempt */
    ATTEMPT_FALLBACK, /* the server speaks version 5: resend now in version 5 */
    ATTEMPT_MISMATCH, /* another version: give up */
};

static enum attempt_result send_and_wait(struct transport *t, const struct cmdmon_request *req,
                                         int timeout_ms, struct cmdmon_reply *rep)
{
    uint8_t buf[BUF_LEN];
    int len = cmdmon_request_encode(req, buf, sizeof buf);
    if (len < 0)
        return ATTEMPT_TIMEOUT;

    if (t->replay) {
        replay_send(t, buf, len);
        if (t->replay_reply_len < 0)
            return ATTEMPT_TIMEOUT;
    } else if (send(t->fd, buf, (size_t)len, 0) < 0) {
        return ATTEMPT_TIMEOUT;
    }

    int64_t deadline = now_ms() + timeout_ms;
    for (;;) {
        ssize_t n;
        if (t->replay) {
            if (t->replay_reply_len < 0)
                return ATTEMPT_TIMEOUT;
            n = t->replay_reply_len;
            memcpy(buf, t->replay_reply, (size_t)n);
            t->replay_reply_len = -1; /* one datagram per capture */
        } else {
            int64_t left = deadline - now_ms();
            if (left <= 0)
                return ATTEMPT_TIMEOUT;
            struct pollfd p = {.fd = t->fd, .events = POLLIN};
            int r = poll(&p, 1, (int)left);
            if (r < 0 && errno == EINTR)
                continue;
            if (r <= 0)
                return ATTEMPT_TIMEOUT;
            n = recv(t->fd, buf, sizeof buf, 0);
            if (n < 0)
                continue; /* e.g. ECONNREFUSED from an earlier datagram: keep waiting */
        }
        enum cmdmon_rep_verdict v = cmdmon_reply_decode(buf, (size_t)n, rep);
        if (v == CMDMON_REP_BAD || rep->command != req->command || rep->sequence != req->sequence)
            continue;
        if (rep->version != req->version &&
            !(rep->status == CMDMON_STT_BADPKTVERSION && rep->version >= 4))
            continue;
        if (rep->version != req->version) {
            if (req->version == CMDMON_PROTO_VERSION && rep->version == CMDMON_PROTO_VERSION_OLD)
                return ATTEMPT_FALLBACK;
            return ATTEMPT_MISMATCH;
        }
        if (v == CMDMON_REP_SHORT)
            return ATTEMPT_RESEND;
        return ATTEMPT_REPLY;
    }
}

/* One entry: up to 1 + retries transmissions with a doubling timeout. */
static enum transport_result exchange_one(struct transport *t, struct cmdmon_request *req,
                                          struct cmdmon_reply *rep)
{
    int timeout = t->timeout_ms;
    int attempt = 0;
    while (attempt <= t->retries) {
        req->version = t->version;
        req->attempt = (uint16_t)attempt;
        req->sequence = random_u32();
        switch (send_and_wait(t, req, timeout, rep)) {
        case ATTEMPT_REPLY:
            return TRANSPORT_OK;
        case ATTEMPT_MISMATCH:
            return TRANSPORT_VERSION_MISMATCH;
        case ATTEMPT_FALLBACK:
            t->version = CMDMON_PROTO_VERSION_OLD;
            attempt = 0; /* not counted as a retry */
            continue;
        case ATTEMPT_RESEND:
        case ATTEMPT_TIMEOUT:
            break;
        }
        attempt++;
        timeout *= 2;
    }
    return TRANSPORT_NO_REPLY;
}

enum transport_result transport_exchange(struct transport *t, struct cmdmon_request *req,
                                         struct cmdmon_reply *rep)
{
    if (t->replay)
        return exchange_one(t, req, rep);
    while (t->current >= 0 && t->current < t->n_entries && t->fd >= 0) {
        enum transport_result r = exchange_one(t, req, rep);
        if (r != TRANSPORT_NO_REPLY)
            return r;
        if (open_from(t, t->current + 1) < 0)
            break;
    }
    return TRANSPORT_NO_REPLY;
}
