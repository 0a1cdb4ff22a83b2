/*
 * gc/collect.c -- the collection, in the order docs/gc.md ("Collection")
 * gives:
 *   1. mark from roots, 2. converge ephemerons, 3. clear weak references
 *   and queue cleanups in one step, 4. sweep (destructors, pages), 5.
 *   notify the host.
 * [C1] Sweeping pages is lazy: the allocator finds free runs from the mark
 *      bitmaps [G3].  Only when a memory checker watches (or debug checks
 *      poison) are dead cells enumerated one by one here.
 * [C2] The next collection comes after live_bytes * (growth_factor - 1)
 *      bytes of allocation, at least initial_heap_size [G4]; pooled pages
 *      go back to the OS lazily, after the pause (gc/pages.c).
 */
#include "gc/internal.h"

#include <time.h>
#if WGC_DEBUG_CHECKS
#include <pthread.h>
#endif

static uint64_t clock_ns(clockid_t clock)
{
    struct timespec ts;
    clock_gettime(clock, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* WGC_LOG_COLLECTION's line (config.print_stats). */
static void print_stats(wgc_heap *heap, size_t live_before)
{
    const wgc_heap_stats *s = &heap->stats;
    wgc__log(heap, WGC_LOG_COLLECTION,
             "gc %llu: pause %.3f ms (cpu %.3f ms), live %zu bytes (previous %zu), "
             "heap %zu bytes, %llu weak slots cleared, %llu cleanups queued",
             (unsigned long long)s->collections, (double)s->pause_last_ns / 1e6,
             (double)s->pause_cpu_last_ns / 1e6, s->live_bytes, live_before,
             wgc__heap_bytes(heap), (unsigned long long)s->weak_slots_cleared,
             (unsigned long long)(s->cells_queued + s->group_refs_queued));
}

static char *first_object(const page *p)
{
    return first_cell(p) + WGC_HEADER_SIZE;
}

/* Calls fn on every object of the heap: with marked_only, on those marked
 * by the running collection; otherwise on every allocated object [G3]. */
void wgc__each_object(wgc_heap *heap, bool marked_only,
                      void (*fn)(wgc_heap *, void *, void *), void *arg)
{
    unsigned bits = marked_only ? mark_bits(heap) : heap->alloc_bits;
    SPACE_EACH_PAGE(&heap->space, it) {
        page *p = it.p;
        const char *frontier = page_frontier(it.a, p);
        char *obj = first_object(p);
        for (uint32_t i = 0; i < p->cell_count; i++, obj += p->cell_size) {
            size_t g = (size_t)(obj - (char *)p) / WGC_GRANULE;
            if (marked_only ? (p->marks[bits][g / 64] >> (g % 64)) & 1
                            : page_cell_allocated(p, bits, g, frontier))
                fn(heap, obj, arg);
        }
    }
    SPACE_EACH_LARGE(&heap->space, l)
        if (!marked_only || l->mark_epoch == heap->epoch)
            fn(heap, (char *)l + WGC_LARGE_OBJECT_OFFSET, arg);
}

/* ================================================================ phases */

static void begin_marking(wgc_heap *heap)
{
    heap->epoch++;
    unsigned bits = mark_bits(heap);
    SPACE_EACH_PAGE(&heap->space, it)
        memset(it.p->marks[bits], 0, sizeof it.p->marks[bits]);
}

static void run_destructors(wgc_heap *heap)
{
    vec *d = &heap->destructibles;
    void **items = (void **)d->items;
    size_t kept = 0;
    for (size_t i = 0; i < d->count; i++) {
        void *obj = items[i];
        if (is_marked(heap, obj))
            items[kept++] = obj;
        else
            type_of(obj)->destroy(obj);
    }
    d->count = kept;
}

/* [C1]: the cells allocated before this collection and not marked by it.
 * Debug builds quarantine them: they are not reused before the next
 * collection, so a stale pointer finds the 0xdb poison, not a new object.
 * An emptied page is pooled but quarantined the same way (gc/pages.c). */
static void free_dead_cells(wgc_heap *heap, page *p)
{
    unsigned now = mark_bits(heap), before = heap->alloc_bits;
#if WGC_DEBUG_CHECKS
    uint64_t dead[WGC_BITMAP_WORDS] = {0};
#endif
    char *obj = first_object(p);
    for (uint32_t i = 0; i < p->cell_count; i++, obj += p->cell_size) {
        size_t g = (size_t)(obj - (char *)p) / WGC_GRANULE;
        if (!page_cell_allocated(p, before, g, p->alloc_end) ||
            ((p->marks[now][g / 64] >> (g % 64)) & 1))
            continue;
#if WGC_DEBUG_CHECKS
        dead[g / 64] |= (uint64_t)1 << (g % 64);
        mt_writable(heap, obj, p->cell_size - WGC_HEADER_SIZE);
        memset(obj, 0xdb, p->cell_size - WGC_HEADER_SIZE);
#endif
        mt_object_free(heap, obj, p->cell_size);
    }
#if WGC_DEBUG_CHECKS
    memcpy(p->quarantine, dead, sizeof dead);
#endif
}

static size_t sweep_pages(wgc_heap *heap)
{
    size_t live = 0;
    bool eager = mt_active(heap) || WGC_DEBUG_CHECKS;
    SPACE_EACH_PAGE(&heap->space, it) {
        page *p = it.p;
        if (eager)
            free_dead_cells(heap, p);
        /* Counted here, not while marking: a popcount per page is
         * cheaper than a counter update per object. */
        p->live_cells = page_marked_cells(p, mark_bits(heap));
        if (p->live_cells == 0) {
            page_iter_remove(&it);
            p->cell_count = 0; /* no object can live here now */
            wgc__page_release(heap, p);
            continue;
        }
        live += (size_t)p->live_cells * p->cell_size;
        p->alloc_end = first_cell(p);
        p->s.fresh = 0; /* free runs may now lie below used cells */
    }
    wgc__allocators_rewind(heap);
    SPACE_EACH_LARGE(&heap->space, l) {
        if (l->mark_epoch == heap->epoch) {
            live += l->size;
        } else {
            mt_object_free(heap, (char *)l + WGC_LARGE_OBJECT_OFFSET, 0);
            wgc__large_free(heap, l);
        }
    }
    heap->alloc_bits = mark_bits(heap);
    return live;
}

static void after_weak(wgc_heap *heap)
{
    vec *s = &heap->specials;
    for (size_t i = 0; i < s->count; i++) {
        special *sp = VEC_AT(s, special *, i);
        if (sp->ops->after_weak && is_marked(heap, sp))
            sp->ops->after_weak(heap, sp);
    }
}

/* [C2] The next budget, from the bytes that survived. */
static void set_budget(wgc_heap *heap, size_t live)
{
    double growth = heap->config.growth_factor;
    /* External bytes owned by live objects grow the budget like live ones. */
    double next = ((double)live + (double)heap->external_bytes) * (growth - 1.0);
    size_t floor = heap->config.initial_heap_size;
    heap->budget = next > (double)floor ? (size_t)next : floor;
    heap->charged = 0;
}

/* [C2] Memory goes back to the OS after the pause (and after the end
 * hook, which bench/ and hosts use to time pauses): nothing in the
 * collection waits on a munmap. */
static void release_memory(wgc_heap *heap, size_t live)
{
    double target = (double)live * heap->config.growth_factor;
    size_t floor = heap->config.initial_heap_size;
    wgc__pages_trim(heap, target > (double)floor ? (size_t)target : floor);
    wgc__large_unmap_dead(heap);
}

static void hook(wgc_heap *heap, wgc_event event)
{
    if (heap->config.on_event)
        heap->config.on_event(heap, event, heap->config.on_event_user);
}

void wgc__collect(wgc_heap *heap)
{
    uint64_t start = clock_ns(CLOCK_MONOTONIC);
    uint64_t cpu_start = clock_ns(CLOCK_THREAD_CPUTIME_ID);
    size_t live_before = heap->stats.live_bytes;
    phase saved = heap->phase;
    wgc_frame *frames = heap->pub.frames;
#if WGC_DEBUG_CHECKS
    heap->owner_thread = (unsigned long)pthread_self();
#endif
    /* With no allocation run open, the fast path cannot succeed until the
     * collection is over [G5]: allocation from hooks reaches the checks. */
    wgc__allocators_retire(heap);
    heap->phase = PHASE_HOOK;
    hook(heap, WGC_EVENT_COLLECT_START);
    wgc__frames_check(heap, frames); /* before marking reads the frames */

    heap->phase = PHASE_MARK;
    heap->queued_cleanup = false;
    begin_marking(heap);
    wgc__mark_roots(heap);
    wgc__mark_converge(heap);
    wgc__sweep_weak_tables(heap);
    wgc__process_weak(heap);
    after_weak(heap);
    wgc__frames_check(heap, frames);

    heap->phase = PHASE_SWEEP;
    run_destructors(heap);
    wgc__frames_check(heap, frames); /* before verification reads them */
    wgc__specials_compact(heap);
    size_t live = sweep_pages(heap);
    set_budget(heap, live);

    uint64_t pause = clock_ns(CLOCK_MONOTONIC) - start;
    uint64_t cpu = clock_ns(CLOCK_THREAD_CPUTIME_ID) - cpu_start;
    heap->stats.collections++;
    heap->stats.live_bytes = live;
    heap->stats.pause_last_ns = pause;
    heap->stats.pause_total_ns += pause;
    if (pause > heap->stats.pause_max_ns)
        heap->stats.pause_max_ns = pause;
    heap->stats.pause_cpu_last_ns = cpu;
    heap->stats.pause_cpu_total_ns += cpu;

#if WGC_DEBUG_CHECKS
    heap->phase = saved;
    if (!wgc_debug_verify(heap))
        abort();
#endif
    heap->phase = PHASE_HOOK;
    if (heap->config.print_stats)
        print_stats(heap, live_before);
    if (heap->queued_cleanup && heap->config.cleanup_pending)
        heap->config.cleanup_pending(heap, heap->config.cleanup_pending_user);
    hook(heap, WGC_EVENT_COLLECT_END);
    wgc__frames_check(heap, frames);
    release_memory(heap, live);
    heap->phase = saved;
#if WGC_DEBUG_CHECKS
    heap->owner_thread = 0;
#endif
}

bool wgc_collect(wgc_heap *heap)
{
    if (!wgc__enter(heap))
        return false;
    wgc__collect(heap);
    return true;
}
