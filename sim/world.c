/* Event queue of the simulator: an index min-heap over a pool of events (see world.h). */
#include "sim/world.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

struct event {
    int64_t t_ns;
    uint64_t seq; /* scheduling order: ties in time run first-scheduled first */
    struct simworld_cb cb;
    int a, b;
    size_t len;
    uint8_t data[SIMWORLD_DATA_MAX];
};

struct simworld {
    int64_t now_ns;
    uint64_t next_seq;
    struct event *pool; /* capacity cap */
    size_t cap;
    size_t *heap; /* indices into pool, heap[0] the earliest; n entries */
    size_t n;
    size_t *free_list; /* indices of unused pool entries; nfree entries */
    size_t nfree;
};

struct simworld *simworld_new(void)
{
    struct simworld *w = calloc(1, sizeof(*w));
    return w;
}

void simworld_free(struct simworld *w)
{
    if (!w)
        return;
    free(w->pool);
    free(w->heap);
    free(w->free_list);
    free(w);
}

int64_t simworld_now_ns(const struct simworld *w)
{
    return w->now_ns;
}

const int64_t *simworld_now_ptr(const struct simworld *w)
{
    return &w->now_ns;
}

static int earlier(const struct simworld *w, size_t i, size_t j)
{
    const struct event *x = &w->pool[w->heap[i]], *y = &w->pool[w->heap[j]];
    if (x->t_ns != y->t_ns)
        return x->t_ns < y->t_ns;
    return x->seq < y->seq;
}

static void swap(struct simworld *w, size_t i, size_t j)
{
    size_t t = w->heap[i];
    w->heap[i] = w->heap[j];
    w->heap[j] = t;
}

static void sift_up(struct simworld *w, size_t i)
{
    while (i > 0) {
        size_t p = (i - 1) / 2;
        if (!earlier(w, i, p))
            break;
        swap(w, i, p);
        i = p;
    }
}

static void sift_down(struct simworld *w, size_t i)
{
    for (;;) {
        size_t l = 2 * i + 1, r = l + 1, m = i;
        if (l < w->n && earlier(w, l, m))
            m = l;
        if (r < w->n && earlier(w, r, m))
            m = r;
        if (m == i)
            break;
        swap(w, i, m);
        i = m;
    }
}

static int grow(struct simworld *w)
{
    size_t cap = w->cap ? w->cap * 2 : 64;
    struct event *pool = realloc(w->pool, cap * sizeof(*pool));
    if (!pool)
        return -ENOMEM;
    w->pool = pool;
    size_t *heap = realloc(w->heap, cap * sizeof(*heap));
    if (!heap)
        return -ENOMEM;
    w->heap = heap;
    size_t *fl = realloc(w->free_list, cap * sizeof(*fl));
    if (!fl)
        return -ENOMEM;
    w->free_list = fl;
    /* New entries go on the free list highest first so that low indices are used first. */
    for (size_t i = cap; i > w->cap; i--)
        w->free_list[w->nfree++] = i - 1;
    w->cap = cap;
    return 0;
}

int simworld_schedule(struct simworld *w, int64_t t_ns, struct simworld_cb cb, int a, int b,
                      const uint8_t *data, size_t len)
{
    if (len > SIMWORLD_DATA_MAX || !cb.fn)
        return -EINVAL;
    if (w->nfree == 0) {
        int r = grow(w);
        if (r < 0)
            return r;
    }
    size_t idx = w->free_list[--w->nfree];
    struct event *ev = &w->pool[idx];
    ev->t_ns = t_ns < w->now_ns ? w->now_ns : t_ns;
    ev->seq = w->next_seq++;
    ev->cb = cb;
    ev->a = a;
    ev->b = b;
    ev->len = len;
    if (len)
        memcpy(ev->data, data, len);
    w->heap[w->n] = idx;
    sift_up(w, w->n);
    w->n++;
    return 0;
}

int64_t simworld_next_ns(const struct simworld *w)
{
    return w->n ? w->pool[w->heap[0]].t_ns : INT64_MAX;
}

int simworld_run_one(struct simworld *w)
{
    if (!w->n)
        return 0;
    size_t idx = w->heap[0];
    w->n--;
    if (w->n) {
        w->heap[0] = w->heap[w->n];
        sift_down(w, 0);
    }
    /* Copy the event out before the callback: the callback may schedule, which can reuse
     * this entry or move the pool (realloc). */
    struct event *ev = &w->pool[idx];
    w->now_ns = ev->t_ns;
    struct simworld_cb cb = ev->cb;
    int a = ev->a, b = ev->b;
    size_t len = ev->len;
    uint8_t data[SIMWORLD_DATA_MAX];
    if (len)
        memcpy(data, ev->data, len);
    w->free_list[w->nfree++] = idx;
    cb.fn(cb.ctx, a, b, data, len);
    return 1;
}

uint64_t simworld_run_until(struct simworld *w, int64_t end_ns)
{
    uint64_t count = 0;
    while (w->n && w->pool[w->heap[0]].t_ns <= end_ns) {
        simworld_run_one(w);
        count++;
    }
    if (end_ns > w->now_ns)
        w->now_ns = end_ns;
    return count;
}

size_t simworld_pending(const struct simworld *w)
{
    return w->n;
}
