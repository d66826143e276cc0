/* os/snapshot: a single-writer sequence lock of atomic words (see snapshot.h). */
#include "os/snapshot.h"

#include <assert.h>
#include <string.h>

#include "os/thread.h"

void snapshot_init(struct snapshot *s)
{
    atomic_init(&s->seq, 0);
    for (size_t i = 0; i < SNAPSHOT_WORDS; i++)
        atomic_init(&s->words[i], 0);
}

void snapshot_publish(struct snapshot *s, const void *data, size_t len)
{
    assert(len <= SNAPSHOT_BYTES);
    uint64_t w[SNAPSHOT_WORDS] = {0};
    memcpy(w, data, len);
    /* Only this thread writes seq: a relaxed read of it is its own last store. */
    uint64_t seq = atomic_load_explicit(&s->seq, memory_order_relaxed);
    atomic_store_explicit(&s->seq, seq + 1, memory_order_relaxed);
    /* Orders the odd seq before every word store: a reader that sees a new word also sees
     * (after its acquire fence) a seq that differs from the one it started with. */
    atomic_thread_fence(memory_order_release);
    for (size_t i = 0; i < SNAPSHOT_WORDS; i++)
        atomic_store_explicit(&s->words[i], w[i], memory_order_relaxed);
    /* Release: a reader that acquires seq + 2 sees every word above. */
    atomic_store_explicit(&s->seq, seq + 2, memory_order_release);
}

uint64_t snapshot_read(const struct snapshot *s, void *out, size_t len)
{
    assert(len <= SNAPSHOT_BYTES);
    uint64_t w[SNAPSHOT_WORDS];
    size_t n = (len + 7) / 8;
    for (;;) {
        uint64_t seq1 = atomic_load_explicit(&s->seq, memory_order_acquire);
        if (seq1 & 1) {
            thread_yield(); /* the writer is mid-copy */
            continue;
        }
        for (size_t i = 0; i < n; i++)
            w[i] = atomic_load_explicit(&s->words[i], memory_order_relaxed);
        /* Orders the word loads before the second seq load: if any word came from a later
         * publication, this load sees that publication's odd (or later) seq. */
        atomic_thread_fence(memory_order_acquire);
        uint64_t seq2 = atomic_load_explicit(&s->seq, memory_order_relaxed);
        if (seq1 == seq2) {
            memcpy(out, w, len);
            return seq1;
        }
    }
}
