/* os/snapshot (the workers' lock-free reference publication) and os/thread. */
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "os/snapshot.h"
#include "os/thread.h"

/* A publication whose every word says which publication it is: a torn read (words of two
 * publications) cannot pass check(). */
struct pub {
    uint64_t gen;
    uint64_t w[SNAPSHOT_WORDS - 1];
};

static void fill(struct pub *p, uint64_t gen)
{
    p->gen = gen;
    for (size_t i = 0; i < SNAPSHOT_WORDS - 1; i++)
        p->w[i] = gen * 0x9e3779b97f4a7c15ULL + i;
}

static int check(const struct pub *p)
{
    for (size_t i = 0; i < SNAPSHOT_WORDS - 1; i++)
        if (p->w[i] != p->gen * 0x9e3779b97f4a7c15ULL + i)
            return 0;
    return 1;
}

static void test_single_thread(void **state)
{
    (void)state;
    static struct snapshot s;
    snapshot_init(&s);
    assert_int_equal(snapshot_version(&s), 0);
    struct pub p, q;
    memset(&q, 0xAA, sizeof q);
    assert_int_equal(snapshot_read(&s, &q, sizeof q), 0);
    assert_int_equal(q.gen, 0);
    assert_int_equal(q.w[SNAPSHOT_WORDS - 2], 0);
    for (uint64_t g = 1; g <= 5; g++) {
        fill(&p, g);
        snapshot_publish(&s, &p, sizeof p);
        assert_int_equal(snapshot_version(&s), 2 * g);
        assert_int_equal(snapshot_read(&s, &q, sizeof q), 2 * g);
        assert_memory_equal(&p, &q, sizeof p);
    }
    /* a shorter publication: the bytes past it read as zero, a shorter read takes a prefix */
    uint32_t small = 0x12345678u, back = 0;
    snapshot_publish(&s, &small, sizeof small);
    assert_int_equal(snapshot_read(&s, &q, sizeof q), 12);
    assert_int_equal(q.gen, 0x12345678u);
    assert_int_equal(q.w[0], 0);
    assert_int_equal(snapshot_read(&s, &back, sizeof back), 12);
    assert_int_equal(back, small);
}

#define N_PUBLISH 200000
#define N_READERS 2

struct stress {
    struct snapshot snap;
    atomic_int done;
    /* per reader */
    long reads[N_READERS];
    long torn[N_READERS];
    long backwards[N_READERS];
    long stale_version[N_READERS];
};

struct reader_arg {
    struct stress *st;
    int i;
};

static void writer(void *arg)
{
    struct stress *st = arg;
    struct pub p;
    for (uint64_t g = 1; g <= N_PUBLISH; g++) {
        fill(&p, g);
        snapshot_publish(&st->snap, &p, sizeof p);
    }
    atomic_store(&st->done, 1);
}

static void reader(void *arg)
{
    struct reader_arg *a = arg;
    struct stress *st = a->st;
    uint64_t last = 0;
    struct pub p;
    /* read at least until the writer is done, and a little more */
    for (int after = 0; after < 1000;) {
        if (atomic_load(&st->done))
            after++;
        uint64_t v = snapshot_read(&st->snap, &p, sizeof p);
        st->reads[a->i]++;
        if (v == 0) { /* nothing published yet: all zero */
            struct pub zero;
            memset(&zero, 0, sizeof zero);
            if (memcmp(&p, &zero, sizeof p) != 0)
                st->torn[a->i]++;
            continue;
        }
        if (!check(&p))
            st->torn[a->i]++;
        if (p.gen < last)
            st->backwards[a->i]++;
        if (v != 2 * p.gen) /* the version names the publication read */
            st->stale_version[a->i]++;
        last = p.gen;
    }
}

/* One writer publishing as fast as it can, two readers reading as fast as they can (on this
 * 2-core machine, they overlap often): no read is torn, none goes back in time, each version
 * names the data read, and the last read sees the last publication. */
