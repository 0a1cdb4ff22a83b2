/*
 * gc/alloc.c -- size classes and allocation.
 *
 * The fast path takes the next cell of the current free run: a compare and
 * an add.  The slow path finds the next run between marked cells [G3],
 * zeroes it, takes a new page, or collects when the budget is spent [G4].
 */
#include "gc/internal.h"

#include <stdio.h>

#define SMALL_MAX_SIZE (WGC_SMALL_MAX_CELL - WGC_HEADER_SIZE)
_Static_assert(SMALL_MAX_SIZE == WGC_SMALL_MAX_, "wgc/heap.h's inline path");

/* The allocator for a small object: by kind, then size class (the
 * classes are wgc/heap.h's, shared with the inline fast path). */
static inline allocator *allocator_for(wgc_heap *heap, const wgc_type *type,
                                       size_t size)
{
    return &heap->space.allocators[wgc_type_pointer_free_(type)][wgc_size_class_(size)];
}

void wgc__space_init(wgc_heap *heap)
{
    wgc__addrtable_init(&heap->space.page_table, sizeof(span *), 64, heap);
    wgc__vec_init(&heap->space.touched, sizeof(page *));
    for (int atomic = 0; atomic < 2; atomic++) {
        for (unsigned c = 0; c < WGC_CLASS_COUNT; c++) {
            heap->space.allocators[atomic][c] = (allocator){
                .run = &heap->pub.runs[atomic][c],
                .cell_size = (uint32_t)wgc_class_cell_(c),
                .class_index = (uint16_t)c,
                .atomic = (uint8_t)atomic,
            };
        }
    }
}

/* Gives back the unused rest of a's run (to the stats and the budget
 * [G4]) and ends the run there; a->current stays, so refill goes on from
 * the cursor. */
static void give_back(wgc_heap *heap, allocator *a)
{
    size_t unused = (size_t)(a->run->limit - a->run->cursor);
    heap->space.claimed_bytes -= unused;
    heap->charged -= unused;
    a->claimed_cells -= unused / a->cell_size;
    a->run->limit = a->run->cursor;
}

/* Gives back the unused rest of every open run [G4]. */
static void give_back_all(wgc_heap *heap)
{
    SPACE_EACH_ALLOCATOR(&heap->space, a)
        give_back(heap, a);
}

/* Ends the current run, keeping stats exact and the page frontier [G3]. */
static void end_run(wgc_heap *heap, allocator *a)
{
    give_back(heap, a);
    if (a->current)
        a->current->alloc_end = a->run->cursor;
    a->run->cursor = a->run->limit = NULL;
    a->current = NULL;
}

void wgc__allocators_retire(wgc_heap *heap)
{
    SPACE_EACH_ALLOCATOR(&heap->space, a)
        end_run(heap, a);
}

void wgc__allocators_rewind(wgc_heap *heap)
{
    SPACE_EACH_ALLOCATOR(&heap->space, a)
        a->next_page = a->pages;
}

/* The occupancy word w of a page: survivors, and in debug builds the
 * quarantined cells, which must not be reused yet. */
static uint64_t occupied(const page *p, unsigned bits, size_t w)
{
#if WGC_DEBUG_CHECKS
    return p->marks[bits][w] | p->quarantine[w];
#else
    return p->marks[bits][w];
#endif
}

/* Granule index of the first occupied cell at or after `from`, or
 * WGC_PAGE_GRANULES if none. */
static size_t next_occupied(const page *p, unsigned bits, size_t from)
{
    size_t w = from / 64;
    uint64_t word = occupied(p, bits, w) & (~(uint64_t)0 << (from % 64));
    for (;;) {
        if (word)
            return w * 64 + (size_t)__builtin_ctzll(word);
        if (++w == WGC_BITMAP_WORDS)
            return WGC_PAGE_GRANULES;
        word = occupied(p, bits, w);
    }
}

