/*
 * wgc/heap.h -- the heap: configuration, types, allocation, tracing, roots,
 * collection and statistics.
 *
 * The one rule every user must follow
 * -----------------------------------
 * wgc is precise: it never scans the C stack.  An object is alive only if
 * it can be reached from a root: a persistent handle (wgc_root_new), a frame
 * of local-variable addresses (WGC_FRAME), the embedder's root callback
 * (wgc_config.trace_roots), or a kept object (see wgc/weak.h).  A pointer
 * held only in a C local across a call that can allocate (wgc_alloc, and
 * every function documented "may collect") must be in a frame or a handle:
 *
 *     struct pair *make_list(wgc_heap *h, int n)
 *     {
 *         struct pair *list = NULL, *cell = NULL;
 *         WGC_FRAME(h, &list, &cell);        // list and cell are now roots
 *         for (int i = 0; i < n; i++) {
 *             cell = wgc_alloc(h, &pair_type, sizeof *cell);  // may collect
 *             if (!cell) break;
 *             cell->next = list;
 *             list = cell;
 *         }
 *         WGC_FRAME_POP(h);
 *         return list;                       // caller roots it before allocating
 *     }
 *
 * Threads: a heap is used by one thread at a time.  Several heaps may live
 * side by side in one process; the library has no global state.
 *
 * Errors: functions report failure through their return value (NULL, false
 * or 0 as documented) and record the reason, readable with wgc_last_error().
 * A failed call leaves the heap as it was, with one exception: a call
 * documented "may collect" may have run a collection before it failed, and
 * that collection's effects stay (dead objects reclaimed, weak references
 * to them cleared, cleanups queued), as for any collection.
 *
 * Callbacks: what each may call
 * -----------------------------
 * The library calls back into the program from eight places.  Those marked
 * "in" run inside a collection, where the heap must not change; calls not
 * allowed there fail with WGC_EREENTRY (debug builds also print why).
 *
 *   callback                          in  may call
 *   --------------------------------  --  ---------------------------------
 *   wgc_type.trace                    in  wgc_visit*, wgc_visit_value; read
 *                                         its own object
 *   config.trace_roots                in  the same; it may run several
 *                                         times in one collection (the
 *                                         overflow fallbacks rescan roots)
 *   config.sweep_weak_tables          in  wgc_survives; read any object,
 *                                         change the program's own memory
 *   wgc_type.destroy                  in  wgc_external_free; release
 *                                         non-heap resources of its object
 *   config.on_event, cleanup_pending  in  wgc_stats, wgc_last_error; record
 *                                         facts in the program's memory
 *   config.log                        in  nothing of the heap (it may be
 *                                         called from any library call)
 *   registry callbacks, group             everything but wgc_heap_free:
 *   executors, manual finalization        allocate, collect, register,
 *                                         make refs, run cleanup (a nested
 *                                         drain delivers the next entries)
 *
 * Never longjmp or throw out of a callback: the library is in the middle
 * of its work there (a collection's state, frames it pushed around a
 * cleanup callback).  Catch errors inside the callback and return; a
 * cleanup callback reports failure by returning non-zero.
 */
#ifndef WGC_HEAP_H
#define WGC_HEAP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "version.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct wgc_heap wgc_heap;
typedef struct wgc_visitor wgc_visitor;

/* ==================================================================== errors */

typedef enum wgc_error {
    WGC_OK = 0,
    WGC_EINVAL,    /* an argument is NULL where it may not be, or of the wrong kind */
    WGC_ENOMEM,    /* the OS refused memory or an internal table could not grow */
    WGC_EHEAPMAX,  /* the request would take the heap past config.max_heap_size */
    WGC_EOVERFLOW, /* a requested size is too large to represent */
    WGC_EREENTRY,  /* called from a trace callback, destructor or event hook
                    * (or wgc_heap_free from a cleanup callback or executor) */
    WGC_ESTATE,    /* a frame popped out of LIFO order, or a similar misuse */
    WGC_ECALLBACK  /* a cleanup callback reported failure and stopped a drain */
} wgc_error;

/* The reason for the last failed call on `heap` (calls that succeed do not
 * reset it; wgc_clear_error does).  WGC_EINVAL for a NULL heap. */
WGC_API wgc_error wgc_last_error(const wgc_heap *heap);
WGC_API void wgc_clear_error(wgc_heap *heap);

/* A static, human-readable description of `err`. Never NULL. */
WGC_API const char *wgc_error_string(wgc_error err);

