/*
 * wgc/finalize.h -- FinalizationRegistry, the cleanup queue and safe points.
 *
 * The invariant (docs/finalize.md, rule F0): no cleanup callback ever runs
 * inside wgc_alloc or wgc_collect.  A collection only moves the cells of
 * dead targets to their cleanup queue (in the same step that empties weak
 * references to them); the program runs the callbacks at safe points it
 * chooses, with wgc_run_cleanup or wgc_registry_cleanup_some.  Callbacks
 * receive holdings, never the target, so nothing can be resurrected.
 *
 * Order: cells are delivered in the order their targets were found dead
 * (earlier collections first), ties broken by registration order.  Nothing
 * depends on addresses: the same program delivers the same cleanups in the
 * same order, run after run.
 *
 * Destructors (wgc_type.destroy) are a different thing: they run inside the
 * collection, for one object, and may only release non-heap resources.
 * Registries run arbitrary code later and never see the object.
 */
#ifndef WGC_FINALIZE_H
#define WGC_FINALIZE_H

#include "heap.h"
#include "weak.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct wgc_registry wgc_registry;

/* Runs for one queued cell with its holdings.  Return 0 on success;
 * non-zero reports failure and stops the drain that called it (the cell
 * counts as delivered; the rest stay queued).  It may allocate, collect,
 * register, unregister (in any registry, including this one: unregistering
 * a pending cell prevents its delivery) and create WeakRefs. */
typedef int (*wgc_cleanup_fn)(wgc_heap *heap, void *holdings, void *user);

/* A new registry (a heap object: root it).  May collect.  NULL on a NULL
 * heap or callback (WGC_EINVAL) or allocation failure. */
WGC_API wgc_registry *wgc_registry_new(wgc_heap *heap, wgc_cleanup_fn callback,
                               void *user);

/*
 * Registers `target` (held weakly) with `holdings` (held strongly while the
 * cell is registered or queued, if it is a heap object; any value allowed)
 * and an optional `token` (NULL, or a heap object, held weakly) for
 * unregistering.  The token may be the target or the holdings; a target
 * that is its own token is not kept alive by that.  Registering a target
 * twice makes two cells and two callbacks.  May allocate (not collect).
 * false on: NULL target, target not an object of the heap, target ==
 * holdings, token not an object of the heap (WGC_EINVAL); memory refused
 * (WGC_ENOMEM).  false, with no error recorded (there is no heap to record
 * it on), for a NULL registry; this holds for every function here that
 * takes a registry (0 for those returning a count).
 *
 * Dead registries: `reg` must be a live registry, one the program still
 * reaches (root it).  Passing one that has been collected is undefined in
 * release builds: its memory may have gone back to the OS (a crash) or
 * hold a newer object; the cheap check (type word and signature) catches
 * it only while the memory still holds the dead registry.  Debug builds
 * (-Ddebug_checks=true) check it without touching that memory (Linux):
 * they print why and answer as for a NULL registry.  A dead registry's
 * address reused by a newer registry names the newer one, in every build.
 * (This replaces an earlier promise of false for any dead registry, which
 * release builds could not keep without a syscall per call.)
 */
WGC_API bool wgc_registry_register(wgc_registry *reg, void *target, void *holdings,
                           void *token);

/* Removes every cell of `reg` registered with `token`, queued or not: their
 * callbacks will never run.  true if it removed at least one; false
 * otherwise (a NULL token, a token never used, a second call, cells
 * already delivered). */
WGC_API bool wgc_registry_unregister(wgc_registry *reg, void *token);

/* Runs the callback on up to `max` of this registry's queued cells, in
 * delivery order; returns how many ran.  Stops early on a failing callback
 * (WGC_ECALLBACK).  0 for a NULL registry. */
WGC_API size_t wgc_registry_cleanup_some(wgc_registry *reg, size_t max);

/* How many cells wait in the registry's queue.  0 for a NULL registry. */
WGC_API size_t wgc_registry_pending(const wgc_registry *reg);

/* The safe point: drains up to `max` queued cells of every live registry
 * and group of the heap in delivery order (see the top of this file) and
 * returns how many callbacks ran.  Group refs of a group without executor
 * are skipped (they wait for manual finalization).  Stops early on a
 * failing callback (WGC_ECALLBACK); undelivered cells stay queued.  0 on a
 * NULL heap or when called from inside a collection (WGC_EREENTRY). */
WGC_API size_t wgc_run_cleanup(wgc_heap *heap, size_t max);

/* How many cells and group refs wait for wgc_run_cleanup, so a host may
 * loop `while (wgc_cleanup_pending(h)) wgc_run_cleanup(h, n);`.  The refs
 * of a group without executor, which wait for manual finalization, are
 * not counted (wgc_group_pending counts them).  0 on a NULL heap. */
WGC_API size_t wgc_cleanup_pending(const wgc_heap *heap);

/* "Bring out your dead": collects and drains the queue, again and again,
 * until a collection leaves nothing to deliver (a callback that keeps
 * making new garbage with registered targets, or executors that make new
 * group refs, keep it going).  This holds whatever the queues held on
 * entry: every callback that runs is followed by another collection.
 * Refs of a group without executor are left queued.  Returns the number
 * of callbacks run.  0 on a NULL heap or from inside a collection
 * (WGC_EREENTRY); stops at a failing callback (WGC_ECALLBACK). */
WGC_API size_t wgc_collect_and_cleanup(wgc_heap *heap);

#ifdef __cplusplus
}
#endif
#endif
