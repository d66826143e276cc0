/* Files the daemon keeps: atomic replacement (drift file), the pid file, log directories. */
#ifndef TEMPUS_OS_FILES_H
#define TEMPUS_OS_FILES_H

#include <stddef.h>
#include <sys/types.h>

/* Replaces path with len bytes of data so that a crash (kill -9, power loss) leaves either
 * the old or the new content, never a mix: writes path.tmp (mode 0644), fsync()s it, renames
 * it over path, fsync()s the directory. 0 or -errno (path is untouched on failure). */
int files_write_atomic(const char *path, const void *data, size_t len);

/* Reads at most cap - 1 bytes of path into buf, NUL-terminated. Returns the length or -errno. */
int files_read(const char *path, char *buf, size_t cap);

/* Removes path. 0, or -errno (-ENOENT: there was none). */
int files_remove(const char *path);

/* Removes the regular files of dir whose names end in suffix (e.g. ".dat") and are longer
 * than it. Returns how many were removed, or -errno when dir cannot be read. */
int files_remove_suffix(const char *dir, const char *suffix);

/* Creates dir and its missing parents with mode (existing directories are left alone).
 * 0 or -errno. */
int files_mkdir_p(const char *dir, mode_t mode);

/* The pid a pid file names, if that process is alive: > 0; 0 when the file is missing,
 * unreadable, stale or names this process. */
int files_pidfile_owner(const char *path);

/* Writes this process's pid to path (atomically). -EEXIST (and *other_pid set) when a live
 * process already owns it, else 0 or -errno. */
int files_pidfile_claim(const char *path, int *other_pid);

/* Removes path if it names this process. */
void files_pidfile_release(const char *path);

#endif