/* ===================================================================== types */

/*
 * A type descriptor, one per kind of object.  It must stay valid (usually it
 * is a static const) as long as any heap holds objects of the type.
 *
 * trace:   reports each pointer field by address with wgc_visit (strong),
 *          wgc_visit_weak or wgc_visit_ephemeron.  NULL means the object
 *          holds no heap pointers (strings, numeric arrays): it is never
 *          scanned, and is kept in separate pages.  A trace callback runs
 *          inside a collection: it must not allocate, collect, or change
 *          any object; it may only read its object and call wgc_visit*.
 * destroy: optional; runs once when the object is found dead, inside the
 *          collection that found it (or in wgc_heap_free).  It may release
 *          resources outside the heap (file descriptors, malloc'd buffers).
 *          It must not allocate, collect, or read other heap objects (they
 *          may already be dead).  Destructors are not finalizers: for code
 *          that must run later, at a safe point, use wgc/finalize.h.
 *          Cost: every object of a type with a destructor is allocated
 *          by the out-of-line slow path (never inlined) and recorded on a
 *          list that every collection walks, so such a type allocates
 *          markedly slower (about 1.6x for small objects) and adds to
 *          every pause in proportion to how many such objects live.
 *          Prefer it for objects that really own outside resources.
 * size:    optional, for variable-sized objects: returns the bytes the
 *          object really uses, which must not exceed the size it was
 *          allocated with.  Debug builds check this when they verify.
 * pointer_words: optional, a faster alternative to trace for fixed
 *          layouts: bit i set says that pointer-sized word i of the object
 *          (bytes 8i to 8i+7 from its start) is a strong pointer field.
 *          The collector scans these words itself, with no callback per
 *          object, which marks several times faster.  The highest set bit
 *          must lie within every size the type is allocated with:
 *          wgc_alloc refuses a smaller size with WGC_EINVAL.  A type may
 *          have both: trace is then called as well, for whatever the words
 *          do not cover (weak slots, ephemerons, a trailing array).  A type
 *          with neither is pointer-free.  WGC_WORD(struct, field) makes a
 *          bit:  .pointer_words = WGC_WORD(struct pair, car) |
 *          WGC_WORD(struct pair, cdr).
 */
typedef struct wgc_type {
    const char *name;
    void (*trace)(void *obj, wgc_visitor *v);
    void (*destroy)(void *obj);
    size_t (*size)(const void *obj);
    uint64_t pointer_words;
} wgc_type;

/* The pointer_words bit of `field`, a pointer member of `type` that must be
 * pointer-aligned and among the first 64 words. */
#define WGC_WORD(type, field) ((uint64_t)1 << (offsetof(type, field) / sizeof(void *)))

/* ==================================================================== config */

/* What config.on_event is told.  A full (major) collection is announced
 * by COLLECT_START and COLLECT_END; a minor collection of the generational
 * mode by MINOR_START and MINOR_END instead, so a host timing every pause
 * handles both pairs. */
typedef enum wgc_event {
    WGC_EVENT_COLLECT_START,
    WGC_EVENT_COLLECT_END,
    WGC_EVENT_MINOR_START,
    WGC_EVENT_MINOR_END
} wgc_event;

/* Which collector a heap runs (docs/generational.md).  The macro says that
 * this version has wgc_config.collector, for code built against several. */
#define WGC_HAS_COLLECTOR_MODES 1
typedef enum wgc_collector {
    /* The default: WGC_COLLECTOR_FULL, unless the environment variable
     * WGC_COLLECTOR says "generational" when the heap is made.  So a test
     * suite runs in either mode without a change to its code. */
    WGC_COLLECTOR_DEFAULT = 0,
    /* Every collection marks the whole heap.  The write barrier is not
     * needed (it does nothing). */
    WGC_COLLECTOR_FULL = 1,
    /* Most collections are minor: they mark only the objects allocated
     * since the last collection, from the roots and the objects the write
     * barrier remembered; survivors become old.  Full (major) collections
     * run when the old objects have grown enough (wgc_stats) or on
     * wgc_collect.  Every store of a heap pointer into an existing object
     * must go through the write barrier (wgc_write_barrier).  Weak
     * references, ephemerons and finalization behave exactly as in the full
     * mode: a young object that dies in a minor collection has every weak
     * reference to it cleared and its cleanups queued in that step. */
    WGC_COLLECTOR_GENERATIONAL = 2
} wgc_collector;

