/*
 * gc/mark.c -- the tracer: the tracer interface (wgc_visit, its marking
 * instance [M4]), one worker's worklist, the drain, the overflow rescan
 * and convergence (phases 1 and 2 of the collection, docs/gc.md "The
 * trace module").  Ephemerons are gc/ephemeron.c [M2], weak processing
 * gc/weakproc.c [M3].
 *
 * [M1] Marking never recurses in C: marked objects wait on an explicit
 *      stack of segments, the worker's (struct tracer).  When a segment
 *      cannot be had, the object stays marked but unscanned and the
 *      worker's overflow is set; the collection then rescans the marked
 *      objects of the whole heap until nothing new is marked.  So marking
 *      needs no memory to be correct, only to be fast.
 * [M4] Every walk over slots is an instance of wgc_trace_ops; only the
 *      trace module tells them apart, and only to inline the marker.
 */
#include "gc/ephemeron.h"
#include "gc/sort.h"

/* ============================================================ mark stack */

bool wgc__stack_grow(tracer *t)
{
    mark_segment *seg = t->stack ? t->stack->above : NULL;
    if (!seg) {
        seg = wgc__malloc(t->v.heap, sizeof *seg);
        if (!seg)
            return false;
        seg->below = t->stack;
        seg->above = NULL;
        if (t->stack)
            t->stack->above = seg;
    }
    t->stack = seg;
    t->base = t->sp = seg->items;
    t->end = seg->items + SEGMENT_ITEMS;
    return true;
}

static void *pop(tracer *t)
{
    while (t->sp == t->base) {
        if (!t->stack || !t->stack->below)
            return NULL;
        t->stack = t->stack->below;
        t->base = t->stack->items;
        t->sp = t->end = t->base + SEGMENT_ITEMS;
    }
    return *--t->sp;
}

static void stack_free(tracer *t)
{
    mark_segment *seg = t->stack;
    while (seg && seg->above)
        seg = seg->above;
    while (seg) {
        mark_segment *below = seg->below;
        free(seg);
        seg = below;
    }
    t->stack = NULL;
    t->sp = t->base = t->end = NULL;
}

void wgc__trace_init(wgc_heap *heap)
{
    trace_state *ts = &heap->trace;
    ts->marker = (tracer){.v = {heap, &wgc__mark_ops}};
    wgc__weak_init(ts);
    wgc__ephemerons_init(ts);
}

void wgc__trace_free(wgc_heap *heap)
{
    stack_free(&heap->trace.marker);
    wgc__weak_free(&heap->trace);
    wgc__ephemerons_free(&heap->trace);
}

/* ======================================================== the interface */

static void mark_strong(wgc_visitor *v, void *slot)
{
    void *obj = slot_load(slot);
    check_slot(v->heap, slot, obj, "strong");
    mark(marker_of(v), obj);
}

const wgc_trace_ops wgc__mark_ops = {
    .strong = mark_strong,
    .weak = wgc__mark_weak,
    .weak_notify = wgc__mark_weak_notify,
    .ephemeron = wgc__mark_ephemeron,
    .inspects = false,
};

/* The marker is tested for and inlined: it is most calls, from trace
 * callbacks (docs/critical-path.md, "The tracer interface"). */
void wgc_visit(wgc_visitor *v, void *slot)
{
    void *obj = slot_load(slot);
    if (!obj)
        return;
    if (WGC_LIKELY(is_marker(v))) {
        check_slot(v->heap, slot, obj, "strong");
        mark(marker_of(v), obj);
        return;
    }
    v->ops->strong(v, slot);
}

void wgc_visit_value(wgc_visitor *v, void *obj)
{
    /* Nothing moves: the object is all marking needs, the slot a copy. */
    wgc_visit(v, &obj);
}

void wgc_visit_array(wgc_visitor *v, void *slots, size_t count)
{
    char *s = slots;
    if (is_marker(v) && !WGC_DEBUG_CHECKS) {
        tracer *t = marker_of(v);
        for (size_t i = 0; i < count; i++) {
            void *obj = slot_load(s + i * sizeof(void *));
            if (obj)
                mark(t, obj);
        }
        return;
    }
    for (size_t i = 0; i < count; i++)
        wgc_visit(v, s + i * sizeof(void *));
}

/* ============================================================ the phases */

