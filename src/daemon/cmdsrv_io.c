/* daemon/cmdsrv_io: control sockets and daemon actions for cmdsrv (see cmdsrv_io.h). */
#include "daemon/cmdsrv_io.h"

#include <errno.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <unistd.h>

#include "base/log.h"
#include "core/engine.h"
#include "daemon/cmdsrv.h"
#include "daemon/conf.h"
#include "daemon/conf_engine.h"
#include "daemon/executor.h"
#include "os/loop.h"
#include "os/resolve.h"
#include "os/udp.h"
#include "os/unixsock.h"

/* `add server NAME` at run time: resolved beside the loop (getaddrinfo_a), then added. */
#define CMDSRV_IO_MAX_NAMES  16
#define CMDSRV_IO_MAX_ADDRS  16
#define CMDSRV_IO_RESOLVE_NS 100000000LL /* how often running lookups are polled */

struct pending_add {
    int used;
    struct cmdmon_req_add_source a; /* the request, name and options */
    char name[CMDMON_NAME_LEN + 1];
    struct resolve_req *req; /* NULL while waiting for a retry */
    int attempts;
    int64_t retry_mono;
};

struct cmdsrv_io {
    const struct conf *c;
    struct loop *loop;
    struct engine *engine;
    struct executor *ex;
    struct cmdsrv *srv;
    int unix_fd, udp_fd4, udp_fd6;
    char unix_path[UNIXSOCK_PATH_MAX + 1];
    int family; /* -4 / -6 */
    struct pending_add pending[CMDSRV_IO_MAX_NAMES];
    int resolve_timer; /* loop timer id, 0 = none */
    void (*cyclelogs)(void *ctx);
    void *cyclelogs_ctx;
    int (*dump)(void *ctx);
    void *dump_ctx;
    void (*rekey)(void *ctx);
    void *rekey_ctx;
    void (*reload_sources)(void *ctx);
    void *reload_sources_ctx;
};

void cmdsrv_on_rekey(struct cmdsrv_io *io, void (*fn)(void *ctx), void *ctx)
{
    if (!io)
        return;
    io->rekey = fn;
    io->rekey_ctx = ctx;
}

void cmdsrv_on_reload_sources(struct cmdsrv_io *io, void (*fn)(void *ctx), void *ctx)
{
    if (!io)
        return;
    io->reload_sources = fn;
    io->reload_sources_ctx = ctx;
}

void cmdsrv_on_dump(struct cmdsrv_io *io, int (*fn)(void *ctx), void *ctx)
{
    if (!io)
        return;
    io->dump = fn;
    io->dump_ctx = ctx;
}

void cmdsrv_on_smoothing(struct cmdsrv_io *io,
                         int (*fn)(void *ctx, int option, struct cmdmon_rep_smoothing *out),
                         void *ctx)
{
    if (io && io->srv)
        cmdsrv_set_smoothing(io->srv, fn, ctx);
}

void cmdsrv_on_cyclelogs(struct cmdsrv_io *io, void (*fn)(void *ctx), void *ctx)
{
    if (!io)
        return;
    io->cyclelogs = fn;
    io->cyclelogs_ctx = ctx;
}

/* ---- daemon actions ---- */

static void engine_changed(void *ctx)
{
    struct cmdsrv_io *io = ctx;
    executor_start(io->ex); /* re-arm the engine's timer: a burst or new source polls now */
}

/* Adds one resolved address of request a to the engine and the executor: SUCCESS,
 * SOURCEALREADYKNOWN (that address and port is a source) or TOOMANYSOURCES. */
static int add_address(struct cmdsrv_io *io, const struct cmdmon_req_add_source *a,
                       const struct addr *addr)
{
    int n = engine_source_count(io->engine);
    for (int i = 0; i < n; i++) {
        struct report_source r;
        if (engine_source_report(io->engine, i, loop_mono_ns(), &r) == 0 &&
            addr_equal(&r.remote, addr) && r.remote.port == addr->port)
            return CMDMON_STT_SOURCEALREADYKNOWN;
    }
    struct conf_source cs;
    conf_source_from_cmdmon(a, &cs);
    struct engine_source_params sp;
    conf_engine_source_params(io->c, &cs, &sp);
    char text[ADDR_TEXT_MAX];
    addr_format(addr, text, sizeof text);
    int id = engine_add_source(io->engine, &sp, addr, text, loop_mono_ns());
    if (id < 0)
        return CMDMON_STT_TOOMANYSOURCES;
    if (executor_add_source(io->ex, id, addr, sp.kind == ENGINE_SOURCE_PEER) != 0) {
        (void)engine_remove_source(io->engine, id);
        return CMDMON_STT_TOOMANYSOURCES;
    }
    log_info("Added source %s", text);
    return CMDMON_STT_SUCCESS;
}