/* What a message given to config.log is about. */
typedef enum wgc_log_kind {
    WGC_LOG_MISUSE,     /* a broken contract caught by a check (debug builds
                         * report most; see wgc/debug.h) */
    WGC_LOG_COLLECTION  /* one line per collection, when enabled */
} wgc_log_kind;

typedef struct wgc_config {
    /* Bytes the heap may allocate before its first collection, and the
     * least it is ever sized for.  Default 4 MiB.  Bytes allocated are
     * counted as wgc_stats's bytes_allocated does: per small object its
     * cell (the size asked for plus one header word, rounded up to its size
     * class), per large object the size asked for.  An allocation collects
     * first when bytes were allocated since the last collection and its own
     * would take them past the budget.  Nothing else counts (not how memory
     * is carved up, nor a debug build, valgrind or ASan), so every build of
     * a program collects at the same points. */
    size_t initial_heap_size;
    /* Upper bound on the heap's memory (pages and large objects).  An
     * allocation that would pass it collects first and, if that does not
     * make room, fails with WGC_EHEAPMAX.  0: no bound.  It must be at
     * least 64 KiB; an initial_heap_size above it is lowered to it. */
    size_t max_heap_size;
    /* After a collection the heap may allocate live_bytes * (growth_factor
     * - 1) (at least initial_heap_size) before the next, counted as above.
     * Empty pages are kept for reuse and go back to the OS after a few
     * collections unused, or at once when the heap holds over twice
     * max(initial_heap_size, live_bytes * growth_factor).  Default 2.0;
     * must be > 1.0. */
    double growth_factor;
    /* true (the default): wgc_alloc collects when the threshold above is
     * crossed.  false: collections happen only in wgc_collect. */
    bool auto_collect;
    /* ECMAScript's kept-objects rule: see wgc/weak.h.  Default false. */
    bool keep_during_job;

    /* The embedder's own roots (a VM stack, globals): called during every
     * collection; it calls wgc_visit / wgc_visit_weak for each root slot.
     * It runs inside the collection, under the trace-callback rules. */
    void (*trace_roots)(wgc_visitor *v, void *user);
    void *trace_roots_user;

    /* The embedder's own weak tables (an interning table by content, a
     * cache keyed by a NaN-boxed value): called once in every collection,
     * after marking has finished and before any weak reference is cleared,
     * under the trace-callback rules.  In it wgc_survives(heap, obj) says
     * whether an object outlives this collection, and the hook removes or
     * tombstones the entries of those that do not (wgc/weak.h, "Weak
     * tables you own").  NULL: none. */
    void (*sweep_weak_tables)(wgc_heap *heap, void *user);
    void *sweep_weak_tables_user;

    /* Called at the end of a collection that queued cleanup work (see
     * wgc/finalize.h).  It runs inside the collection: it may only record
     * the fact, and the host calls wgc_run_cleanup later at a safe point. */
    void (*cleanup_pending)(wgc_heap *heap, void *user);
    void *cleanup_pending_user;

    /* Called at the start and end of every collection (it may read wgc_stats;
     * it must not allocate or touch objects). */
    void (*on_event)(wgc_heap *heap, wgc_event event, void *user);
    void *on_event_user;

    /* Stress: collect at every N-th allocation (0: off).  The environment
     * variable WGC_STRESS=N, read once by wgc_heap_new, overrides it. */
    unsigned stress_interval;

    /* Where the library's messages go: misuse reports and, with
     * print_stats, one line per collection.  `message` is one line without
     * its newline, valid during the call.  NULL (the default): stderr.  It
     * may be called inside a collection (then under the hook rules: it
     * must not allocate or touch objects) and from any library call that
     * detects misuse; it must not call back into the heap. */
    void (*log)(wgc_heap *heap, wgc_log_kind kind, const char *message, void *user);
    void *log_user;
    /* One line per collection to config.log (kind WGC_LOG_COLLECTION):
     * its number, the pause (wall and CPU), live bytes now and after the
     * previous collection,
     * heap size, weak slots cleared and cleanups queued.  The environment
     * variable WGC_PRINT_STATS=1 (or 0), read once by wgc_heap_new,
     * overrides it.  Default false. */
    bool print_stats;
    /* The collector (above).  WGC_COLLECTOR_DEFAULT (0, the default)
     * follows the environment variable WGC_COLLECTOR ("full" or
     * "generational"; anything else is ignored), read by wgc_heap_new; an
     * explicit mode wins over it.  Any other value: wgc_heap_new fails
     * with WGC_EINVAL. */
    wgc_collector collector;
} wgc_config;

