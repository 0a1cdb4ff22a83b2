/*
 * gc/verify.c -- the heap verifier: every slot of every live object points
 * at NULL or a live object, and the page accounting adds up.
 */
#include "gc/internal.h"

#include <stdio.h>

typedef struct verify_state {
    wgc_visitor v;            /* first: the visitor handed to callbacks */
    const void *object;       /* object being traced, NULL for roots */
    size_t bad;
} verify_state;

static void verify_slot(wgc_visitor *v, void *slot, const char *kind)
{
    verify_state *st = (verify_state *)v;
    void *target = slot_load(slot);
    if (!target || wgc__is_allocated(v->heap, target))
        return;
    if (st->bad++ == 0) {
        char where[160], what[160];
        wgc__explain_slot(v->heap, st->object, slot, where, sizeof where);
        wgc__explain_target(v->heap, target, what, sizeof what);
        fprintf(stderr, "wgc: verify: %s slot: %s points at %p, not a live "
                "object: %s; likely a missing root (or a missing write "
                "barrier)\n", kind, where, target, what);
    }
}

static void verify_strong(wgc_visitor *v, void *slot)
{
    verify_slot(v, slot, "strong");
}

static void verify_weak(wgc_visitor *v, void *slot)
{
    verify_slot(v, slot, "weak");
}

static void verify_weak_notify(wgc_visitor *v, void *slot, void *owner,
                               weak_notify_fn notify, uint64_t seq)
{
    (void)owner, (void)notify, (void)seq;
    verify_slot(v, slot, "weak");
}

static bool verify_ephemeron(wgc_visitor *v, void *key_slot, void *value_slot,
                             bool by_value)
{
    (void)by_value;
    verify_slot(v, key_slot, "ephemeron key");
    verify_slot(v, value_slot, "ephemeron value");
    return false;
}

/* The verifier's instance of the tracer interface [M4]. */
static const wgc_trace_ops verify_ops = {
    .strong = verify_strong,
    .weak = verify_weak,
    .weak_notify = verify_weak_notify,
    .ephemeron = verify_ephemeron,
    .inspects = true,
};

static void verify_object(wgc_heap *heap, void *obj, void *arg)
{
    verify_state *st = arg;
    const wgc_type *t = type_of(obj);
    if (!t) {
        if (st->bad++ == 0)
            fprintf(stderr, "wgc: verify: object %p has no type\n", obj);
        return;
    }
    if (t->size && t->size(obj) > wgc_size_of(obj)) {
        if (st->bad++ == 0)
            fprintf(stderr, "wgc: verify: object %p (%s) says it uses %zu bytes "
                    "of %zu\n", obj, t->name, t->size(obj), wgc_size_of(obj));
    }
    if (!wgc_type_pointer_free_(t)) {
        st->object = obj;
        wgc__trace_object(obj, &st->v);
        st->object = NULL;
    }
    (void)heap;
}

bool wgc_debug_checks_enabled(void)
{
    return WGC_DEBUG_CHECKS;
}

bool wgc_debug_verify(wgc_heap *heap)
{
    if (!wgc__enter(heap))
        return false;
    verify_state st = {.v = {heap, &verify_ops}};
    phase saved = heap->phase;
    heap->phase = PHASE_MARK; /* trace callbacks run: forbid allocation */
    wgc__roots_trace(heap, &st.v);
    wgc__each_object(heap, false, verify_object, &st);

    for (int atomic = 0; atomic < 2; atomic++) {
        for (int c = 0; c < WGC_CLASS_COUNT; c++) {
            for (page *p = heap->allocators[atomic][c].pages; p; p = p->next) {
                uint32_t marked = page_marked_cells(p, heap->alloc_bits);
                if (heap->stats.collections && marked != p->live_cells && st.bad++ == 0)
                    fprintf(stderr, "wgc: verify: page %p counts %u live cells, "
                            "its bitmap %u\n", (void *)p, p->live_cells, marked);
                if (!wgc__span_known(heap, &p->s) && st.bad++ == 0)
                    fprintf(stderr, "wgc: verify: page %p missing from the page "
                            "table\n", (void *)p);
            }
        }
    }
    heap->phase = saved;
    return st.bad == 0;
}
