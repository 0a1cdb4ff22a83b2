/*
 * wgc/weak.h -- weak slots, ephemerons, WeakRef, WeakRefGroup, weak maps.
 *
 * The invariant (docs/weak.md, rule W3): every weak slot, WeakRef, weak-map
 * entry and registry cell that refers to an object is emptied in the same
 * collection, the one that finds the object dead, before any user code
 * runs.  No observer ever sees one weak reference to an object emptied and
 * another not.  Weak references alone keep nothing alive.
 *
 * Holdings: a WeakRef or group ref may carry "holdings", a value handed to
 * cleanup code instead of the dead target.  If holdings is an object of the
 * heap when the ref is made, the ref holds it strongly; any other value
 * (NULL, a tagged integer, a pointer outside the heap) is stored as is and
 * never traced.
 */
#ifndef WGC_WEAK_H
#define WGC_WEAK_H

#include "heap.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ================================================================ weak slots */

/* Reports a weak slot from a trace callback or the root callback.  It does
 * not keep its target alive; when the target is found dead the collection
 * sets the slot to NULL.  A live target is left alone.  The slot is written
 * after the callback has returned, so it must be the object's (or the
 * root's) real field, holding a raw pointer: never a local copy.  It must
 * hold NULL or a live object of this heap, as a strong slot must: debug
 * builds report anything else (an interior pointer, another heap's object,
 * a dead object, junk) as misuse and abort, as they do for wgc_visit;
 * release builds do not check (the result is undefined). */
WGC_API void wgc_visit_weak(wgc_visitor *v, void *slot);

/* Reports an ephemeron: `*value_slot` is traced only if `*key_slot` is
 * reachable by other means.  When the key dies both slots are set to NULL.
 * A NULL key leaves the value untraced (and untouched).  Convergence costs
 * time linear in the number of ephemerons, whatever their order.  Both
 * slots must hold NULL or a live object of this heap; debug builds check
 * the key at once and the value when it is traced, as wgc_visit_weak. */
WGC_API void wgc_visit_ephemeron(wgc_visitor *v, void *key_slot, void *value_slot);

/* ======================================================= weak tables you own */

/*
 * A table the embedder owns whose entries must not keep their objects
 * alive, such as strings interned by content, has two ways to go:
 *
 * 1. Report each entry's slot with wgc_visit_weak from config.trace_roots.
 *    The collection writes NULL into the slot of an entry that died.  Fine
 *    for a table that tolerates a NULL appearing anywhere at any
 *    collection; wrong for an open-addressing table that reads NULL as
 *    "empty" (a probe then stops short of entries after the hole: use a
 *    tombstone), and impossible for a NaN-boxed or tagged value.
 * 2. Set config.sweep_weak_tables.  Do not report the entries at all
 *    (neither strong nor weak); in the hook, ask wgc_survives(heap, obj)
 *    for each entry's object and remove or tombstone the dead ones in your
 *    own representation.  The hook runs after marking has finished (so
 *    the answer is final: ephemerons have converged) and before any weak
 *    reference is cleared, in the same collection step, so an object dies
 *    for your table and for every WeakRef, weak map and registry at once
 *    (docs/weak.md, W16).
 *
 * The hook runs under the trace-callback rules: it must not allocate,
 * collect, store into heap objects or call anything but wgc_survives (and
 * reading objects, dead or alive: a dead object's memory is intact until
 * the hook returns).  It may change the embedder's own memory (the table).
 */

/* Inside config.sweep_weak_tables: whether `obj`, an object of `heap`,
 * survives the collection running the hook.  false for NULL.  Anywhere
 * else it returns false, reported as misuse in debug builds. */
WGC_API bool wgc_survives(const wgc_heap *heap, const void *obj);

/* =================================================================== WeakRef */

/* A WeakRef is a heap object (root it like any other). */
typedef struct wgc_weakref wgc_weakref;