/* Fills `cfg` with the defaults above.  Start from this.  NULL: no effect. */
WGC_API void wgc_config_init(wgc_config *cfg);

/* ====================================================================== heap */

/* A new empty heap configured by `cfg` (NULL: the defaults; the struct is
 * copied).  Returns NULL if the configuration is invalid (growth_factor <=
 * 1 or > 1000, a max_heap_size below 64 KiB) or memory is refused. */
WGC_API wgc_heap *wgc_heap_new(const wgc_config *cfg);

/* wgc_heap_new, saying why it failed: *why (when `why` is not NULL) is
 * WGC_OK with a heap, WGC_EINVAL for an invalid configuration, WGC_ENOMEM
 * for refused memory.  Debug builds also print which setting is wrong. */
WGC_API wgc_heap *wgc_heap_create(const wgc_config *cfg, wgc_error *why);

/* Runs the destructors of every object still in the heap, then returns all
 * of its memory.  Queued cleanups are dropped without running.  Every
 * handle, frame and object of the heap becomes invalid.  NULL: no effect.
 * Refused, the heap left alive (WGC_EREENTRY; debug builds print why),
 * from inside a collection (trace callback, destructor, hook) and from a
 * cleanup callback or group executor of this heap, whose drain still
 * needs the heap.
 * A freed heap must not be passed to any function again (that includes a
 * second wgc_heap_free).  Its struct goes back to malloc with a dead
 * signature word, which every function checks: while malloc has not
 * reused the block, such a call is refused (it returns its failure result
 * and changes nothing) and debug builds report "used after wgc_heap_free".
 * Once the block is reused nothing can be promised; valgrind and ASan
 * report the read of freed memory in any case. */
WGC_API void wgc_heap_free(wgc_heap *heap);

/* ================================================================ allocation */

/* A new object of `type` with `size` usable bytes, all zero, aligned to 16
 * bytes.  May collect first.  Returns NULL and records the error on: NULL
 * heap or type, or a size too small for the type's pointer_words
 * (WGC_EINVAL), a size too large (WGC_EOVERFLOW), the maximum
 * heap size (WGC_EHEAPMAX), memory refused (WGC_ENOMEM), a call from inside
 * a collection (WGC_EREENTRY).  A failure for lack of room (WGC_EHEAPMAX,
 * WGC_ENOMEM) may come after a collection this call ran to make room, with
 * all of its effects; the argument errors fail before anything is done. */
WGC_API void *wgc_alloc(wgc_heap *heap, const wgc_type *type, size_t size);

/* The type `obj` was allocated with.  `obj` must be a live object (NULL
 * gives NULL). */
WGC_API const wgc_type *wgc_type_of(const void *obj);

/* The usable size of live object `obj` (at least the size asked for); 0
 * for NULL. */
WGC_API size_t wgc_size_of(const void *obj);

/* Whether `ptr` is the start of a live object of `heap`.  Safe to call with
 * any pointer value.  false for NULL arguments. */
WGC_API bool wgc_is_object(const wgc_heap *heap, const void *ptr);

/* =================================================================== tracing */

/* Reports one strong slot: `slot` is the address of a pointer field (any
 * object pointer type) holding NULL or a live object of this heap.  Call
 * only from a trace callback or the root callback, with the visitor given. */
WGC_API void wgc_visit(wgc_visitor *v, void *slot);

/* Reports `count` consecutive strong slots starting at `slots` (which may
 * be NULL only when `count` is 0). */
WGC_API void wgc_visit_array(wgc_visitor *v, void *slots, size_t count);

/* Reports one strong reference by value: `obj` is NULL or a live object of
 * this heap, decoded by the caller from a field it cannot pass by address
 * (a NaN-boxed or tagged value).  It keeps `obj` alive exactly like a slot
 * would.  wgc never moves objects, so nothing needs writing back; should a
 * moving collector come, objects reported by value will be pinned (never
 * moved).  Copying a pointer into a local and passing the local's address
 * to wgc_visit does the same today, but only this form keeps its meaning in
 * a moving collector.  Weak slots have no by-value form: a weak slot is
 * written when its target dies, so it must be the real field (for boxed
 * weak entries use config.sweep_weak_tables).  Call only from a trace
 * callback or the root callback, with the visitor given. */
WGC_API void wgc_visit_value(wgc_visitor *v, void *obj);

