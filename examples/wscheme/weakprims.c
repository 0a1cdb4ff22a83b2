/*
 * weakprims.c -- weak references, weak maps, finalization registries and
 * weak-ref groups for scripts, with ECMAScript-like semantics.
 *
 * Each wgc object is wrapped in a small Scheme object so the interpreter
 * can dispatch on its kind.  Registries and groups run Scheme procedures:
 * the holdings the library sees are the pair (wrapper . held), so the
 * library itself keeps the wrapper (and with it the procedure) alive
 * exactly as long as a cleanup may still be delivered, and the callback
 * needs nothing but the interpreter as its `user` pointer.
 */
#include <inttypes.h>
#include <string.h>

#include "interp.h"

_Noreturn static void wgc_failure(interp *I, const char *who)
{
    wgc_error e = wgc_last_error(I->heap);
    wgc_clear_error(I->heap);
    if (e == WGC_EHEAPMAX)
        ws_error(I, "%s: out of memory: the heap limit of %zu bytes is reached",
                 who, I->max_heap);
    if (e == WGC_ENOMEM)
        ws_error(I, "%s: out of memory: the system refused memory", who);
    ws_error(I, "%s: %s", who, wgc_error_string(e));
}

/* The values wgc can hold weakly are objects in the heap.  Fixnums,
 * booleans and () are not, just as ECMAScript refuses primitives. */
static void weak_arg(interp *I, const char *who, const char *what, value v)
{
    if (!is_ptr(v)) {
        char msg[160];
        snprintf(msg, sizeof msg, "%s: %s must be an object (not a number, boolean or ()), got",
                 who, what);
        ws_error_v(I, msg, v);
    }
}

static void check_procedure(interp *I, const char *who, value v)
{
    if (!is_kind(v, K_CLOSURE) && !is_kind(v, K_PRIM)) {
        char msg[128];
        snprintf(msg, sizeof msg, "%s: expected a procedure, got", who);
        ws_error_v(I, msg, v);
    }
}

/* ------------------------------------------------------------- cleanup */

/* Calls (proc held) for holdings (wrapper . held).  An error inside it is
 * reported here and turned into the non-zero return that stops wgc's
 * drain; ws_run_cleanup then resumes draining. */
static int run_cleanup_procedure(interp *I, value holdings, value proc)
{
    size_t sp = I->sp;
    int line = I->line;
    jmp_buf here, *outer = I->handler;
    int failed = 0;
    if (setjmp(here) == 0) {
        I->handler = &here;
        push(I, proc);
        push(I, cdr(holdings));
        ws_apply(I, 1);
    } else {
        ws_report(I, "error in cleanup procedure: ");
        I->cleanup_failed = true;
        failed = 1;
    }
    I->handler = outer;
    I->sp = sp;
    I->line = line;
    return failed;
}

static int registry_callback(wgc_heap *heap, void *holdings, void *user)
{
    (void)heap;
    value h = holdings;
    return run_cleanup_procedure(user, h, AS(registry_obj, car(h))->proc);
}

static int group_callback(wgc_heap *heap, wgc_weakref *ref, void *holdings, void *user)
{
    (void)heap;
    (void)ref;
    value h = holdings;
    return run_cleanup_procedure(user, h, AS(group_obj, car(h))->proc);
}

/* ------------------------------------------------------------ weak refs */

static value new_weakref(interp *I)
{
    weakref_obj *w = ws_alloc(I, &ws_weakref_type, sizeof *w);
    w->h.kind = K_WEAKREF;
    w->group = NIL;
    return (value)w;
}

/* (make-weak-ref obj [holdings]) */
static value p_make_weak_ref(interp *I, value *a, int n)
{
    weak_arg(I, "make-weak-ref", "the target", a[0]);
    if (n > 1 && a[1] == a[0])
        ws_error(I, "make-weak-ref: the holdings must differ from the target");
    size_t wi = push(I, new_weakref(I));
    wgc_weakref *ref = wgc_weakref_new(I->heap, a[0], n > 1 ? (void *)a[1] : NULL);
    if (!ref)
        wgc_failure(I, "make-weak-ref");
    WS_STORE(I, AS(weakref_obj, S(wi)), ref, ref);
    return pop(I);
}

/* (weak-ref-deref w): the target, or #f once it has been collected */
static value p_weak_ref_deref(interp *I, value *a, int n)
{
    (void)n;
    arg_check(I, "weak-ref-deref", a[0], K_WEAKREF);
    void *t = wgc_weakref_deref(I->heap, AS(weakref_obj, a[0])->ref);
    return t ? (value)t : FALSE_V;
}

/* (weak-ref-clear! w): empties w; a group ref's procedure will not run */
static value p_weak_ref_clear(interp *I, value *a, int n)
{
    (void)n;
    arg_check(I, "weak-ref-clear!", a[0], K_WEAKREF);
    wgc_weakref_clear(I->heap, AS(weakref_obj, a[0])->ref);
    return UNSPEC;
}