void wgc__mark_roots(wgc_heap *heap)
{
    tracer *t = &heap->trace.marker;
    /* A type's descriptor may have been freed and another made at its
     * address since the last collection. */
    t->tc = (type_cache){0, 0, NULL};
    wgc__roots_trace(heap, &t->v);
}

WGC_DEFINE_RADIX_SORT(radix_by_address, void *, (uintptr_t)x)

/* Puts the remembered objects in address order: they were remembered in
 * the order the program stored into them, often random, and scanning them
 * so costs a cache miss each (docs/critical-path.md, the generational
 * mode).  A radix sort over the address bits in which they differ;
 * unsorted when the scratch buffer cannot be had (slower, as correct). */
static void sort_by_address(wgc_heap *heap, void **items, size_t n)
{
    enum { SMALL = 4096 };
    if (n < SMALL)
        return;
    uintptr_t differ = 0;
    for (size_t i = 1; i < n; i++)
        differ |= (uintptr_t)items[i] ^ (uintptr_t)items[0];
    void **scratch = n <= SIZE_MAX / sizeof *scratch
                         ? wgc__malloc(heap, n * sizeof *scratch) : NULL;
    if (!scratch)
        return;
    radix_by_address(items, scratch, n, 4, differ);
    free(scratch);
}

/* [Y1] A minor collection scans the remembered objects, although they are
 * marked (old): they are the only old objects that may point to young
 * ones [Y3].  Each gets its barrier bit back: after this collection all
 * that it points to is old. */
void wgc__mark_remembered(wgc_heap *heap)
{
    tracer *t = &heap->trace.marker;
    void **items = (void **)heap->remembered.items;
    sort_by_address(heap, items, heap->remembered.count);
    for (size_t i = 0; i < heap->remembered.count; i++) {
        *header_of(items[i]) |= WGC_HEADER_BARRIER_;
        push(t, items[i]);
    }
    heap->remembered.count = 0;
}

void wgc__trace_object(void *obj, wgc_visitor *v)
{
    const wgc_type *t = type_of(obj);
    for (uint64_t words = t->pointer_words; words; words &= words - 1)
        wgc_visit(v, (void **)obj + __builtin_ctzll(words));
    if (t->trace)
        t->trace(obj, v);
}

/* The first word of a span as the drain reads it: kind, atomic and
 * ephemeron_keys at once, one load and one compare for the usual child. */
_Static_assert(offsetof(span, owner) == sizeof(uint64_t), "span head is one word");

static inline uint64_t span_head(const span *s)
{
    uint64_t w;
    memcpy(&w, s, sizeof w);
    return w;
}

/* The head of a small page of traced objects without waiting ephemerons
 * (folded to a constant). */
static inline uint64_t small_traced_head(void)
{
    span s = {.kind = SPAN_SMALL};
    return span_head(&s);
}

/* Sets the mark bit of obj, on the small page s, in the bitmap `marks`
 * bytes into s; true if it was not set. */
static inline bool page_mark(span *s, size_t marks, void *obj)
{
    size_t g = ((uintptr_t)obj & (WGC_PAGE_SIZE - 1)) / WGC_GRANULE;
    uint64_t *word = (uint64_t *)((char *)s + marks) + g / 64;
    uint64_t w = *word;
    if ((w >> (g % 64)) & 1)
        return false;
    *word = w | (uint64_t)1 << (g % 64);
    return true;
}

/* The drain's stack pointer in a register.  Everything the drain calls
 * that may touch t's stack (trace callbacks, releases, a segment change,
 * the rare slow paths) gets it back in t first (SYNC_OUT) and hands it
 * back after (SYNC_IN): kept in t, each push and pop was a store and a
 * reload.  The segment's bounds stay in t, compared in memory: a register
 * each would spill something used more. */
#define SYNC_OUT() (t->sp = sp)
#define SYNC_IN() (sp = t->sp)
#define LOCAL_PUSH(item)                                                     \
    do {                                                                     \
        if (WGC_LIKELY(sp != t->end)) {                                      \
            *sp++ = (item);                                                  \
        } else {                                                             \
            SYNC_OUT();                                                      \
            push(t, (item));                                                 \
            SYNC_IN();                                                       \
        }                                                                    \
    } while (0)

/* A child not on a small page (a large object): mark, out of the loop.
 * (Debug builds mark through wgc_visit and do not call it.) */
__attribute__((noinline, unused)) static void mark_child_slow(tracer *t, void *obj)
{
    mark(t, obj);
}