/* ===================================================================== roots */

/* A persistent handle: a root that holds one object (or NULL) until freed.
 * Handles are traced in creation order.  A wgc_root pointer is an opaque
 * token, not an address to read or write through.
 *
 * Freed handles: handles live in memory the heap owns until wgc_heap_free,
 * and each token carries a generation, so a freed ("stale") handle passed
 * to wgc_root_get, _set or _free is caught in every build, also after its
 * memory has been reused for a new handle, and without reading freed
 * memory: get returns NULL, set returns false, free does nothing, and set
 * and free record WGC_EINVAL on the handle's heap.  Debug builds also print
 * a misuse message.  Limits: on 64-bit platforms the generation has 15
 * bits, so a stale handle whose slot has since been reused exactly a
 * multiple of 32768 times reads as the slot's new handle; on 32-bit
 * platforms a stale handle is caught only until its slot is reused.  A
 * handle of a freed heap, or a pointer that never was a handle, is
 * undefined behaviour. */
typedef struct wgc_root wgc_root;

/* A handle holding `obj` (NULL allowed; otherwise a live object of heap).
 * NULL on a NULL heap or an `obj` that is not a live object of the heap
 * (WGC_EINVAL), or refused memory (WGC_ENOMEM). */
WGC_API wgc_root *wgc_root_new(wgc_heap *heap, void *obj);
/* The object a handle holds.  NULL for a NULL or freed handle (see above). */
WGC_API void *wgc_root_get(const wgc_root *root);
/* Makes `root` hold `obj` (NULL or a live object of the handle's heap).
 * false for a NULL handle, a freed one or another `obj` (the last two
 * record WGC_EINVAL), or a call from inside a collection (WGC_EREENTRY);
 * the handle is then unchanged. */
WGC_API bool wgc_root_set(wgc_root *root, void *obj);
/* Releases a handle.  NULL: no effect.  A freed handle: no effect, and
 * WGC_EINVAL is recorded (see above).  From inside a collection (trace
 * callback, destructor, hook) it is refused: the handle stays, and
 * WGC_EREENTRY is recorded. */
WGC_API void wgc_root_free(wgc_root *root);

/*
 * Frames: a LIFO stack of local-variable addresses for C code.  Push before
 * the first call that may allocate and pop, in reverse order, before the
 * locals go out of scope.  Use the macros:
 *
 *     WGC_FRAME(heap, &a, &b, &c);   // at most one per C block
 *     ...
 *     WGC_FRAME_POP(heap);
 *
 * The locals must hold NULL or live objects whenever a collection may run.
 */
typedef struct wgc_frame {
    struct wgc_frame *prev;
    void *const *slots;
    size_t count;
} wgc_frame;

/* Pushes `frame` (storage owned by the caller, usually a local) holding the
 * `count` slot addresses in `slots`.  false (WGC_EINVAL) on NULL arguments,
 * `slots` included even when `count` is 0, and from inside a collection
 * (WGC_EREENTRY).  The inline WGC_FRAME does not see the phase: a frame it
 * pushes inside a collection and does not pop is undone when the
 * collection ends (WGC_EREENTRY recorded, debug builds print why). */
WGC_API bool wgc_frame_push(wgc_heap *heap, wgc_frame *frame, void *const *slots,
                    size_t count);
/* Pops `frame`, which must be the most recently pushed one.  false and
 * WGC_ESTATE otherwise (the frame stack is left unchanged).  false and
 * WGC_EINVAL for a NULL heap or frame. */
WGC_API bool wgc_frame_pop(wgc_heap *heap, wgc_frame *frame);

#define WGC_FRAME(heap, ...)                                                 \
    void *const wgc_frame_slots_[] = {__VA_ARGS__};                          \
    wgc_frame wgc_frame_;                                                    \
    wgc_frame_push_inline_((heap), &wgc_frame_, wgc_frame_slots_,            \
                           sizeof wgc_frame_slots_ / sizeof wgc_frame_slots_[0])
#define WGC_FRAME_POP(heap) wgc_frame_pop_inline_((heap), &wgc_frame_)

