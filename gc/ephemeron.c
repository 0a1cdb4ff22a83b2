/*
 * gc/ephemeron.c -- ephemerons during marking: waiting on their key,
 * released when it is marked, cleared in the weak step when it is not
 * (docs/gc.md "The trace module", docs/weak.md W12).
 *
 * [M2] An ephemeron whose key is unmarked waits in a table keyed by the
 *      key (a word per object in a side array of its span: the lone
 *      key/value pair itself, or a list of records); the span of the key
 *      counts its waiting keys so marking any object costs one extra test.
 *      Marking a key pushes a tagged entry that releases exactly the
 *      ephemerons waiting on it: linear time.
 *
 * The ephemerons still waiting after convergence are examined in the weak
 * step ([M3], gc/weakproc.c calls wgc__ephemerons_clear_dead).
 */
#include "gc/ephemeron.h"

void wgc__ephemerons_init(trace_state *ts)
{
    wgc__vec_init(&ts->ephemerons, sizeof(ephemeron));
    wgc__vec_init(&ts->ephemeron_spans, sizeof(span *));
    wgc__vec_init(&ts->ephemeron_head_pool, sizeof(uintptr_t *));
}

void wgc__ephemerons_free(trace_state *ts)
{
    wgc__vec_free(&ts->ephemerons);
    wgc__vec_free(&ts->ephemeron_spans);
    for (size_t i = 0; i < ts->ephemeron_head_pool.count; i++)
        free(VEC_AT(&ts->ephemeron_head_pool, uintptr_t *, i));
    wgc__vec_free(&ts->ephemeron_head_pool);
}

/* Gives span s its side array of heads, zero; false if out of memory.
 * Pages reuse the arrays of the last collection; a large object needs one
 * word. */
static bool heads_attach(wgc_heap *heap, span *s)
{
    trace_state *ts = &heap->trace;
    vec *pool = &ts->ephemeron_head_pool;
    span **listed = wgc__vec_push(heap, &ts->ephemeron_spans);
    if (!listed)
        return false;
    if (s->kind == SPAN_LARGE)
        s->ephemeron_heads = wgc__calloc(heap, 1, sizeof *s->ephemeron_heads);
    else if (pool->count)
        s->ephemeron_heads = VEC_AT(pool, uintptr_t *, --pool->count);
    else
        s->ephemeron_heads = wgc__calloc(heap, WGC_PAGE_GRANULES,
                                         sizeof *s->ephemeron_heads);
    if (!s->ephemeron_heads) {
        ts->ephemeron_spans.count--;
        return false;
    }
    *listed = s;
    return true;
}

/* Makes the ephemeron wait for its key [M2], by its value if `by_value`;
 * false if out of memory.  Kept out of line, and visit_ephemeron inline in
 * its callers: a weak map traced in order (its keys marked) then pays no
 * call per entry (docs/critical-path.md, Ephemerons). */
__attribute__((noinline))
static bool ephemeron_wait(wgc_heap *heap, void *key, void *key_slot,
                           void *value_slot, bool by_value)
{
    span *s = span_of(key);
    if (WGC_UNLIKELY(!s->ephemeron_heads) && !heads_attach(heap, s))
        return false;
    uintptr_t *head = waiting_head(s, key);
    uintptr_t old = *head;
    if (by_value) {
        key_slot = NULL;
        value_slot = slot_load(value_slot);
    }
    if (old == 0 && by_value) {
        *head = (uintptr_t)value_slot | WAIT_VALUE; /* objects: 16-aligned */
    } else if (old == 0 && ((uintptr_t)key_slot & WAIT_TAGS) == 0 &&
               (char *)value_slot == (char *)key_slot + sizeof(void *)) {
        *head = (uintptr_t)key_slot;
    } else {
        vec *records = &heap->trace.ephemerons;
        ephemeron *e = wgc__vec_push(heap, records);
        if (!e)
            return false;
        *e = (ephemeron){key_slot, value_slot, old};
        *head = ((uintptr_t)(records->count - 1) << 2) | WAIT_RECORD;
    }
    if (old == 0)
        s->ephemeron_keys++;
    return true;
}

