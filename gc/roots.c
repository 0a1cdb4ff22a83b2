/*
 * gc/roots.c -- persistent handles, frames of local-variable addresses and
 * the keep-during-job list.  The collection traces them in this order:
 * handles (creation order), frames (innermost first), kept objects, then
 * the embedder's callback.
 */
#include "gc/internal.h"

#if WGC_DEBUG_CHECKS
#include <pthread.h>
#endif

/* ================================================================ handles */

/* [H1] Handles live in 4 KiB slabs the heap owns and frees only with the
 *      heap, so a freed handle's slot is always readable: checking a stale
 *      handle never reads freed memory.  A freed slot is reused by the next
 *      wgc_root_new (most recently freed first: it is warm).
 * [H2] A handle is a token: on 64-bit platforms, bit 63 set, a 15-bit
 *      generation in bits 48..62 and the slot's address below; the slot
 *      remembers the token of its live handle.  A call with a stale token
 *      (its handle freed, the slot free or reused since) finds the slot's
 *      token different, in every build, unless the slot has been reused a
 *      multiple of 2^15 times since.  A slot whose address needs more than
 *      48 bits, and every slot on 32-bit platforms, hands out its address
 *      itself: there a stale handle is caught only while its slot is free. */

#define SLAB_SIZE 4096
#define SLAB_SLOTS (SLAB_SIZE / sizeof(root_slot))

struct root_slab {
    wgc_heap *heap;
    root_slab *next;
};
/* The header takes slot 0's place. */
_Static_assert(sizeof(root_slab) <= sizeof(root_slot), "slab header");
_Static_assert((SLAB_SIZE & (SLAB_SIZE - 1)) == 0, "slab alignment");

#if UINTPTR_MAX > 0xffffffffu
#define TOKEN_TAGGED ((uintptr_t)1 << 63)
#define TOKEN_GEN_SHIFT 48
#define TOKEN_GEN_MASK (((uintptr_t)1 << 15) - 1)
#define TOKEN_ADDR_MASK (((uintptr_t)1 << TOKEN_GEN_SHIFT) - 1)

static inline root_slot *slot_of(const wgc_root *root)
{
    uintptr_t t = (uintptr_t)root;
    return (root_slot *)(t & TOKEN_TAGGED ? t & TOKEN_ADDR_MASK : t);
}

/* The token of a new handle in slot s, one generation after the last. */
static uintptr_t next_token(const root_slot *s)
{
    uintptr_t addr = (uintptr_t)s;
    if (addr & ~TOKEN_ADDR_MASK)
        return addr;
    uintptr_t gen = s->handle & TOKEN_TAGGED
                        ? ((s->handle >> TOKEN_GEN_SHIFT) + 1) & TOKEN_GEN_MASK : 0;
    return TOKEN_TAGGED | gen << TOKEN_GEN_SHIFT | addr;
}
#else
static inline root_slot *slot_of(const wgc_root *root)
{
    return (root_slot *)root;
}

static uintptr_t next_token(const root_slot *s)
{
    return (uintptr_t)s;
}
#endif

static inline wgc_heap *slot_heap(const root_slot *s)
{
    return ((root_slab *)((uintptr_t)s & ~(uintptr_t)(SLAB_SIZE - 1)))->heap;
}

/* The slot of a live handle, or NULL (reported as misuse) for a stale one,
 * which also records WGC_EINVAL on the handle's heap if `record`. */
static root_slot *check_root(const wgc_root *root, bool record)
{
    if (!root)
        return NULL;
    root_slot *s = slot_of(root);
    if (WGC_LIKELY(s->handle == (uintptr_t)root))
        return s;
    wgc_heap *heap = slot_heap(s);
    if (s->handle & 1)
        wgc__misuse(heap, "handle %p used after wgc_root_free", (const void *)root);
    else
        wgc__misuse(heap, "handle %p used after wgc_root_free (its slot now "
                    "holds handle %p)", (const void *)root, (void *)s->handle);
    if (record)
        wgc__fail(heap, WGC_EINVAL);
    return NULL;
}

/* A new slab's slots on the free list, lowest address first; false if out
 * of memory. */