/*
 * Unwinding: a longjmp or C++ exception out of a block between WGC_FRAME
 * and WGC_FRAME_POP leaves that block's frame pushed, and the next
 * collection would read the dead locals.  Save the frame stack where the
 * handler is set up and restore it in the handler:
 *
 *     wgc_frame *depth = wgc_frame_top(heap);
 *     if (setjmp(env)) {
 *         wgc_frame_unwind(heap, depth);   // drops the frames of the
 *         ...                              // functions longjmp left
 *     }
 *
 * In C++, wgc/wgc.hpp has wgc::frame (push and pop by scope) and
 * wgc::frame_guard (this save and restore by scope).  Debug builds report
 * a stale frame found below the stack pointer at a collection, and abort
 * (docs/gc.md [R1]).
 */

/* The most recently pushed frame, the frame stack's depth for
 * wgc_frame_unwind: NULL when none is pushed, or for a NULL heap. */
WGC_API wgc_frame *wgc_frame_top(const wgc_heap *heap);

/* Pops every frame pushed after `top`, a result of wgc_frame_top whose
 * frame is still pushed (NULL pops them all).  The dropped frames are not
 * read (their memory may be gone), so nor is `top` checked: a `top` popped
 * already leaves the stack pointing at a dead frame, as a missing pop
 * would.  false and WGC_EINVAL on a NULL heap.  Allowed wherever
 * wgc_frame_pop is. */
WGC_API bool wgc_frame_unwind(wgc_heap *heap, wgc_frame *top);

/* ============================================================= write barrier */

/*
 * The write barrier: after storing a heap pointer into a field of an object
 * that already existed -- a strong field, a weak slot or either
 * half of an ephemeron -- call wgc_write_barrier(heap, obj) with the object
 * written into, or write the store as WGC_STORE(heap, obj, field, value),
 * which does both.  The barrier remembers the object, not the field: one
 * call after several stores into the same object is enough, as long as no
 * allocation (nothing that may collect) comes between the stores and it.
 *
 * No barrier is needed for:
 *   - initializing stores into an object just returned by wgc_alloc,
 *     before the next call that may collect;
 *   - roots: locals in frames, handles (wgc_root_set), whatever
 *     config.trace_roots reports: they are all rescanned at every
 *     collection;
 *   - memory outside the heap;
 *   - storing NULL or a non-heap value (it creates no reference).
 *
 * In the full-heap mode (WGC_COLLECTOR_FULL) the barrier does nothing but
 * test one bit of the object's header: code written without it keeps
 * working.  The generational mode needs it at every such store: an object
 * that survived a collection is "old", and the first store into it after
 * that remembers it for the next minor collection (docs/generational.md);
 * a store into a young or already remembered object costs the test alone.
 * A missing barrier lets a minor collection free a live object: debug
 * builds check for one at every minor collection, and wgc_debug_verify in
 * any build, and report it as "missing write barrier" with the holder's
 * type, the field's word offset and the target's type.  The library's own
 * API (weak maps, registries, groups, WeakRefs) makes its own barriers.
 * docs/gc.md [G6] says what it records.
 *
 * `heap` is the heap `obj` belongs to; `obj` is NULL (no effect) or a live
 * object of that heap.  A NULL heap has no effect.  It never allocates heap
 * objects, never collects and cannot fail: the remembered set it grows is
 * malloc'd, and when it cannot grow the next collection is a major one.  It may be called wherever the mutator
 * may store into objects: not from trace callbacks, destructors or hooks
 * (which must not change objects at all).
 */
WGC_API void wgc_write_barrier(wgc_heap *heap, void *obj);

/* Stores `value` into `obj->field`, then calls the barrier on `obj`.  `heap`
 * and `obj` are evaluated twice: pass plain variables. */
#define WGC_STORE(heap, obj, field, value)                                   \
    ((obj)->field = (value), wgc_write_barrier((heap), (obj)))

/* ================================================================ collection */

/* Runs a full collection now.  false (and nothing done) on a NULL heap or a
 * call from inside a collection.  A collection cannot fail for lack of
 * memory: it falls back to slower algorithms that need none. */
WGC_API bool wgc_collect(wgc_heap *heap);

/* Runs a minor collection now in the generational mode (a full one if the
 * barrier's remembered set overflowed for lack of memory), and a full one
 * in the full mode.  Results as wgc_collect's. */
WGC_API bool wgc_collect_minor(wgc_heap *heap);

/* ============================================================ external memory */

/*
 * External memory: bytes that the heap's objects own outside the heap (a
 * hash table's malloc'd storage, bytecode, string buffers).  wgc cannot see
 * them, so without these calls a heap of small objects owning large buffers
 * collects late and the process grows.  Report each buffer when it is made
 * and when it is freed (usually from the owner's destructor).  Reported
 * bytes count toward the collection trigger like allocated bytes (an
 * allocation after the budget is spent collects, [G4]), and the next budget
 * is computed from live plus external bytes.  They appear in
 * wgc_stats.external_bytes, never in live_bytes or heap_size.
 */