/* The marking instance's ephemeron, inline in the public entry points. */
static inline bool mark_ephemeron(wgc_visitor *v, void *key, void *key_slot,
                                  void *value_slot, bool by_value)
{
    wgc_heap *heap = v->heap;
    check_slot(heap, key_slot, key, "ephemeron key");
    if (is_marked(heap, key)) {
        tracer *t = marker_of(v);
        t->ephemerons_resolved++;
        void *value = slot_load(value_slot); /* wgc_visit's marking path */
        if (value) {
            check_slot(heap, value_slot, value, "strong");
            mark(t, value);
        }
        return false;
    }
    if (!heap->trace.ephemeron_overflow &&
        !ephemeron_wait(heap, key, key_slot, value_slot, by_value))
        heap->trace.ephemeron_overflow = true;
    return true;
}

bool wgc__mark_ephemeron(wgc_visitor *v, void *key_slot, void *value_slot,
                         bool by_value)
{
    return mark_ephemeron(v, slot_load(key_slot), key_slot, value_slot, by_value);
}

static inline bool visit_ephemeron(wgc_visitor *v, void *key_slot,
                                   void *value_slot, bool by_value)
{
    void *key = slot_load(key_slot);
    if (!key)
        return false;
    if (WGC_LIKELY(is_marker(v)))
        return mark_ephemeron(v, key, key_slot, value_slot, by_value);
    return v->ops->ephemeron(v, key_slot, value_slot, by_value);
}

void wgc_visit_ephemeron(wgc_visitor *v, void *key_slot, void *value_slot)
{
    visit_ephemeron(v, key_slot, value_slot, false);
}

bool wgc__visit_entry(wgc_visitor *v, void *key_slot, void *value_slot)
{
    return visit_ephemeron(v, key_slot, value_slot, true);
}

/* ======================================================= the weak step */

/* Ephemerons still waiting: their keys died.  Only spans that still count
 * waiting keys are looked at [M2], each up to its last waiting key; their
 * heads are left zero for the next collection.  A key marked while the
 * mark stack overflowed [M1] may still have waiters (its release was lost,
 * the rescan traced their values): they are only unhooked. */
void wgc__ephemerons_clear_dead(wgc_heap *heap)
{
    trace_state *ts = &heap->trace;
    bool entries_died = false;
    vec *spans = &ts->ephemeron_spans;
    for (size_t i = 0; i < spans->count; i++) {
        span *sp = VEC_AT(spans, span *, i);
        uint32_t left = sp->ephemeron_keys;
        uintptr_t *h = sp->ephemeron_heads;
        uintptr_t *end = h + (sp->kind == SPAN_LARGE ? 1 : WGC_PAGE_GRANULES);
        for (; left && h < end; h++) {
            uintptr_t w = *h;
            if (!w)
                continue;
            *h = 0;
            left--;
            do {
                void *key_slot, *value_slot;
                w = waiting_slots(ts, w, &key_slot, &value_slot);
                if (!key_slot) { /* a weak map's entry: it looks */
                    entries_died = true;
                    continue;
                }
                void *key = slot_load(key_slot);
                /* (NULL: the same ephemeron waited twice, after an
                 * overflow, and was cleared just now) */
                if (key && !is_marked(heap, key)) {
                    slot_store(key_slot, NULL);
                    slot_store(value_slot, NULL);
                    heap->stats.weak_slots_cleared++;
                }
            } while (w);
        }
    }
    ts->entries_died = entries_died;
}

/* The side arrays, zero again, go to a pool as large as this collection
 * needed: allocating them anew each time costs page faults.  They go back
 * in reverse so that the next collection, taking them from the top, hands
 * each span the array it had: a table traced the same way finds the same
 * layout, and the same collection costs the same time
 * (docs/critical-path.md, Ephemerons). */
void wgc__ephemerons_reset(wgc_heap *heap, bool recycle)
{
    trace_state *ts = &heap->trace;
    vec *spans = &ts->ephemeron_spans, *pool = &ts->ephemeron_head_pool;
    for (size_t i = 0; i < pool->count; i++)
        free(VEC_AT(pool, uintptr_t *, i));
    pool->count = 0;
    recycle = recycle && wgc__vec_reserve(heap, pool, spans->count);
    for (size_t i = spans->count; i-- > 0; ) {
        span *sp = VEC_AT(spans, span *, i);
        if (recycle && sp->kind == SPAN_SMALL)
            VEC_AT(pool, uintptr_t *, pool->count++) = sp->ephemeron_heads;
        else
            free(sp->ephemeron_heads);
        sp->ephemeron_heads = NULL;
        sp->ephemeron_keys = 0;
    }
    spans->count = 0;
    ts->ephemerons.count = 0;
    ts->ephemeron_overflow = false;
}

bool wgc__entries_died(const wgc_heap *heap)
{
    return heap->trace.entries_died;
}
