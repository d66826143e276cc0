/* os/seccomp: the -F system call filter (see seccomp.h). */
#include "os/seccomp.h"

#include <errno.h>

#ifdef TEMPUS_HAVE_SECCOMP

#include <fcntl.h>
#include <linux/netlink.h>
#include <sched.h>
#include <seccomp.h>
#include <stddef.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <termios.h>

/* Level 1: what tempusd calls after initialisation, measured with `strace -f -c` on a server
 * and a client tempusd (-x and with clock control) answering tempusc/chronyc, plus what glibc
 * makes on paths a short trace can miss: getaddrinfo_a's resolver thread (clone, futex,
 * rseq...), the resolver itself (files in /etc, DNS over UDP/TCP, nscd's Unix socket,
 * netlink for address sorting), stdio/syslog, qsort (sysinfo), abort() on an assert
 * (tgkill), clock_gettime when the vDSO falls back to the system call. Socket domains,
 * ioctl requests and clone flags are checked separately below. */
static const int allowed[] = {
    /* memory */
    SCMP_SYS(brk),
    SCMP_SYS(mmap),
    SCMP_SYS(munmap),
    SCMP_SYS(mremap),
    SCMP_SYS(mprotect),
    SCMP_SYS(madvise),
    /* time and the clock (clock_adjtime/adjtimex/settime: without -x) */
    SCMP_SYS(clock_gettime),
    SCMP_SYS(clock_getres),
    SCMP_SYS(gettimeofday),
    SCMP_SYS(time),
    SCMP_SYS(clock_adjtime),
    SCMP_SYS(adjtimex),
    SCMP_SYS(clock_settime),
    SCMP_SYS(settimeofday),
    SCMP_SYS(clock_nanosleep),
    SCMP_SYS(nanosleep),
    /* files: drift file (write, fsync, rename), statistics logs, pid file and socket removal
     * at exit, sourcedir re-reads (reload sources), resolver configuration */
    SCMP_SYS(open),
    SCMP_SYS(openat),
    SCMP_SYS(close),
    SCMP_SYS(read),
    SCMP_SYS(pread64),
    SCMP_SYS(readv),
    SCMP_SYS(write),
    SCMP_SYS(writev),
    SCMP_SYS(lseek),
    SCMP_SYS(fstat),
    SCMP_SYS(newfstatat),
    SCMP_SYS(stat),
    SCMP_SYS(lstat),
    SCMP_SYS(statx),
    SCMP_SYS(access),
    SCMP_SYS(faccessat),
    SCMP_SYS(faccessat2),
    SCMP_SYS(rename),
    SCMP_SYS(renameat),
    SCMP_SYS(renameat2),
    SCMP_SYS(unlink),
    SCMP_SYS(unlinkat),
    SCMP_SYS(fsync),
    SCMP_SYS(fdatasync),
    SCMP_SYS(ftruncate),
    SCMP_SYS(fcntl),
    SCMP_SYS(getdents64),
    /* sockets (socket() itself: see the domain rule) */
    SCMP_SYS(bind),
    SCMP_SYS(connect),
    SCMP_SYS(getsockname),
    SCMP_SYS(getpeername),
    SCMP_SYS(setsockopt),
    SCMP_SYS(getsockopt),
    SCMP_SYS(recvfrom),
    SCMP_SYS(recvmsg),
    SCMP_SYS(recvmmsg),
    SCMP_SYS(sendto),
    SCMP_SYS(sendmsg),
    SCMP_SYS(sendmmsg),
    SCMP_SYS(shutdown),
    /* waiting */
    SCMP_SYS(poll),
    SCMP_SYS(ppoll),
    SCMP_SYS(select),
    SCMP_SYS(pselect6),
    /* signals (handlers set flags; abort() on a failed assert) */
    SCMP_SYS(rt_sigaction),
    SCMP_SYS(rt_sigprocmask),
    SCMP_SYS(rt_sigreturn),
    SCMP_SYS(sigaltstack),
    SCMP_SYS(restart_syscall),
    SCMP_SYS(tgkill),
    SCMP_SYS(getpid),
    SCMP_SYS(gettid),
    /* process */
    SCMP_SYS(exit),
    SCMP_SYS(exit_group),
    SCMP_SYS(getuid),
    SCMP_SYS(geteuid),
    SCMP_SYS(getgid),
    SCMP_SYS(getegid),
    SCMP_SYS(getresuid),
    SCMP_SYS(getresgid),
    SCMP_SYS(capget),
    SCMP_SYS(getrandom),
    SCMP_SYS(uname),
    SCMP_SYS(sysinfo),
    SCMP_SYS(sched_yield),
    SCMP_SYS(sched_getaffinity),
    /* threads of getaddrinfo_a (clone itself: see the flag rule) */
    SCMP_SYS(futex),
    SCMP_SYS(set_robust_list),
    SCMP_SYS(get_robust_list),
    SCMP_SYS(rseq),
    SCMP_SYS(set_tid_address),
};

/* Level 2: calls a time daemon never makes and an attacker who took over the process would
 * want (new programs, other processes, the kernel's configuration). */
