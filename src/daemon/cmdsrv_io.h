/* cmdsrv_io: tempusd's control sockets around the cmdsrv dispatcher: the Unix datagram
 * socket (bindcmdaddress /path, default /run/tempus/tempusd.sock) and the UDP sockets on
 * cmdport (default 323) at bindcmdaddress (127.0.0.1 and ::1), registered in the main loop,
 * and the daemon actions cmdsrv asks for (shutdown, add/delete source, ...).
 * A socket that cannot be opened is a warning, not an error (ARCHITECTURE.md).
 */
#ifndef TEMPUS_DAEMON_CMDSRV_IO_H
#define TEMPUS_DAEMON_CMDSRV_IO_H

struct conf;
struct loop;
struct engine;
struct executor;
struct cmdsrv_io;
struct cmdmon_rep_smoothing;

/* Opens the control sockets the configuration asks for (family: 0 both, 4 or 6 as -4/-6)
 * and watches them in loop. client_only (-Q): the default cmdport and socket path are off,
 * other values, set explicitly, still open (chronyd-chronyc-cli.md §1.2). user (may be NULL) is the
 * account the daemon will run as (-u, else the `user` directive): a socket directory created as
 * root is given to it. Everything is borrowed and must outlive the result. Call before dropping
 * privileges (the socket directory may need root). clock_fixed: the clock is not controlled (-x,
 * or the EPERM fallback): `makestep` answers FAILED as chronyd -x's does. NULL when out of memory
 * (the daemon then runs without control sockets). */
struct cmdsrv_io *cmdsrv_open(const struct conf *c, const char *user, int family, int client_only,
                              int clock_fixed, struct loop *loop, struct engine *engine,
                              struct executor *ex);

/* What `cyclelogs` runs: the daemon's statistics logs are closed so that the next line
 * reopens them (logrotate's postrotate). fn(ctx) is borrowed; io may be NULL (no-op). */
void cmdsrv_on_cyclelogs(struct cmdsrv_io *io, void (*fn)(void *ctx), void *ctx);

/* What `dump` runs: the daemon writes its dump files (dumpdir) and returns 0, or -1 when one
 * could not be written (the answer is then FAILED). Without it, `dump` answers SUCCESS and
 * does nothing (chronyd without dumpdir). fn(ctx) is borrowed; io may be NULL (no-op). */
void cmdsrv_on_dump(struct cmdsrv_io *io, int (*fn)(void *ctx), void *ctx);

/* `smoothtime`: what SMOOTHING and SMOOTHTIME run (cmdsrv_set_smoothing()); without it they
 * answer NOTENABLED. io may be NULL. */
void cmdsrv_on_smoothing(struct cmdsrv_io *io,
                         int (*fn)(void *ctx, int option, struct cmdmon_rep_smoothing *out),
                         void *ctx);

/* What `rekey` runs: the daemon reads its keyfile again. Without it, `rekey` answers
 * SUCCESS and does nothing (chronyd without keyfile). fn(ctx) is borrowed; io may be NULL. */
void cmdsrv_on_rekey(struct cmdsrv_io *io, void (*fn)(void *ctx), void *ctx);

/* What `reload sources` runs: the daemon reads its sourcedir files again and adds, keeps or
 * removes sources to match them. Without it, the command answers SUCCESS and does nothing.
 * fn(ctx) is borrowed; io may be NULL (no-op). */
void cmdsrv_on_reload_sources(struct cmdsrv_io *io, void (*fn)(void *ctx), void *ctx);

/* Closes the sockets (unlinking the Unix socket) and frees; NULL is a no-op. */
void cmdsrv_close(struct cmdsrv_io *io);

#endif