/* Finds the next free run in `p` at or after cell start `from`. */
static bool find_run_in_page(wgc_heap *heap, allocator *a, page *p, char *from)
{
    char *end = cells_end(p);
    for (char *c = from; c < end; c += a->cell_size) {
        size_t g = (size_t)(c + WGC_HEADER_SIZE - (char *)p) / WGC_GRANULE;
        size_t marked = next_occupied(p, heap->alloc_bits, g);
        char *stop = (char *)p + marked * WGC_GRANULE - WGC_HEADER_SIZE;
        if (stop > end)
            stop = end;
        if (stop == c)
            continue; /* c itself is marked */
        if (mt_active(heap) || heap->config.stress_interval)
            stop = c + a->cell_size; /* one cell per slow path */
        a->current = p;
        a->run->cursor = c;
        a->run->limit = stop;
        return true;
    }
    p->alloc_end = end;
    return false;
}

static wgc_error new_page(wgc_heap *heap, allocator *a)
{
    page *p;
    wgc_error err = wgc__page_get(heap, &p);
    if (err)
        return err;
    p->s.kind = SPAN_SMALL;
    p->s.atomic = a->atomic;
    p->s.owner = ~(uintptr_t)heap;
    p->class_index = a->class_index;
    p->cell_size = (uint16_t)a->cell_size;
    p->cell_count = (uint32_t)((WGC_PAGE_SIZE - WGC_PAGE_FIRST_CELL) / a->cell_size);
    /* Exact for offsets below 2^16 and cells below 2^13 (error < 2^29). */
    p->cell_recip = (uint32_t)((((uint64_t)1 << 32) + a->cell_size - 1) / a->cell_size);
    p->live_cells = 0;
    p->touched = false;
    memset(p->marks, 0, sizeof p->marks);
#if WGC_DEBUG_CHECKS
    memset(p->quarantine, 0, sizeof p->quarantine);
#endif
    p->alloc_end = first_cell(p);
    p->next = a->pages;
    a->pages = p;
    return WGC_OK;
}

/* [G4] Whether an allocation of `bytes` (a cell, or a large object's size)
 * must collect first: when bytes were allocated since the last collection
 * and this one would take them past the budget.  Runs are charged whole
 * when handed out, so before saying yes the unused rest of every open run
 * is given back: the answer depends on the cells the program took alone,
 * not on how long the runs were (one cell under a memory checker, split
 * by the debug quarantine, cut by this very rule). */
static bool over_budget(wgc_heap *heap, size_t bytes)
{
    if (heap->charged <= heap->budget && bytes <= heap->budget - heap->charged)
        return false;
    give_back_all(heap);
    if (heap->charged <= heap->budget && bytes <= heap->budget - heap->charged)
        return false;
    return heap->charged > 0;
}

/* Charges the run found for `a` to the budget, cut so that every cell the
 * fast path takes from it fits in the budget [G4]: the allocation that
 * does not fit always reaches refill.  Near the end of the budget a run
 * gets at most half of what is left, so that size classes taking turns
 * give runs back a logarithmic number of times, not once per cell. */
/* [Y5] Lists p as holding young cells, once per collection. */
static void note_touched(wgc_heap *heap, page *p)
{
    p->touched = true;
    page **slot = wgc__vec_push(heap, &heap->space.touched);
    if (slot)
        *slot = p;
    else
        heap->space.touched_overflow = true;
}

#if WGC_DEBUG_CHECKS
static bool quarantined(const page *p)
{
    for (size_t w = 0; w < WGC_BITMAP_WORDS; w++)
        if (p->quarantine[w])
            return true;
    return false;
}
#endif

/* Debug builds list, for the next collection, the pages whose cells this
 * one quarantined: the next minor must sweep them to lift the quarantine
 * even if nothing is allocated there (a page all quarantined offers no
 * run, so would never be touched). */