/* A new WeakRef to `target` with optional `holdings`.  May collect.
 * NULL on: NULL heap or target, target not an object of heap, target ==
 * holdings (WGC_EINVAL); allocation failures as wgc_alloc.  With
 * keep_during_job on, `target` is kept alive until wgc_end_job. */
WGC_API wgc_weakref *wgc_weakref_new(wgc_heap *heap, void *target, void *holdings);

/* The target, or NULL once it has died or the ref was cleared.  A target
 * never changes; once NULL, always NULL.  With keep_during_job on, a
 * non-NULL result is kept alive until wgc_end_job; keeping needs no memory
 * (a target is listed once per job, and one that cannot be listed is
 * kept by a mark on the object), so a deref never fails for lack of it.
 * NULL (WGC_EINVAL) if
 * `ref` is NULL or another kind of object.  (`ref` must be an object of
 * the heap: release builds check only its type word, debug builds check
 * that it is an object at all; the same holds for clear and holdings.) */
WGC_API void *wgc_weakref_deref(wgc_heap *heap, wgc_weakref *ref);

/* Empties `ref` now.  For a group ref this also removes it from its group,
 * queued or not: its executor will never see it; and it empties its
 * holdings (wgc_weakref_holdings returns NULL from then on), which the ref
 * no longer keeps alive.  A plain WeakRef keeps its holdings.  false
 * (WGC_EINVAL) if `ref` is not a WeakRef; true otherwise (also when
 * already empty). */
WGC_API bool wgc_weakref_clear(wgc_heap *heap, wgc_weakref *ref);

/* The ref's holdings (stay valid while the ref lives and holds them).
 * NULL if none or if `ref` is not a WeakRef (then WGC_EINVAL).  A group
 * ref gives its holdings up (NULL from then on) when it is cleared, when
 * it is delivered (before its executor or manual function runs: that call
 * receives them as an argument) and when its group is shut down while it
 * is queued (wgc_group_shutdown). */
WGC_API void *wgc_weakref_holdings(wgc_heap *heap, wgc_weakref *ref);

/* ======================================================= keep-during-job */

/* Ends the current job: releases the objects kept since the last call (see
 * config.keep_during_job; with it off this does nothing).  Call between
 * jobs (ECMAScript's ClearKeptObjects).  false on a NULL heap. */
WGC_API bool wgc_end_job(wgc_heap *heap);

/* ============================================================ WeakRefGroup */

typedef struct wgc_group wgc_group;

/* Runs for a dead group ref; receives the ref (already empty) and its
 * holdings.  Return 0 on success; non-zero reports failure and stops the
 * drain that called it (the ref counts as delivered).  Runs only at safe
 * points (wgc_group_finalize_some, wgc_run_cleanup, ...), never inside a
 * collection; it may allocate, collect and use any API. */
typedef int (*wgc_group_fn)(wgc_heap *heap, wgc_weakref *ref, void *holdings,
                            void *user);

/* A new group (a heap object: root it) whose executor is `executor` (NULL
 * allowed: then only manual finalization delivers).  May collect.  NULL on
 * NULL heap (WGC_EINVAL) or allocation failure. */
WGC_API wgc_group *wgc_group_new(wgc_heap *heap, wgc_group_fn executor, void *user);

/* A new WeakRef in `group`.  When its target dies while the ref is alive,
 * the ref is queued on the group with its holdings (which stay alive until
 * delivered; the ref itself holds them only until it is delivered or
 * cleared, see wgc_weakref_holdings).  A ref that is itself garbage when its
 * target dies is not
 * queued.  Errors as wgc_weakref_new.  NULL for a NULL group (no error is
 * recorded then: there is no heap to record it on).
 *
 * Dead groups, for every function here that takes a group: `group` must
 * be a live group, one the program still reaches (root it).  Passing a
 * group that has been collected is undefined in release builds: its
 * memory may have gone back to the OS (a crash) or hold a newer object;
 * the cheap check (type word and signature) catches it only while the
 * memory still holds the dead group.  Debug builds (-Ddebug_checks=true)
 * check it without touching that memory (Linux): they print why and return
 * NULL, 0 or false as for a NULL group.  A dead group's address reused by
 * a newer group names the newer one, in every build.  (This replaces an
 * earlier promise of NULL for any dead group, which release builds could
 * not keep without a syscall per call.) */
