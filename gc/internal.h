/*
 * gc/internal.h -- the heap's internal structures, shared by gc/, weak/ and
 * finalize/.  Not installed.  docs/gc.md explains the design; the tags
 * [G1]... below name its invariants.
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
 * [G4] A collection starts only in wgc_alloc's slow path or wgc_collect;
 *      the trigger counts the bytes of the cells (and large objects) the
 *      program took, never runs or pages: see docs/gc.md.
 * [G5] During a collection no user code runs except trace callbacks and
 *      the root callback (then destructors and the event/notify hooks,
 *      which must not touch the heap).  phase != PHASE_MUTATOR means
 *      "inside a collection": allocation and collection refuse.
 */
#ifndef WGC_GC_INTERNAL_H
#define WGC_GC_INTERNAL_H

#include "wgc.h"
#include "wgc_build_config.h"
#include "gc/hash.h"

#include <stdlib.h>
#include <string.h>

#define WGC_PAGE_SHIFT 16
#define WGC_PAGE_SIZE ((size_t)1 << WGC_PAGE_SHIFT)
#define WGC_GRANULE 16
#define WGC_PAGE_GRANULES (WGC_PAGE_SIZE / WGC_GRANULE)
#define WGC_BITMAP_WORDS (WGC_PAGE_GRANULES / 64)
#define WGC_HEADER_SIZE sizeof(uintptr_t)
#define WGC_SMALL_MAX_CELL 8192
#define WGC_CLASS_COUNT WGC_SIZE_CLASSES_
#define WGC_PAGES_PER_MAP 16

#define WGC_LIKELY(x) __builtin_expect(!!(x), 1)
#define WGC_UNLIKELY(x) __builtin_expect(!!(x), 0)

/* Signature words catch stale or wrong handles [docs/gc.md: signatures]. */
#define WGC_SIG_HEAP WGC_HEAP_SIG_    /* "HEAP" */
#define WGC_SIG_DEAD 0xdeadbeefu

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
    uint64_t marks[2][WGC_BITMAP_WORDS]; /* current: marks[heap->epoch & 1] */
#if WGC_DEBUG_CHECKS
    uint64_t quarantine[WGC_BITMAP_WORDS]; /* died in the last collection */
    uint64_t released_epoch;  /* the collection that emptied it */
#endif
} page;

