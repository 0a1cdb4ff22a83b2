/*
 * gc/marker.h -- the marking instance's inline pieces, shared by the
 * files of the trace module (gc/mark.c, gc/ephemeron.c, gc/weakproc.c)
 * and included by no other: setting a mark, a worker's push [M1], the
 * slot check of debug builds, and the entry points each file offers the
 * others.  Not installed.
 */
#ifndef WGC_GC_MARKER_H
#define WGC_GC_MARKER_H

#include "gc/internal.h"

#define SEGMENT_ITEMS 8190

struct mark_segment {
    mark_segment *below, *above;
    void *items[SEGMENT_ITEMS];
};

/* A mark stack entry with this bit set is a key whose waiting ephemerons
 * are to be released [M2]; objects are 16-byte aligned. */
#define EPHEMERON_TAG ((uintptr_t)1)

/* The marking instance of the tracer interface [M4]: its visitor is the
 * first member of a tracer. */
extern const wgc_trace_ops wgc__mark_ops;

static inline bool is_marker(const wgc_visitor *v)
{
    return v->ops == &wgc__mark_ops;
}

static inline tracer *marker_of(wgc_visitor *v)
{
    return (tracer *)v;
}

/* Cold, and kept out of line: inlined into push it lands in the drain
 * loop, and every mark got slower (docs/critical-path.md, Marking). */
__attribute__((noinline, cold)) bool wgc__stack_grow(tracer *t);

static inline void push(tracer *t, void *item)
{
    if (WGC_UNLIKELY(t->sp == t->end) && !wgc__stack_grow(t)) {
        t->overflow = true;
        return;
    }
    *t->sp++ = item;
}

/* Sets obj's mark bit; true if it was not set. */
static inline bool set_mark(wgc_heap *heap, void *obj)
{
    span *s = span_of(obj);
    if (WGC_LIKELY(s->kind == SPAN_SMALL)) {
        page *p = (page *)s;
        size_t g = (size_t)((char *)obj - (char *)p) / WGC_GRANULE;
        uint64_t *word = &p->marks[mark_bits(heap)][g / 64];
        uint64_t bit = (uint64_t)1 << (g % 64);
        if (*word & bit)
            return false;
        *word |= bit;
        return true;
    }
    large *l = (large *)s;
    if (l->mark_epoch == heap->mark_epoch)
        return false;
    l->mark_epoch = heap->mark_epoch;
    return true;
}

/* Marks obj; when that is news, queues what must follow: the release of
 * the ephemerons waiting on it [M2], and its scan unless pointer-free.
 * Returns obj if the caller may scan it itself instead of queueing it. */
static inline void *mark_or_follow(tracer *t, void *obj, bool may_follow)
{
    if (!set_mark(t->v.heap, obj))
        return NULL;
    span *s = span_of(obj);
    if (WGC_UNLIKELY(s->ephemeron_keys))
        push(t, (void *)((uintptr_t)obj | EPHEMERON_TAG));
    if (s->atomic)
        return NULL;
    /* [Y2] Marked is old: from now on a store into it needs the barrier.
     * Its header is about to be read by its scan anyway. */
    if (t->v.heap->generational)
        *header_of(obj) |= WGC_HEADER_BARRIER_;
    if (may_follow)
        return obj;
    push(t, obj);
    return NULL;
}

static inline void mark(tracer *t, void *obj)
{
    mark_or_follow(t, obj, false);
}

/* Debug builds: a slot of any kind (strong, weak, ephemeron key) must
 * hold NULL or a live object of this heap.  Anything else (an interior
 * pointer, another heap's object, a dead object, junk) is misuse, and
 * aborts: a weak slot or key would otherwise be cleared without a word. */
static inline void check_slot(wgc_heap *heap, void *slot, void *obj, const char *kind)
{
#if WGC_DEBUG_CHECKS
    if (WGC_UNLIKELY(!wgc__is_allocated(heap, obj))) {
        char where[160], what[160];
        wgc__explain_slot(heap, heap->tracing, slot, where, sizeof where);
        wgc__explain_target(heap, obj, what, sizeof what);
        wgc__misuse(heap, "%s slot: %s points at %p, not a live object: %s; "
                          "likely a missing root (or a missing write barrier)",
                    kind, where, obj, what);
        abort();
    }
#else
    (void)heap, (void)slot, (void)obj, (void)kind;
#endif
}

/* ========================================================= gc/mark.c */

/* Traces a marked object again (the rescan and the weak fallback). */
void wgc__trace_marked(wgc_heap *heap, void *obj, void *visitor);

/* ===================================================== gc/ephemeron.c */

void wgc__ephemerons_init(trace_state *ts);
void wgc__ephemerons_free(trace_state *ts);
/* The marking instance's ephemeron and weak-map entry [M2]. */
bool wgc__mark_ephemeron(wgc_visitor *v, void *key_slot, void *value_slot,
                         bool by_value);
/* The weak step's part for ephemerons still waiting (their keys died):
 * clears them, notes whether weak-map entries waited on dead keys. */
void wgc__ephemerons_clear_dead(wgc_heap *heap);
/* End of the collection: the side arrays back to the pool (`recycle`, or
 * freed), the tables emptied. */
void wgc__ephemerons_reset(wgc_heap *heap, bool recycle);

/* ====================================================== gc/weakproc.c */

void wgc__weak_init(trace_state *ts);
void wgc__weak_free(trace_state *ts);
void wgc__mark_weak(wgc_visitor *v, void *slot);
void wgc__mark_weak_notify(wgc_visitor *v, void *slot, void *owner,
                           weak_notify_fn notify, uint64_t seq);

#endif
