/* os/seccomp: tempusd's system call filter (chronyd's -F LEVEL), built with libseccomp.
 *
 * Levels as chronyd 4.3's -F: 0 no filter; 1 an allow-list of what tempusd makes after
 * initialisation (everything else kills the process); 2 a block-list of a few dangerous calls
 * (fork/exec, ptrace, module loading, mount, ...; everything else allowed). A negative level
 * raises SIGSYS instead of killing (for debugging: the default SIGSYS action dumps core and
 * names the call in the kernel's audit log). Details: docs/SECURITY.md. */
#ifndef TEMPUS_OS_SECCOMP_H
#define TEMPUS_OS_SECCOMP_H

/* 1 when this build can load a filter (libseccomp found at build time), else 0. */
int seccomp_available(void);

/* Loads the filter of level (-2..2) into the calling process, for all its threads, and sets
 * no_new_privs. Level 0 does nothing and returns 0. Call it after the privileges were
 * dropped and everything needing other calls was set up (the filter cannot be removed).
 * 0, -ENOSYS (not built with libseccomp), -EINVAL (bad level) or -errno from libseccomp. */
int seccomp_apply(int level);

#endif