static value p_weak_ref_p(interp *I, value *a, int n)
{
    (void)I;
    (void)n;
    return boolv(is_kind(a[0], K_WEAKREF));
}

/* ------------------------------------------------------------ weak maps */

static value p_make_weak_map(interp *I, value *a, int n)
{
    (void)a;
    (void)n;
    weakmap_obj *m = ws_alloc(I, &ws_weakmap_type, sizeof *m);
    m->h.kind = K_WEAKMAP;
    size_t mi = push(I, (value)m);
    wgc_weakmap *map = wgc_weakmap_new(I->heap);
    if (!map)
        wgc_failure(I, "make-weak-map");
    WS_STORE(I, AS(weakmap_obj, S(mi)), map, map);
    return pop(I);
}

static wgc_weakmap *map_arg(interp *I, const char *who, value *a)
{
    arg_check(I, who, a[0], K_WEAKMAP);
    weak_arg(I, who, "the key", a[1]);
    return AS(weakmap_obj, a[0])->map;
}

/* (weak-map-ref m key [default]) */
static value p_weak_map_ref(interp *I, value *a, int n)
{
    wgc_weakmap *map = map_arg(I, "weak-map-ref", a);
    value v = wgc_weakmap_get(I->heap, map, a[1]);
    if (!v)
        return n > 2 ? a[2] : FALSE_V;
    return is_kind(v, K_BOX) ? AS(box, v)->v : v;
}

/* (weak-map-set! m key value) */
static value p_weak_map_set(interp *I, value *a, int n)
{
    (void)n;
    map_arg(I, "weak-map-set!", a);
    value v = is_ptr(a[2]) ? a[2] : make_box(I, a[2]);
    if (!wgc_weakmap_set(I->heap, AS(weakmap_obj, a[0])->map, a[1], v))
        wgc_failure(I, "weak-map-set!");
    return UNSPEC;
}

static value p_weak_map_has(interp *I, value *a, int n)
{
    (void)n;
    return boolv(wgc_weakmap_has(I->heap, map_arg(I, "weak-map-has?", a), a[1]));
}

static value p_weak_map_delete(interp *I, value *a, int n)
{
    (void)n;
    return boolv(wgc_weakmap_delete(I->heap, map_arg(I, "weak-map-delete!", a), a[1]));
}

static value p_weak_map_count(interp *I, value *a, int n)
{
    (void)n;
    arg_check(I, "weak-map-count", a[0], K_WEAKMAP);
    return fix((intptr_t)wgc_weakmap_count(I->heap, AS(weakmap_obj, a[0])->map));
}

/* -------------------------------------------------------------- registries */

static value p_make_registry(interp *I, value *a, int n)
{
    (void)n;
    check_procedure(I, "make-finalization-registry", a[0]);
    registry_obj *r = ws_alloc(I, &ws_registry_type, sizeof *r);
    r->h.kind = K_REGISTRY;
    r->proc = a[0];
    size_t ri = push(I, (value)r);
    wgc_registry *reg = wgc_registry_new(I->heap, registry_callback, I);
    if (!reg)
        wgc_failure(I, "make-finalization-registry");
    WS_STORE(I, AS(registry_obj, S(ri)), reg, reg);
    return pop(I);
}

/* (registry-register! r target held [token]) */
static value p_registry_register(interp *I, value *a, int n)
{
    arg_check(I, "registry-register!", a[0], K_REGISTRY);
    weak_arg(I, "registry-register!", "the target", a[1]);
    if (a[2] == a[1])
        ws_error(I, "registry-register!: the held value must differ from the target");
    if (n > 3)
        weak_arg(I, "registry-register!", "the token", a[3]);
    value holdings = cons(I, a[0], a[2]);
    if (!wgc_registry_register(AS(registry_obj, a[0])->reg, a[1], holdings,
                               n > 3 ? (void *)a[3] : NULL))
        wgc_failure(I, "registry-register!");
    return UNSPEC;
}

/* (registry-unregister! r token): #t if it removed a registration */
static value p_registry_unregister(interp *I, value *a, int n)
{
    (void)n;
    arg_check(I, "registry-unregister!", a[0], K_REGISTRY);
    weak_arg(I, "registry-unregister!", "the token", a[1]);
    return boolv(wgc_registry_unregister(AS(registry_obj, a[0])->reg, a[1]));
}

/* ------------------------------------------------------------------ groups */

static value p_make_group(interp *I, value *a, int n)
{
    (void)n;
    check_procedure(I, "make-weak-ref-group", a[0]);
    group_obj *g = ws_alloc(I, &ws_group_type, sizeof *g);
    g->h.kind = K_GROUP;
    g->proc = a[0];
    size_t gi = push(I, (value)g);
    wgc_group *group = wgc_group_new(I->heap, group_callback, I);
    if (!group)
        wgc_failure(I, "make-weak-ref-group");
    WS_STORE(I, AS(group_obj, S(gi)), group, group);
    return pop(I);
}