typedef struct large {
    span s;
    uint64_t mark_epoch;      /* marked iff == heap->epoch */
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

static inline uintptr_t *header_of(const void *obj)
{
    return (uintptr_t *)obj - 1;
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

static inline const wgc_type *type_of(const void *obj)
{
    return (const wgc_type *)(*header_of(obj) & ~(uintptr_t)7);
}

/* Header flag bits [G2]: the type pointer is 8-aligned, so the low three
 * bits are free.  Bit 0 is the write barrier's (WGC_HEADER_BARRIER_, in
 * wgc/heap.h [G6]); bit 1 says the object is kept for the current job
 * (keep-during-job), so that each target is listed once per job however
 * often it is kept. */
#define WGC_HEADER_KEPT ((uintptr_t)2)
_Static_assert(WGC_HEADER_KEPT != WGC_HEADER_BARRIER_, "one bit, one meaning");

/* Slots are read and written as bytes so that any pointer type may be
 * visited without breaking C's aliasing rules. */
static inline void *slot_load(const void *slot)
{
    void *p;
    memcpy(&p, slot, sizeof p);
    return p;
}

static inline void slot_store(void *slot, void *value)
{
    memcpy(slot, &value, sizeof value);
}

/* ======================================================= growable vectors */

/* A vector of fixed-size items whose growth is an internal memory request
 * (counted and failable, see wgc_debug_fail_request). */
typedef struct vec {
    char *items;
    size_t count, capacity, item_size;
} vec;

/* ==================================================================== heap */

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

typedef enum phase {
    PHASE_MUTATOR = 0,
    PHASE_MARK,       /* trace and root callbacks run */
    PHASE_WEAK_TABLES, /* config.sweep_weak_tables runs [W16] */
    PHASE_SWEEP,      /* destructors run */
    PHASE_HOOK,       /* event and cleanup-pending hooks run */
    PHASE_FREE        /* wgc_heap_free is running destructors */
} phase;

typedef enum visit_mode {
    VISIT_MARK,
    VISIT_FIX_WEAK,   /* fallback: clear dead weak slots by re-tracing */
    VISIT_VERIFY,
    VISIT_DIAG        /* diag/: a walk that marks nothing (docs/diag.md) */
} visit_mode;

struct wgc_visitor {
    wgc_heap *heap;
    visit_mode mode;
};

/* A weak slot seen during marking whose target was not yet marked. */
typedef void (*weak_notify_fn)(wgc_heap *heap, void *owner, void *slot);
typedef struct weak_record {
    void *slot;
    void *owner;              /* for notify: the object owning the slot */
    weak_notify_fn notify;
    uint64_t seq;             /* notify order within one collection */
} weak_record;

/* An ephemeron waiting for its key to be marked that needs a record: not
 * alone on its key, or not a key/value pair (see [M2] in gc/mark.c).  A
 * NULL key_slot: a weak-map entry waiting by value, value_slot its value. */
typedef struct ephemeron {
    void *key_slot, *value_slot;
    uintptr_t next;           /* the next one waiting on the same key, [M2] */
} ephemeron;

/* Objects with behaviour inside a collection: weak maps, registries,
 * groups.  They embed this header first and are listed in heap->specials
 * so the collection can fix them up after weak processing [W3]. */
typedef struct special special;
typedef struct special_ops {
    /* After weak slots are cleared, for a special that survived. */
    void (*after_weak)(wgc_heap *heap, special *sp);
    /* Groups and registries own cleanup queues [F4]: the key of the
     * first queued entry (false if none will be delivered by
     * wgc_run_cleanup), and its delivery (the callback's result). */
    bool (*queue_head)(special *sp, uint64_t *epoch, uint64_t *seq);
    int (*deliver)(special *sp, void *arg); /* arg: NULL from run_cleanup */
} special_ops;
struct special {
    uint32_t sig;
    uint32_t index;           /* position in heap->specials */
    uint32_t owner_index;     /* position in heap->owners, if it owns a queue */
    const special_ops *ops;
    wgc_heap *heap;
    size_t pending;           /* entries in its cleanup queue */
};

typedef struct mark_segment mark_segment;

/* A persistent handle's slot, in a slab the heap owns (gc/roots.c).  The
 * wgc_root pointer a user holds is not the slot's address but a token that
 * names the slot and its generation; `handle` is the token of the slot's
 * live handle, or of its last one with bit 0 set while the slot is free. */
typedef struct root_slot {
    void *object;
    struct root_slot *prev, *next; /* live: creation order; free: free list */
    uintptr_t handle;
} root_slot;
typedef struct root_slab root_slab;

struct wgc_heap {
    wgc_heap_inline_ pub;     /* first: what the inline fast paths read */
    phase phase;
    wgc_error error;
    wgc_config config;

    allocator allocators[2][WGC_CLASS_COUNT]; /* [atomic][class] */

    /* pages */
    page *free_pages;         /* empty pages ready for reuse */
    size_t free_page_count;
    char *reserve;            /* mapped pages not yet handed out */
    size_t reserve_pages;
    size_t page_count;        /* pages in allocators and the free pool */
    large *large_objects;
    size_t large_bytes;
    vec page_table;           /* open-addressed set of span addresses */
    size_t page_table_used;

    /* collection policy */
    uint64_t epoch;
    unsigned alloc_bits;      /* marks[alloc_bits] is [G3]'s bitmap */
    uint64_t large_allocs;
    size_t budget;            /* [G4] bytes the program may allocate between
                               * two collections */
    size_t external_bytes;    /* [G4] wgc_external_alloc minus _free */
    size_t charged;           /* [G4] bytes of cells handed to runs (their
                               * unused rest given back) and of large objects
                               * since the last collection */
    large *unmap_large;       /* dead large objects, unmapped after the pause */
    uint64_t stress_countdown;

    /* roots */
    root_slot *roots_first, *roots_last; /* live handles, creation order */
    root_slot *roots_free;    /* free slots of the slabs, most recent first */
    root_slab *root_slabs;    /* frames: pub.frames */
    vec kept;                 /* keep-during-job objects, once each */
    bool kept_overflow;       /* kept objects missing from `kept` (it could
                               * not grow): found by their header bit */

    /* marking */
    mark_segment *mark_stack;
    void **mark_sp, **mark_base, **mark_end;
    bool mark_overflow;
    vec weak_records;         /* notifying weak slots (weak_record) */
    vec weak_slots;           /* plain weak slots (void *): no notify, no
                               * order, so one word each [M3] */
    bool weak_overflow;
    vec ephemerons;
    vec ephemeron_spans;      /* spans with ephemeron_heads this collection */
    vec ephemeron_head_pool;  /* zeroed page head arrays kept for the next one */
    bool ephemeron_overflow;
    bool ephemeron_entries_died; /* a waiting weak-map entry's key died [M2] */
    bool queued_cleanup;      /* this collection queued cleanup work */

    /* objects whose type has a destructor, in allocation order */
    vec destructibles;
    /* weak maps, registries and groups, in creation order; and of those the
     * owners of cleanup queues (registries, groups), so that a safe point
     * never walks the weak maps */
    vec specials;
    vec owners;

    /* finalization: sequence numbers order registrations heap-wide */
    uint64_t next_seq;
    /* cleanup callbacks and executors running now (they nest: a callback
     * may drain): "inside a user callback", apart from the phase [F7] */
    unsigned cleanup_depth;

    wgc_heap_stats stats;
    uint64_t claimed_bytes;   /* bytes handed to runs and large objects */

    /* fault injection */
    uint64_t requests, fail_at;
    bool fail_sticky;

#if WGC_VALGRIND || WGC_ASAN
    bool memcheck;            /* running under valgrind: annotate */
#endif
#if WGC_DEBUG_CHECKS
    unsigned long owner_thread; /* thread collecting, 0 when none */
    const void *tracing;        /* object whose trace callback runs */
    unsigned long stack_thread; /* the thread whose stack_lo is cached */
    const char *stack_lo;       /* its stack's lowest address [R1] */
#endif
};


/* The bitmap the running (or last) collection marks in. */
static inline unsigned mark_bits(const wgc_heap *heap)
{
    return (unsigned)(heap->epoch & 1);
}

/* Whether obj is marked by the running (or last) collection. */
static inline bool is_marked(const wgc_heap *heap, const void *obj)
{
    const span *s = span_of(obj);
    if (s->kind == SPAN_LARGE)
        return ((const large *)s)->mark_epoch == heap->epoch;
    const page *p = (const page *)s;
    size_t g = (size_t)((const char *)obj - (const char *)p) / WGC_GRANULE;
    return (p->marks[mark_bits(heap)][g / 64] >> (g % 64)) & 1;
}

/* ============================================================ heap.c */

bool wgc__bad_heap(const wgc_heap *heap);
bool wgc__enter_refused(wgc_heap *heap);
/* Every entry point's first check: cheap, so inline. */
static inline bool wgc__check_heap(const wgc_heap *heap)
{
    if (WGC_UNLIKELY(!heap))
        return false;
    return WGC_LIKELY(heap->pub.sig == WGC_SIG_HEAP) || wgc__bad_heap(heap);
}

/* For entry points that mutate: checks the heap and the phase [G5] (and in
 * debug builds the thread). */
static inline bool wgc__enter(wgc_heap *heap)
{
    if (!wgc__check_heap(heap))
        return false;
    if (WGC_LIKELY(heap->phase == PHASE_MUTATOR) && !WGC_DEBUG_CHECKS)
        return true;
    return wgc__enter_refused(heap);
}
/* Records `err` on heap and returns false: `return wgc__fail(h, E);`. */
bool wgc__fail(wgc_heap *heap, wgc_error err);
void wgc__misuse(const wgc_heap *heap, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* One line to config.log, or to stderr without one (or without a live
 * heap). */
void wgc__log(const wgc_heap *heap, wgc_log_kind kind, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Internal memory requests: counted, and failed on demand. */
bool wgc__request(wgc_heap *heap);
void *wgc__malloc(wgc_heap *heap, size_t size);
void *wgc__calloc(wgc_heap *heap, size_t count, size_t size);

void wgc__vec_init(vec *v, size_t item_size);
bool wgc__vec_reserve(wgc_heap *heap, vec *v, size_t extra);
void *wgc__vec_grow_push(wgc_heap *heap, vec *v);
/* A new last item; NULL when growth fails. */
static inline void *wgc__vec_push(wgc_heap *heap, vec *v)
{
    if (WGC_LIKELY(v->count < v->capacity))
        return v->items + v->item_size * v->count++;
    return wgc__vec_grow_push(heap, v);
}
void wgc__vec_free(vec *v);
#define VEC_AT(v, type, i) (((type *)(v)->items)[i])

/* Lists sp, a special just allocated (so still zero), and signs it with
 * `sig`.  On failure (WGC_ENOMEM) it stays unsigned and unlisted: garbage
 * whose destructor's wgc__special_remove does nothing. */
bool wgc__special_add(wgc_heap *heap, special *sp, const special_ops *ops,
                      uint32_t sig);
/* The argument check of a registry's or group's public functions (in
 * finalize/cleanup.c): a live special of `type` signed `sig` (reported as
 * misuse otherwise) on a valid heap.  Debug builds read nothing of a dead
 * one, whose memory may be gone [F8]. */
bool wgc__special_check(const special *sp, uint32_t sig, const wgc_type *type,
                        const char *kind);
/* Delivers up to `max` entries of one owner's queue with deliver(sp, arg),
 * the owner rooted; stops at a failing callback (WGC_ECALLBACK). */
size_t wgc__drain(special *sp, size_t max, int (*deliver)(special *, void *),
                  void *arg);
/* Called by a special's destructor (in the sweep): unlists it if it was
 * listed and marks it dead; the collection then compacts the list with
 * wgc__specials_compact. */
void wgc__special_remove(special *sp);
void wgc__specials_compact(wgc_heap *heap);

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

/* ============================================================ mark.c */

void wgc__mark_roots(wgc_heap *heap);
void wgc__mark_drain(wgc_heap *heap);
void wgc__mark_converge(wgc_heap *heap);
void wgc__process_weak(wgc_heap *heap);
void wgc__mark_free(wgc_heap *heap);
/* Reports every slot of `obj` to `v`: its pointer_words, then its trace. */
void wgc__trace_object(void *obj, wgc_visitor *v);
/* A weak slot whose clearing calls notify(heap, owner, slot) inside the
 * collection, in the same step as every other weak slot [W3].  The
 * notifications of one collection run in increasing `seq` [F4]. */
void wgc__visit_weak_notify(wgc_visitor *v, void *slot, void *owner,
                            weak_notify_fn notify, uint64_t seq);
/* wgc_visit_ephemeron for a table that empties its own dead entries (the
 * weak map): an entry whose key is not yet marked waits by its value,
 * read now (slots do not change during marking), and true is returned.
 * Its slots are then left alone: when heap->ephemeron_entries_died is set
 * after the weak step, the table empties every entry of an unmarked key
 * in its after_weak, before any user code runs [W3]. */
bool wgc__visit_entry(wgc_visitor *v, void *key_slot, void *value_slot);

/* ============================================================ collect.c */

void wgc__collect(wgc_heap *heap);
/* Invokes fn(heap, obj, arg) on every live object, pages first. */
void wgc__each_object(wgc_heap *heap, bool marked_only,
                      void (*fn)(wgc_heap *, void *, void *), void *arg);

/* ====================================================== weak/tables.c */

/* Runs config.sweep_weak_tables, if any [W16]: after convergence, before
 * the weak step. */
void wgc__sweep_weak_tables(wgc_heap *heap);

/* ============================================================ roots.c */

void wgc__roots_trace(wgc_heap *heap, wgc_visitor *v);
/* After each stretch of user code in a collection (hooks, trace callbacks,
 * destructors) and before anything reads the frames again: the frame
 * stack must be as at its start (`saved`).  A frame pushed there (by the
 * inline WGC_FRAME, which cannot see the phase) is misuse, undone and
 * reported (WGC_EREENTRY). */
void wgc__frames_check(wgc_heap *heap, wgc_frame *saved);
void wgc__roots_free(wgc_heap *heap);
/* Keeps obj (a live object) until wgc_end_job, if keep_during_job is on.
 * Never fails: without memory it falls back to a walk of the heap. */
void wgc__keep(wgc_heap *heap, void *obj);

/* ============================================================ verify.c */

/* A slot seen by the verifier (VISIT_VERIFY): reports a dangling target. */
void wgc__verify_slot(wgc_visitor *v, void *slot, const char *kind);

/* ============================================================ diag/walk.c */

/* Slots seen by a diagnostic walk (VISIT_DIAG): strong or weak, and the
 * two slots of an ephemeron [D2]. */
void wgc__diag_slot(wgc_visitor *v, void *slot, bool weak);
void wgc__diag_ephemeron(wgc_visitor *v, void *key_slot, void *value_slot);

/* ======================================================== memory tools */

#include "gc/memtool.h"

#endif
