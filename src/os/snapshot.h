/* A snapshot one thread publishes and other threads read without locks: a sequence lock whose
 * every shared access is a C11 atomic (H.-J. Boehm, "Can seqlocks get along with programming
 * language memory models?", MSPC 2012), so that it is race-free by the C11 memory model, not
 * only in practice, and ThreadSanitizer has nothing to report.
 *
 * The NTP server workers (`serverworkers`) read the reference state the main thread publishes
 * (stratum, refid, root delay and dispersion, leap, reference time, the clock mapping): the
 * readers never block the writer, the writer never waits for readers, and a reader retries
 * only when it overlapped a publication (which copies SNAPSHOT_BYTES with plain stores).
 *
 * One writer only (the main thread); any number of readers. No allocation, no system call.
 * docs/design/workers.md explains why it is race-free.
 */
#ifndef TEMPUS_OS_SNAPSHOT_H
#define TEMPUS_OS_SNAPSHOT_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

/* Most bytes a snapshot holds. */
#define SNAPSHOT_WORDS 24
#define SNAPSHOT_BYTES (SNAPSHOT_WORDS * 8)

struct snapshot {
    /* odd while the writer is copying; bumped by 2 per publication */
    _Atomic uint64_t seq;
    _Atomic uint64_t words[SNAPSHOT_WORDS];
};

/* An empty snapshot (version 0, all bytes zero). */
void snapshot_init(struct snapshot *s);

/* Publishes len (<= SNAPSHOT_BYTES) bytes of data. The writer's thread only. Readers that
 * overlap it retry; later readers see exactly these bytes. */
void snapshot_publish(struct snapshot *s, const void *data, size_t len);

/* The version of the last complete publication (even; 0 = none yet): cheap (one acquire
 * load) to tell whether a reader's copy is still current. */
static inline uint64_t snapshot_version(const struct snapshot *s)
{
    return atomic_load_explicit(&s->seq, memory_order_acquire) & ~(uint64_t)1;
}

/* Copies the last publication's first len (<= SNAPSHOT_BYTES) bytes into out; returns its
 * version. Never sees half of one publication and half of another. */
uint64_t snapshot_read(const struct snapshot *s, void *out, size_t len);

#endif
