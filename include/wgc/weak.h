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
 * sets the slot to NULL.  A live target is left alone.  The slot must hold
 * NULL or a live object of this heap, as a strong slot must: debug builds
 * report anything else (an interior pointer, another heap's object, a dead
 * object, junk) as misuse and abort, as they do for wgc_visit; release
 * builds do not check (the result is undefined). */
void wgc_visit_weak(wgc_visitor *v, void *slot);

/* Reports an ephemeron: `*value_slot` is traced only if `*key_slot` is
 * reachable by other means.  When the key dies both slots are set to NULL.
 * A NULL key leaves the value untraced (and untouched).  Convergence costs
 * time linear in the number of ephemerons, whatever their order.  Both
 * slots must hold NULL or a live object of this heap; debug builds check
 * the key at once and the value when it is traced, as wgc_visit_weak. */
void wgc_visit_ephemeron(wgc_visitor *v, void *key_slot, void *value_slot);

/* =================================================================== WeakRef */

/* A WeakRef is a heap object (root it like any other). */
typedef struct wgc_weakref wgc_weakref;

/* A new WeakRef to `target` with optional `holdings`.  May collect.
 * NULL on: NULL heap or target, target not an object of heap, target ==
 * holdings (WGC_EINVAL); allocation failures as wgc_alloc.  With
 * keep_during_job on, `target` is kept alive until wgc_end_job. */
wgc_weakref *wgc_weakref_new(wgc_heap *heap, void *target, void *holdings);

/* The target, or NULL once it has died or the ref was cleared.  A target
 * never changes; once NULL, always NULL.  With keep_during_job on, a
 * non-NULL result is kept alive until wgc_end_job; keeping needs no memory
 * (a target is listed once per job, and one that cannot be listed is
 * kept by a mark on the object), so a deref never fails for lack of it.
 * NULL (WGC_EINVAL) if
 * `ref` is NULL or another kind of object.  (`ref` must be an object of
 * the heap: release builds check only its type word, debug builds check
 * that it is an object at all; the same holds for clear and holdings.) */
void *wgc_weakref_deref(wgc_heap *heap, wgc_weakref *ref);

/* Empties `ref` now.  For a group ref this also removes it from its group,
 * queued or not: its executor will never see it.  false (WGC_EINVAL) if
 * `ref` is not a WeakRef; true otherwise (also when already empty). */
bool wgc_weakref_clear(wgc_heap *heap, wgc_weakref *ref);

/* The ref's holdings (stay valid while the ref lives).  NULL if none or if
 * `ref` is not a WeakRef (then WGC_EINVAL). */
void *wgc_weakref_holdings(wgc_heap *heap, wgc_weakref *ref);

/* ======================================================= keep-during-job */

/* Ends the current job: releases the objects kept since the last call (see
 * config.keep_during_job; with it off this does nothing).  Call between
 * jobs (ECMAScript's ClearKeptObjects).  false on a NULL heap. */
bool wgc_end_job(wgc_heap *heap);

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
wgc_group *wgc_group_new(wgc_heap *heap, wgc_group_fn executor, void *user);

/* A new WeakRef in `group`.  When its target dies while the ref is alive,
 * the ref is queued on the group with its holdings (which stay alive until
 * delivered).  A ref that is itself garbage when its target dies is not
 * queued.  Errors as wgc_weakref_new.  NULL for a NULL or dead group (no
 * error is recorded then: there is no heap to record it on; a signature
 * word tells a dead group, and debug builds print why). */
wgc_weakref *wgc_group_make_ref(wgc_group *group, void *target, void *holdings);

/* Runs the executor on up to `max` queued refs, oldest first, each exactly
 * once; returns how many ran.  Stops early when the executor fails
 * (WGC_ECALLBACK).  0 for a NULL group or a group without executor. */
size_t wgc_group_finalize_some(wgc_group *group, size_t max);

/* Like wgc_group_finalize_some with no limit, running `fn` instead of the
 * executor.  0 for NULL arguments. */
size_t wgc_group_manually_finalize(wgc_group *group, wgc_group_fn fn,
                                   void *user);

/* How many refs wait in the group's queue. */
size_t wgc_group_pending(const wgc_group *group);

/* ================================================================== WeakMap */

/* A table keyed by object identity whose entries are ephemerons: an entry
 * keeps its value alive only while its key is reachable from elsewhere,
 * and disappears when the key dies (even if the value refers to the key). */
typedef struct wgc_weakmap wgc_weakmap;

/* A new empty map (a heap object: root it).  May collect. */
wgc_weakmap *wgc_weakmap_new(wgc_heap *heap);

/* Maps `key` (a live object of heap) to `value` (NULL or a live object of
 * heap), replacing any previous value.  May allocate (not collect).  false
 * on NULL key or map or a key/value not in the heap (WGC_EINVAL), or memory
 * refused (WGC_ENOMEM; the map is unchanged). */
bool wgc_weakmap_set(wgc_heap *heap, wgc_weakmap *map, void *key, void *value);

/* The value for `key`, or NULL if absent (also for a NULL key or map). */
void *wgc_weakmap_get(wgc_heap *heap, wgc_weakmap *map, const void *key);

/* Whether `key` has an entry.  false for NULL arguments. */
bool wgc_weakmap_has(wgc_heap *heap, wgc_weakmap *map, const void *key);

/* Removes the entry for `key`; true if there was one.  false for NULL
 * arguments. */
bool wgc_weakmap_delete(wgc_heap *heap, wgc_weakmap *map, const void *key);

/* The number of entries (dead keys are gone after each collection). */
size_t wgc_weakmap_count(wgc_heap *heap, wgc_weakmap *map);

#ifdef __cplusplus
}
#endif
#endif
