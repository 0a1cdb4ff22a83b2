/*
 * weak/weakref.c -- WeakRef: a heap object with a weak target and strong
 * holdings; keep-during-job.  Rules W1, W2, W4 and W5 of docs/weak.md.
 */
#include "weak/weak_internal.h"

static void trace_weakref(void *obj, wgc_visitor *v)
{
    struct wgc_weakref *r = obj;
    wgc_visit_weak(v, &r->target);
    if (r->flags & REF_HOLDINGS_TRACED)
        wgc_visit(v, &r->holdings);
}

const wgc_type wgc__weakref_type = {.name = "WeakRef", .trace = trace_weakref};

static void trace_bare_ref(void *obj, wgc_visitor *v)
{
    wgc_visit_weak(v, &((bare_ref *)obj)->target);
}

/* Half the cell of a ref with holdings: a host that makes many refs
 * without holdings allocates, zeroes and scans half the memory. */
const wgc_type wgc__weakref_bare_type = {.name = "WeakRef", .trace = trace_bare_ref};

/* Cheap in release builds (the header's type), complete in debug builds:
 * a pointer that is not an object at all may crash the cheap check, as a
 * bad pointer crashes free(). */
static bool is_weakref(const wgc_heap *heap, const void *ref)
{
    if (!ref || (WGC_DEBUG_CHECKS && !wgc__is_allocated(heap, ref)))
        return false;
    const wgc_type *t = type_of(ref);
    return t == &wgc__weakref_bare_type || t == &wgc__weakref_type ||
           t == &wgc__group_ref_type;
}

struct wgc_weakref *wgc__weakref_make(wgc_heap *heap, const wgc_type *type,
                                      void *target, void *holdings)
{
    if (!wgc__enter(heap))
        return NULL;
    if (!target || target == holdings || !wgc__is_allocated(heap, target)) {
        wgc__fail(heap, WGC_EINVAL);
        return NULL;
    }
    bool traced = holdings && wgc__is_allocated(heap, holdings);
    /* Allocation may collect: the target and holdings must survive it. */
    void *rooted_holdings = traced ? holdings : NULL;
    struct wgc_weakref *ref = NULL;
    bool bare = type == &wgc__weakref_type && !holdings;
    size_t size = bare ? sizeof(bare_ref)
                  : type == &wgc__weakref_type ? sizeof(struct wgc_weakref)
                                               : sizeof(group_ref);
    WGC_FRAME(heap, &target, &rooted_holdings);
    ref = wgc_alloc(heap, bare ? &wgc__weakref_bare_type : type, size);
    if (ref)
        wgc__keep(heap, target);
    WGC_FRAME_POP(heap);
    if (!ref)
        return NULL;
    ref->target = target;
    if (bare)
        return ref;
    ref->holdings = holdings;
    ref->flags = traced ? REF_HOLDINGS_TRACED : 0;
    return ref;
}

wgc_weakref *wgc_weakref_new(wgc_heap *heap, void *target, void *holdings)
{
    return wgc__weakref_make(heap, &wgc__weakref_type, target, holdings);
}

void *wgc_weakref_deref(wgc_heap *heap, wgc_weakref *ref)
{
    if (!wgc__enter(heap))
        return NULL;
    if (!is_weakref(heap, ref)) {
        wgc__fail(heap, WGC_EINVAL);
        return NULL;
    }
    void *target = ref->target;
    if (target)
        wgc__keep(heap, target); /* cannot fail: once empty, always empty [W4] */
    return target;
}

bool wgc_weakref_clear(wgc_heap *heap, wgc_weakref *ref)
{
    if (!wgc__enter(heap))
        return false;
    if (!is_weakref(heap, ref))
        return wgc__fail(heap, WGC_EINVAL);
    ref->target = NULL;
    if (type_of(ref) == &wgc__group_ref_type) {
        group_ref *r = (group_ref *)ref;
        if ((ref->flags & REF_QUEUED) && r->group)
            wgc__group_unlink(r->group, r);
        /* [W8] Nobody will ever be handed them: a host that keeps the ref
         * must not keep them alive. */
        wgc__group_ref_release(r);
    }
    return true;
}

void *wgc_weakref_holdings(wgc_heap *heap, wgc_weakref *ref)
{
    if (!wgc__check_heap(heap))
        return NULL;
    if (!is_weakref(heap, ref)) {
        wgc__fail(heap, WGC_EINVAL);
        return NULL;
    }
    if (type_of(ref) == &wgc__weakref_bare_type)
        return NULL; /* made without holdings */
    return ref->holdings;
}