static const int blocked[] = {
    SCMP_SYS(execve),
    SCMP_SYS(execveat),
    SCMP_SYS(fork),
    SCMP_SYS(vfork),
    SCMP_SYS(ptrace),
    SCMP_SYS(process_vm_readv),
    SCMP_SYS(process_vm_writev),
    SCMP_SYS(kexec_load),
    SCMP_SYS(kexec_file_load),
    SCMP_SYS(init_module),
    SCMP_SYS(finit_module),
    SCMP_SYS(delete_module),
    SCMP_SYS(reboot),
    SCMP_SYS(mount),
    SCMP_SYS(umount2),
    SCMP_SYS(pivot_root),
    SCMP_SYS(chroot),
    SCMP_SYS(swapon),
    SCMP_SYS(swapoff),
    SCMP_SYS(acct),
    SCMP_SYS(bpf),
    SCMP_SYS(perf_event_open),
    SCMP_SYS(userfaultfd),
    SCMP_SYS(unshare),
    SCMP_SYS(setns),
    SCMP_SYS(open_by_handle_at),
    SCMP_SYS(name_to_handle_at),
    SCMP_SYS(iopl),
    SCMP_SYS(ioperm),
    SCMP_SYS(keyctl),
    SCMP_SYS(add_key),
    SCMP_SYS(request_key),
    SCMP_SYS(quotactl),
    SCMP_SYS(syslog),
    SCMP_SYS(vhangup),
    SCMP_SYS(fsopen),
    SCMP_SYS(fsmount),
    SCMP_SYS(fsconfig),
    SCMP_SYS(move_mount),
    SCMP_SYS(open_tree),
    SCMP_SYS(pidfd_getfd),
};

/* Adds one rule; a call this architecture does not have (a negative pseudo number) is
 * skipped. */
static int add(scmp_filter_ctx ctx, uint32_t action, int nr, unsigned n_args,
               const struct scmp_arg_cmp *args)
{
    if (nr < 0)
        return 0;
    return seccomp_rule_add_array(ctx, action, nr, n_args, args);
}

static int build_allow_list(scmp_filter_ctx ctx)
{
    int r = 0;
    for (size_t i = 0; r == 0 && i < sizeof allowed / sizeof allowed[0]; i++)
        r = add(ctx, SCMP_ACT_ALLOW, allowed[i], 0, NULL);
    /* Sockets of the families tempusd and the resolver use (NTP/DNS over IPv4/IPv6, syslog
     * and nscd over Unix sockets, address sorting over netlink); no raw or packet sockets. */
    static const int domains[] = {AF_INET, AF_INET6, AF_UNIX, AF_NETLINK};
    for (size_t i = 0; r == 0 && i < sizeof domains / sizeof domains[0]; i++) {
        struct scmp_arg_cmp a = SCMP_A0(SCMP_CMP_EQ, (scmp_datum_t)domains[i]);
        r = add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(socket), 1, &a);
    }
    /* ioctl: bytes waiting (the resolver) and the terminal check of stdio. */
    static const unsigned long requests[] = {FIONREAD, TCGETS};
    for (size_t i = 0; r == 0 && i < sizeof requests / sizeof requests[0]; i++) {
        struct scmp_arg_cmp a = SCMP_A1(SCMP_CMP_EQ, (scmp_datum_t)requests[i]);
        r = add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(ioctl), 1, &a);
    }
    /* New threads (getaddrinfo_a), never new processes. clone3's flags sit behind a pointer
     * the filter cannot read: ENOSYS makes glibc fall back to clone. */
    if (r == 0) {
        struct scmp_arg_cmp a =
            SCMP_A0(SCMP_CMP_MASKED_EQ, (scmp_datum_t)CLONE_THREAD, (scmp_datum_t)CLONE_THREAD);
        r = add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(clone), 1, &a);
    }
    if (r == 0)
        r = add(ctx, SCMP_ACT_ERRNO(ENOSYS), SCMP_SYS(clone3), 0, NULL);
    return r;
}

static int build_block_list(scmp_filter_ctx ctx, uint32_t action)
{
    int r = 0;
    for (size_t i = 0; r == 0 && i < sizeof blocked / sizeof blocked[0]; i++)
        r = add(ctx, action, blocked[i], 0, NULL);
    if (r == 0) {
        struct scmp_arg_cmp a = SCMP_A0(SCMP_CMP_MASKED_EQ, (scmp_datum_t)CLONE_THREAD, 0);
        r = add(ctx, action, SCMP_SYS(clone), 1, &a);
    }
    if (r == 0)
        r = add(ctx, SCMP_ACT_ERRNO(ENOSYS), SCMP_SYS(clone3), 0, NULL);
    return r;
}

int seccomp_available(void)
{
    return 1;
}

int seccomp_apply(int level)
{
    if (level < -2 || level > 2)
        return -EINVAL;
    if (level == 0)
        return 0;
    uint32_t deny = level > 0 ? SCMP_ACT_KILL_PROCESS : SCMP_ACT_TRAP;
    int allow_list = level == 1 || level == -1;
    scmp_filter_ctx ctx = seccomp_init(allow_list ? deny : SCMP_ACT_ALLOW);
    if (!ctx)
        return -ENOMEM;
    /* All threads: getaddrinfo_a's helper may already exist (a name resolved at start). */
    int r = seccomp_attr_set(ctx, SCMP_FLTATR_CTL_TSYNC, 1);
    if (r == 0)
        r = allow_list ? build_allow_list(ctx) : build_block_list(ctx, deny);
    if (r == 0)
        r = seccomp_load(ctx);
    seccomp_release(ctx);
    return r > 0 ? -r : r;
}

#else /* !TEMPUS_HAVE_SECCOMP */

int seccomp_available(void)
{
    return 0;
}

int seccomp_apply(int level)
{
    if (level < -2 || level > 2)
        return -EINVAL;
    return level == 0 ? 0 : -ENOSYS;
}

#endif