static void test_concurrent(void **state)
{
    (void)state;
    static struct stress st;
    memset(&st, 0, sizeof st);
    snapshot_init(&st.snap);
    atomic_init(&st.done, 0);
    struct thread w, r[N_READERS];
    struct reader_arg ra[N_READERS];
    for (int i = 0; i < N_READERS; i++) {
        ra[i] = (struct reader_arg){&st, i};
        assert_int_equal(thread_start(&r[i], reader, &ra[i]), 0);
    }
    assert_int_equal(thread_start(&w, writer, &st), 0);
    thread_join(&w);
    for (int i = 0; i < N_READERS; i++)
        thread_join(&r[i]);
    struct pub p;
    assert_int_equal(snapshot_read(&st.snap, &p, sizeof p), 2 * N_PUBLISH);
    assert_int_equal(p.gen, N_PUBLISH);
    for (int i = 0; i < N_READERS; i++) {
        print_message("reader %d: %ld reads\n", i, st.reads[i]);
        assert_true(st.reads[i] >= 1000);
        assert_int_equal(st.torn[i], 0);
        assert_int_equal(st.backwards[i], 0);
        assert_int_equal(st.stale_version[i], 0);
    }
}

struct torn_arg {
    struct stress *st;
    long torn, reads;
};

/* What the sequence lock prevents: the words read one by one (atomically, so without a data
 * race) but without the sequence check. */
static void unlocked_reader(void *arg)
{
    struct torn_arg *a = arg;
    struct pub p;
    uint64_t w[SNAPSHOT_WORDS];
    while (!atomic_load(&a->st->done)) {
        for (size_t i = 0; i < SNAPSHOT_WORDS; i++)
            w[i] = atomic_load_explicit(&a->st->snap.words[i], memory_order_relaxed);
        memcpy(&p, w, sizeof p);
        if (p.gen == 0) /* nothing published yet */
            continue;
        a->reads++;
        if (!check(&p))
            a->torn++;
    }
}

/* The stress test has the power to see a torn read: the same writer against a reader that
 * skips the sequence check sees torn copies (skipped if the machine never ran the two threads
 * at the same time in three tries). */
static void test_unlocked_reads_tear(void **state)
{
    (void)state;
    static struct stress st;
    for (int attempt = 0; attempt < 3; attempt++) {
        memset(&st, 0, sizeof st);
        snapshot_init(&st.snap);
        atomic_init(&st.done, 0);
        struct torn_arg a = {&st, 0, 0};
        struct thread w, r;
        assert_int_equal(thread_start(&r, unlocked_reader, &a), 0);
        assert_int_equal(thread_start(&w, writer, &st), 0);
        thread_join(&w);
        thread_join(&r);
        print_message("unlocked reader: %ld torn of %ld reads\n", a.torn, a.reads);
        if (a.torn > 0)
            return;
    }
    skip();
}

struct sigarg {
    atomic_int ready;
    int blocked;
};

static void sig_probe(void *arg)
{
    struct sigarg *a = arg;
    sigset_t cur;
    pthread_sigmask(SIG_SETMASK, NULL, &cur);
    a->blocked = sigismember(&cur, SIGTERM) && sigismember(&cur, SIGINT) &&
                 sigismember(&cur, SIGHUP) && sigismember(&cur, SIGUSR1);
    atomic_store(&a->ready, 1);
}

/* Threads start with every signal blocked (SIGTERM must reach the main thread's poll), and
 * the creator's own mask is unchanged. */
static void test_thread_signals(void **state)
{
    (void)state;
    sigset_t before, after;
    pthread_sigmask(SIG_SETMASK, NULL, &before);
    struct sigarg a = {.blocked = 0};
    atomic_init(&a.ready, 0);
    struct thread t;
    assert_int_equal(thread_start(&t, sig_probe, &a), 0);
    thread_join(&t);
    assert_int_equal(atomic_load(&a.ready), 1);
    assert_int_equal(a.blocked, 1);
    pthread_sigmask(SIG_SETMASK, NULL, &after);
    assert_int_equal(sigismember(&before, SIGTERM), sigismember(&after, SIGTERM));
    assert_int_equal(sigismember(&after, SIGTERM), 0);
    thread_join(&t); /* joined already: a no-op */
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_single_thread),
        cmocka_unit_test(test_concurrent),
        cmocka_unit_test(test_unlocked_reads_tear),
        cmocka_unit_test(test_thread_signals),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