void wgc__space_sweep_done(wgc_heap *heap, bool swept_all)
{
    space *sp = &heap->space;
    vec *t = &sp->touched;
    size_t kept = 0;
    for (size_t i = 0; i < t->count; i++) {
        page *p = VEC_AT(t, page *, i);
#if WGC_DEBUG_CHECKS
        if (!swept_all && p->cell_count && quarantined(p)) {
            VEC_AT(t, page *, kept++) = p;
            continue;
        }
#endif
        p->touched = false;
    }
    t->count = kept;
    bool all = sp->touched_overflow || swept_all;
    sp->touched_overflow = false; /* before listing again: that may overflow */
    if (all)
        SPACE_EACH_PAGE(sp, it) {
            it.p->touched = false;
#if WGC_DEBUG_CHECKS
            if (quarantined(it.p))
                note_touched(heap, it.p);
#endif
        }
    sp->large_old = sp->large_objects;
}

static void claim_run(wgc_heap *heap, allocator *a)
{
    /* [G3] A run is free cells of its page, from a cell start. */
    WGC_ASSERT_IN(heap, a->current && a->run->cursor >= first_cell(a->current) &&
                            a->run->limit <= cells_end(a->current) &&
                            (size_t)(a->run->cursor - first_cell(a->current)) %
                                    a->cell_size == 0);
    size_t bytes = (size_t)(a->run->limit - a->run->cursor);
    if (heap->config.auto_collect) {
        size_t left = heap->charged < heap->budget ? heap->budget - heap->charged : 0;
        if (bytes > left) {
            size_t cells = left / 2 / a->cell_size;
            bytes = (cells ? cells : 1) * (size_t)a->cell_size;
            a->run->limit = a->run->cursor + bytes;
        }
    }
    page *p = a->current;
    if (WGC_UNLIKELY(!p->touched))
        note_touched(heap, p);
    mt_writable(heap, a->run->cursor, bytes);
    /* A fresh page is zero above its frontier until a sweep (which clears
     * `fresh`) lets runs start below used cells. */
    if (!p->s.fresh)
        memset(a->run->cursor, 0, bytes);
    if (mt_active(heap))
        mt_no_access(heap, a->run->cursor, bytes);
    heap->space.claimed_bytes += bytes;
    heap->charged += bytes;
    a->claimed_cells += (bytes * p->cell_recip) >> 32; /* bytes / cell_size */
}

/* Sets up a new current run for `a`; why not if none. */
static wgc_error refill(wgc_heap *heap, allocator *a)
{
    bool collected = false;
    if (heap->config.auto_collect && over_budget(heap, a->cell_size)) {
        wgc__collect(heap);
        collected = true;
    }
    for (;;) {
        if (a->current) {
            page *p = a->current;
            char *from = a->run->cursor;
            a->current = NULL;
            a->run->cursor = a->run->limit = NULL;
            if (find_run_in_page(heap, a, p, from))
                break;
        }
        page *p = a->next_page;
        if (p) {
            a->next_page = p->next;
            if (p->live_cells < p->cell_count &&
                find_run_in_page(heap, a, p, first_cell(p)))
                break;
            continue;
        }
        wgc_error err = new_page(heap, a);
        if (!err) {
            find_run_in_page(heap, a, a->pages, first_cell(a->pages));
            break;
        }
        if (collected || !heap->config.auto_collect)
            return err;
        wgc__collect_as(heap, COLLECT_MAJOR); /* [Y6] old garbage too */
        collected = true;
    }
    claim_run(heap, a);
    return WGC_OK;
}

static wgc_error alloc_large(wgc_heap *heap, const wgc_type *type, size_t size,
                             void **out)
{
    bool collected = false;
    if (heap->config.auto_collect && over_budget(heap, size)) {
        wgc__collect(heap);
        collected = true;
    }
    large *l;
    wgc_error err = wgc__large_new(heap, size, &l);
    if (err && err != WGC_EOVERFLOW && !collected && heap->config.auto_collect) {
        wgc__collect_as(heap, COLLECT_MAJOR);
        err = wgc__large_new(heap, size, &l);
    }
    if (err)
        return err;
    l->s.atomic = wgc_type_pointer_free_(type);
    heap->charged += size;
    heap->space.claimed_bytes += size;
    heap->space.large_allocs++;
    char *obj = (char *)l + WGC_LARGE_OBJECT_OFFSET;
    mt_writable(heap, obj - WGC_HEADER_SIZE, WGC_HEADER_SIZE);
    *header_of(obj) = (uintptr_t)type;
    mt_object_alloc(heap, obj, size);
    *out = obj;
    return WGC_OK;
}