/* Adds `bytes` of external memory.  It never collects: when the budget is
 * spent, the next wgc_alloc collects (with auto_collect on).  false, nothing
 * changed: NULL heap, a total past SIZE_MAX (WGC_EOVERFLOW), a call from
 * inside a collection (WGC_EREENTRY). */
WGC_API bool wgc_external_alloc(wgc_heap *heap, size_t bytes);

/* Removes `bytes` of external memory.  Allowed from destructors (the usual
 * place) and wherever wgc_external_alloc is.  false, nothing changed: NULL
 * heap, or more bytes than are reported (WGC_EINVAL). */
WGC_API bool wgc_external_free(wgc_heap *heap, size_t bytes);

/* ================================================================ statistics */

typedef struct wgc_heap_stats {
    uint64_t collections;
    uint64_t bytes_allocated;   /* total since the heap was made */
    uint64_t objects_allocated; /* total since the heap was made */
    size_t live_bytes;          /* in objects that survived the last collection */
    size_t heap_size;           /* bytes of memory the heap holds now */
    /* Pauses: from the start of a collection to its end, hooks included,
     * in wall-clock time (CLOCK_MONOTONIC: time the program waited, which
     * counts time the machine gave to others) and in the thread's CPU time
     * (CLOCK_THREAD_CPUTIME_ID: the collector's own work). */
    uint64_t pause_total_ns;
    uint64_t pause_max_ns;
    uint64_t pause_last_ns;
    uint64_t pause_cpu_total_ns;
    uint64_t pause_cpu_last_ns;
    /* weak layer (wgc/weak.h) */
    uint64_t weak_slots_cleared;
    uint64_t ephemerons_resolved; /* values traced because their key lived */
    uint64_t group_refs_queued;
    uint64_t group_refs_run;
    /* finalization (wgc/finalize.h) */
    uint64_t cells_registered;
    uint64_t cells_queued;
    uint64_t cells_delivered;
    uint64_t cells_unregistered;
    /* external memory reported now (wgc_external_alloc minus _free) */
    size_t external_bytes;
    /* Of `collections`, the minor ones (generational mode; 0 otherwise),
     * and their pauses (wall-clock, as above).  Full collections are the
     * rest: collections - minor_collections, pause_total_ns -
     * minor_pause_total_ns; the longest of them is major_pause_max_ns. */
    uint64_t minor_collections;
    uint64_t minor_pause_total_ns;
    uint64_t minor_pause_max_ns;
    uint64_t major_pause_max_ns;
} wgc_heap_stats;

/* Copies the heap's counters into `out`.  false on NULL arguments. */
WGC_API bool wgc_stats(const wgc_heap *heap, wgc_heap_stats *out);

/* ========================================================= inline fast paths */

/*
 * Allocation, the frame macros and the write barrier are inlined into the
 * caller: with a constant type and size, allocating is a compare, an add
 * and a store, a frame is four stores, and the barrier is a load and a
 * branch.  Everything else (a full run, a destructor, a
 * collection, any error) goes through the out-of-line functions, which
 * check everything, so the results are those documented above.  Define
 * WGC_NO_INLINE before including wgc.h to call the functions instead.
 *
 * What follows is not API: it is the start of a heap as the inline paths
 * see it, and may change with any version.  Never use it directly.  A
 * program has it compiled in, so any change to it or to the inline
 * functions below bumps the major version and the soname (README.md,
 * "Versions and ABI").
 */
#define WGC_SIZE_CLASSES_ 32
#define WGC_SMALL_MAX_ 8184 /* the largest small object: 8 KiB cells */
#define WGC_HEAP_SIG_ 0x48454150u

typedef struct wgc_run_ {
    char *cursor, *limit; /* free cells of the current run: [cursor, limit) */
} wgc_run_;

typedef struct wgc_heap_inline_ {
    wgc_run_ runs[2][WGC_SIZE_CLASSES_]; /* [pointer-free][size class] */
    wgc_frame *frames;
    /* Not first: free() writes its own links into the first words of a
     * block, and the dead signature should outlive that. */
    uint32_t sig;
} wgc_heap_inline_;

/* The size class of a small object of `size` bytes: cells are the object
 * and a header word, rounded to 16 bytes up to 128, then four classes per
 * doubling up to 8 KiB. */