/* (group-make-ref g target held) */
static value p_group_make_ref(interp *I, value *a, int n)
{
    (void)n;
    arg_check(I, "group-make-ref", a[0], K_GROUP);
    weak_arg(I, "group-make-ref", "the target", a[1]);
    if (a[2] == a[1])
        ws_error(I, "group-make-ref: the held value must differ from the target");
    size_t wi = push(I, new_weakref(I));
    AS(weakref_obj, S(wi))->group = a[0]; /* the group outlives its refs */
    value holdings = cons(I, a[0], a[2]);
    wgc_weakref *ref = wgc_group_make_ref(AS(group_obj, a[0])->group, a[1], holdings);
    if (!ref)
        wgc_failure(I, "group-make-ref");
    WS_STORE(I, AS(weakref_obj, S(wi)), ref, ref);
    return pop(I);
}

/* --------------------------------------------------------- the collector */

static value p_gc(interp *I, value *a, int n)
{
    (void)a;
    (void)n;
    wgc_collect(I->heap);
    return UNSPEC;
}

static value p_run_cleanup(interp *I, value *a, int n)
{
    (void)a;
    (void)n;
    return fix((intptr_t)ws_run_cleanup(I));
}

static void stat(interp *I, const char *name, uint64_t v)
{
    size_t si = push(I, intern(I, name, strlen(name)));
    S(si) = cons(I, S(si), fix(v > (uint64_t)WS_FIXNUM_MAX ? WS_FIXNUM_MAX : (intptr_t)v));
}

/* (gc-stats): an association list of the heap's counters */
static value p_gc_stats(interp *I, value *a, int n)
{
    (void)a;
    (void)n;
    wgc_heap_stats s;
    wgc_stats(I->heap, &s);
    size_t base = I->sp;
    stat(I, "collections", s.collections);
    stat(I, "bytes-allocated", s.bytes_allocated);
    stat(I, "objects-allocated", s.objects_allocated);
    stat(I, "live-bytes", s.live_bytes);
    stat(I, "heap-size", s.heap_size);
    stat(I, "pause-total-us", s.pause_total_ns / 1000);
    stat(I, "pause-max-us", s.pause_max_ns / 1000);
    stat(I, "weak-slots-cleared", s.weak_slots_cleared);
    stat(I, "ephemerons-resolved", s.ephemerons_resolved);
    stat(I, "group-refs-queued", s.group_refs_queued);
    stat(I, "group-refs-run", s.group_refs_run);
    stat(I, "cells-registered", s.cells_registered);
    stat(I, "cells-queued", s.cells_queued);
    stat(I, "cells-delivered", s.cells_delivered);
    stat(I, "cells-unregistered", s.cells_unregistered);
    return list_from_stack(I, base, NIL);
}

/* (heap-census): prints the reachable objects by type (wgc/diag.h) */
static value p_heap_census(interp *I, value *a, int n)
{
    (void)a;
    (void)n;
    wgc_census c;
    fflush(stdout);
    if (wgc_census_take(I->heap, &c)) {
        wgc_census_print(&c, stdout);
        wgc_census_release(&c);
    }
    return UNSPEC;
}

void ws_install_weak_prims(interp *I)
{
    ws_define_prim(I, "make-weak-ref", p_make_weak_ref, 1, 2);
    ws_define_prim(I, "weak-ref-deref", p_weak_ref_deref, 1, 1);
    ws_define_prim(I, "weak-ref-clear!", p_weak_ref_clear, 1, 1);
    ws_define_prim(I, "weak-ref?", p_weak_ref_p, 1, 1);
    ws_define_prim(I, "make-weak-map", p_make_weak_map, 0, 0);
    ws_define_prim(I, "weak-map-ref", p_weak_map_ref, 2, 3);
    ws_define_prim(I, "weak-map-set!", p_weak_map_set, 3, 3);
    ws_define_prim(I, "weak-map-has?", p_weak_map_has, 2, 2);
    ws_define_prim(I, "weak-map-delete!", p_weak_map_delete, 2, 2);
    ws_define_prim(I, "weak-map-count", p_weak_map_count, 1, 1);
    ws_define_prim(I, "make-finalization-registry", p_make_registry, 1, 1);
    ws_define_prim(I, "registry-register!", p_registry_register, 3, 4);
    ws_define_prim(I, "registry-unregister!", p_registry_unregister, 2, 2);
    ws_define_prim(I, "make-weak-ref-group", p_make_group, 1, 1);
    ws_define_prim(I, "group-make-ref", p_group_make_ref, 3, 3);
    ws_define_prim(I, "gc", p_gc, 0, 0);
    ws_define_prim(I, "run-cleanup", p_run_cleanup, 0, 0);
    ws_define_prim(I, "gc-stats", p_gc_stats, 0, 0);
    ws_define_prim(I, "heap-census", p_heap_census, 0, 0);
}