static wgc_error alloc_slow(wgc_heap *heap, const wgc_type *type, size_t size,
                            void **out)
{
    if (!type)
        return WGC_EINVAL;
    if (size > SIZE_MAX / 2)
        return WGC_EOVERFLOW;
    if (!wgc_type_words_fit_(type, size))
        return WGC_EINVAL;
    if (type->destroy && !wgc__vec_reserve(heap, &heap->destructibles, 1))
        return WGC_ENOMEM;
    if (heap->config.stress_interval && --heap->stress_countdown == 0) {
        heap->stress_countdown = heap->config.stress_interval;
        wgc__collect(heap);
    }

    void *obj;
    if (size > SMALL_MAX_SIZE) {
        wgc_error err = alloc_large(heap, type, size, &obj);
        if (err)
            return err;
    } else {
        allocator *a = allocator_for(heap, type, size);
        if ((size_t)(a->run->limit - a->run->cursor) < a->cell_size) {
            wgc_error err = refill(heap, a);
            if (err)
                return err;
        }
        char *cell = a->run->cursor;
        a->run->cursor += a->cell_size;
        mt_writable(heap, cell, WGC_HEADER_SIZE);
        *(uintptr_t *)cell = (uintptr_t)type;
        obj = cell + WGC_HEADER_SIZE;
        mt_object_alloc(heap, obj, a->cell_size - WGC_HEADER_SIZE);
    }
    if (type->destroy) {
        void **slot = wgc__vec_push(heap, &heap->destructibles);
        *slot = obj; /* reserved above: cannot fail */
    }
    *out = obj;
    return WGC_OK;
}

/* Callers normally inline wgc_alloc_inline_ (wgc/heap.h), which comes here
 * when its run is spent or its checks fail; called directly (WGC_NO_INLINE,
 * or through a pointer) it takes the same fast path first. */
void *(wgc_alloc)(wgc_heap *heap, const wgc_type *type, size_t size)
{
    void *obj = wgc_alloc_fast_(heap, type, size);
    if (WGC_LIKELY(obj != NULL))
        return obj;
    if (!wgc__enter(heap))
        return NULL;
    /* Only a failure is recorded: one recovered from on the way (a full
     * heap, then a collection) is not the call's. */
    wgc__record(heap, alloc_slow(heap, type, size, &obj));
    return obj;
}

/* ========================================================= introspection */

const wgc_type *wgc_type_of(const void *obj)
{
    return obj ? type_of(obj) : NULL;
}

size_t wgc_size_of(const void *obj)
{
    if (!obj)
        return 0;
    const span *s = span_of(obj);
    if (s->kind == SPAN_LARGE)
        return ((const large *)s)->size;
    return ((const page *)s)->cell_size - WGC_HEADER_SIZE;
}

bool wgc__is_allocated(const wgc_heap *heap, const void *ptr)
{
    if (!ptr || ((uintptr_t)ptr & (WGC_GRANULE - 1)))
        return false;
    const span *s = span_of(ptr);
    if (!wgc__span_known(heap, s))
        return false;
    if (s->kind == SPAN_LARGE)
        return (const char *)ptr == (const char *)s + WGC_LARGE_OBJECT_OFFSET;
    const page *p = (const page *)s;
    const char *cell = (const char *)ptr - WGC_HEADER_SIZE;
    if (p->s.kind != SPAN_SMALL || p->cell_count == 0 || cell < first_cell(p) ||
        cell >= cells_end(p))
        return false;
    uint64_t offset = (uint64_t)(cell - first_cell(p));
    if (((offset * p->cell_recip) >> 32) * p->cell_size != offset)
        return false; /* not a cell start */
    size_t g = (size_t)((const char *)ptr - (const char *)p) / WGC_GRANULE;
    const allocator *a = &heap->space.allocators[p->s.atomic][p->class_index];
    return page_cell_allocated(p, heap->alloc_bits, g, page_frontier(a, p));
}