static inline unsigned wgc_size_class_(size_t size)
{
    size_t cell = (size + sizeof(void *) + 15) & ~(size_t)15;
    if (cell <= 128)
        return (unsigned)(cell / 16) - 1;
#if defined(__GNUC__)
    unsigned e = 63 - (unsigned)__builtin_clzll((unsigned long long)cell - 1);
#else
    unsigned e = 7; /* 2^e < cell <= 2^(e+1) */
    while (((size_t)2 << e) < cell)
        e++;
#endif
    size_t quarter = (size_t)1 << (e - 2);
    return 8 + (e - 7) * 4 + (unsigned)((cell - ((size_t)1 << e) + quarter - 1) >> (e - 2)) - 1;
}

/* The cell size of size class `c`. */
static inline size_t wgc_class_cell_(unsigned c)
{
    if (c < 8)
        return 16 * ((size_t)c + 1);
    unsigned e = 7 + (c - 8) / 4;
    return ((size_t)1 << e) + ((size_t)(c - 8) % 4 + 1) * ((size_t)1 << (e - 2));
}

/* Objects of a type with neither trace nor pointer_words hold no heap
 * pointers: they live in pointer-free pages and are never scanned. */
static inline bool wgc_type_pointer_free_(const wgc_type *type)
{
    return !type->trace && !type->pointer_words;
}

/* Whether every pointer word of the type lies within `size` bytes. */
static inline bool wgc_type_words_fit_(const wgc_type *type, size_t size)
{
    return size >= 64 * sizeof(void *) || !(type->pointer_words >> (size / sizeof(void *)));
}

/* The next cell of the current run, or NULL when the run is spent or the
 * request needs the slow path (which also reports every error). */
static inline void *wgc_alloc_fast_(wgc_heap *heap, const wgc_type *type, size_t size)
{
    if (!heap || !type || size > WGC_SMALL_MAX_ || type->destroy ||
        !wgc_type_words_fit_(type, size))
        return NULL;
    unsigned c = wgc_size_class_(size);
    size_t cell = wgc_class_cell_(c);
    wgc_run_ *run = &((wgc_heap_inline_ *)heap)->runs[wgc_type_pointer_free_(type)][c];
    char *p = run->cursor;
    if ((size_t)(run->limit - p) < cell)
        return NULL;
    run->cursor = p + cell;
    *(uintptr_t *)p = (uintptr_t)type; /* the header word */
    return p + sizeof(uintptr_t);
}

static inline void *wgc_alloc_inline_(wgc_heap *heap, const wgc_type *type, size_t size)
{
    void *obj = wgc_alloc_fast_(heap, type, size);
    return obj ? obj : (wgc_alloc)(heap, type, size);
}

static inline bool wgc_frame_push_inline_(wgc_heap *heap, wgc_frame *frame,
                                          void *const *slots, size_t count)
{
    wgc_heap_inline_ *h = (wgc_heap_inline_ *)heap;
    if (!h || h->sig != WGC_HEAP_SIG_)
        return wgc_frame_push(heap, frame, slots, count);
    frame->prev = h->frames;
    frame->slots = slots;
    frame->count = count;
    h->frames = frame;
    return true;
}

static inline bool wgc_frame_pop_inline_(wgc_heap *heap, wgc_frame *frame)
{
    wgc_heap_inline_ *h = (wgc_heap_inline_ *)heap;
    if (!h || h->frames != frame)
        return wgc_frame_pop(heap, frame);
    h->frames = frame->prev;
    return true;
}

/* The header bit that says the barrier has work to do for this object (in
 * a mode that needs one: an old object not yet remembered).  It is never
 * set in the full-heap mode, so the barrier is a load and a branch not
 * taken.  The low three bits of the header word are flags; the rest is the
 * type pointer. */
#define WGC_HEADER_BARRIER_ ((uintptr_t)1)

static inline void wgc_write_barrier_inline_(wgc_heap *heap, void *obj)
{
    if (obj && (((const uintptr_t *)obj)[-1] & WGC_HEADER_BARRIER_))
        (wgc_write_barrier)(heap, obj);
}

#ifndef WGC_NO_INLINE
#define wgc_alloc(heap, type, size) wgc_alloc_inline_((heap), (type), (size))
#define wgc_write_barrier(heap, obj) wgc_write_barrier_inline_((heap), (obj))
#endif

#ifdef __cplusplus
}
#endif
#endif
