/*
 * gc/weakproc.c -- weak slots during marking and the weak step that
 * clears them (phase 3 of the collection, docs/gc.md "The trace module").
 *
 * [M3] A weak slot whose target is unmarked when visited is recorded: a
 *      plain slot (wgc_visit_weak) as one word, a notifying one as a
 *      weak_record.  After convergence every record (and every ephemeron
 *      still waiting, gc/ephemeron.c) is examined once, in one step: dead
 *      targets are cleared and owners notified [W3].  If a record could
 *      not be stored, a full pass over the marked objects with the
 *      fix-weak instance of the tracer interface [M4] does the same work.
 */
#include "gc/marker.h"
#include "gc/sort.h"

void wgc__weak_init(trace_state *ts)
{
    wgc__vec_init(&ts->weak_records, sizeof(weak_record));
    wgc__vec_init(&ts->weak_slots, sizeof(void *));
}

void wgc__weak_free(trace_state *ts)
{
    wgc__vec_free(&ts->weak_records);
    wgc__vec_free(&ts->weak_slots);
}

static bool clear_if_dead(wgc_heap *heap, void *slot)
{
    void *target = slot_load(slot);
    if (target && !is_marked(heap, target)) {
        slot_store(slot, NULL);
        heap->stats.weak_slots_cleared++;
        return true;
    }
    return false;
}

/* ======================================================= while marking */

void wgc__mark_weak_notify(wgc_visitor *v, void *slot, void *owner,
                           weak_notify_fn notify, uint64_t seq)
{
    void *target = slot_load(slot);
    wgc_heap *heap = v->heap;
    trace_state *ts = &heap->trace;
    check_slot(heap, slot, target, "weak");
    if (is_marked(heap, target) || ts->weak_overflow)
        return;
    weak_record *r = wgc__vec_push(heap, &ts->weak_records);
    if (r)
        *r = (weak_record){slot, owner, notify, seq};
    else
        ts->weak_overflow = true;
}

/* The common case (WeakRefs, weak-map tokens) in one word per slot: it
 * notifies nobody, so it needs neither owner nor seq nor sorting [M3]. */
static inline void mark_weak(wgc_visitor *v, void *slot, void *target)
{
    wgc_heap *heap = v->heap;
    trace_state *ts = &heap->trace;
    check_slot(heap, slot, target, "weak");
    if (is_marked(heap, target) || ts->weak_overflow)
        return;
    void **r = wgc__vec_push(heap, &ts->weak_slots);
    if (r)
        *r = slot;
    else
        ts->weak_overflow = true;
}

void wgc__mark_weak(wgc_visitor *v, void *slot)
{
    mark_weak(v, slot, slot_load(slot));
}

void wgc_visit_weak(wgc_visitor *v, void *slot)
{
    void *target = slot_load(slot);
    if (!target)
        return;
    if (WGC_LIKELY(is_marker(v)))
        mark_weak(v, slot, target);
    else
        v->ops->weak(v, slot);
}

void wgc__visit_weak_notify(wgc_visitor *v, void *slot, void *owner,
                            weak_notify_fn notify, uint64_t seq)
{
    if (!slot_load(slot))
        return;
    if (WGC_LIKELY(is_marker(v)))
        wgc__mark_weak_notify(v, slot, owner, notify, seq);
    else
        v->ops->weak_notify(v, slot, owner, notify, seq);
}

/* ================================================ the fallback instance */

/* Out of memory for records: every marked object is traced again with
 * this instance, which clears what the records would have [M3].  Its
 * notifications follow heap order, not seq. */
static void fix_strong(wgc_visitor *v, void *slot)
{
    (void)v, (void)slot;
}

static void fix_weak_notify(wgc_visitor *v, void *slot, void *owner,
                            weak_notify_fn notify, uint64_t seq)
{
    (void)seq;
    if (clear_if_dead(v->heap, slot) && notify)
        notify(v->heap, owner, slot);
}

static void fix_weak(wgc_visitor *v, void *slot)
{
    clear_if_dead(v->heap, slot);
}

/* (Weak-map entries too: their dead keys are cleared here, and the maps'
 * after_weak turns them into tombstones.) */
static bool fix_ephemeron(wgc_visitor *v, void *key_slot, void *value_slot,
                          bool by_value)
{
    (void)by_value;
    if (!is_marked(v->heap, slot_load(key_slot))) {
        slot_store(key_slot, NULL);
        slot_store(value_slot, NULL);
        v->heap->stats.weak_slots_cleared++;
    }
    return false;
}

static const wgc_trace_ops fix_weak_ops = {
    .strong = fix_strong,
    .weak = fix_weak,
    .weak_notify = fix_weak_notify,
    .ephemeron = fix_ephemeron,
    .inspects = false,
};

/* ========================================================= the weak step */

static int by_seq(const void *a, const void *b)
{
    uint64_t x = ((const weak_record *)a)->seq, y = ((const weak_record *)b)->seq;
    return (x > y) - (x < y);
}

WGC_DEFINE_RADIX_SORT(radix_by_seq, weak_record, x.seq)

/* Sorts records by seq: a radix sort over the bits seq numbers use so far
 * (a collection may notify a million cells), qsort when the scratch
 * buffer cannot be had. */
static void sort_by_seq(wgc_heap *heap, weak_record *records, size_t n)
{
    bool sorted = true;
    for (size_t i = 1; i < n && sorted; i++)
        sorted = records[i - 1].seq <= records[i].seq;
    if (sorted)
        return;
    weak_record *scratch = n <= SIZE_MAX / sizeof *scratch
                               ? wgc__malloc(heap, n * sizeof *scratch) : NULL;
    if (!scratch) {
        qsort(records, n, sizeof *records, by_seq);
        return;
    }
    radix_by_seq(records, scratch, n, 0, wgc__seq_end(heap));
    free(scratch);
}

void wgc__process_weak(wgc_heap *heap)
{
    trace_state *ts = &heap->trace;
    bool fallback = ts->weak_overflow || ts->ephemeron_overflow;
    if (fallback) {
        ts->entries_died = false;
        wgc_visitor v = {heap, &fix_weak_ops};
        wgc__roots_trace(heap, &v);
        wgc__each_object(heap, true, wgc__trace_marked, &v);
    } else {
        wgc__ephemerons_clear_dead(heap);
        /* Clear every dead slot, gather those that notify, then notify in
         * registration order: delivery order must not depend on the order
         * marking happened to meet the slots [F4]. */
        void **slots = (void **)ts->weak_slots.items;
        for (size_t i = 0, n = ts->weak_slots.count; i < n; i++)
            clear_if_dead(heap, slots[i]);
        vec *r = &ts->weak_records;
        weak_record *records = (weak_record *)r->items;
        size_t notifying = 0;
        for (size_t i = 0; i < r->count; i++)
            if (clear_if_dead(heap, records[i].slot) && records[i].notify)
                records[notifying++] = records[i];
        sort_by_seq(heap, records, notifying);
        for (size_t i = 0; i < notifying; i++)
            records[i].notify(heap, records[i].owner, records[i].slot);
    }
    /* Reset for the next collection. */
    wgc__ephemerons_reset(heap, !fallback);
    ts->weak_records.count = 0;
    ts->weak_slots.count = 0;
    ts->weak_overflow = false;
}