/* How many addresses request a wants: a pool's maxsources, else one. */
static size_t addrs_wanted(const struct cmdmon_req_add_source *a)
{
    if (a->type != CMDMON_ADD_POOL)
        return 1;
    size_t m = a->max_sources >= 1 ? a->max_sources : 1;
    return m > CMDSRV_IO_MAX_ADDRS ? CMDSRV_IO_MAX_ADDRS : m;
}

static void on_resolve_timer(void *ctx, int64_t now);

static void arm_resolve_timer(struct cmdsrv_io *io, int64_t now)
{
    if (io->resolve_timer <= 0)
        io->resolve_timer =
            loop_add_timer(io->loop, now + CMDSRV_IO_RESOLVE_NS, on_resolve_timer, io);
}

/* Polls the running lookups of names added at run time; a name that does not resolve is
 * tried again after 2, 4 ... 512 s, as the configured ones (chronyd keeps retrying too). */
static void on_resolve_timer(void *ctx, int64_t now)
{
    struct cmdsrv_io *io = ctx;
    io->resolve_timer = 0;
    int left = 0, added = 0;
    for (int i = 0; i < CMDSRV_IO_MAX_NAMES; i++) {
        struct pending_add *p = &io->pending[i];
        if (!p->used)
            continue;
        left++;
        if (!p->req) {
            if (now >= p->retry_mono)
                p->req = resolve_start(p->name, io->family, p->a.port);
            continue;
        }
        struct addr addrs[CMDSRV_IO_MAX_ADDRS];
        int n = resolve_poll(p->req, addrs, addrs_wanted(&p->a));
        if (n == -EINPROGRESS)
            continue;
        resolve_free(p->req);
        p->req = NULL;
        if (n > 0 || n == -EINVAL) {
            for (int k = 0; k < n; k++)
                if (add_address(io, &p->a, &addrs[k]) == CMDMON_STT_SUCCESS)
                    added++;
            if (n == -EINVAL)
                log_warn("Could not resolve address of %s : invalid name", p->name);
            p->used = 0;
            left--;
            continue;
        }
        log_warn("Could not resolve address of %s : %s", p->name,
                 n == -EAGAIN ? "temporary failure" : "no address");
        int shift = p->attempts < 8 ? p->attempts : 8;
        p->attempts++;
        p->retry_mono = now + (2LL << shift) * 1000000000LL;
    }
    if (left > 0)
        arm_resolve_timer(io, now);
    if (added > 0)
        executor_start(io->ex); /* the engine has new sources to poll */
}

/* A name chronyd would take: printable, no spaces, not empty. */
static int valid_name(const char *name)
{
    if (!name[0])
        return 0;
    for (const char *c = name; *c; c++)
        if (*c <= ' ' || *c >= 0x7f)
            return 0;
    return 1;
}

static int add_source(struct cmdsrv_io *io, const struct cmdmon_req_add_source *a)
{
    char name[CMDMON_NAME_LEN + 1];
    memcpy(name, a->name, CMDMON_NAME_LEN);
    name[CMDMON_NAME_LEN] = '\0';
    if (strnlen(a->name, CMDMON_NAME_LEN) >= CMDMON_NAME_LEN || !valid_name(name))
        return CMDMON_STT_INVALIDNAME;
    if (resolve_is_numeric(name)) {
        struct addr addr;
        if (resolve_name(name, 0, a->port, &addr, 1) != 1)
            return CMDMON_STT_INVALIDNAME;
        if ((io->family == 4 && addr.family != ADDR_INET4) ||
            (io->family == 6 && addr.family != ADDR_INET6))
            return CMDMON_STT_INVALIDAF;
        return add_address(io, a, &addr);
    }
    /* A host name: queued, resolved beside the loop and added then; SUCCESS now, as chronyd
     * answers for a name it has queued (spec §7, ADD_SOURCE outcomes). */
    struct pending_add *p = NULL;
    for (int i = 0; i < CMDSRV_IO_MAX_NAMES && !p; i++)
        if (!io->pending[i].used)
            p = &io->pending[i];
    if (!p)
        return CMDMON_STT_TOOMANYSOURCES;
    memset(p, 0, sizeof *p);
    p->a = *a;
    memcpy(p->name, name, sizeof p->name);
    p->req = resolve_start(name, io->family, a->port);
    p->retry_mono = loop_mono_ns();
    p->used = 1;
    arm_resolve_timer(io, loop_mono_ns());
    log_info("Resolving %s", name);
    return CMDMON_STT_SUCCESS;
}

