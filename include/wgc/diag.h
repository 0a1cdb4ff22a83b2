/*
 * wgc/diag.h -- what is in my heap, and why: a census by type, the
 * retaining path of one object, and a heap snapshot for Chrome DevTools.
 *
 * All three look at the objects reachable *now*: a walk from the roots
 * (handles, frames, kept objects, the trace_roots callback) through every
 * strong slot, and through an ephemeron's value when its key is reached:
 * exactly what a collection started at this point would keep.  Weak slots
 * (wgc_visit_weak, WeakRef targets, registry targets and tokens, ephemeron
 * keys) keep nothing alive.  Garbage not yet collected is not reachable.
 *
 * The walk does not disturb the heap (docs/diag.md, D1): it marks nothing,
 * allocates nothing from the heap, never collects, and changes neither
 * wgc_stats nor any weak or cleanup outcome; so a program behaves the same
 * with or without diagnostics (same collection points, same deliveries).
 * It runs the types' trace callbacks and the trace_roots callback, under
 * the trace-callback rules: as in a collection, calls that change the heap
 * are refused with WGC_EREENTRY while they run.  Its own memory comes
 * from malloc, freed before the call returns: about 60 bytes per
 * reachable object, plus at most a quarter of the heap's size for its
 * visited set (a snapshot also keeps 40 bytes per slot until written);
 * wgc_debug_fail_request does not apply to it.  It costs about as much as
 * 20 collections of the same heap (docs/diag.md, "Cost").
 *
 * When: at any point where the heap may be used (between VM instructions,
 * in a cleanup callback).  Not from inside a collection, a trace callback,
 * a destructor or an event hook: those calls fail with WGC_EREENTRY.
 * Errors: a NULL heap or output gives WGC_EINVAL; refused memory gives
 * WGC_ENOMEM (nothing partial is returned).
 *
 * Slots are named as the trace callbacks report them: a slot inside its
 * holder by its byte offset ("+8": bytes 8 to 15 of the object); a slot
 * elsewhere (a weak map's or a registry's malloc'd table, which its trace
 * callback reports) by its ordinal k: it is the k-th (from 0) non-NULL slot
 * the holder reported, pointer_words first, then the trace callback's, in
 * order ("[k]").  A slot that does not point at a live object (a bug that
 * wgc_debug_verify reports) is skipped.
 */
#ifndef WGC_DIAG_H
#define WGC_DIAG_H

#include <stdio.h>

#include "heap.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ==================================================================== census */

typedef struct wgc_census_entry {
    const wgc_type *type;
    const char *name;       /* type->name, or "(unnamed)"; never NULL */
    size_t objects;         /* reachable objects of the type */
    size_t bytes;           /* the heap memory they take, counted as
                             * wgc_stats counts live_bytes (whole cells,
                             * header included; a large object's size) */
} wgc_census_entry;

typedef struct wgc_census {
    size_t objects, bytes;  /* reachable now, all types */
    /* Every object not yet reclaimed: the reachable ones, plus garbage
     * that the next collection will reclaim.  Right after wgc_collect,
     * allocated_bytes == bytes == wgc_stats' live_bytes. */
    size_t allocated_objects, allocated_bytes;
    size_t type_count;
    /* type_count entries (NULL if none): most bytes first, then most
     * objects, then in the order the walk met the types (which follows the
     * roots' order, never addresses: the same program prints the same
     * census). */
    wgc_census_entry *types;
} wgc_census;

/* Counts the reachable objects by type into `*out` (overwritten; release it
 * with wgc_census_release).  false on a NULL argument (WGC_EINVAL), a call
 * from inside a collection or callback (WGC_EREENTRY) or refused memory
 * (WGC_ENOMEM); `*out` is then empty and needs no release (releasing it is
 * harmless). */
WGC_API bool wgc_census_take(wgc_heap *heap, wgc_census *out);

/* Frees what wgc_census_take put in `census` and empties it.  NULL: no
 * effect.  Needs no heap: a census outlives its heap. */
WGC_API void wgc_census_release(wgc_census *census);

/* Writes the census as a table, one line per type, then the totals.
 * false on NULL arguments or a write error. */
WGC_API bool wgc_census_print(const wgc_census *census, FILE *out);

/* ====================================================== why is this alive? */

typedef enum wgc_root_kind {
    WGC_ROOT_HANDLE,   /* index: the handle's position among the live
                        * handles, oldest first */
    WGC_ROOT_FRAME,    /* index: the frame, 0 the innermost (most recently
                        * pushed); slot: the position of the slot in it */
    WGC_ROOT_KEPT,     /* index: position in the keep-during-job list */
    WGC_ROOT_CALLBACK  /* index: the ordinal of the slot among the non-NULL
                        * slots config.trace_roots reported */
} wgc_root_kind;

/* A static name for a root kind ("handle", "frame", "kept",
 * "trace_roots"); "?" for a value out of range. */
WGC_API const char *wgc_root_kind_name(wgc_root_kind kind);