bool wgc_is_object(const wgc_heap *heap, const void *ptr)
{
    return wgc__check_heap(heap) && wgc__is_allocated(heap, ptr);
}

void wgc__stats_sync(const wgc_heap *heap, wgc_heap_stats *out)
{
    *out = heap->stats;
    out->external_bytes = heap->external_bytes;
    const space *sp = &heap->space;
    uint64_t bytes = sp->claimed_bytes, objects = sp->large_allocs;
    SPACE_EACH_ALLOCATOR(sp, a) {
        size_t unused = (size_t)(a->run->limit - a->run->cursor);
        bytes -= unused;
        objects += a->claimed_cells - unused / a->cell_size;
    }
    out->bytes_allocated = bytes;
    out->objects_allocated = objects;
    out->heap_size = wgc__heap_bytes(heap);
}

/* ========================================================= external memory */

bool wgc_external_alloc(wgc_heap *heap, size_t bytes)
{
    if (!wgc__enter(heap))
        return false;
    if (bytes > SIZE_MAX - heap->external_bytes)
        return wgc__fail(heap, WGC_EOVERFLOW);
    heap->external_bytes += bytes;
    /* [G4] Charged like allocated bytes; once the budget is spent, no run
     * may serve another allocation, so the next one reaches over_budget. */
    heap->charged = bytes > SIZE_MAX - heap->charged ? SIZE_MAX : heap->charged + bytes;
    if (heap->charged > heap->budget)
        give_back_all(heap);
    return true;
}

bool wgc_external_free(wgc_heap *heap, size_t bytes)
{
    if (!wgc__check_heap(heap))
        return false;
    if (bytes > heap->external_bytes) {
        wgc__misuse(heap, "wgc_external_free of %zu bytes, but %zu are reported",
                    bytes, heap->external_bytes);
        return wgc__fail(heap, WGC_EINVAL);
    }
    heap->external_bytes -= bytes;
    return true;
}

/* ============================================================ diagnostics */

void wgc__explain_target(const wgc_heap *heap, const void *ptr, char *buf, size_t len)
{
    const span *s = span_of(ptr);
    if (((uintptr_t)ptr & (WGC_GRANULE - 1)) || !wgc__span_known(heap, s)) {
        snprintf(buf, len, "not in this heap (another heap's object, freed "
                           "memory or not a pointer)");
        return;
    }
    if (s->kind == SPAN_LARGE) {
        snprintf(buf, len, "inside a large object of type %s, not its start",
                 type_of((const char *)s + WGC_LARGE_OBJECT_OFFSET)->name);
        return;
    }
    const page *p = (const page *)s;
    const char *cell = (const char *)ptr - WGC_HEADER_SIZE;
#if WGC_DEBUG_CHECKS
    /* A page the last collection emptied is quarantined whole, headers
     * intact (memory tools would see the read: they are told it is free). */
    if (p->cell_count == 0 && p->cell_size && p->released_epoch + 1 >= heap->epoch &&
        !mt_active(heap) && cell >= first_cell(p) &&
        (size_t)(cell - first_cell(p)) % p->cell_size == 0 &&
        cell + p->cell_size <= (const char *)p + WGC_PAGE_SIZE && *header_of(ptr)) {
        snprintf(buf, len, "a dead object of type %s, freed by the last "
                           "collection (which emptied its page)", type_of(ptr)->name);
        return;
    }
#endif
    if (p->cell_count == 0 || cell < first_cell(p) || cell >= cells_end(p)) {
        snprintf(buf, len, "in a page of this heap, but at no object");
        return;
    }
    uint64_t offset = (uint64_t)(cell - first_cell(p));
    uint64_t index = (offset * p->cell_recip) >> 32;
    const char *start = first_cell(p) + index * p->cell_size + WGC_HEADER_SIZE;
    if ((const char *)ptr != start) {
        if (wgc__is_allocated(heap, start))
            snprintf(buf, len, "%zu bytes inside an object of type %s (an "
                               "interior pointer)",
                     (size_t)((const char *)ptr - start), type_of(start)->name);
        else
            snprintf(buf, len, "inside a free cell");
        return;
    }
#if WGC_DEBUG_CHECKS
    size_t g = (size_t)((const char *)ptr - (const char *)p) / WGC_GRANULE;
    /* A quarantined cell died in the last collection and still has its
     * header: its type is known for sure. */
    if ((p->quarantine[g / 64] >> (g % 64)) & 1) {
        snprintf(buf, len, "a dead object of type %s, freed by the last "
                           "collection", type_of(ptr)->name);
        return;
    }
#endif
    snprintf(buf, len, "a free cell (a dead object, freed before the last "
                       "collection)");
}

