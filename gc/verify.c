/*
 * gc/verify.c -- the heap verifier [G10]: every structure's check (each in
 * the module that owns the structure, gc/check.h), then every slot of
 * every live object points at NULL or a live object.
 */
#include "gc/internal.h"


typedef struct verify_state {
    wgc_visitor v;            /* first: the visitor handed to callbacks */
    const void *object;       /* object being traced, NULL for roots */
    bool barrier;             /* [Y3]: report young targets of old objects */
    size_t bad;
} verify_state;

/* [Y3] A slot of an old object whose barrier bit is set, pointing to a
 * young (unmarked) object: a store the barrier was not told about. */
static void report_missing_barrier(verify_state *st, void *slot, void *target,
                                   const char *kind)
{
    const wgc_type *holder = type_of(st->object), *young = type_of(target);
    /* Logged in every build: the verifier was asked for. */
    wgc__log(st->v.heap, WGC_LOG_MISUSE, "missing write barrier: old %s object %p holds, in "
                "its word %zu (%s slot), young %s object %p; call "
                "wgc_write_barrier after storing into an existing object",
                holder->name ? holder->name : "(unnamed type)", st->object,
                (size_t)((const char *)slot - (const char *)st->object) / sizeof(void *),
                kind, young->name ? young->name : "(unnamed type)",
                target);
}

static void verify_slot(wgc_visitor *v, void *slot, const char *kind)
{
    verify_state *st = (verify_state *)v;
    void *target = slot_load(slot);
    if (st->barrier) {
        if (target && wgc__is_allocated(v->heap, target) &&
            !is_marked(v->heap, target) && st->bad++ == 0)
            report_missing_barrier(st, slot, target, kind);
        return;
    }
    if (!target || wgc__is_allocated(v->heap, target))
        return;
    if (st->bad++ == 0) {
        char where[160], what[160];
        wgc__explain_slot(v->heap, st->object, slot, where, sizeof where);
        wgc__explain_target(v->heap, target, what, sizeof what);
        wgc__check_fail(v->heap, "%s slot: %s points at %p, not a live "
                        "object: %s; likely a missing root (or a missing write "
                        "barrier)", kind, where, target, what);
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
            wgc__check_fail(heap, "object %p has no type", obj);
        return;
    }
    if (t->size && t->size(obj) > wgc_size_of(obj)) {
        if (st->bad++ == 0)
            wgc__check_fail(heap, "object %p (%s) says it uses %zu bytes of %zu",
                            obj, t->name, t->size(obj), wgc_size_of(obj));
    }
    if (!wgc_type_pointer_free_(t)) {
        st->object = obj;
        wgc__trace_object(obj, &st->v);
        st->object = NULL;
    }
}

static void verify_old(wgc_heap *heap, void *obj, void *arg)
{
    verify_state *st = arg;
    if (!(*header_of(obj) & WGC_HEADER_BARRIER_))
        return; /* young, pointer-free or remembered */
    st->object = obj;
    wgc__trace_object(obj, &st->v);
    st->object = NULL;
    (void)heap;
}

bool wgc__verify_barrier(wgc_heap *heap)
{
    if (!heap->generational)
        return true;
    verify_state st = {.v = {heap, &verify_ops}, .barrier = true};
    in_callback saved = heap->callback;
    heap->callback = CALLBACK_TRACE;
    wgc__each_object(heap, true, verify_old, &st);
    heap->callback = saved;
    return st.bad == 0;
}

bool wgc_debug_checks_enabled(void)
{
    return WGC_DEBUG_CHECKS;
}

/* The structures, each by its owner's check, in an order where a check
 * relies only on structures checked before it: the space first (every
 * later check asks whether an address is a live object). */
static bool (*const structure_checks[])(wgc_heap *) = {
    wgc__heap_check,
    wgc__page_table_check,
    wgc__space_check,
    wgc__trace_check,
    wgc__roots_check,
    wgc__remembered_check,
    wgc__specials_check,  /* weak maps, registries and groups, their queues */
    wgc__cleanup_check,   /* the queue owners' list */
};

bool wgc_debug_verify(wgc_heap *heap)
{
    if (!wgc__enter(heap))
        return false;
    /* A broken structure stops the walk: the slot walk would follow it. */
    for (size_t i = 0; i < sizeof structure_checks / sizeof *structure_checks; i++)
        if (!structure_checks[i](heap))
            return false;
    verify_state st = {.v = {heap, &verify_ops}};
    heap->callback = CALLBACK_TRACE; /* trace callbacks run */
    wgc__roots_trace(heap, &st.v);
    wgc__each_object(heap, false, verify_object, &st);
    heap->callback = CALLBACK_NONE;
    if (!wgc__verify_barrier(heap))
        st.bad++;
    return st.bad == 0;
}