typedef struct wgc_path_step {
    void *object;           /* the object reached by this step */
    const wgc_type *type;
    const char *name;       /* type name; never NULL */
    /* The slot of the previous step's object that holds `object` (unused
     * in step 0, reached from the root): its byte offset when in_object,
     * else its ordinal (see the top of this file). */
    bool in_object;
    size_t slot;
    /* Non-NULL when the slot is an ephemeron's value (a weak map's, or a
     * trace callback's wgc_visit_ephemeron): it holds `object` only
     * because this key is reachable too. */
    void *ephemeron_key;
} wgc_path_step;

typedef struct wgc_path {
    wgc_root_kind root_kind;
    size_t root_index;      /* see wgc_root_kind */
    size_t root_slot;       /* frames: the slot's position; else 0 */
    const void *root_address; /* the root slot: a handle's, a local
                               * variable's, a VM stack slot's address */
    size_t length;          /* steps; 0: the object is unreachable */
    wgc_path_step *steps;   /* steps[length - 1].object is the object */
} wgc_path;

/*
 * A shortest retaining path to `obj`: a root, then each object holding the
 * next, by which slot, down to obj.  Shortest counts slots, with one
 * approximation: an ephemeron's value is found when its key is reached,
 * not sooner.  The root found first in the collector's order wins a tie
 * (handles, frames innermost first, kept objects, trace_roots), so a
 * given program gets the same path every time.
 *
 * Fills `*out` (release it with wgc_path_release).  true on success,
 * with out->length == 0 when obj is allocated but unreachable: garbage
 * the next collection will reclaim.  false on a NULL heap or out, or an
 * obj that is not a live object of the heap (WGC_EINVAL), from inside a
 * collection or callback (WGC_EREENTRY), on refused memory (WGC_ENOMEM);
 * out->length is then 0.
 */
WGC_API bool wgc_path_find(wgc_heap *heap, const void *obj, wgc_path *out);

/* Frees the steps of a path and empties it.  NULL: no effect. */
WGC_API void wgc_path_release(wgc_path *path);

/* Writes the path, one line per step ("unreachable" for an empty path).
 * false on NULL arguments or a write error. */
WGC_API bool wgc_path_print(const wgc_path *path, FILE *out);

/* wgc_path_find then wgc_path_print: "why is obj alive?" in one call.
 * false if either fails (the error as wgc_path_find records it).  false on a
 * NULL heap or `out` (WGC_EINVAL on the heap), and as wgc_path_find. */
WGC_API bool wgc_why_alive(wgc_heap *heap, const void *obj, FILE *out);

/* ============================================================ heap snapshot */

/* Receives the snapshot text in pieces; returns false to stop (the write
 * then fails with WGC_ECALLBACK).  It must not use the heap. */
typedef bool (*wgc_sink_fn)(const void *data, size_t size, void *user);

/*
 * Writes the reachable heap in Chrome DevTools' .heapsnapshot format (JSON;
 * load it in the Memory panel).  Node 0 is a synthetic "(root)" whose
 * elements are four synthetic nodes, always present in this order:
 * "(handles)", "(frames)", "(kept objects)", "(trace_roots)"; each holds
 * its root slots (handles and kept objects as elements by index, frame
 * slots as properties "frame F slot S", trace_roots' slots as elements by
 * ordinal, its weak slots as weak edges "[ordinal]").  Every reachable
 * object is one node of type "object", named by
 * its type, with its bytes as self_size (as the census counts them), in
 * walk order; ids are 2 * position + 1.  Edges: a strong slot inside its
 * holder is a "property" named "+offset"; one outside (a table's) is an
 * "element" indexed by ordinal; weak slots (wgc_visit_weak, WeakRef
 * targets, registry targets and tokens, ephemeron keys) are "weak" edges
 * named "+offset" or "[ordinal]"; an ephemeron's value is a strong edge
 * from its holder when its key is reachable (and left out otherwise: that
 * entry is dead).  Weak edges to unreachable objects are left out: every
 * node of the snapshot is reachable from node 0 by non-weak edges, as in
 * a heap after a collection.  The output depends only on the program,
 * never on addresses.
 *
 * false on a NULL heap or sink (WGC_EINVAL), from inside a collection or
 * callback (WGC_EREENTRY), on refused memory (WGC_ENOMEM: nothing was
 * written), or when the sink refused (WGC_ECALLBACK: the output is cut).
 */
WGC_API bool wgc_snapshot_write(wgc_heap *heap, wgc_sink_fn sink, void *user);

/* wgc_snapshot_write to a FILE (not closed; not flushed beyond stdio's
 * buffering).  A write error is WGC_ECALLBACK.  false on a NULL heap or
 * `out` (WGC_EINVAL on the heap), and as wgc_snapshot_write. */
WGC_API bool wgc_snapshot_write_file(wgc_heap *heap, FILE *out);

#ifdef __cplusplus
}
#endif
#endif
