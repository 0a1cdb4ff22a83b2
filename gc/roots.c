/*
 * gc/roots.c -- persistent handles, frames of local-variable addresses and
 * the keep-during-job list.  The collection traces them in this order:
 * handles (creation order), frames (innermost first), kept objects, then
 * the embedder's callback.
 */
#include "gc/internal.h"

/* ================================================================ handles */

static bool check_root(const wgc_root *root)
{
    if (!root)
        return false;
    if (root->sig != WGC_SIG_ROOT) {
        wgc__misuse(NULL, "handle %p used after wgc_root_free", (const void *)root);
        return false;
    }
    return true;
}

wgc_root *wgc_root_new(wgc_heap *heap, void *obj)
{
    if (!wgc__enter(heap))
        return NULL;
    if (obj && !wgc__is_allocated(heap, obj)) {
        wgc__fail(heap, WGC_EINVAL);
        return NULL;
    }
    wgc_root *root = wgc__malloc(heap, sizeof *root);
    if (!root) {
        wgc__fail(heap, WGC_ENOMEM);
        return NULL;
    }
    *root = (wgc_root){.sig = WGC_SIG_ROOT, .heap = heap, .object = obj,
                       .prev = heap->roots_last};
    if (heap->roots_last)
        heap->roots_last->next = root;
    else
        heap->roots_first = root;
    heap->roots_last = root;
    return root;
}

void *wgc_root_get(const wgc_root *root)
{
    return check_root(root) ? root->object : NULL;
}

bool wgc_root_set(wgc_root *root, void *obj)
{
    if (!check_root(root))
        return false;
    if (obj && !wgc__is_allocated(root->heap, obj))
        return wgc__fail(root->heap, WGC_EINVAL);
    root->object = obj;
    return true;
}

void wgc_root_free(wgc_root *root)
{
    if (!check_root(root))
        return;
    wgc_heap *heap = root->heap;
    if (root->prev)
        root->prev->next = root->next;
    else
        heap->roots_first = root->next;
    if (root->next)
        root->next->prev = root->prev;
    else
        heap->roots_last = root->prev;
    root->sig = WGC_SIG_DEAD;
    free(root);
}

void wgc__roots_free(wgc_heap *heap)
{
    wgc_root *root = heap->roots_first;
    while (root) {
        wgc_root *next = root->next;
        root->sig = WGC_SIG_DEAD;
        free(root);
        root = next;
    }
    heap->roots_first = heap->roots_last = NULL;
}

/* ================================================================= frames */

bool wgc_frame_push(wgc_heap *heap, wgc_frame *frame, void *const *slots,
                    size_t count)
{
    if (!wgc__check_heap(heap) || !frame || !slots)
        return wgc__fail(heap, WGC_EINVAL);
    frame->prev = heap->pub.frames;
    frame->slots = slots;
    frame->count = count;
    heap->pub.frames = frame;
    return true;
}

bool wgc_frame_pop(wgc_heap *heap, wgc_frame *frame)
{
    if (!wgc__check_heap(heap) || !frame)
        return wgc__fail(heap, WGC_EINVAL);
    if (heap->pub.frames != frame) {
        wgc__misuse(heap, "frame %p popped out of LIFO order (top is %p)",
                    (void *)frame, (void *)heap->pub.frames);
        return wgc__fail(heap, WGC_ESTATE);
    }
    heap->pub.frames = frame->prev;
    return true;
}

/* ========================================================= keep-during-job */

/* [W6] A target is listed once per job: its header bit says it is kept,
 * so a deref costs a test, and the list is bounded by the distinct targets
 * of the job, however many derefs there are.  When the list cannot grow,
 * the bit alone keeps the object: roots are then found by a walk of the
 * heap (kept_overflow), so keeping never fails and never needs memory. */
void wgc__keep(wgc_heap *heap, void *obj)
{
    if (!heap->config.keep_during_job)
        return;
    uintptr_t *header = header_of(obj);
    if (*header & WGC_HEADER_KEPT)
        return;
    *header |= WGC_HEADER_KEPT;
    void **slot = wgc__vec_push(heap, &heap->kept);
    if (slot)
        *slot = obj;
    else
        heap->kept_overflow = true;
}

static void unkeep(wgc_heap *heap, void *obj, void *arg)
{
    (void)heap, (void)arg;
    *header_of(obj) &= ~WGC_HEADER_KEPT;
}

bool wgc_end_job(wgc_heap *heap)
{
    if (!wgc__enter(heap))
        return false;
    vec *k = &heap->kept;
    for (size_t i = 0; i < k->count; i++)
        unkeep(heap, VEC_AT(k, void *, i), NULL);
    k->count = 0;
    if (heap->kept_overflow) {
        wgc__each_object(heap, false, unkeep, NULL);
        heap->kept_overflow = false;
    }
    return true;
}

static void visit_if_kept(wgc_heap *heap, void *obj, void *v)
{
    (void)heap;
    if (*header_of(obj) & WGC_HEADER_KEPT)
        wgc_visit(v, &obj);
}

/* ================================================================ tracing */

void wgc__roots_trace(wgc_heap *heap, wgc_visitor *v)
{
    for (wgc_root *r = heap->roots_first; r; r = r->next)
        wgc_visit(v, &r->object);
    for (wgc_frame *f = heap->pub.frames; f; f = f->prev)
        for (size_t i = 0; i < f->count; i++)
            wgc_visit(v, f->slots[i]);
    wgc_visit_array(v, heap->kept.items, heap->kept.count);
    if (WGC_UNLIKELY(heap->kept_overflow))
        wgc__each_object(heap, false, visit_if_kept, v);
    if (heap->config.trace_roots)
        heap->config.trace_roots(v, heap->config.trace_roots_user);
}