WGC_API wgc_weakref *wgc_group_make_ref(wgc_group *group, void *target, void *holdings);

/* Runs the executor on up to `max` queued refs, oldest first, each exactly
 * once; returns how many ran.  Stops early when the executor fails
 * (WGC_ECALLBACK).  0 for a NULL group or a group without executor. */
WGC_API size_t wgc_group_finalize_some(wgc_group *group, size_t max);

/* Like wgc_group_finalize_some with no limit, running `fn` instead of the
 * executor.  0 for NULL arguments. */
WGC_API size_t wgc_group_manually_finalize(wgc_group *group, wgc_group_fn fn,
                                   void *user);

/* How many refs wait in the group's queue.  0 for a NULL group. */
WGC_API size_t wgc_group_pending(const wgc_group *group);

/* Shuts `group` down for good: its executor (and any manual function) is
 * never called again, for refs queued now or later.  Refs queued now are
 * dropped: taken off the queue, their holdings emptied and no longer kept
 * alive.  Every ref of the group stays a valid WeakRef: deref still
 * answers (the target while it lives, NULL once it died or was cleared),
 * clear and holdings work as before.  A live ref keeps its holdings until
 * its target dies (then they are emptied instead of queued) or it is
 * cleared.  Afterwards wgc_group_pending is 0, finalize_some and
 * manually_finalize return 0, and wgc_group_make_ref returns NULL
 * (WGC_ESTATE).  May be called from the group's own executor: the drain
 * that called it stops after that call.  Does not allocate or collect.
 * true on success, also when already shut down; false for a NULL group,
 * a group that is not live (see wgc_group_make_ref), or a call from inside
 * a collection (WGC_EREENTRY). */
WGC_API bool wgc_group_shutdown(wgc_group *group);

/* ================================================================== WeakMap */

/* A table keyed by object identity whose entries are ephemerons: an entry
 * keeps its value alive only while its key is reachable from elsewhere,
 * and disappears when the key dies (even if the value refers to the key). */
typedef struct wgc_weakmap wgc_weakmap;

/* A new empty map (a heap object: root it).  May collect.  NULL for a NULL heap. */
WGC_API wgc_weakmap *wgc_weakmap_new(wgc_heap *heap);

/* Maps `key` (a live object of heap) to `value` (NULL or a live object of
 * heap), replacing any previous value.  May allocate (not collect).  false
 * on NULL key or map or a key/value not in the heap (WGC_EINVAL), or memory
 * refused (WGC_ENOMEM; the map is unchanged). */
WGC_API bool wgc_weakmap_set(wgc_heap *heap, wgc_weakmap *map, void *key, void *value);

/* The value for `key`, or NULL if absent (also for a NULL key or map). */
WGC_API void *wgc_weakmap_get(wgc_heap *heap, wgc_weakmap *map, const void *key);

/* Whether `key` has an entry.  false for NULL arguments. */
WGC_API bool wgc_weakmap_has(wgc_heap *heap, wgc_weakmap *map, const void *key);

/* Removes the entry for `key`; true if there was one.  false for NULL
 * arguments. */
WGC_API bool wgc_weakmap_delete(wgc_heap *heap, wgc_weakmap *map, const void *key);

/* The number of entries (dead keys are gone after each collection).  0 for a
 * NULL heap or map. */
WGC_API size_t wgc_weakmap_count(wgc_heap *heap, wgc_weakmap *map);

#ifdef __cplusplus
}
#endif
#endif