static int delete_source(struct cmdsrv_io *io, const struct cmdmon_ip *ip)
{
    struct addr a;
    memset(&a, 0, sizeof a);
    if (ip->family == CMDMON_FAMILY_INET4) {
        a.family = ADDR_INET4;
        memcpy(a.bytes, ip->addr, 4);
    } else if (ip->family == CMDMON_FAMILY_INET6) {
        a.family = ADDR_INET6;
        memcpy(a.bytes, ip->addr, 16);
    } else {
        return CMDMON_STT_NOSUCHSOURCE;
    }
    int n = engine_source_count(io->engine);
    for (int i = 0; i < n; i++) {
        struct report_source r;
        if (engine_source_report(io->engine, i, loop_mono_ns(), &r) == 0 &&
            addr_equal(&r.remote, &a)) {
            /* Both forget it: the executor's entry would otherwise take the replies of a
             * source added again with the same address and port. */
            (void)engine_remove_source(io->engine, r.id);
            (void)executor_remove_source(io->ex, r.id);
            log_info("Removed source %s", r.name);
            return CMDMON_STT_SUCCESS;
        }
    }
    return CMDMON_STT_NOSUCHSOURCE;
}

static int run(void *ctx, const struct cmdmon_request *req)
{
    struct cmdsrv_io *io = ctx;
    switch (req->command) {
    case CMDMON_REQ_SHUTDOWN:
        log_info("Shutdown requested");
        /* The same path as SIGTERM: the loop sees the flag, the drift file is saved. */
        (void)raise(SIGTERM);
        return CMDMON_STT_SUCCESS;
    case CMDMON_REQ_ADD_SOURCE:
        return add_source(io, &req->u.add_source);
    case CMDMON_REQ_DEL_SOURCE:
        return delete_source(io, &req->u.ip);
    case CMDMON_REQ_ALLOW:
    case CMDMON_REQ_ALLOWALL:
    case CMDMON_REQ_DENY:
    case CMDMON_REQ_DENYALL: {
        /* cmdsrv added the rule to its set (ACCHECK answers from it); the server follows. */
        size_t n = 0;
        const struct access_rule *rules = cmdsrv_ntp_rules(io->srv, &n);
        executor_set_rules(io->ex, rules, n);
        /* chronyd opens the NTP port at the first allow when nothing needed it at start
         * (unless `port 0`); CAP_NET_BIND_SERVICE is kept for port 123. */
        if ((req->command == CMDMON_REQ_ALLOW || req->command == CMDMON_REQ_ALLOWALL) &&
            !executor_server_port(io->ex, 4) && !executor_server_port(io->ex, 6) &&
            executor_open_server(io->ex) > 0)
            log_info("Opened NTP server socket");
        return CMDMON_STT_SUCCESS;
    }
    case CMDMON_REQ_LOCAL2:
    case CMDMON_REQ_LOCAL3: {
        const struct cmdmon_req_local *l = &req->u.local;
        /* chronyd takes the values as sent (chronyc checks them); kept in 1..15 here. */
        int stratum = l->stratum < 1 ? 1 : l->stratum > 15 ? 15 : (int)l->stratum;
        struct executor_params lp = {
            .local_enabled = l->on_off != 0,
            .local_stratum = stratum,
            .local_distance_s = l->distance_s,
            .local_orphan = l->orphan != 0,
            .local_activate_s = l->activate_s,
            .local_waitsynced_s = l->wait_synced_s,
            .local_waitunsynced_s = l->wait_unsynced_s,
        };
        executor_set_local_params(io->ex, &lp);
        log_info("local %s", l->on_off ? "on" : "off");
        return CMDMON_STT_SUCCESS;
    }
    case CMDMON_REQ_CYCLELOGS:
        if (io->cyclelogs)
            io->cyclelogs(io->cyclelogs_ctx);
        return CMDMON_STT_SUCCESS;
    case CMDMON_REQ_DUMP:
        if (io->dump && io->dump(io->dump_ctx) != 0)
            return CMDMON_STT_FAILED;
        return CMDMON_STT_SUCCESS;
    case CMDMON_REQ_RESELECT: /* selection runs at every update anyway */
    case CMDMON_REQ_REFRESH:
        return CMDMON_STT_SUCCESS;
    case CMDMON_REQ_RELOAD_SOURCES: /* chronyd answers SUCCESS, also without sourcedir */
        if (io->reload_sources)
            io->reload_sources(io->reload_sources_ctx);
        return CMDMON_STT_SUCCESS;
    case CMDMON_REQ_REKEY: /* chronyd answers SUCCESS, also without a keyfile */
        if (io->rekey)
            io->rekey(io->rekey_ctx);
        return CMDMON_STT_SUCCESS;
    default:
        /* Everything else cmdsrv does not do itself: not supported by tempusd. */
        return CMDMON_STT_FAILED;
    }
}

