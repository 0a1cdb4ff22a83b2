/*
 * gc/space.h -- where objects live: spans, pages, large objects, the allocators and the
 * page pool (gc/pages.c, gc/alloc.c).  Not installed.  [G1] [G3]
 */
#ifndef WGC_GC_SPACE_H
#define WGC_GC_SPACE_H

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


/* ============================================================ pages.c */

page *wgc__page_get(wgc_heap *heap);
void wgc__page_release(wgc_heap *heap, page *p);
/* [C2] Returns pooled pages to the OS, given the heap's target size. */
void wgc__pages_trim(wgc_heap *heap, size_t target_bytes);
/* Unmaps the dead large objects the sweep set aside. */
void wgc__large_unmap_dead(wgc_heap *heap);
large *wgc__large_new(wgc_heap *heap, size_t size);
void wgc__large_free(wgc_heap *heap, large *l);
void wgc__pages_free_all(wgc_heap *heap);
bool wgc__span_known(const wgc_heap *heap, const span *s);
size_t wgc__heap_bytes(const wgc_heap *heap);

/* ============================================================ alloc.c */

void wgc__allocators_init(wgc_heap *heap);
void wgc__allocators_retire(wgc_heap *heap);
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
