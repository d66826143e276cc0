/* The `keyfile` directive: reads chrony's key file and parses it (core/keys), logging each
 * refused line as chronyd does (a warning; the other keys are used). Read at start (as root,
 * before the privilege drop) and again on `tempusc rekey` (as the daemon's user: the file
 * must be readable by it, as with chronyd).
 */
#ifndef TEMPUS_DAEMON_KEYFILE_H
#define TEMPUS_DAEMON_KEYFILE_H

#include <stddef.h>
#include <stdint.h>

#include "core/keys.h"
#include "daemon/conf.h"

#define KEYFILE_MAX_BYTES (1024 * 1024) /* larger files are refused */

/* Reads and parses path. A file that cannot be read gives an empty table and the error
 * "Could not open keyfile PATH" (chronyd's). Returns a new table (caller frees with
 * keys_free()), or NULL when memory runs out. */
struct keys *keyfile_load(const char *path);

/* chronyd's start-up warnings for c's sources with a key: "Key N is missing", "Key N is too
 * short" (under 80 bits). */
void keyfile_check_sources(const struct conf *c, const struct keys *keys);

#endif