void wgc__explain_slot(const wgc_heap *heap, const void *holder, const void *slot,
                       char *buf, size_t len)
{
    (void)heap;
    if (!holder) {
        snprintf(buf, len, "a root slot (handle, frame, kept object or "
                           "trace_roots) at %p", slot);
        return;
    }
    size_t at = (size_t)((const char *)slot - (const char *)holder);
    if ((const char *)slot >= (const char *)holder && at < wgc_size_of(holder))
        snprintf(buf, len, "the field at byte offset %zu of an object of type %s "
                           "(%p)", at, type_of(holder)->name, holder);
    else
        snprintf(buf, len, "a slot at %p, outside the object of type %s (%p) "
                           "whose trace reported it", slot, type_of(holder)->name,
                 holder);
}

/* ================================================================ checks */

/* [G10] One page of allocator a: its header says what a allocates, its
 * counts match its bitmap, marks sit on cell starts, its frontier on a
 * cell boundary inside its cells [G3].  Its touched flag is checked
 * against space.touched by the caller [Y5]. */
static bool page_check(wgc_heap *heap, const allocator *a, const page *p)
{
    uint32_t count = (uint32_t)((WGC_PAGE_SIZE - WGC_PAGE_FIRST_CELL) / a->cell_size);
    if (p->s.kind != SPAN_SMALL || p->s.owner != ~(uintptr_t)heap ||
        p->s.atomic != a->atomic || p->class_index != a->class_index ||
        p->cell_size != a->cell_size || p->cell_count != count)
        return wgc__check_fail(heap, "page %p: kind %#x, %s heap, atomic %u, "
                               "class %u, cells %u of %u bytes; its allocator: "
                               "atomic %u, class %u, %u cells of %u bytes",
                               (void *)p, p->s.kind,
                               p->s.owner == ~(uintptr_t)heap ? "this" : "another",
                               p->s.atomic, p->class_index, p->cell_count,
                               p->cell_size, a->atomic, a->class_index, count,
                               a->cell_size);
    if (!wgc__span_known(heap, &p->s))
        return wgc__check_fail(heap, "page %p: missing from the page table",
                               (void *)p);
    const char *frontier = page_frontier(a, p);
    size_t into = (size_t)(frontier - first_cell(p));
    if (frontier < first_cell(p) || frontier > cells_end(p) || into % p->cell_size)
        return wgc__check_fail(heap, "page %p: frontier %p is not a cell boundary "
                               "in [%p, %p] [G3]", (void *)p, (const void *)frontier,
                               (void *)first_cell(p), (void *)cells_end(p));
    uint32_t marked = 0;
    for (size_t w = 0; w < WGC_BITMAP_WORDS; w++) {
        for (uint64_t bits = p->marks[heap->alloc_bits][w]; bits; bits &= bits - 1) {
            size_t g = w * 64 + (size_t)__builtin_ctzll(bits);
            const char *cell = (const char *)p + g * WGC_GRANULE - WGC_HEADER_SIZE;
            if (cell < first_cell(p) || cell >= cells_end(p) ||
                (size_t)(cell - first_cell(p)) % p->cell_size)
                return wgc__check_fail(heap, "page %p: granule %zu is marked, "
                                       "not a cell start [G3]", (void *)p, g);
            marked++;
        }
    }
    if (heap->stats.collections && marked != p->live_cells)
        return wgc__check_fail(heap, "page %p: counts %u live cells, its bitmap %u",
                               (void *)p, p->live_cells, marked);
    return true;
}

