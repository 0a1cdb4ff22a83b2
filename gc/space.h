/*
 * gc/space.h -- where objects live: spans, pages, large objects, the
 * allocators, the page pool and the page table (gc/pages.c, gc/alloc.c).
 * Not installed.  docs/gc.md ("Space") describes the module.
 *
 * [G1] Memory: small objects live in 64 KiB pages aligned to 64 KiB, one
 *      size class and one kind (traced or pointer-free) per page; large
 *      objects each have their own mapping, also 64 KiB aligned, whose
 *      start holds a span header.  So span_of(obj) is one mask for both.
 * [G2] Every object is preceded by one header word: its wgc_type pointer.
 *      Objects are 16-byte aligned; cells are multiples of 16 bytes.
 * [G3] Between collections a cell of a page is allocated iff it is marked
 *      in the page's current bitmap (it survived the last collection) or
 *      it lies below the page's allocation frontier (alloc_end, or the
 *      allocator's cursor for the page being allocated from).  Allocation
 *      only moves frontiers forward, through free runs found between
 *      marked cells: lazy sweeping costs nothing but the bitmap scan.
 *
 * The boundary: struct space (the heap's `space`) is written only by
 * gc/pages.c and gc/alloc.c.  Other modules read it through the functions
 * below and walk it with SPACE_EACH_PAGE and SPACE_EACH_LARGE; the pages
 * and large objects themselves (marks, frontiers, live counts) are the
 * collection's to update while it sweeps.
 */
#ifndef WGC_GC_SPACE_H
#define WGC_GC_SPACE_H

#include "gc/addrtable.h"
#include "gc/object.h"
#include "gc/vec.h"

#define WGC_PAGE_SHIFT 16
#define WGC_PAGE_SIZE ((size_t)1 << WGC_PAGE_SHIFT)
#define WGC_PAGE_GRANULES (WGC_PAGE_SIZE / WGC_GRANULE)
#define WGC_BITMAP_WORDS (WGC_PAGE_GRANULES / 64)
#define WGC_SMALL_MAX_CELL 8192
#define WGC_CLASS_COUNT WGC_SIZE_CLASSES_
#define WGC_PAGES_PER_MAP 16

enum span_kind { SPAN_SMALL = 0x534d, SPAN_LARGE = 0x4c47 };

/* The common start of a page and of a large object's mapping. */
typedef struct span {
    uint16_t kind;
    uint8_t atomic;          /* pointer-free objects: never scanned */
    uint8_t fresh;           /* data known to be all zero (small pages) */
    uint32_t ephemeron_keys; /* keys here with waiting ephemerons */
    uintptr_t owner;         /* ~(uintptr_t)heap: hidden from leak checkers */
    /* During marking only: per object (by granule; one word for a large
     * object) the ephemerons waiting on it, encoded as in [M2]. */
    uintptr_t *ephemeron_heads;
} span;

typedef struct page {
    span s;
    uint16_t class_index;
    uint16_t cell_size;       /* bytes, a multiple of WGC_GRANULE */
    uint32_t cell_count;
    uint32_t live_cells;      /* survivors of the last collection */
    uint32_t cell_recip;      /* ceil(2^32 / cell_size): offset / size by multiply */
    struct page *next;        /* in its allocator's page list, or the free pool */
    char *alloc_end;          /* [G3] the allocation frontier (a cell start) */
    uint64_t pooled_epoch;    /* in the free pool since this collection [C2] */
    bool touched;             /* [Y5] a run was claimed here since the last
                               * collection: listed in space.touched */
    uint64_t marks[2][WGC_BITMAP_WORDS]; /* current: marks[heap->mark_epoch & 1] */
#if WGC_DEBUG_CHECKS
    uint64_t quarantine[WGC_BITMAP_WORDS]; /* died in the last collection */
    uint64_t released_epoch;  /* the collection that emptied it */
#endif
} page;