static bool slab_new(wgc_heap *heap)
{
    root_slab *slab = wgc__request(heap) ? aligned_alloc(SLAB_SIZE, SLAB_SIZE) : NULL;
    if (!slab)
        return false;
    slab->heap = heap;
    slab->next = heap->roots.slabs;
    heap->roots.slabs = slab;
    root_slot *slots = (root_slot *)slab;
    for (size_t i = SLAB_SLOTS; i-- > 1; ) {
        slots[i] = (root_slot){.next = heap->roots.free};
        slots[i].handle = (uintptr_t)&slots[i] | 1; /* free, never used */
        heap->roots.free = &slots[i];
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
    if (WGC_UNLIKELY(!heap->roots.free) && !slab_new(heap)) {
        wgc__fail(heap, WGC_ENOMEM);
        return NULL;
    }
    root_slot *s = heap->roots.free;
    heap->roots.free = s->next;
    s->handle = next_token(s);
    s->object = obj;
    s->prev = heap->roots.last;
    s->next = NULL;
    if (heap->roots.last)
        heap->roots.last->next = s;
    else
        heap->roots.first = s;
    heap->roots.last = s;
    return (wgc_root *)s->handle;
}

void *wgc_root_get(const wgc_root *root)
{
    root_slot *s = check_root(root, false);
    return s ? s->object : NULL;
}

bool wgc_root_set(wgc_root *root, void *obj)
{
    root_slot *s = check_root(root, true);
    if (!s || !wgc__enter(slot_heap(s)))
        return false; /* [G5] not from a trace callback, destructor or hook */
    if (obj && !wgc__is_allocated(slot_heap(s), obj))
        return wgc__fail(slot_heap(s), WGC_EINVAL);
    s->object = obj;
    return true;
}

void wgc_root_free(wgc_root *root)
{
    root_slot *s = check_root(root, true);
    if (!s || !wgc__enter(slot_heap(s)))
        return; /* [G5] (refused: WGC_EREENTRY) */
    wgc_heap *heap = slot_heap(s);
    /* [H1] A live slot is linked where its neighbours say. */
    WGC_ASSERT_IN(heap, (s->prev ? s->prev->next : heap->roots.first) == s &&
                            (s->next ? s->next->prev : heap->roots.last) == s);
    if (s->prev)
        s->prev->next = s->next;
    else
        heap->roots.first = s->next;
    if (s->next)
        s->next->prev = s->prev;
    else
        heap->roots.last = s->prev;
    s->handle |= 1;
    s->object = NULL;
    s->prev = NULL;
    s->next = heap->roots.free;
    heap->roots.free = s;
}

void wgc__roots_init(wgc_heap *heap)
{
    heap->roots = (root_set){0};
    wgc__vec_init(&heap->roots.kept, sizeof(void *));
}

void wgc__roots_free(wgc_heap *heap)
{
    root_slab *slab = heap->roots.slabs;
    while (slab) {
        root_slab *next = slab->next;
        free(slab);
        slab = next;
    }
    wgc__vec_free(&heap->roots.kept);
    wgc__roots_init(heap);
}

/* ================================================================= frames */

bool wgc_frame_push(wgc_heap *heap, wgc_frame *frame, void *const *slots,
                    size_t count)
{
    if (!wgc__check_heap(heap) || !frame || !slots)
        return wgc__fail(heap, WGC_EINVAL);
    if (!wgc__enter(heap))
        return false; /* [G5] (WGC_EREENTRY) */
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

wgc_frame *wgc_frame_top(const wgc_heap *heap)
{
    return wgc__check_heap(heap) ? heap->pub.frames : NULL;
}

bool wgc_frame_unwind(wgc_heap *heap, wgc_frame *top)
{
    if (!wgc__check_heap(heap))
        return wgc__fail(heap, WGC_EINVAL);
    /* `top` is not looked for on the stack: that walk would read the
     * frames being dropped, memory below the stack pointer that a signal
     * handler may already have overwritten. */
    heap->pub.frames = top;
    return true;
}

bool wgc__frames_check(wgc_heap *heap, wgc_frame *saved)
{
    if (WGC_LIKELY(heap->pub.frames == saved))
        return true;
    wgc__misuse(heap, "frame stack changed from inside a collection (a trace "
                      "callback, destructor or hook pushed or popped a frame)");
    heap->pub.frames = saved;
    return false;
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
    void **slot = wgc__vec_push(heap, &heap->roots.kept);
    if (slot)
        *slot = obj;
    else
        heap->roots.kept_overflow = true;
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
    vec *k = &heap->roots.kept;
    for (size_t i = 0; i < k->count; i++)
        unkeep(heap, VEC_AT(k, void *, i), NULL);
    k->count = 0;
    if (heap->roots.kept_overflow) {
        wgc__each_object(heap, false, unkeep, NULL);
        heap->roots.kept_overflow = false;
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

#if WGC_DEBUG_CHECKS
/* [R1] A frame on this thread's stack below the collector's own frame
 * belongs to a function that has returned or was unwound (longjmp, a C++
 * exception) without popping it.  Frames elsewhere (the heap, another
 * stack) cannot be judged and are not. */
static void check_frames(wgc_heap *heap)
{
    /* The stack's bounds are cached per thread: for the main thread
     * pthread_getattr_np reads /proc, too slow for every collection. */
    unsigned long self = (unsigned long)pthread_self();
    if (heap->roots.stack_thread != self) {
        pthread_attr_t attr;
        void *base;
        size_t size;
        if (pthread_getattr_np(pthread_self(), &attr) != 0)
            return;
        bool ok = pthread_attr_getstack(&attr, &base, &size) == 0;
        pthread_attr_destroy(&attr);
        if (!ok)
            return;
        heap->roots.stack_lo = base;
        heap->roots.stack_thread = self;
    }
    const char *lo = heap->roots.stack_lo, *sp = __builtin_frame_address(0);
    for (wgc_frame *f = heap->pub.frames; f; f = f->prev) {
        const char *at = (const char *)f;
        if (at >= lo && at < sp) {
            wgc__misuse(heap, "frame %p is stale: the function that pushed it "
                              "returned or was unwound (longjmp, exception) "
                              "without WGC_FRAME_POP; restore the frame stack "
                              "with wgc_frame_unwind (wgc/heap.h)", (void *)f);
            abort();
        }
    }
}
#endif

void wgc__roots_trace(wgc_heap *heap, wgc_visitor *v)
{
#if WGC_DEBUG_CHECKS
    check_frames(heap);
#endif
    for (root_slot *r = heap->roots.first; r; r = r->next)
        wgc_visit(v, &r->object);
    for (wgc_frame *f = heap->pub.frames; f; f = f->prev)
        for (size_t i = 0; i < f->count; i++)
            wgc_visit(v, f->slots[i]);
    wgc_visit_array(v, heap->roots.kept.items, heap->roots.kept.count);
    if (WGC_UNLIKELY(heap->roots.kept_overflow))
        wgc__each_object(heap, false, visit_if_kept, v);
    if (heap->config.trace_roots)
        heap->config.trace_roots(v, heap->config.trace_roots_user);
}

void wgc__roots_each(wgc_heap *heap,
                     void (*fn)(void *arg, wgc_root_kind kind, size_t index,
                                size_t slot, void *at),
                     void *arg)
{
    root_set *rs = &heap->roots;
    size_t index = 0;
    for (root_slot *r = rs->first; r; r = r->next)
        fn(arg, WGC_ROOT_HANDLE, index++, 0, &r->object);
    index = 0;
    for (wgc_frame *f = heap->pub.frames; f; f = f->prev, index++)
        for (size_t i = 0; i < f->count; i++)
            fn(arg, WGC_ROOT_FRAME, index, i, f->slots[i]);
    for (size_t i = 0; i < rs->kept.count; i++)
        fn(arg, WGC_ROOT_KEPT, i, 0, &VEC_AT(&rs->kept, void *, i));
}

/* ================================================================= checks */

/* [G10] The handles' live list is doubly linked in order and every slot on
 * it holds its own live token [H2] and NULL or a live object; every free
 * slot's token is marked free; live and free slots fill the slabs [H1];
 * the kept list holds live objects with their kept bit [W6]. */
bool wgc__roots_check(wgc_heap *heap)
{
    root_set *rs = &heap->roots;
    size_t live = 0, free_slots = 0, slabs = 0;
    for (root_slab *slab = rs->slabs; slab; slab = slab->next, slabs++)
        if (slab->heap != heap)
            return wgc__check_fail(heap, "root slab %p: of heap %p",
                                   (void *)slab, (void *)slab->heap);
    root_slot *prev = NULL;
    for (root_slot *s = rs->first; s; prev = s, s = s->next, live++) {
        if (live >= slabs * (SLAB_SLOTS - 1) || slot_heap(s) != heap ||
            s->prev != prev)
            return wgc__check_fail(heap, "root slot %p (handle %zu): prev %p, "
                                   "expected %p, or not in this heap's slabs",
                                   (void *)s, live, (void *)s->prev, (void *)prev);
        if ((s->handle & 1) || slot_of((const wgc_root *)s->handle) != s)
            return wgc__check_fail(heap, "root slot %p (handle %zu): token %p "
                                   "is not a live handle of this slot [H2]",
                                   (void *)s, live, (void *)s->handle);
        if (s->object && !wgc__is_allocated(heap, s->object))
            return wgc__check_fail(heap, "root slot %p (handle %zu): holds %p, "
                                   "not a live object", (void *)s, live, s->object);
    }
    if (rs->last != prev)
        return wgc__check_fail(heap, "root set: last handle %p, the list ends at %p",
                               (void *)rs->last, (void *)prev);
    for (root_slot *s = rs->free; s; s = s->next, free_slots++) {
        if (live + free_slots >= slabs * (SLAB_SLOTS - 1) || slot_heap(s) != heap ||
            !(s->handle & 1) || s->object)
            return wgc__check_fail(heap, "free root slot %p: token %p, object %p, "
                                   "or not in this heap's slabs", (void *)s,
                                   (void *)s->handle, s->object);
    }
    if (live + free_slots != slabs * (SLAB_SLOTS - 1))
        return wgc__check_fail(heap, "root set: %zu live and %zu free slots in %zu "
                               "slabs of %zu [H1]", live, free_slots, slabs,
                               (size_t)(SLAB_SLOTS - 1));
    for (size_t i = 0; i < rs->kept.count; i++) {
        void *obj = VEC_AT(&rs->kept, void *, i);
        if (!wgc__is_allocated(heap, obj) || !(*header_of(obj) & WGC_HEADER_KEPT))
            return wgc__check_fail(heap, "kept object %zu (%p): %s [W6]", i, obj,
                                   wgc__is_allocated(heap, obj) ? "its kept bit is clear"
                                                                : "not a live object");
    }
    return true;
}