/* ---- sockets ---- */

static void on_unix(void *ctx, int fd)
{
    struct cmdsrv_io *io = ctx;
    for (int k = 0; k < 16; k++) {
        uint8_t buf[CMDMON_MAX_REQ_LEN + 1], out[CMDMON_MAX_REP_LEN];
        struct unixsock_peer peer;
        int n = unixsock_recv(fd, buf, sizeof buf, &peer);
        if (n < 0)
            return;
        if ((size_t)n > CMDMON_MAX_REQ_LEN || !peer.path[0])
            continue; /* too long, or an unbound sender that cannot be answered */
        size_t m = cmdsrv_handle(io->srv, CMDSRV_UNIX, NULL, buf, (size_t)n, loop_mono_ns(),
                                 loop_real_ns(), out, sizeof out);
        if (m > 0) {
            int r = unixsock_send(fd, out, m, &peer);
            if (r < 0)
                log_debug("Could not send command reply to %s : %s", peer.path, strerror(-r));
        }
    }
}

static void on_udp(void *ctx, int fd)
{
    struct cmdsrv_io *io = ctx;
    for (int k = 0; k < 16; k++) {
        uint8_t buf[CMDMON_MAX_REQ_LEN], out[CMDMON_MAX_REP_LEN];
        struct udp_rx rx;
        int n = udp_recv(fd, buf, sizeof buf, &rx);
        if (n == -EMSGSIZE)
            continue;
        if (n < 0)
            return;
        size_t m = cmdsrv_handle(io->srv, CMDSRV_UDP, &rx.remote, buf, (size_t)n, loop_mono_ns(),
                                 rx.rx_real_ns, out, sizeof out);
        if (m > 0) /* from the address the request came to (bindcmdaddress 0.0.0.0) */
            (void)udp_send(fd, out, m, &rx.remote, &rx.local, rx.ifindex);
    }
}

static void open_udp(struct cmdsrv_io *io, const struct addr *bind, int *fd)
{
    struct addr local = *bind;
    local.port = (uint16_t)io->c->cmdport;
    int r = udp_open(&local, UDP_OPEN_NO_TIMESTAMPS | UDP_OPEN_REUSEADDR);
    if (r < 0) {
        char t[ADDR_TEXT_MAX];
        log_warn("Could not open command socket on %s port %d : %s",
                 addr_format(&local, t, sizeof t), io->c->cmdport, strerror(-r));
        return;
    }
    *fd = r;
    (void)loop_add_fd(io->loop, r, on_udp, io);
}

static int local_active(void *ctx, int64_t now_mono_ns)
{
    struct cmdsrv_io *io = ctx;
    return io->ex ? executor_local_active(io->ex, now_mono_ns) : 0;
}

static int source_rx_ts(void *ctx, const struct addr *remote, int *last_kernel, uint32_t *n_kernel)
{
    struct cmdsrv_io *io = ctx;
    return io->ex ? executor_source_rx_ts(io->ex, remote, last_kernel, n_kernel) : -ENOENT;
}

static int source_local_addr(void *ctx, const struct addr *remote, struct addr *local)
{
    struct cmdsrv_io *io = ctx;
    return io->ex ? executor_source_local_addr(io->ex, remote, local) : -ENOENT;
}

/* serverstats' RX counters are of the requests served (past allow/deny), as chronyd's; TX:
 * the kernel transmit timestamps that a client's record took (interleaved replies ask for
 * them), every other reply's is a daemon one. */
static void ntp_ts_stats(void *ctx, uint64_t v[6])
{
    struct cmdsrv_io *io = ctx;
    if (!io->ex)
        return;
    struct executor_stats st;
    executor_get_stats(io->ex, &st);
    const struct ntpserve_stats *n = &st.server;
    uint64_t served = n->ntp_rx - n->ntp_denied;
    v[0] = served > n->ntp_kernel_rx ? served - n->ntp_kernel_rx : 0;
    v[1] = n->ntp_replies > n->ntp_kernel_tx ? n->ntp_replies - n->ntp_kernel_tx : 0;
    v[2] = n->ntp_kernel_rx;
    v[3] = n->ntp_kernel_tx;
}