/* Whether a and b are neighbours in memory (either way): objects of up to
 * 48 bytes, one cell apart.  Wider, and a top-down tree's children two
 * cells away were scanned unprefetched (docs/critical-path.md, Marking). */
#define NEAR_BYTES 64
static inline bool near(const void *a, const void *b)
{
    return (uintptr_t)a - (uintptr_t)b + NEAR_BYTES < 2 * NEAR_BYTES;
}

/* Objects wait in a FIFO after leaving the mark stack, their header
 * prefetched, so that scanning one overlaps fetching the next ones.  The
 * depth measured best on trees (docs/critical-path.md, Marking); a power
 * of two, for the ring's index. */
#define PREFETCH_DEPTH 64
_Static_assert((PREFETCH_DEPTH & (PREFETCH_DEPTH - 1)) == 0, "a power of two");

/* Empties t's worklist.  The scan is inline: the layout's words are marked
 * here, without a call per field, and only trace is called back; every
 * newly marked child is pushed.  The type cache, the stack pointer and the heap's loop-invariant fields are
 * locals meanwhile: trace callbacks are calls, after which anything in
 * memory would be read again.  Inline with a constant `generational`:
 * one copy of the loop per mode, with no test of the mode in it. */
static inline __attribute__((always_inline)) void drain_mode(tracer *t, bool generational)
{
    wgc_heap *heap = t->v.heap;
    type_cache tc = t->tc;
    const size_t marks = offsetof(page, marks) + mark_bits(heap) * sizeof(((page *)0)->marks[0]);
    const uint64_t small = small_traced_head();
    void **sp = t->sp;
    void *ring[PREFETCH_DEPTH];
    unsigned head = 0, tail = 0; /* queued: tail - head */
    void *last = NULL;           /* the object scanned last */
    for (;;) {
        void *obj;
        /* Depth first, without the FIFO, while the stack's top lies
         * beside the object scanned last (the hardware's prefetch then has
         * it: trees built bottom-up, lists in allocation order), or when
         * it is all that waits (a list: no use in prefetching what is
         * scanned next). */
        if (sp != t->base) {
            void *top = sp[-1];
            if ((near(top, last) || (tail == head && sp - 1 == t->base)) &&
                !((uintptr_t)top & EPHEMERON_TAG)) {
                sp--;
                obj = top;
                goto scan;
            }
        }
        while (tail - head < PREFETCH_DEPTH) {
            void *item;
            if (WGC_LIKELY(sp != t->base)) {
                item = *--sp;
            } else {
                SYNC_OUT();
                item = pop(t);
                SYNC_IN();
                if (!item)
                    break;
            }
            if ((uintptr_t)item & EPHEMERON_TAG) {
                SYNC_OUT();
                ephemerons_release(t, (void *)((uintptr_t)item & ~EPHEMERON_TAG));
                SYNC_IN();
                continue;
            }
            /* The header, and the fields where they start a new line. */
            __builtin_prefetch(header_of(item));
            __builtin_prefetch(item);
            ring[tail++ % PREFETCH_DEPTH] = item;
        }
        if (tail == head)
            break;
        obj = ring[head++ % PREFETCH_DEPTH];
    scan:;
#if WGC_DEBUG_CHECKS
        heap->tracing = obj;
        SYNC_OUT();
        wgc__trace_object(obj, &t->v); /* wgc_visit checks every slot */
        SYNC_IN();
        (void)small, (void)marks, (void)generational;
#else
        uintptr_t header = *header_of(obj);
        if (WGC_UNLIKELY(header != tc.header)) {
            const wgc_type *ty = type_of(obj);
            tc = (type_cache){header, ty->pointer_words, ty->trace};
        }
        for (uint64_t words = tc.words; words; words &= words - 1) {
            void *child = slot_load((void **)obj + (unsigned)__builtin_ctzll(words));
            if (!child)
                continue;
            span *s = span_of(child);
            uint64_t sh = span_head(s);
            if (WGC_LIKELY(sh == small)) {
                if (!page_mark(s, marks, child))
                    continue;
            } else if (s->kind == SPAN_SMALL) {
                /* mark_or_follow's general path, the page known small. */
                if (!page_mark(s, marks, child))
                    continue;
                if (s->ephemeron_keys)
                    LOCAL_PUSH((void *)((uintptr_t)child | EPHEMERON_TAG));
                if (s->atomic)
                    continue;
            } else {
                SYNC_OUT();
                mark_child_slow(t, child);
                SYNC_IN();
                continue;
            }
            /* [Y2] Marked is old: from now on a store into it needs the
             * barrier.  Its header is about to be read by its scan
             * anyway. */
            if (generational)
                *header_of(child) |= WGC_HEADER_BARRIER_;
            LOCAL_PUSH(child);
        }
        if (WGC_UNLIKELY(tc.trace != NULL)) {
            SYNC_OUT();
            tc.trace(obj, &t->v);
            SYNC_IN();
        }
#endif
        last = obj;
    }
#if WGC_DEBUG_CHECKS
    heap->tracing = NULL;
#endif
    SYNC_OUT();
    t->tc = tc;
}