/* [G10] Every allocator, its run and its pages; the page count. */
bool wgc__space_check(wgc_heap *heap)
{
    space *sp = &heap->space;
    size_t pages = 0, touched = 0;
    SPACE_EACH_ALLOCATOR(sp, a) {
        unsigned atomic = (unsigned)(a >= &sp->allocators[1][0]);
        unsigned c = (unsigned)(a - &sp->allocators[atomic][0]);
        if (a->atomic != atomic || a->class_index != c ||
            a->cell_size != wgc_class_cell_(c) || a->run != &heap->pub.runs[atomic][c])
            return wgc__check_fail(heap, "allocator [%u][%u]: atomic %u, class %u, "
                                   "cell size %u (class size %zu)", atomic, c,
                                   a->atomic, a->class_index, a->cell_size,
                                   (size_t)wgc_class_cell_(c));
        bool current_seen = a->current == NULL, next_seen = a->next_page == NULL;
        for (page *p = a->pages; p; p = p->next) {
            if (!page_check(heap, a, p))
                return false;
            current_seen |= p == a->current;
            next_seen |= p == a->next_page;
            touched += p->touched;
            if (++pages > sp->page_count)
                return wgc__check_fail(heap, "allocator [%u][%u]: more pages than "
                                       "the %zu counted (a cycle?)", atomic, c,
                                       sp->page_count);
        }
        const wgc_run_ *r = a->run;
        bool run_ok = a->current ? r->cursor <= r->limit &&
                                       r->cursor >= first_cell(a->current) &&
                                       r->limit <= cells_end(a->current)
                                 : r->cursor == r->limit;
        if (!current_seen || !next_seen || !run_ok)
            return wgc__check_fail(heap, "allocator [%u][%u]: current page %p%s, "
                                   "next page %p%s, run [%p, %p)", atomic, c,
                                   (void *)a->current, current_seen ? "" : " not its own",
                                   (void *)a->next_page, next_seen ? "" : " not its own",
                                   (void *)r->cursor, (void *)r->limit);
    }
    if (pages + sp->free_page_count != sp->page_count)
        return wgc__check_fail(heap, "space: %zu pages in allocators and %zu pooled, "
                               "counted %zu", pages, sp->free_page_count,
                               sp->page_count);
    /* [Y5] The touched pages are the listed ones: each listed page is
     * flagged, and as many are flagged as listed (a page is listed once,
     * when its flag is set). */
    for (size_t i = 0; i < sp->touched.count; i++) {
        page *p = VEC_AT(&sp->touched, page *, i);
        if (!wgc__span_known(heap, &p->s) || p->s.kind != SPAN_SMALL || !p->touched)
            return wgc__check_fail(heap, "space.touched[%zu]: page %p %s [Y5]", i,
                                   (void *)p, p->s.kind != SPAN_SMALL || !wgc__span_known(heap, &p->s)
                                                  ? "is not a page of the heap"
                                                  : "has its touched flag clear");
    }
    if (!sp->touched_overflow && touched != sp->touched.count)
        return wgc__check_fail(heap, "space: %zu pages flagged touched, %zu listed "
                               "in space.touched [Y5]", touched, sp->touched.count);
    return true;
}
