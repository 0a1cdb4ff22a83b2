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
        if (!marked_only || l->mark_epoch == heap->mark_epoch)
            fn(heap, (char *)l + WGC_LARGE_OBJECT_OFFSET, arg);
}

/* ================================================================ phases */

/* A major collection marks into the other bitmap, cleared [Y1]. */
static void begin_marking(wgc_heap *heap)
{
    heap->mark_epoch++;
    heap->remembered.count = 0; /* everything is rescanned */
    heap->remembered_overflow = false;
    unsigned bits = mark_bits(heap);
    SPACE_EACH_PAGE(&heap->space, it)
        memset(it.p->marks[bits], 0, sizeof it.p->marks[bits]);
}

/* Destructibles are listed in allocation order, so the young ones are
 * those past destructibles_old: a minor collection looks at them alone
 * [Y5]. */
static void run_destructors(wgc_heap *heap)
{
    vec *d = &heap->destructibles;
    void **items = (void **)d->items;
    size_t kept = heap->cycle.minor ? heap->destructibles_old : 0;
    for (size_t i = kept; i < d->count; i++) {
        void *obj = items[i];
        if (is_marked(heap, obj))
            items[kept++] = obj;
        else
            type_of(obj)->destroy(obj);
    }
    d->count = kept;
    heap->destructibles_old = kept;
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

/* [Y5] A minor collection sweeps only the pages that hold young cells:
 * on every other page nothing was allocated and nothing old can die.  A
 * page it empties stays with its size class until a major collection. */
static void sweep_touched_pages(wgc_heap *heap)
{
    bool eager = mt_active(heap) || WGC_DEBUG_CHECKS;
    vec *touched = &heap->space.touched;
    for (size_t i = 0; i < touched->count; i++) {
        page *p = VEC_AT(touched, page *, i);
        if (eager)
            free_dead_cells(heap, p);
        uint32_t live = page_marked_cells(p, mark_bits(heap));
        heap->live_small += ((size_t)live - p->live_cells) * p->cell_size;
        p->live_cells = live;
        p->alloc_end = first_cell(p);
        p->s.fresh = 0;
    }
}

/* Sweeps the young large objects (allocated since the last collection,
 * before large_old in the list) [Y5], or all of them. */
static void sweep_large(wgc_heap *heap, bool young_only)
{
    size_t live = young_only ? heap->live_large : 0;
    SPACE_EACH_LARGE(&heap->space, l) {
        if (young_only && l == heap->space.large_old)
            break;
        if (l->mark_epoch == heap->mark_epoch) {
            live += l->size;
        } else {
            mt_object_free(heap, (char *)l + WGC_LARGE_OBJECT_OFFSET, 0);
            wgc__large_free(heap, l);
        }
    }
    heap->live_large = live;
}

static size_t sweep_pages(wgc_heap *heap)
{
    bool young_only = heap->cycle.minor && !heap->space.touched_overflow;
    if (young_only) {
        sweep_touched_pages(heap);
        sweep_large(heap, true);
        wgc__allocators_rewind(heap);
        wgc__space_sweep_done(heap, false);
        heap->alloc_bits = mark_bits(heap);
        return heap->live_small + heap->live_large;
    }
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
    heap->live_small = live;
    wgc__allocators_rewind(heap);
    sweep_large(heap, false);
    wgc__space_sweep_done(heap, true);
    heap->alloc_bits = mark_bits(heap);
    return heap->live_small + heap->live_large;
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

static void hook(wgc_heap *heap, wgc_event event)
{
    if (heap->config.on_event)
        heap->config.on_event(heap, event, heap->config.on_event_user);
}

/* [Y6] Whether the collection that starts is minor: in the generational
 * mode, unless a major is asked for, the remembered set is incomplete, or
 * the old objects have outgrown major_at. */
static bool choose_minor(const wgc_heap *heap, collect_kind kind)
{
    if (!heap->generational || kind == COLLECT_MAJOR || heap->remembered_overflow)
        return false;
    return kind == COLLECT_MINOR || heap->stats.live_bytes < heap->major_at;
}

/* [Y6] After a major: the old generation may grow by the growth factor
 * before the next major, and by up to its square when this major found
 * little garbage among what it looked at (the old objects and those
 * allocated since the last collection): old garbage is then rare, and
 * re-marking a growing live set at every doubling would be most of the
 * work. */
static void set_major_at(wgc_heap *heap, const cycle *c)
{
    double seen = (double)c->live_before + (double)c->allocated;
    double survival = seen > 0 ? (double)c->live / seen : 1.0;
    if (survival > 1.0)
        survival = 1.0;
    double g = heap->config.growth_factor;
    double next = ((double)c->live + (double)heap->external_bytes) *
                  g * (1.0 + (g - 1.0) * survival);
    double floor = (double)heap->config.initial_heap_size;
    heap->major_at = next > floor ? (size_t)next : (size_t)floor;
}

/* ================================================================ phases
 *
 * [C3] One function per phase: each does its work and names the next.
 * `user` is the user code the phase may run, which wgc__enter refuses to
 * let change the heap [G5]: phases that run none still may log (config.log
 * is a hook).  After each phase the frame stack must be as the cycle found
 * it (wgc__frames_check). */

static cycle_phase phase_start(wgc_heap *heap)
{
    cycle *c = &heap->cycle;
    c->start_ns = clock_ns(CLOCK_MONOTONIC);
    c->cpu_start_ns = clock_ns(CLOCK_THREAD_CPUTIME_ID);
    c->live_before = heap->stats.live_bytes;
    c->allocated = heap->charged;
    c->frames = heap->pub.frames;
    heap->epoch++;
    /* With no allocation run open, the fast path cannot succeed until the
     * cycle is over [G5]: allocation from hooks reaches the checks. */
    wgc__allocators_retire(heap);
#if WGC_DEBUG_CHECKS
    if (c->minor && !wgc__verify_barrier(heap))
        abort();
#endif
    hook(heap, c->minor ? WGC_EVENT_MINOR_START : WGC_EVENT_COLLECT_START);
    return CYCLE_ROOTS;
}

static cycle_phase phase_roots(wgc_heap *heap)
{
    heap->queued_cleanup = false;
    if (heap->cycle.minor)
        wgc__mark_remembered(heap);
    else
        begin_marking(heap);
    wgc__mark_roots(heap);
    return CYCLE_DRAIN;
}

static cycle_phase phase_drain(wgc_heap *heap)
{
    wgc__mark_drain(heap);
    return CYCLE_EPHEMERONS;
}

static cycle_phase phase_ephemerons(wgc_heap *heap)
{
    wgc__mark_converge(heap);
    return CYCLE_WEAK_TABLES;
}

static cycle_phase phase_weak_tables(wgc_heap *heap)
{
    wgc__sweep_weak_tables(heap);
    return CYCLE_WEAK;
}

/* Clearing and queueing are one phase: no observer may see a weak
 * reference cleared and its cleanup not queued [W3]. */
static cycle_phase phase_weak(wgc_heap *heap)
{
    wgc__process_weak(heap);
    return CYCLE_SPECIALS;
}

static cycle_phase phase_specials(wgc_heap *heap)
{
    wgc__specials_after_weak(heap);
    return CYCLE_DESTRUCT;
}

static cycle_phase phase_destruct(wgc_heap *heap)
{
    run_destructors(heap);
    return CYCLE_SWEEP;
}

static cycle_phase phase_sweep(wgc_heap *heap)
{
    wgc__specials_compact(heap);
    heap->cycle.live = sweep_pages(heap);
    return CYCLE_BUDGET;
}

static cycle_phase phase_budget(wgc_heap *heap)
{
    cycle *c = &heap->cycle;
    set_budget(heap, c->live);
    if (!c->minor)
        set_major_at(heap, c);
    uint64_t pause = clock_ns(CLOCK_MONOTONIC) - c->start_ns;
    uint64_t cpu = clock_ns(CLOCK_THREAD_CPUTIME_ID) - c->cpu_start_ns;
    wgc_heap_stats *st = &heap->stats;
    st->collections++;
    st->live_bytes = c->live;
    st->pause_last_ns = pause;
    st->pause_total_ns += pause;
    if (pause > st->pause_max_ns)
        st->pause_max_ns = pause;
    st->pause_cpu_last_ns = cpu;
    st->pause_cpu_total_ns += cpu;
    if (c->minor) {
        st->minor_collections++;
        st->minor_pause_total_ns += pause;
        if (pause > st->minor_pause_max_ns)
            st->minor_pause_max_ns = pause;
    } else if (pause > st->major_pause_max_ns) {
        st->major_pause_max_ns = pause;
    }
#if WGC_DEBUG_CHECKS
    /* The verifier is an entry point: it runs as the mutator would. */
    heap->callback = CALLBACK_NONE;
    heap->cycle.phase = CYCLE_IDLE;
    if (!wgc_debug_verify(heap))
        abort();
    heap->cycle.phase = CYCLE_BUDGET;
    heap->callback = CALLBACK_HOOK;
#endif
    return CYCLE_NOTIFY;
}

static cycle_phase phase_notify(wgc_heap *heap)
{
    if (heap->config.print_stats)
        print_stats(heap, heap->cycle.live_before);
    if (heap->queued_cleanup && heap->config.cleanup_pending)
        heap->config.cleanup_pending(heap, heap->config.cleanup_pending_user);
    hook(heap, heap->cycle.minor ? WGC_EVENT_MINOR_END : WGC_EVENT_COLLECT_END);
    return CYCLE_RELEASE;
}

/* [C2] Memory goes back to the OS after the pause (and after the end
 * hook, which bench/ and hosts use to time pauses): nothing in the
 * collection waits on a munmap. */
static cycle_phase phase_release(wgc_heap *heap)
{
    double target = (double)heap->cycle.live * heap->config.growth_factor;
    size_t floor = heap->config.initial_heap_size;
    wgc__pages_trim(heap, target > (double)floor ? (size_t)target : floor);
    wgc__large_unmap_dead(heap);
    return CYCLE_IDLE;
}

static const struct {
    cycle_phase (*run)(wgc_heap *heap);
    in_callback user;
} phases[CYCLE_PHASES] = {
    [CYCLE_START] = {phase_start, CALLBACK_HOOK},
    [CYCLE_ROOTS] = {phase_roots, CALLBACK_TRACE},
    [CYCLE_DRAIN] = {phase_drain, CALLBACK_TRACE},
    [CYCLE_EPHEMERONS] = {phase_ephemerons, CALLBACK_TRACE},
    [CYCLE_WEAK_TABLES] = {phase_weak_tables, CALLBACK_WEAK_TABLES},
    /* the weak fallback re-traces [M3] */
    [CYCLE_WEAK] = {phase_weak, CALLBACK_TRACE},
    [CYCLE_SPECIALS] = {phase_specials, CALLBACK_HOOK},
    [CYCLE_DESTRUCT] = {phase_destruct, CALLBACK_DESTRUCTOR},
    [CYCLE_SWEEP] = {phase_sweep, CALLBACK_HOOK},
    [CYCLE_BUDGET] = {phase_budget, CALLBACK_HOOK},
    [CYCLE_NOTIFY] = {phase_notify, CALLBACK_HOOK},
    [CYCLE_RELEASE] = {phase_release, CALLBACK_HOOK},
};

/* Runs the phase the cycle is at; returns the next. */
static cycle_phase step(wgc_heap *heap)
{
    cycle_phase now = heap->cycle.phase;
    /* [C3] One phase at a time, from outside any user code [G5]. */
    WGC_ASSERT_IN(heap, now > CYCLE_IDLE && now < CYCLE_PHASES);
    WGC_ASSERT_IN(heap, heap->callback == CALLBACK_NONE);
    heap->callback = phases[now].user;
    cycle_phase next = phases[now].run(heap);
    if (!wgc__frames_check(heap, heap->cycle.frames))
        heap->cycle.frames_misused = true;
    heap->callback = CALLBACK_NONE;
    return next;
}

wgc_error wgc__collect(wgc_heap *heap)
{
    return wgc__collect_as(heap, COLLECT_AUTO);
}

wgc_error wgc__collect_as(wgc_heap *heap, collect_kind kind)
{
#if WGC_DEBUG_CHECKS
    heap->owner_thread = (unsigned long)pthread_self();
#endif
    heap->cycle.minor = choose_minor(heap, kind);
    heap->cycle.phase = CYCLE_START;
    heap->cycle.frames_misused = false;
    while (heap->cycle.phase != CYCLE_IDLE)
        heap->cycle.phase = step(heap);
#if WGC_DEBUG_CHECKS
    heap->owner_thread = 0;
#endif
    return heap->cycle.frames_misused ? WGC_EREENTRY : WGC_OK;
}

bool wgc_collect(wgc_heap *heap)
{
    if (!wgc__enter(heap))
        return false;
    /* A misuse inside is reported, though the collection ran. */
    wgc__record(heap, wgc__collect_as(heap, COLLECT_MAJOR));
    return true;
}

bool wgc_collect_minor(wgc_heap *heap)
{
    if (!wgc__enter(heap))
        return false;
    wgc__record(heap, wgc__collect_as(heap, COLLECT_MINOR));
    return true;
}