#undef LOCAL_PUSH
#undef SYNC_IN
#undef SYNC_OUT

static void drain(tracer *t)
{
    if (t->v.heap->generational)
        drain_mode(t, true);
    else
        drain_mode(t, false);
}

void wgc__mark_drain(wgc_heap *heap)
{
    drain(&heap->trace.marker);
}

void wgc__trace_marked(wgc_heap *heap, void *obj, void *visitor)
{
    (void)heap;
    wgc__trace_object(obj, visitor);
}

/* Every object marked so far, pointer-free ones included: a newly marked
 * pointer-free key can release an ephemeron as well as any other. */
static size_t marked_count(wgc_heap *heap)
{
    size_t n = 0;
    SPACE_EACH_PAGE(&heap->space, it)
        n += page_marked_cells(it.p, mark_bits(heap));
    SPACE_EACH_LARGE(&heap->space, l)
        n += l->mark_epoch == heap->mark_epoch;
    return n;
}

/* Drains the mark stack; after an overflow [M1] or when an ephemeron could
 * not wait [M2], rescans every marked object until nothing new is marked. */
void wgc__mark_converge(wgc_heap *heap)
{
    tracer *t = &heap->trace.marker;
    drain(t);
    while (t->overflow || heap->trace.ephemeron_overflow) {
        size_t before = marked_count(heap);
        t->overflow = false;
        wgc__roots_trace(heap, &t->v);
        wgc__each_object(heap, true, wgc__trace_marked, &t->v);
        drain(t);
        if (!t->overflow && marked_count(heap) == before)
            break;
    }
    /* [M1] Converged: nothing marked is left unscanned. */
    WGC_ASSERT_IN(heap, t->sp == t->base && !t->overflow);
    heap->stats.ephemerons_resolved += t->ephemerons_resolved;
    t->ephemerons_resolved = 0;
}

/* [G10] Between collections the trace state is empty: no work left on the
 * worklist [M1], no weak slot or ephemeron recorded [M2] [M3], no
 * overflow pending, every span's ephemeron heads given back. */
bool wgc__trace_check(wgc_heap *heap)
{
    const trace_state *ts = &heap->trace;
    const tracer *t = &ts->marker;
    if (t->v.heap != heap || t->v.ops != &wgc__mark_ops)
        return wgc__check_fail(heap, "marker %p: visitor of heap %p, ops %p",
                               (const void *)t, (void *)t->v.heap,
                               (const void *)t->v.ops);
    if (t->sp != t->base || (t->stack && t->stack->below) || t->overflow)
        return wgc__check_fail(heap, "marker %p: worklist not empty between "
                               "collections (%zu in its top segment, %s below, "
                               "overflow %d) [M1]", (const void *)t,
                               (size_t)(t->sp - t->base),
                               t->stack && t->stack->below ? "segments" : "none",
                               t->overflow);
    if (ts->weak_records.count || ts->weak_slots.count || ts->weak_overflow)
        return wgc__check_fail(heap, "trace state: %zu weak records, %zu weak "
                               "slots, overflow %d left from the last collection "
                               "[M3]", ts->weak_records.count, ts->weak_slots.count,
                               ts->weak_overflow);
    if (ts->ephemerons.count || ts->ephemeron_spans.count || ts->ephemeron_overflow)
        return wgc__check_fail(heap, "trace state: %zu ephemerons, %zu spans with "
                               "heads, overflow %d left from the last collection "
                               "[M2]", ts->ephemerons.count,
                               ts->ephemeron_spans.count, ts->ephemeron_overflow);
    return true;
}