typedef struct large {
    span s;
    uint64_t mark_epoch;      /* marked iff == heap->mark_epoch */
    struct large *prev, *next;
    size_t map_size;
    size_t size;              /* usable bytes */
} large;

/* Where the first cell of a page starts: after the header, at 8 mod 16 so
 * objects (one header word later) are 16-byte aligned. */
#define WGC_PAGE_FIRST_CELL (((sizeof(page) + 15) & ~(size_t)15) + 8)
#define WGC_LARGE_OBJECT_OFFSET (((sizeof(large) + 15) & ~(size_t)15) + 16)

/* The cells of a page: the first one's header, and the end of the last. */
static inline char *first_cell(const page *p)
{
    return (char *)p + WGC_PAGE_FIRST_CELL;
}

static inline char *cells_end(const page *p)
{
    return first_cell(p) + (size_t)p->cell_count * p->cell_size;
}

static inline span *span_of(const void *obj)
{
    return (span *)((uintptr_t)obj & ~(uintptr_t)(WGC_PAGE_SIZE - 1));
}


/* [G3] Whether the cell of the object at granule g of p is allocated,
 * given the bitmap of survivors `bits` and the allocation frontier.  In
 * debug builds cells that died in the last collection stay quarantined
 * (unallocated but not reused) until the next one. */
static inline bool page_cell_allocated(const page *p, unsigned bits, size_t g,
                                       const char *frontier)
{
    uint64_t bit = (uint64_t)1 << (g % 64);
    if (p->marks[bits][g / 64] & bit)
        return true;
#if WGC_DEBUG_CHECKS
    if (p->quarantine[g / 64] & bit)
        return false;
#endif
    return (const char *)p + g * WGC_GRANULE - WGC_HEADER_SIZE < frontier;
}

/* The cells of p marked in bitmap `bits`: a cell marks one bit, its
 * object's first granule. */
static inline uint32_t page_marked_cells(const page *p, unsigned bits)
{
    uint32_t n = 0;
    for (size_t w = 0; w < WGC_BITMAP_WORDS; w++)
        n += (uint32_t)__builtin_popcountll(p->marks[bits][w]);
    return n;
}

typedef struct allocator {
    wgc_run_ *run;          /* the current free run: cells [cursor, limit),
                             * in the heap's inline part (wgc/heap.h) */
    page *current;          /* page of the current run */
    page *pages;            /* every page of this class and kind */
    page *next_page;        /* next page to search for free runs */
    uint32_t cell_size;
    uint16_t class_index;
    uint8_t atomic;
    uint64_t claimed_cells; /* cells handed to runs, for exact stats */
} allocator;

/* The heap's memory: struct wgc_heap's `space`. */
typedef struct space {
    allocator allocators[2][WGC_CLASS_COUNT]; /* [atomic][class] */
    page *free_pages;         /* empty pages ready for reuse */
    size_t free_page_count;
    char *reserve;            /* mapped pages not yet handed out */
    size_t reserve_pages;
    size_t page_count;        /* pages in allocators and the free pool */
    large *large_objects;
    size_t large_bytes;
    large *unmap_large;       /* dead large objects, unmapped after the pause */
    addrtable page_table;     /* the set of span addresses */
    uint64_t claimed_bytes;   /* bytes handed to runs and large objects */
    uint64_t large_allocs;
    /* [Y5] What a minor collection sweeps: the pages runs were claimed
     * from since the last collection (all of them if the list could not
     * grow), and the large objects allocated since, which precede
     * large_old in large_objects. */
    vec touched;
    bool touched_overflow;
    large *large_old;
} space;

#define SPACE_ALLOCATORS (2 * WGC_CLASS_COUNT)

/* Every allocator, traced ones first, each kind by size class. */
#define SPACE_EACH_ALLOCATOR(sp, a)                                          \
    for (__typeof__(&(sp)->allocators[0][0]) a = &(sp)->allocators[0][0];    \
         a < &(sp)->allocators[0][0] + SPACE_ALLOCATORS; a++)