/* serverstats' NTP counters and the clients rows: the executor's (with server workers,
 * the sum and the union of theirs). */
static void ntp_stats(void *ctx, struct clientlog_stats *out)
{
    struct cmdsrv_io *io = ctx;
    executor_ntp_stats(io->ex, out);
}

static uint32_t ntp_clients_capacity(void *ctx)
{
    struct cmdsrv_io *io = ctx;
    return executor_clients_capacity(io->ex);
}

static int ntp_client_report(void *ctx, uint32_t index, int64_t now_real_ns,
                             struct clientlog_report *out)
{
    struct cmdsrv_io *io = ctx;
    return executor_client_report(io->ex, index, now_real_ns, out);
}

struct cmdsrv_io *cmdsrv_open(const struct conf *c, const char *user, int family, int client_only,
                              int clock_fixed, struct loop *loop, struct engine *engine,
                              struct executor *ex)
{
    struct cmdsrv_io *io = calloc(1, sizeof *io);
    if (!io)
        return NULL;
    io->c = c;
    io->loop = loop;
    io->engine = engine;
    io->ex = ex;
    io->unix_fd = io->udp_fd4 = io->udp_fd6 = -1;
    io->family = family;
    uint64_t seed = 0;
    if (getrandom(&seed, sizeof seed, GRND_NONBLOCK) != (ssize_t)sizeof seed)
        seed = (uint64_t)loop_real_ns();
    struct cmdsrv_params p;
    cmdsrv_params_from_conf(c, seed, &p);
    p.clock_fixed = clock_fixed;
    struct cmdsrv_hooks h = {io, run, engine_changed, ex ? ntp_stats : NULL};
    io->srv = cmdsrv_new(&p, engine, ex ? executor_clientlog(ex) : NULL, &h);
    if (!io->srv) {
        free(io);
        return NULL;
    }
    struct cmdsrv_ex_hooks th = {io,
                                 source_rx_ts,
                                 ntp_ts_stats,
                                 local_active,
                                 ex ? ntp_clients_capacity : NULL,
                                 ex ? ntp_client_report : NULL,
                                 source_local_addr};
    cmdsrv_set_ex_hooks(io->srv, &th);
    /* -Q: chronyd's client-only defaults are cmdport 0 and no socket; a value other than
     * the default was set explicitly and still counts. */
    int cmdport_on = c->cmdport > 0 && !(client_only && c->cmdport == 323);
    int path_on = c->bindcmdpath && c->bindcmdpath[0] &&
                  !(client_only && !strcmp(c->bindcmdpath, CONF_DEFAULT_CMD_SOCKET));
    if (cmdport_on) {
        if (family != 6 && c->bindcmdaddress4.family == ADDR_INET4)
            open_udp(io, &c->bindcmdaddress4, &io->udp_fd4);
        if (family != 4 && c->bindcmdaddress6.family == ADDR_INET6)
            open_udp(io, &c->bindcmdaddress6, &io->udp_fd6);
    }
    if (path_on) {
        uid_t uid = (uid_t)-1;
        gid_t gid = (gid_t)-1;
        struct passwd *pw = geteuid() == 0 && user ? getpwnam(user) : NULL;
        if (pw) {
            uid = pw->pw_uid;
            gid = pw->pw_gid;
        }
        int r = unixsock_open(c->bindcmdpath, uid, gid);
        if (r < 0) {
            log_warn("Disabled command socket %s : %s", c->bindcmdpath, strerror(-r));
        } else {
            io->unix_fd = r;
            snprintf(io->unix_path, sizeof io->unix_path, "%s", c->bindcmdpath);
            (void)loop_add_fd(loop, r, on_unix, io);
        }
    }
    return io;
}

void cmdsrv_close(struct cmdsrv_io *io)
{
    if (!io)
        return;
    if (io->unix_fd >= 0) {
        (void)loop_remove_fd(io->loop, io->unix_fd);
        unixsock_close(io->unix_fd, io->unix_path);
    }
    int *fds[2] = {&io->udp_fd4, &io->udp_fd6};
    for (int k = 0; k < 2; k++) {
        if (*fds[k] >= 0) {
            (void)loop_remove_fd(io->loop, *fds[k]);
            udp_close(*fds[k]);
        }
    }
    if (io->resolve_timer > 0)
        (void)loop_cancel_timer(io->loop, io->resolve_timer);
    for (int i = 0; i < CMDSRV_IO_MAX_NAMES; i++)
        resolve_free(io->pending[i].req);
    cmdsrv_free(io->srv);
    free(io);
}