/* [G3] The allocation frontier of p, one of a's pages. */
static inline const char *page_frontier(const allocator *a, const page *p)
{
    return a->current == p ? a->run->cursor : p->alloc_end;
}

/* The walk over every page in use (not the pooled ones), allocator by
 * allocator: SPACE_EACH_PAGE(&heap->space, it) { ... it.p, it.a ... }.
 * page_iter_remove takes it.p out of its allocator's list (the sweep
 * pools emptied pages); the walk then goes on with the page after it. */
typedef struct page_iter {
    page *p;                  /* the current page; NULL at the end */
    allocator *a, *end;       /* its allocator; one past the last */
    page **link;              /* the link that points (or pointed) at p */
} page_iter;

/* Settles on the page *it->link, or the first page of a later allocator. */
static inline void page_iter_settle(page_iter *it)
{
    while (!(it->p = *it->link)) {
        if (++it->a == it->end)
            return;
        it->link = &it->a->pages;
    }
}

static inline page_iter page_iter_first(space *sp)
{
    allocator *a = &sp->allocators[0][0];
    page_iter it = {NULL, a, a + SPACE_ALLOCATORS, &a->pages};
    page_iter_settle(&it);
    return it;
}

static inline void page_iter_next(page_iter *it)
{
    if (*it->link == it->p) /* else it->p was removed: *link is its successor */
        it->link = &it->p->next;
    page_iter_settle(it);
}

static inline void page_iter_remove(page_iter *it)
{
    *it->link = it->p->next;
}

#define SPACE_EACH_PAGE(sp, it)                                              \
    for (page_iter it = page_iter_first(sp); it.p; page_iter_next(&it))

/* Every large object; the body may free l (the walk read its successor). */
#define SPACE_EACH_LARGE(sp, l)                                              \
    for (large *l = (sp)->large_objects, *l##_next_;                         \
         l && ((l##_next_ = l->next), true); l = l##_next_)


/* [Y5] After a sweep: no page or large object is young any more. */
void wgc__space_sweep_done(wgc_heap *heap);

/* ============================================================ pages.c */

/* A page for an allocator in *out, pooled or new; WGC_OK, or why none. */
wgc_error wgc__page_get(wgc_heap *heap, page **out);
void wgc__page_release(wgc_heap *heap, page *p);
/* [C2] Returns pooled pages to the OS, given the heap's target size. */
void wgc__pages_trim(wgc_heap *heap, size_t target_bytes);
/* Unmaps the dead large objects the sweep set aside. */
void wgc__large_unmap_dead(wgc_heap *heap);
wgc_error wgc__large_new(wgc_heap *heap, size_t size, large **out);
void wgc__large_free(wgc_heap *heap, large *l);
/* The heap's space, empty; and its memory back to the OS. */
void wgc__space_init(wgc_heap *heap);
void wgc__space_free(wgc_heap *heap);
bool wgc__span_known(const wgc_heap *heap, const span *s);
size_t wgc__heap_bytes(const wgc_heap *heap);

/* ============================================================ alloc.c */

void wgc__allocators_retire(wgc_heap *heap);
/* After a sweep: every allocator searches its pages from the first. */
void wgc__allocators_rewind(wgc_heap *heap);
bool wgc__is_allocated(const wgc_heap *heap, const void *ptr);
/* For misuse reports: what `ptr`, a slot's target that is not a live
 * object, is (another heap's, interior, dead and of which type where debug
 * builds still know it); and where `slot` is (a root, or the field at an
 * offset of `holder`). */
void wgc__explain_target(const wgc_heap *heap, const void *ptr, char *buf, size_t len);
void wgc__explain_slot(const wgc_heap *heap, const void *holder, const void *slot,
                       char *buf, size_t len);
void wgc__stats_sync(const wgc_heap *heap, wgc_heap_stats *out);

#endif
