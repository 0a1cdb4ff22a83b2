/*
 * tests/test_weak.c -- the weak layer: weak slots, WeakRef, keep-during-job,
 * WeakRefGroup, ephemerons and the weak map.  One test per rule W1..W15 of
 * docs/weak.md (named after the rule), then the extra cases of issue 3.
 *
 * Rooting: every object a test keeps is stored in R[] (traced by the root
 * callback) or in a WGC_FRAME before the next call that may allocate, so
 * the tests hold under WGC_STRESS=N (a collection at every N-th
 * allocation).  Where a test checks what one collection did, the heap has
 * auto_collect off and the objects under test stay rooted until the point
 * tested, so extra stress collections cannot change the outcome.
 */
#include <criterion/criterion.h>

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "wgc.h"

/* ================================================================ objects */

/* A test object: two strong fields and an id; its destructor records that
 * it died (destructors may read their own object). */
typedef struct obj {
    struct obj *a, *b;
    uint64_t id;
} obj;

#define MAX_IDS 200000
static unsigned char died[MAX_IDS];
static unsigned long died_count;

static void obj_trace(void *o, wgc_visitor *v)
{
    wgc_visit(v, &((obj *)o)->a);
    wgc_visit(v, &((obj *)o)->b);
}

static void obj_destroy(void *o)
{
    uint64_t id = ((obj *)o)->id;
    if (id < MAX_IDS)
        died[id]++;
    died_count++;
}

static const wgc_type obj_type = {.name = "obj", .trace = obj_trace, .destroy = obj_destroy};

/* An embedder object with one weak slot (W1). */
typedef struct wholder {
    void *weak;
    void *strong;
} wholder;

static void wholder_trace(void *o, wgc_visitor *v)
{
    wgc_visit_weak(v, &((wholder *)o)->weak);
    wgc_visit(v, &((wholder *)o)->strong);
}

static const wgc_type wholder_type = {.name = "wholder", .trace = wholder_trace};

/* An embedder table of ephemerons (W12). */
typedef struct etable {
    size_t n;
    struct {
        void *key, *value;
    } e[];
} etable;

static void etable_trace(void *o, wgc_visitor *v)
{
    etable *t = o;
    for (size_t i = 0; i < t->n; i++)
        wgc_visit_ephemeron(v, &t->e[i].key, &t->e[i].value);
}

static const wgc_type etable_type = {.name = "etable", .trace = etable_trace};

/* ================================================================== roots */

#define NROOTS 64
static void *R[NROOTS];
static void *weak_roots[4]; /* weak slots reported by the root callback */
static void *eph_roots[4];  /* two ephemerons reported by the root callback */

static void trace_R(wgc_visitor *v, void *user)
{
    (void)user;
    wgc_visit_array(v, R, NROOTS);
    for (int i = 0; i < 4; i++)
        wgc_visit_weak(v, &weak_roots[i]);
    wgc_visit_ephemeron(v, &eph_roots[0], &eph_roots[1]);
    wgc_visit_ephemeron(v, &eph_roots[2], &eph_roots[3]);
}

static wgc_heap *heap_with(bool auto_collect, bool keep)
{
    wgc_config cfg;
    wgc_config_init(&cfg);
    cfg.auto_collect = auto_collect;
    cfg.keep_during_job = keep;
    cfg.trace_roots = trace_R;
    wgc_heap *h = wgc_heap_new(&cfg);
    cr_assert_not_null(h, "wgc_heap_new failed");
    return h;
}

static obj *mk(wgc_heap *h, uint64_t id)
{
    obj *o = wgc_alloc(h, &obj_type, sizeof *o);
    cr_assert_not_null(o, "wgc_alloc failed: %s", wgc_error_string(wgc_last_error(h)));
    o->id = id;
    return o;
}

static void collect(wgc_heap *h)
{
    cr_assert(wgc_collect(h), "wgc_collect failed");
    cr_assert(wgc_debug_verify(h), "heap invariants broken after a collection");
}

static wgc_heap_stats stats(wgc_heap *h)
{
    wgc_heap_stats s;
    cr_assert(wgc_stats(h, &s));
    return s;
}

/* ============================================================== W1 .. W5 */

Test(weak, W1_weak_slot_cleared_iff_target_dead)
{
    wgc_heap *h = heap_with(false, false);
    R[0] = wgc_alloc(h, &wholder_type, sizeof(wholder));
    R[1] = wgc_alloc(h, &wholder_type, sizeof(wholder));
    R[2] = mk(h, 1); /* live target */
    wholder *live = R[0], *dead = R[1];
    live->weak = R[2];
    wgc_write_barrier(h, live);
    dead->weak = mk(h, 2); /* only weakly held */
    wgc_write_barrier(h, dead);
    weak_roots[0] = R[2];
    weak_roots[1] = mk(h, 3); /* a weak root slot, target unrooted */
    /* a weak slot to a target that is strongly held by the same holder */
    dead->strong = mk(h, 4);
    wgc_write_barrier(h, dead);
    live->strong = dead->strong;
    wgc_write_barrier(h, live);
    collect(h);
    cr_assert_eq(live->weak, R[2], "live target's weak slot changed");
    cr_assert_null(dead->weak, "dead target's weak slot not cleared");
    cr_assert_eq(weak_roots[0], R[2], "weak root slot to a live target changed");
    cr_assert_null(weak_roots[1], "weak root slot to a dead target not cleared");
    cr_assert(died[2] && died[3] && !died[1] && !died[4]);
    cr_assert_geq(stats(h).weak_slots_cleared, 2);
    /* the live target dies later: now its slots are cleared too */
    R[2] = NULL;
    live->strong = NULL;
    collect(h);
    cr_assert_null(live->weak);
    cr_assert_null(weak_roots[0]);
    cr_assert(died[1]);
    wgc_heap_free(h);
}

Test(weak, W2_weakref_target_weak_holdings_strong)
{
    wgc_heap *h = heap_with(false, false);
    R[0] = mk(h, 1);               /* target */
    R[1] = mk(h, 2);               /* holdings */
    ((obj *)R[1])->a = mk(h, 3);   /* reachable only through holdings */
    wgc_write_barrier(h, R[1]);
    R[2] = wgc_weakref_new(h, R[0], R[1]);
    cr_assert_not_null(R[2]);
    wgc_weakref *ref = R[2];
    obj *holdings = R[1];
    R[0] = R[1] = NULL;
    collect(h);
    cr_assert_null(wgc_weakref_deref(h, ref), "target kept alive by its WeakRef");
    cr_assert(died[1]);
    cr_assert(!died[2] && !died[3], "holdings not held strongly");
    cr_assert_eq(wgc_weakref_holdings(h, ref), holdings);
    cr_assert(wgc_is_object(h, holdings));
    cr_assert_eq(holdings->a->id, 3);

    /* non-heap holdings are stored as is */
    R[3] = mk(h, 4);
    R[4] = wgc_weakref_new(h, R[3], (void *)(uintptr_t)0x1235);
    cr_assert_not_null(R[4]);
    collect(h);
    cr_assert_eq(wgc_weakref_holdings(h, R[4]), (void *)(uintptr_t)0x1235);
    cr_assert_eq(wgc_weakref_deref(h, R[4]), R[3]);

    /* errors: WGC_EINVAL, nothing allocated */
    uint64_t before = stats(h).objects_allocated;
    int on_stack = 0;
    wgc_clear_error(h);
    cr_assert_null(wgc_weakref_new(h, NULL, R[3]));
    cr_assert_eq(wgc_last_error(h), WGC_EINVAL);
    wgc_clear_error(h);
    cr_assert_null(wgc_weakref_new(h, R[3], R[3]));
    cr_assert_eq(wgc_last_error(h), WGC_EINVAL);
    wgc_clear_error(h);
    cr_assert_null(wgc_weakref_new(h, &on_stack, NULL));
    cr_assert_eq(wgc_last_error(h), WGC_EINVAL);
    cr_assert_null(wgc_weakref_new(NULL, R[3], NULL));
    cr_assert_eq(stats(h).objects_allocated, before, "a failed wgc_weakref_new allocated");
    /* not a WeakRef */
    wgc_clear_error(h);
    cr_assert_null(wgc_weakref_deref(h, R[3]));
    cr_assert_eq(wgc_last_error(h), WGC_EINVAL);
    cr_assert_not(wgc_weakref_clear(h, R[3]));
    cr_assert_null(wgc_weakref_holdings(h, R[3]));
    wgc_heap_free(h);
}

/* A WeakRef made without holdings is one word (weak/weakref.c): it must
 * behave as any other [W1] [W2] [W4] [W6], and be half the cell. */
Test(weak, W2_weakref_without_holdings_is_one_word)
{
    wgc_heap *h = heap_with(false, true);
    R[0] = mk(h, 1);
    R[1] = mk(h, 2);
    R[2] = wgc_weakref_new(h, R[0], NULL);
    R[3] = wgc_weakref_new(h, R[1], NULL);
    R[4] = wgc_weakref_new(h, R[0], (void *)(uintptr_t)0x11); /* with holdings */
    cr_assert(R[2] && R[3] && R[4]);
    cr_assert_eq(wgc_size_of(R[2]), 8, "a ref without holdings takes %zu bytes",
                 wgc_size_of(R[2]));
    cr_assert_gt(wgc_size_of(R[4]), 8);
    cr_assert_eq(wgc_type_of(R[2])->name, wgc_type_of(R[4])->name);
    cr_assert_null(wgc_weakref_holdings(h, R[2]));
    cr_assert_eq(wgc_weakref_holdings(h, R[4]), (void *)(uintptr_t)0x11);
    /* kept during the job [W6] */
    R[0] = R[1] = NULL;
    collect(h);
    cr_assert_not_null(wgc_weakref_deref(h, R[2]));
    cr_assert(wgc_end_job(h));
    collect(h);
    cr_assert_null(wgc_weakref_deref(h, R[2]), "target kept by a bare ref [W5]");
    cr_assert_null(wgc_weakref_deref(h, R[4]));
    cr_assert(died[1] && died[2]);
    cr_assert_null(wgc_weakref_deref(h, R[3]));
    /* clear works and stays empty [W4] */
    R[5] = mk(h, 3);
    R[6] = wgc_weakref_new(h, R[5], NULL);
    cr_assert(wgc_end_job(h));
    cr_assert(wgc_weakref_clear(h, R[6]));
    collect(h);
    cr_assert_null(wgc_weakref_deref(h, R[6]));
    cr_assert(!died[3]);
    wgc_heap_free(h);
}

/* A group executor / registry callback used by W3: at its first call it
 * checks that every other weak reference to the dead target is empty. */
static wgc_heap *w3_heap;
static int w3_calls;

static void w3_check_all_empty(void)
{
    wholder *holder = R[1];
    cr_assert_null(holder->weak, "weak slot still set when cleanup ran");
    cr_assert_null(wgc_weakref_deref(w3_heap, R[2]));
    cr_assert_null(wgc_weakref_deref(w3_heap, R[3]));
    cr_assert_eq(wgc_weakmap_count(w3_heap, R[5]), 0);
    cr_assert_null(weak_roots[0]);
}

static int w3_executor(wgc_heap *h, wgc_weakref *ref, void *holdings, void *user)
{
    (void)h, (void)user;
    cr_assert_null(wgc_weakref_deref(w3_heap, ref));
    cr_assert_eq((uintptr_t)holdings, 77);
    w3_check_all_empty();
    w3_calls++;
    return 0;
}

static int w3_callback(wgc_heap *h, void *holdings, void *user)
{
    (void)h, (void)user;
    cr_assert_eq((uintptr_t)holdings, 78);
    w3_check_all_empty();
    w3_calls++;
    return 0;
}

Test(weak, W3_all_weak_refs_emptied_in_same_collection)
{
    wgc_heap *h = w3_heap = heap_with(false, false);
    R[0] = mk(h, 1); /* the target */
    R[1] = wgc_alloc(h, &wholder_type, sizeof(wholder));
    ((wholder *)R[1])->weak = R[0];
    R[2] = wgc_weakref_new(h, R[0], NULL);
    R[3] = wgc_weakref_new(h, R[0], NULL);
    R[4] = wgc_group_new(h, w3_executor, NULL);
    R[5] = wgc_weakmap_new(h);
    R[6] = wgc_registry_new(h, w3_callback, NULL);
    R[7] = wgc_group_make_ref(R[4], R[0], (void *)(uintptr_t)77);
    R[8] = mk(h, 2); /* a map value */
    for (int i = 1; i <= 8; i++)
        cr_assert_not_null(R[i], "setup %d failed", i);
    cr_assert(wgc_weakmap_set(h, R[5], R[0], R[8]));
    cr_assert(wgc_registry_register(R[6], R[0], (void *)(uintptr_t)78, NULL));
    weak_roots[0] = R[0];
    R[8] = NULL;

    /* while the target lives, every reference sees it, collection after
     * collection */
    for (int round = 0; round < 3; round++) {
        collect(h);
        cr_assert_eq(((wholder *)R[1])->weak, R[0]);
        cr_assert_eq(wgc_weakref_deref(h, R[2]), R[0]);
        cr_assert_eq(wgc_weakref_deref(h, R[3]), R[0]);
        cr_assert_eq(wgc_weakref_deref(h, R[7]), R[0]);
        cr_assert(wgc_weakmap_has(h, R[5], R[0]));
        cr_assert_eq(weak_roots[0], R[0]);
        cr_assert_eq(wgc_cleanup_pending(h), 0);
    }

    /* one collection empties all of them */
    R[0] = NULL;
    collect(h);
    cr_assert(died[1] && died[2], "target or map value survived");
    w3_check_all_empty();
    cr_assert_null(wgc_weakref_deref(h, R[7]));
    cr_assert_eq(wgc_group_pending(R[4]), 1);
    cr_assert_eq(wgc_registry_pending(R[6]), 1);
    cr_assert_eq(w3_calls, 0, "cleanup ran inside the collection");
    cr_assert_eq(wgc_run_cleanup(h, SIZE_MAX), 2);
    cr_assert_eq(w3_calls, 2);
    wgc_heap_free(h);
}

/* W3 at scale, with automatic collections at arbitrary allocation points:
 * whenever we look, for every target either all its weak references are
 * empty or none is. */
Test(weak, W3_consistent_at_every_collection_under_churn)
{
    enum { N = 300 };
    wgc_heap *h = heap_with(true, false);
    R[1] = wgc_weakmap_new(h);
    /* per target i: a handle holding it (dropped at random), a WeakRef
     * (held by a handle) and a map entry target -> WeakRef */
    static void *strong[N];
    static wgc_weakref *refs[N];
    wgc_root *hs[N], *hr[N];
    for (int i = 0; i < N; i++) {
        strong[i] = mk(h, 10 + i);
        hs[i] = wgc_root_new(h, strong[i]);
        refs[i] = wgc_weakref_new(h, strong[i], NULL);
        cr_assert_not_null(refs[i]);
        hr[i] = wgc_root_new(h, refs[i]);
        cr_assert(wgc_weakmap_set(h, R[1], strong[i], refs[i]));
    }
    srand(12345);
    for (int step = 0; step < N; step++) {
        int victim = rand() % N;
        wgc_root_set(hs[victim], NULL);
        for (int k = 0; k < 50; k++) { /* churn: may collect */
            obj *junk = mk(h, MAX_IDS);
            (void)junk;
        }
        if (step % 37 == 0)
            collect(h);
        for (int i = 0; i < N; i++) {
            wgc_weakref *r = wgc_root_get(hr[i]);
            void *t = wgc_weakref_deref(h, r);
            bool in_map = t ? wgc_weakmap_get(h, R[1], t) == r : false;
            if (t)
                cr_assert(in_map, "target %d alive in its WeakRef but not in the map", i);
            if (wgc_root_get(hs[i]))
                cr_assert_eq(t, wgc_root_get(hs[i]), "rooted target %d lost", i);
            /* died[] flags: a dead target must have an empty ref */
            if (died[10 + i])
                cr_assert_null(t, "target %d died but its WeakRef is not empty", i);
            else
                cr_assert_eq(t, strong[i], "target %d alive but its WeakRef is empty", i);
        }
        size_t alive = 0;
        for (int i = 0; i < N; i++)
            alive += !died[10 + i];
        cr_assert_eq(wgc_weakmap_count(h, R[1]) >= alive, true);
    }
    collect(h);
    size_t alive = 0;
    for (int i = 0; i < N; i++)
        alive += !died[10 + i];
    cr_assert_eq(wgc_weakmap_count(h, R[1]), alive, "map count %zu, live keys %zu",
                 wgc_weakmap_count(h, R[1]), alive);
    for (int i = 0; i < N; i++) {
        wgc_root_free(hs[i]);
        wgc_root_free(hr[i]);
    }
    wgc_heap_free(h);
}

Test(weak, W4_target_stable_and_once_empty_stays_empty)
{
    wgc_heap *h = heap_with(false, false);
    R[0] = mk(h, 1);
    R[1] = wgc_weakref_new(h, R[0], NULL);
    R[2] = mk(h, 2);
    R[3] = wgc_weakref_new(h, R[2], NULL);
    for (int i = 0; i < 3; i++) {
        collect(h);
        cr_assert_eq(wgc_weakref_deref(h, R[1]), R[0]);
    }
    /* cleared by hand: empty for good, though the target lives */
    cr_assert(wgc_weakref_clear(h, R[3]));
    cr_assert(wgc_weakref_clear(h, R[3]), "clear of an empty ref must be true");
    cr_assert_null(wgc_weakref_deref(h, R[3]));
    collect(h);
    cr_assert_null(wgc_weakref_deref(h, R[3]));
    cr_assert_not(died[2]);
    /* emptied by death: stays empty while new objects reuse the memory */
    R[0] = NULL;
    collect(h);
    cr_assert_null(wgc_weakref_deref(h, R[1]));
    for (int round = 0; round < 5; round++) {
        for (int i = 0; i < 2000; i++) {
            R[10] = mk(h, MAX_IDS);
            ((obj *)R[10])->a = R[11];
            R[11] = R[10];
        }
        collect(h);
        cr_assert_null(wgc_weakref_deref(h, R[1]), "an empty WeakRef came back");
        cr_assert_null(wgc_weakref_deref(h, R[3]));
        R[10] = R[11] = NULL;
    }
    wgc_heap_free(h);
}

Test(weak, W5_weak_refs_alone_keep_nothing_alive)
{
    wgc_heap *h = heap_with(false, false);
    /* a strong cycle a <-> b reachable only through weak references */
    R[0] = mk(h, 1);
    ((obj *)R[0])->a = mk(h, 2);
    wgc_write_barrier(h, R[0]);
    ((obj *)R[0])->a->a = R[0];
    R[1] = wgc_weakref_new(h, R[0], NULL);
    R[2] = wgc_weakref_new(h, ((obj *)R[0])->a, NULL);
    R[3] = wgc_alloc(h, &wholder_type, sizeof(wholder));
    ((wholder *)R[3])->weak = R[0];
    /* x holds a WeakRef to itself: x is reachable only through WeakRefs */
    R[4] = mk(h, 3);
    ((obj *)R[4])->b = (obj *)wgc_weakref_new(h, R[4], NULL);
    wgc_write_barrier(h, R[4]);
    R[5] = wgc_weakref_new(h, R[4], NULL);
    /* a chain of WeakRefs to WeakRefs: the inner refs die */
    R[6] = mk(h, 4);
    R[7] = wgc_weakref_new(h, R[6], NULL);
    R[8] = wgc_weakref_new(h, R[7], NULL);
    R[0] = R[4] = R[6] = R[7] = NULL;
    collect(h);
    cr_assert(died[1] && died[2], "cycle kept by weak references");
    cr_assert(died[3], "self-referencing-through-WeakRef object kept");
    cr_assert(died[4]);
    cr_assert_null(wgc_weakref_deref(h, R[1]));
    cr_assert_null(wgc_weakref_deref(h, R[2]));
    cr_assert_null(((wholder *)R[3])->weak);
    cr_assert_null(wgc_weakref_deref(h, R[5]));
    cr_assert_null(wgc_weakref_deref(h, R[8]), "a WeakRef held only by a WeakRef survived");
    wgc_heap_free(h);
}

/* ==================================================================== W6 */

Test(weak, W6_keep_during_job_on_keeps_until_end_job)
{
    wgc_heap *h = heap_with(false, true);
    /* creating: the target is kept although nothing else holds it */
    R[0] = mk(h, 1);
    R[1] = wgc_weakref_new(h, R[0], NULL);
    cr_assert_not_null(R[1]);
    R[0] = NULL;
    collect(h);
    collect(h);
    cr_assert_not(died[1], "keep-during-job: created target collected before end_job");
    cr_assert_not_null(wgc_weakref_deref(h, R[1]));
    cr_assert(wgc_end_job(h));
    collect(h);
    cr_assert(died[1]);
    cr_assert_null(wgc_weakref_deref(h, R[1]));

    /* dereferencing: the returned target is kept for the job */
    R[2] = mk(h, 2);
    R[3] = wgc_weakref_new(h, R[2], NULL);
    cr_assert(wgc_end_job(h));          /* forget the creation */
    cr_assert_eq(wgc_weakref_deref(h, R[3]), R[2]);
    R[2] = NULL;
    collect(h);
    cr_assert_not(died[2], "keep-during-job: dereferenced target collected");
    cr_assert_not_null(wgc_weakref_deref(h, R[3]));
    cr_assert(wgc_end_job(h));
    collect(h);
    cr_assert(died[2]);
    cr_assert_null(wgc_weakref_deref(h, R[3]));
    /* a deref returning NULL keeps nothing (and does not fail) */
    cr_assert_null(wgc_weakref_deref(h, R[3]));
    /* group refs are WeakRefs too */
    R[4] = wgc_group_new(h, NULL, NULL);
    R[5] = mk(h, 3);
    R[6] = wgc_group_make_ref(R[4], R[5], NULL);
    R[5] = NULL;
    collect(h);
    cr_assert_not(died[3]);
    cr_assert(wgc_end_job(h));
    collect(h);
    cr_assert(died[3]);
    cr_assert_eq(wgc_group_pending(R[4]), 1);
    wgc_heap_free(h);
}

/* [issue 13.6] A deref that cannot grow the kept list still returns the
 * live target (once empty, always empty: W4; ENOMEM is no result of
 * deref) and still keeps it for the job [W6]. */
Test(weak, W6_deref_keeps_without_memory)
{
    enum { N = 100 };
    wgc_heap *h = heap_with(false, true);
    /* targets chained through `a` from R[0]; holders chained through `b`
     * from R[1], each holding one WeakRef in `a`.  Made ten per job, so
     * the kept list never needed more than 16 entries. */
    for (int i = 0; i < N; i++) {
        R[2] = mk(h, 1000 + (uint64_t)i);
        ((obj *)R[2])->a = R[0];
        R[0] = R[2];
        R[3] = mk(h, 0);
        ((obj *)R[3])->b = R[1];
        R[1] = R[3];
        ((obj *)R[1])->a = (obj *)wgc_weakref_new(h, R[0], NULL);
        wgc_write_barrier(h, R[1]);
        cr_assert_not_null(((obj *)R[1])->a);
        if (i % 10 == 9)
            cr_assert(wgc_end_job(h));
    }
    R[2] = R[3] = NULL;
    cr_assert(wgc_end_job(h));
    wgc_debug_fail_request(h, 1, true); /* no memory from now on */
    for (obj *o = R[1], *t = R[0]; o; o = o->b, t = t->a) {
        wgc_clear_error(h);
        void *got = wgc_weakref_deref(h, (wgc_weakref *)o->a);
        cr_assert_eq(got, t, "deref of a live target returned %p (%s)", got,
                     wgc_error_string(wgc_last_error(h)));
        cr_assert_eq(wgc_last_error(h), WGC_OK);
    }
    /* the targets are kept for the job, though the list could not hold them */
    for (obj *t = R[0]; t; t = t->a)
        t->b = NULL;
    R[0] = NULL;
    collect(h);
    for (int i = 0; i < N; i++)
        cr_assert_not(died[1000 + i], "kept target %d collected before end_job", i);
    for (obj *o = R[1]; o; o = o->b)
        cr_assert_not_null(wgc_weakref_deref(h, (wgc_weakref *)o->a));
    cr_assert(wgc_end_job(h));
    collect(h);
    for (int i = 0; i < N; i++)
        cr_assert(died[1000 + i], "target %d still kept after end_job", i);
    for (obj *o = R[1]; o; o = o->b)
        cr_assert_null(wgc_weakref_deref(h, (wgc_weakref *)o->a));
    wgc_debug_fail_request(h, 0, false);
    wgc_heap_free(h);
}

/* [issue 13.6] The kept list holds each target once per job: derefs of the
 * same two targets, alternating, grow it no further. */
Test(weak, W6_kept_list_bounded_by_distinct_targets)
{
    wgc_heap *h = heap_with(false, true);
    R[0] = mk(h, 1);
    R[1] = mk(h, 2);
    R[2] = wgc_weakref_new(h, R[0], NULL);
    R[3] = wgc_weakref_new(h, R[1], NULL);
    uint64_t before = wgc_debug_requests(h);
    for (long i = 0; i < 2000000; i++)
        cr_assert_not_null(wgc_weakref_deref(h, R[2 + (i & 1)]));
    cr_assert_eq(wgc_debug_requests(h), before,
                 "2M derefs of 2 targets in one job made %llu memory requests",
                 (unsigned long long)(wgc_debug_requests(h) - before));
    wgc_heap_free(h);
}

Test(weak, W6_keep_during_job_off_keeps_nothing)
{
    wgc_heap *h = heap_with(false, false);
    R[0] = mk(h, 1);
    R[1] = wgc_weakref_new(h, R[0], NULL);
    cr_assert_eq(wgc_weakref_deref(h, R[1]), R[0]);
    R[0] = NULL;
    collect(h);
    cr_assert(died[1], "keep-during-job off, but the target was kept");
    cr_assert_null(wgc_weakref_deref(h, R[1]));
    cr_assert(wgc_end_job(h), "wgc_end_job must succeed (and do nothing) when off");
    cr_assert_not(wgc_end_job(NULL));
    wgc_heap_free(h);
}

/* ============================================================== groups */

#define LOG_MAX 4096
static uintptr_t exec_log[LOG_MAX];
static size_t exec_n;
static int exec_fail_at = -1; /* fail on this call index */

static int log_executor(wgc_heap *h, wgc_weakref *ref, void *holdings, void *user)
{
    (void)user;
    cr_assert_not_null(ref);
    cr_assert_null(wgc_weakref_deref(h, ref), "executor got a ref that is not empty");
    cr_assert_lt(exec_n, LOG_MAX);
    exec_log[exec_n] = (uintptr_t)holdings;
    return (int)exec_n++ == exec_fail_at;
}

static int manual_calls;
static int manual_fn(wgc_heap *h, wgc_weakref *ref, void *holdings, void *user)
{
    (void)h, (void)ref, (void)holdings;
    cr_assert_eq((uintptr_t)user, 0xabc);
    manual_calls++;
    return 0;
}

Test(weak, W7_group_ref_queued_holdings_alive_until_executor)
{
    wgc_heap *h = heap_with(false, false);
    R[0] = wgc_group_new(h, log_executor, NULL);
    R[1] = mk(h, 1); /* target */
    R[2] = mk(h, 2); /* holdings (heap object) */
    R[3] = wgc_group_make_ref(R[0], R[1], R[2]);
    R[4] = mk(h, 3); /* target of a ref that is garbage */
    cr_assert_not_null(wgc_group_make_ref(R[0], R[4], (void *)(uintptr_t)5));
    R[5] = wgc_weakref_new(h, R[2], NULL); /* watches the holdings */
    cr_assert_not_null(R[3]);
    obj *holdings = R[2];
    R[1] = R[2] = R[4] = NULL;
    collect(h);
    cr_assert(died[1] && died[3]);
    cr_assert_eq(wgc_group_pending(R[0]), 1, "only the live ref is queued");
    cr_assert_eq(exec_n, 0, "executor ran inside the collection");
    cr_assert_not(died[2], "queued holdings collected");
    collect(h);
    cr_assert_not(died[2], "queued holdings collected");
    cr_assert_eq(wgc_weakref_deref(h, R[5]), holdings);
    cr_assert_eq(wgc_weakref_holdings(h, R[3]), holdings);
    cr_assert_eq(wgc_group_finalize_some(R[0], 10), 1);
    cr_assert_eq(exec_n, 1);
    cr_assert_eq(exec_log[0], (uintptr_t)holdings);
    cr_assert_eq(wgc_group_pending(R[0]), 0);
    cr_assert_eq(stats(h).group_refs_queued, 1);
    cr_assert_eq(stats(h).group_refs_run, 1);
    /* delivered, and the ref dropped: the holdings may go now */
    R[3] = NULL;
    collect(h);
    cr_assert(died[2], "holdings kept after delivery and the ref died");
    wgc_heap_free(h);
}

Test(weak, W8_cleared_group_ref_never_delivered)
{
    wgc_heap *h = heap_with(false, false);
    R[0] = wgc_group_new(h, log_executor, NULL);
    for (int i = 0; i < 4; i++) {
        R[1 + i] = mk(h, 1 + i);
        R[10 + i] = wgc_group_make_ref(R[0], R[1 + i], (void *)(uintptr_t)(100 + i));
        cr_assert_not_null(R[10 + i]);
    }
    /* clear a live ref before its target dies */
    cr_assert(wgc_weakref_clear(h, R[10]));
    for (int i = 0; i < 4; i++)
        R[1 + i] = NULL;
    collect(h);
    cr_assert_eq(wgc_group_pending(R[0]), 3);
    /* clear a queued ref */
    cr_assert(wgc_weakref_clear(h, R[12]));
    cr_assert_eq(wgc_group_pending(R[0]), 2);
    cr_assert(wgc_weakref_clear(h, R[12]));
    cr_assert_eq(wgc_group_pending(R[0]), 2);
    collect(h);
    cr_assert_eq(wgc_run_cleanup(h, SIZE_MAX), 2);
    cr_assert_eq(exec_n, 2);
    cr_assert_eq(exec_log[0], 101);
    cr_assert_eq(exec_log[1], 103);
    cr_assert_eq(wgc_group_finalize_some(R[0], 10), 0);
    wgc_heap_free(h);
}

Test(weak, W9_finalize_some_oldest_first_exactly_once)
{
    wgc_heap *h = heap_with(false, false);
    R[0] = wgc_group_new(h, log_executor, NULL);
    /* refs made in order 0..5; targets 3..5 die first, then 0..2 */
    for (int i = 0; i < 6; i++) {
        R[1 + i] = mk(h, 1 + i);
        R[10 + i] = wgc_group_make_ref(R[0], R[1 + i], (void *)(uintptr_t)(200 + i));
    }
    R[4] = R[5] = R[6] = NULL;
    collect(h);
    R[1] = R[2] = R[3] = NULL;
    collect(h);
    cr_assert_eq(wgc_group_pending(R[0]), 6);
    cr_assert_eq(wgc_group_finalize_some(R[0], 0), 0);
    cr_assert_eq(wgc_group_finalize_some(R[0], 2), 2);
    collect(h); /* collections in between change nothing */
    cr_assert_eq(wgc_group_finalize_some(R[0], 3), 3);
    cr_assert_eq(wgc_group_finalize_some(R[0], 3), 1);
    cr_assert_eq(wgc_group_finalize_some(R[0], 3), 0);
    uintptr_t want[6] = {203, 204, 205, 200, 201, 202};
    cr_assert_eq(exec_n, 6);
    for (int i = 0; i < 6; i++)
        cr_assert_eq(exec_log[i], want[i], "delivery %d: got %lu want %lu", i,
                     (unsigned long)exec_log[i], (unsigned long)want[i]);

    /* manual finalization runs the supplied function, not the executor */
    R[20] = mk(h, 20);
    R[21] = wgc_group_make_ref(R[0], R[20], NULL);
    R[22] = mk(h, 21);
    R[23] = wgc_group_make_ref(R[0], R[22], NULL);
    R[20] = R[22] = NULL;
    collect(h);
    cr_assert_eq(wgc_group_manually_finalize(R[0], manual_fn, (void *)0xabc), 2);
    cr_assert_eq(manual_calls, 2);
    cr_assert_eq(exec_n, 6);
    cr_assert_eq(wgc_group_manually_finalize(R[0], manual_fn, (void *)0xabc), 0);
    cr_assert_eq(wgc_group_manually_finalize(R[0], NULL, NULL), 0);
    cr_assert_eq(wgc_group_manually_finalize(NULL, manual_fn, NULL), 0);
    cr_assert_eq(wgc_group_finalize_some(NULL, 5), 0);

    /* a failing executor stops the drain; its ref counts as delivered */
    for (int i = 0; i < 3; i++) {
        R[30 + i] = mk(h, 30 + i);
        R[40 + i] = wgc_group_make_ref(R[0], R[30 + i], (void *)(uintptr_t)(300 + i));
    }
    R[30] = R[31] = R[32] = NULL;
    collect(h);
    exec_fail_at = 6;
    wgc_clear_error(h);
    cr_assert_eq(wgc_group_finalize_some(R[0], 10), 1);
    cr_assert_eq(wgc_last_error(h), WGC_ECALLBACK);
    cr_assert_eq(wgc_group_pending(R[0]), 2);
    cr_assert_eq(wgc_group_finalize_some(R[0], 10), 2);
    cr_assert_eq(exec_n, 9);
    cr_assert_eq(exec_log[6], 300);
    cr_assert_eq(exec_log[7], 301);
    cr_assert_eq(exec_log[8], 302);
    wgc_heap_free(h);
}

/* A group whose executor is NULL delivers only manually. */
Test(weak, W9_group_without_executor_waits_for_manual)
{
    wgc_heap *h = heap_with(false, false);
    R[0] = wgc_group_new(h, NULL, NULL);
    R[1] = mk(h, 1);
    R[2] = wgc_group_make_ref(R[0], R[1], NULL);
    R[1] = NULL;
    collect(h);
    cr_assert_eq(wgc_group_pending(R[0]), 1);
    cr_assert_eq(wgc_cleanup_pending(h), 0, "a host looping on it would never end");
    cr_assert_eq(wgc_run_cleanup(h, SIZE_MAX), 0);
    cr_assert_eq(wgc_group_finalize_some(R[0], 5), 0);
    cr_assert_eq(wgc_group_pending(R[0]), 1);
    cr_assert_eq(wgc_group_manually_finalize(R[0], manual_fn, (void *)0xabc), 1);
    cr_assert_eq(manual_calls, 1);
    cr_assert_eq(wgc_group_pending(R[0]), 0);
    wgc_heap_free(h);
}

Test(weak, W10_dead_group_collected_with_its_queue)
{
    wgc_heap *h = heap_with(false, false);
    R[0] = wgc_group_new(h, log_executor, NULL);
    for (int i = 0; i < 5; i++) {
        R[1 + i] = mk(h, 1 + i);
        R[10 + i] = mk(h, 10 + i); /* holdings */
        cr_assert_not_null(wgc_group_make_ref(R[0], R[1 + i], R[10 + i]));
        R[1 + i] = R[10 + i] = NULL;
    }
    /* the refs themselves are garbage: nothing queued */
    collect(h);
    cr_assert_eq(wgc_group_pending(R[0]), 0);
    for (int i = 0; i < 5; i++)
        cr_assert(died[1 + i] && died[10 + i]);

    /* now with refs queued, then the group dies */
    for (int i = 0; i < 5; i++) {
        R[1 + i] = mk(h, 20 + i);
        R[10 + i] = mk(h, 30 + i);
        R[20 + i] = wgc_group_make_ref(R[0], R[1 + i], R[10 + i]);
        R[1 + i] = R[10 + i] = NULL;
    }
    collect(h);
    cr_assert_eq(wgc_group_pending(R[0]), 5);
    cr_assert_eq(wgc_cleanup_pending(h), 5);
    for (int i = 0; i < 5; i++)
        R[20 + i] = NULL;
    R[0] = NULL;
    collect(h);
    for (int i = 0; i < 5; i++)
        cr_assert(died[30 + i], "holdings of a dead group's queue kept");
    cr_assert_eq(wgc_cleanup_pending(h), 0);
    cr_assert_eq(wgc_run_cleanup(h, SIZE_MAX), 0);
    cr_assert_eq(exec_n, 0, "a dead group's executor ran");

    /* a group kept alive only by its (live) refs is garbage: refs hold it
     * weakly, and then their targets' deaths queue nothing */
    R[0] = wgc_group_new(h, log_executor, NULL);
    R[1] = mk(h, 40);
    R[2] = wgc_group_make_ref(R[0], R[1], NULL);
    R[3] = wgc_weakref_new(h, R[0], NULL);
    R[0] = NULL;
    collect(h);
    cr_assert_null(wgc_weakref_deref(h, R[3]), "a group kept alive by its own refs");
    R[1] = NULL;
    collect(h);
    cr_assert_eq(wgc_run_cleanup(h, SIZE_MAX), 0);
    cr_assert_eq(exec_n, 0);
    cr_assert_null(wgc_weakref_deref(h, R[2]));
    wgc_heap_free(h);
}

/* [W8] [W9] A group ref gives up its holdings when it is cleared and when
 * it is delivered: a host that keeps the ref does not keep them alive
 * (issue 13, item 10). */
static void *seen_in_executor;
static int holdings_executor(wgc_heap *h, wgc_weakref *ref, void *holdings, void *user)
{
    (void)user;
    seen_in_executor = holdings;
    cr_assert_null(wgc_weakref_holdings(h, ref), "the ref still has its holdings in the executor");
    return 0;
}

Test(weak, W8_W9_group_ref_releases_holdings_on_clear_and_delivery)
{
    wgc_heap *h = heap_with(false, false);
    R[0] = wgc_group_new(h, holdings_executor, NULL);
    R[1] = mk(h, 1);  /* target of the ref to clear */
    R[2] = mk(h, 2);  /* its holdings */
    R[3] = wgc_group_make_ref(R[0], R[1], R[2]);
    R[4] = mk(h, 4);  /* target of the ref to deliver */
    R[5] = mk(h, 5);  /* its holdings */
    R[6] = wgc_group_make_ref(R[0], R[4], R[5]);
    cr_assert_not_null(R[3]);
    cr_assert_not_null(R[6]);
    cr_assert_eq(wgc_weakref_holdings(h, R[3]), R[2]);

    /* cleared while its target lives */
    cr_assert(wgc_weakref_clear(h, R[3]));
    cr_assert_null(wgc_weakref_holdings(h, R[3]), "clear kept the holdings");
    R[2] = NULL;
    collect(h);
    cr_assert(died[2], "holdings of a cleared group ref kept alive by the ref");

    /* delivered, the ref still held by the host */
    void *holdings = R[5];
    R[4] = NULL;
    R[5] = NULL;
    collect(h);
    cr_assert_eq(wgc_group_pending(R[0]), 1);
    cr_assert_not(died[5], "queued holdings collected [W7]");
    cr_assert_eq(wgc_weakref_holdings(h, R[6]), holdings, "queued ref lost its holdings");
    cr_assert_eq(wgc_group_finalize_some(R[0], 1), 1);
    cr_assert_eq(seen_in_executor, holdings);
    cr_assert_null(wgc_weakref_holdings(h, R[6]), "a delivered ref kept its holdings");
    collect(h);
    cr_assert(died[5], "holdings of a delivered group ref kept alive by the ref");

    /* cleared while queued */
    R[7] = mk(h, 7);
    R[8] = mk(h, 8);
    R[9] = wgc_group_make_ref(R[0], R[7], R[8]);
    R[7] = R[8] = NULL;
    collect(h);
    cr_assert_eq(wgc_group_pending(R[0]), 1);
    cr_assert(wgc_weakref_clear(h, R[9]));
    collect(h);
    cr_assert(died[8], "holdings of a cleared queued group ref kept alive");
    cr_assert_eq(wgc_group_pending(R[0]), 0);
    /* plain WeakRefs keep theirs: clear empties only the target */
    R[10] = mk(h, 10);
    R[11] = mk(h, 11);
    R[12] = wgc_weakref_new(h, R[10], R[11]);
    cr_assert(wgc_weakref_clear(h, R[12]));
    cr_assert_eq(wgc_weakref_holdings(h, R[12]), R[11]);
    wgc_heap_free(h);
}

/* [W15] wgc_group_shutdown (issue 13, item 11). */
Test(weak, W15_group_shutdown)
{
    wgc_heap *h = heap_with(false, false);
    R[0] = wgc_group_new(h, log_executor, NULL);
    for (int i = 0; i < 3; i++) { /* refs 10..12 get queued */
        R[1 + i] = mk(h, 1 + i);
        R[4 + i] = mk(h, 4 + i); /* holdings */
        R[10 + i] = wgc_group_make_ref(R[0], R[1 + i], R[4 + i]);
        cr_assert_not_null(R[10 + i]);
        R[1 + i] = R[4 + i] = NULL;
    }
    R[20] = mk(h, 20); /* a live ref, with holdings */
    R[21] = mk(h, 21);
    R[22] = wgc_group_make_ref(R[0], R[20], R[21]);
    void *live_holdings = R[21];
    R[21] = NULL;
    collect(h);
    cr_assert_eq(wgc_group_pending(R[0]), 3);
    cr_assert_eq(wgc_cleanup_pending(h), 3);

    cr_assert(wgc_group_shutdown(R[0]));
    cr_assert_eq(wgc_group_pending(R[0]), 0, "queued refs not dropped");
    cr_assert_eq(wgc_cleanup_pending(h), 0);
    cr_assert_eq(wgc_run_cleanup(h, SIZE_MAX), 0);
    cr_assert_eq(wgc_group_finalize_some(R[0], 10), 0);
    cr_assert_eq(wgc_group_manually_finalize(R[0], manual_fn, (void *)0xabc), 0);
    for (int i = 0; i < 3; i++) {
        cr_assert_null(wgc_weakref_deref(h, R[10 + i]));
        cr_assert_null(wgc_weakref_holdings(h, R[10 + i]), "a dropped ref kept its holdings");
    }
    /* refs still answer deref */
    cr_assert_eq(wgc_weakref_deref(h, R[22]), R[20]);
    cr_assert_eq(wgc_weakref_holdings(h, R[22]), live_holdings);
    collect(h);
    for (int i = 0; i < 3; i++)
        cr_assert(died[4 + i], "holdings of a dropped ref kept alive");
    cr_assert_not(died[21], "a live ref's holdings collected");
    cr_assert_eq(wgc_weakref_deref(h, R[22]), R[20]);

    /* the live ref's target dies: nothing queued, holdings released */
    R[20] = NULL;
    collect(h);
    cr_assert(died[20]);
    cr_assert_null(wgc_weakref_deref(h, R[22]));
    cr_assert_eq(wgc_group_pending(R[0]), 0);
    cr_assert_null(wgc_weakref_holdings(h, R[22]));
    collect(h);
    cr_assert(died[21], "holdings of a shut group's ref kept after its target died");
    cr_assert_eq(wgc_run_cleanup(h, SIZE_MAX), 0);
    cr_assert_eq(wgc_collect_and_cleanup(h), 0);
    cr_assert_eq(exec_n, 0, "the executor ran after shutdown");
    cr_assert_eq(manual_calls, 0);

    /* no new refs; a second shutdown is harmless; clear still works */
    R[30] = mk(h, 30);
    wgc_clear_error(h);
    cr_assert_null(wgc_group_make_ref(R[0], R[30], NULL));
    cr_assert_eq(wgc_last_error(h), WGC_ESTATE);
    cr_assert(wgc_group_shutdown(R[0]));
    cr_assert(wgc_weakref_clear(h, R[22]));
    cr_assert_not(wgc_group_shutdown(NULL));
    cr_assert(wgc_debug_verify(h));
    wgc_heap_free(h);
}

/* Shut down from its own executor: the drain stops after that call. */
static int shutdown_calls;
static int shutdown_executor(wgc_heap *h, wgc_weakref *ref, void *holdings, void *user)
{
    (void)h, (void)ref, (void)holdings, (void)user;
    shutdown_calls++;
    cr_assert(wgc_group_shutdown(R[0]));
    return 0;
}

Test(weak, W15_group_shutdown_from_its_executor)
{
    wgc_heap *h = heap_with(false, false);
    R[0] = wgc_group_new(h, shutdown_executor, NULL);
    R[1] = wgc_group_new(h, log_executor, NULL); /* another group, unaffected */
    for (int i = 0; i < 4; i++) {
        R[2] = mk(h, 1 + i);
        R[10 + i] = wgc_group_make_ref(R[i % 2], R[2], (void *)(uintptr_t)(i + 1));
    }
    R[2] = NULL;
    collect(h);
    cr_assert_eq(wgc_cleanup_pending(h), 4);
    cr_assert_eq(wgc_run_cleanup(h, SIZE_MAX), 3);
    cr_assert_eq(shutdown_calls, 1);
    cr_assert_eq(exec_n, 2);
    cr_assert_eq(wgc_cleanup_pending(h), 0);
    wgc_heap_free(h);
}

/* A dead group whose page went back to the OS (issue 13, item 5): the
 * header makes using it undefined in release builds, and promises that
 * debug builds report it and return NULL/0/false without touching its
 * memory.  Debug builds only; reports whether the page really was
 * unmapped (a heap that keeps pages longer makes this a plain dead-cell
 * case, which must give the same answers). */
static bool page_unmapped(const void *p)
{
    unsigned char vec;
    void *page = (void *)((uintptr_t)p & ~(uintptr_t)0xffff);
    return mincore(page, 4096, &vec) != 0;
}

Test(weak, W10_dead_group_returned_to_the_os)
{
    if (!wgc_debug_checks_enabled())
        cr_skip_test("using a dead group is undefined in release builds");
    wgc_config cfg;
    wgc_config_init(&cfg);
    cfg.auto_collect = false;
    cfg.initial_heap_size = 64 << 10; /* keep as few pages as possible */
    cfg.trace_roots = trace_R;
    wgc_heap *h = wgc_heap_new(&cfg);
    cr_assert_not_null(h);
    /* small objects first, so their pages are released (and pooled) before
     * the group's page, which is then the first one to go back */
    for (int i = 0; i < 20000; i++) {
        obj *o = mk(h, MAX_IDS);
        o->a = R[1];
        R[1] = o;
    }
    wgc_group *g = wgc_group_new(h, log_executor, NULL);
    R[0] = g;
    R[2] = mk(h, 1);
    R[3] = wgc_group_make_ref(g, R[2], NULL);
    cr_assert_not_null(R[3]);
    R[0] = R[1] = R[2] = R[3] = NULL;
    collect(h);
    collect(h);
    cr_log_info("the dead group's page %s unmapped", page_unmapped(g) ? "was" : "was not");
    R[4] = mk(h, 2);
    cr_assert_null(wgc_group_make_ref(g, R[4], NULL), "a dead group made a ref");
    cr_assert_eq(wgc_group_finalize_some(g, 5), 0);
    cr_assert_eq(wgc_group_manually_finalize(g, manual_fn, NULL), 0);
    cr_assert_eq(wgc_group_pending(g), 0);
    cr_assert_not(wgc_group_shutdown(g));
    cr_assert_eq(manual_calls, 0);
    cr_assert(wgc_debug_verify(h));
    wgc_heap_free(h);
}

/* W11: no poll of live refs: a collection queues exactly the refs whose
 * targets died, reports nothing when nothing died, and the count of refs
 * queued never includes live ones. */
static int w11_notified;
static void w11_notify(wgc_heap *h, void *user)
{
    (void)h, (void)user;
    w11_notified++;
}

Test(weak, W11_group_work_only_for_dead_targets)
{
    enum { N = 20000 };
    wgc_config cfg;
    wgc_config_init(&cfg);
    cfg.auto_collect = false;
    cfg.trace_roots = trace_R;
    cfg.cleanup_pending = w11_notify;
    wgc_heap *h = wgc_heap_new(&cfg);
    cr_assert_not_null(h);
    R[0] = wgc_group_new(h, log_executor, NULL);
    /* R[1]: a list of targets; R[2]: a list of refs (in holder objects) */
    for (int i = 0; i < N; i++) {
        obj *t = mk(h, MAX_IDS);
        t->a = R[1];
        R[1] = t;
        obj *cellref = mk(h, MAX_IDS);
        cellref->a = R[2];
        R[2] = cellref;
        cellref->b = (obj *)wgc_group_make_ref(R[0], t, NULL);
        wgc_write_barrier(h, cellref);
        cr_assert_not_null(cellref->b);
    }
    collect(h);
    collect(h);
    cr_assert_eq(w11_notified, 0, "notified although nothing died");
    cr_assert_eq(stats(h).group_refs_queued, 0);
    cr_assert_eq(wgc_group_pending(R[0]), 0);
    /* drop the first 10 targets (the newest ones: list head) */
    obj *t = R[1];
    for (int i = 0; i < 10; i++)
        t = t->a;
    R[1] = t;
    collect(h);
    cr_assert_eq(w11_notified, 1);
    cr_assert_eq(stats(h).group_refs_queued, 10);
    cr_assert_eq(wgc_group_pending(R[0]), 10);
    collect(h);
    cr_assert_eq(w11_notified, 1);
    cr_assert_eq(stats(h).group_refs_queued, 10);
    cr_assert_eq(wgc_group_finalize_some(R[0], SIZE_MAX), 10);
    wgc_heap_free(h);
}

/* ============================================================ ephemerons */

static etable *new_etable(wgc_heap *h, size_t n)
{
    etable *t = wgc_alloc(h, &etable_type, sizeof(etable) + n * 2 * sizeof(void *));
    cr_assert_not_null(t);
    t->n = n;
    return t;
}

Test(weak, W12_ephemeron_value_traced_iff_key_reachable)
{
    wgc_heap *h = heap_with(false, false);
    R[0] = new_etable(h, 4);
    etable *t = R[0];
    /* 0: live key, value only via the ephemeron */
    R[1] = mk(h, 1);
    t->e[0].key = R[1];
    wgc_write_barrier(h, t);
    t->e[0].value = mk(h, 2);
    wgc_write_barrier(h, t);
    /* 1: dead key whose value refers back to the key */
    R[5] = mk(h, 3);
    R[6] = mk(h, 4);
    ((obj *)R[6])->a = R[5];
    t->e[1].key = R[5];
    t->e[1].value = R[6];
    wgc_write_barrier(h, t);
    R[5] = R[6] = NULL;
    /* 2: NULL key: value untraced and untouched */
    t->e[2].value = (void *)(uintptr_t)0x10; /* not traced, so any value */
    /* 3: key reachable only through entry 0's value */
    ((obj *)t->e[0].value)->a = mk(h, 5);
    wgc_write_barrier(h, t->e[0].value);
    t->e[3].key = ((obj *)t->e[0].value)->a;
    wgc_write_barrier(h, t);
    t->e[3].value = mk(h, 6);
    wgc_write_barrier(h, t);
    void *v0 = t->e[0].value, *k3 = t->e[3].key, *v3 = t->e[3].value;
    collect(h);
    cr_assert_not(died[2], "value of a live key collected");
    cr_assert(died[3] && died[4], "a dead key's value (referring to its key) kept");
    cr_assert_eq(t->e[0].key, R[1]);
    cr_assert_eq(t->e[0].value, v0);
    cr_assert_null(t->e[1].key, "dead key slot not cleared");
    cr_assert_null(t->e[1].value, "dead key's value slot not cleared");
    cr_assert_eq(t->e[2].value, (void *)(uintptr_t)0x10);
    cr_assert_eq(t->e[3].key, k3);
    cr_assert_eq(t->e[3].value, v3);
    cr_assert_not(died[5] || died[6]);
    cr_assert_geq(stats(h).ephemerons_resolved, 2);
    /* the whole chain goes when the first key dies */
    t->e[2].value = NULL;
    R[1] = NULL;
    collect(h);
    cr_assert(died[1] && died[2] && died[5] && died[6]);
    for (int i = 0; i < 4; i++)
        cr_assert(t->e[i].key == NULL && t->e[i].value == NULL, "entry %d not cleared", i);
    wgc_heap_free(h);
}

/* An adversarially ordered chain: entry i (in table order) has key k[n-1-i]
 * and value k[n-i]: each value is the next key, and the table is walked
 * against the chain.  Only k[0] is rooted: every key must live (correctness
 * is checked, not timing).  Two tables, each one traced against the other,
 * and a weak-map version of the same chain. */
Test(weak, W12_adversarial_ephemeron_chain_converges)
{
    enum { N = 20000 };
    wgc_heap *h = heap_with(false, false);
    R[0] = new_etable(h, N);
    R[1] = new_etable(h, N);
    /* the keys, kept alive during setup by a strong list in R[2] */
    for (int i = 0; i <= N; i++) {
        obj *k = mk(h, 1000 + i);
        k->a = R[2];
        R[2] = k;
    }
    obj **keys = malloc((N + 1) * sizeof *keys);
    cr_assert_not_null(keys);
    obj *k = R[2];
    for (int i = N; i >= 0; i--, k = k->a)
        keys[i] = k;
    for (int i = 0; i <= N; i++)
        keys[i]->a = NULL; /* break the list (keys[N] is R[2]) */
    etable *t0 = R[0], *t1 = R[1];
    /* chain link j: key keys[j] -> value keys[j+1].  Even links in t0,
     * odd links in t1, both in reverse order. */
    for (int j = 0; j < N; j++) {
        etable *t = j % 2 ? t1 : t0;
        size_t slot = (size_t)(N - 1 - j) / 2;
        t->e[slot].key = keys[j];
        t->e[slot].value = keys[j + 1];
        wgc_write_barrier(h, t);
    }
    R[3] = keys[0];
    R[2] = NULL;
    collect(h);
    for (int i = 0; i <= N; i++)
        cr_assert_not(died[1000 + i], "chain link %d collected", i);
    for (int j = 0; j < N; j++) {
        etable *t = j % 2 ? t1 : t0;
        size_t slot = (size_t)(N - 1 - j) / 2;
        cr_assert(t->e[slot].key == keys[j] && t->e[slot].value == keys[j + 1]);
    }
    /* the same chain cut in the middle: the second half dies */
    keys[N / 2]->id = MAX_IDS; /* (its destructor no longer flags) */
    for (int j = 0; j < N; j++) {
        etable *t = j % 2 ? t1 : t0;
        size_t slot = (size_t)(N - 1 - j) / 2;
        if (j == N / 2 - 1)
            t->e[slot].value = NULL; /* link N/2-1 -> N/2 cut */
    }
    collect(h);
    for (int i = 0; i <= N; i++) {
        if (i < N / 2)
            cr_assert_not(died[1000 + i], "key %d before the cut died", i);
        else if (i > N / 2)
            cr_assert(died[1000 + i], "key %d after the cut lived", i);
    }
    free(keys);
    wgc_heap_free(h);
}

/* Embedder tables whose ephemerons are not lone pairs [M2]: keys and
 * values in separate arrays (the value slot is not the word after the key
 * slot), and a packed table whose key slots are not even. */
typedef struct stable {
    size_t n;
    void *slots[]; /* n keys, then n values */
} stable;

static void stable_trace(void *o, wgc_visitor *v)
{
    stable *t = o;
    for (size_t i = 0; i < t->n; i++)
        wgc_visit_ephemeron(v, &t->slots[i], &t->slots[t->n + i]);
}

static const wgc_type stable_type = {.name = "stable", .trace = stable_trace};

typedef struct __attribute__((packed)) pentry {
    char pad;
    void *key, *value;
} pentry;

typedef struct ptable {
    pentry e[2];
} ptable;

static void ptable_trace(void *o, wgc_visitor *v)
{
    ptable *t = o;
    for (size_t i = 0; i < 2; i++)
        wgc_visit_ephemeron(v, (char *)&t->e[i] + offsetof(pentry, key),
                            (char *)&t->e[i] + offsetof(pentry, value));
}

static const wgc_type ptable_type = {.name = "ptable", .trace = ptable_trace};

static void *pget(const void *slot)
{
    void *p;
    memcpy(&p, slot, sizeof p);
    return p;
}

static void pset(void *slot, void *p)
{
    memcpy(slot, &p, sizeof p);
}

/* Several ephemerons of every layout wait on one key: a pair table, a
 * split table, a packed table, two weak maps (one with NULL values for
 * keys 2 and 4) and pairs in static memory, far from the heap (keys 1 and
 * 3), on a small key and on a large one.  The live keys are reached only at the end of a 300-object
 * list hanging from R[0], after every table has been traced, so each
 * ephemeron waits; the dead keys are never reached.  Every waiting value
 * of a live key must be traced, every slot of a dead key cleared [W12]. */
Test(weak, W12_ephemerons_of_every_layout_waiting_on_one_key)
{
    wgc_heap *h = heap_with(false, false);
    /* R[0]: the list's head, rooted first so that it is traced last */
    for (int i = 0; i < 300; i++) {
        obj *o = mk(h, MAX_IDS);
        o->a = R[0];
        R[0] = o;
    }
    R[1] = new_etable(h, 4);
    stable *st = wgc_alloc(h, &stable_type, sizeof(stable) + 8 * sizeof(void *));
    cr_assert_not_null(st);
    st->n = 4;
    R[2] = st;
    R[3] = wgc_alloc(h, &ptable_type, sizeof(ptable));
    cr_assert_not_null(R[3]);
    R[4] = wgc_weakmap_new(h);
    R[9] = wgc_weakmap_new(h);
    R[5] = mk(h, 1);                                   /* live small key */
    R[6] = wgc_alloc(h, &obj_type, 3 * 8192);          /* live large key */
    cr_assert_not_null(R[6]);
    ((obj *)R[6])->id = 2;
    R[7] = mk(h, 3);                                   /* dead small key */
    R[8] = wgc_alloc(h, &obj_type, 3 * 8192);          /* dead large key */
    cr_assert_not_null(R[8]);
    ((obj *)R[8])->id = 4;
    /* values 10.. : keys 1..4 each get one value per table (ids 10*key+t) */
    etable *et = R[1];
    ptable *pt = R[3];
    for (int k = 0; k < 4; k++) {
        void *key = R[5 + k];
        et->e[k].key = key;
        wgc_write_barrier(h, et);
        et->e[k].value = mk(h, 10 * (k + 1) + 0);
        wgc_write_barrier(h, et);
        st->slots[k] = key;
        wgc_write_barrier(h, st);
        st->slots[4 + k] = mk(h, 10 * (k + 1) + 1);
        wgc_write_barrier(h, st);
        if (k % 2 == 0) { /* the packed table holds keys 1 and 3 */
            pset(&pt->e[k / 2].key, key);
            wgc_write_barrier(h, pt);
            pset(&pt->e[k / 2].value, mk(h, 10 * (k + 1) + 2));
            wgc_write_barrier(h, pt);
        }
        obj *mv = mk(h, 10 * (k + 1) + 3);
        cr_assert(wgc_weakmap_set(h, R[4], key, mv));
        mv = k % 2 ? NULL : mk(h, 10 * (k + 1) + 4);
        cr_assert(wgc_weakmap_set(h, R[9], key, mv));
        if (k % 2 == 0) {
            eph_roots[k] = key;
            eph_roots[k + 1] = mk(h, 10 * (k + 1) + 5);
        }
    }
    /* the live keys hang from the list's last object only */
    obj *last = R[0];
    while (last->a)
        last = last->a;
    last->a = R[5];
    last->b = R[6];
    wgc_write_barrier(h, last);
    for (int i = 5; i <= 8; i++)
        R[i] = NULL;
    collect(h);

    for (int k = 0; k < 2; k++) {
        cr_assert_not(died[k + 1], "live key %d collected", k + 1);
        for (int t = 0; t < 6; t++)
            cr_assert_not(died[10 * (k + 1) + t], "value %d of live key %d collected",
                          t, k + 1); /* (key 2 has no values 2, 4, 5: never die) */
        cr_assert_not_null(et->e[k].value);
        cr_assert_not_null(st->slots[4 + k]);
    }
    cr_assert_eq(pget(&pt->e[0].key), last->a);
    cr_assert_eq(((obj *)pget(&pt->e[0].value))->id, 12);
    cr_assert_eq(((obj *)wgc_weakmap_get(h, R[4], last->a))->id, 13);
    cr_assert_eq(((obj *)wgc_weakmap_get(h, R[4], last->b))->id, 23);
    cr_assert_eq(((obj *)wgc_weakmap_get(h, R[9], last->a))->id, 14);
    cr_assert(wgc_weakmap_has(h, R[9], last->b));
    cr_assert_null(wgc_weakmap_get(h, R[9], last->b));
    cr_assert_eq(wgc_weakmap_count(h, R[4]), 2, "dead keys' entries kept");
    cr_assert_eq(wgc_weakmap_count(h, R[9]), 2, "dead keys' entries kept");
    for (int k = 2; k < 4; k++) {
        cr_assert(died[k + 1], "dead key %d kept", k + 1);
        cr_assert(died[10 * (k + 1)] && died[10 * (k + 1) + 1] && died[10 * (k + 1) + 3],
                  "a value of dead key %d kept", k + 1);
        cr_assert(et->e[k].key == NULL && et->e[k].value == NULL);
        cr_assert(st->slots[k] == NULL && st->slots[4 + k] == NULL);
    }
    cr_assert(died[32], "the packed table's value of dead key 3 kept");
    cr_assert(died[34], "the second map's value of dead key 3 kept");
    cr_assert(died[35], "the static pair's value of dead key 3 kept");
    cr_assert(eph_roots[2] == NULL && eph_roots[3] == NULL);
    cr_assert(eph_roots[0] == last->a && ((obj *)eph_roots[1])->id == 15);
    cr_assert(pget(&pt->e[1].key) == NULL && pget(&pt->e[1].value) == NULL);

    /* again, now that every waiting list was emptied: the side arrays
     * were left zero, and the live keys still are */
    collect(h);
    cr_assert_not(died[1] || died[2] || died[11] || died[21] || died[13] || died[23]);
    cr_assert_eq(wgc_weakmap_count(h, R[4]), 2);
    cr_assert_eq(wgc_weakmap_count(h, R[9]), 2);
    /* then the live keys die too */
    last->a = last->b = NULL;
    collect(h);
    cr_assert(died[1] && died[2] && died[10] && died[12] && died[20] && died[23]);
    cr_assert(died[14] && died[15]);
    cr_assert(eph_roots[0] == NULL && eph_roots[1] == NULL);
    cr_assert_eq(wgc_weakmap_count(h, R[4]), 0);
    cr_assert_eq(wgc_weakmap_count(h, R[9]), 0);
    cr_assert(pget(&pt->e[0].key) == NULL);
    wgc_heap_free(h);
}

/* ============================================================= weak map */

Test(weak, W13_weakmap_api)
{
    wgc_heap *h = heap_with(false, false);
    R[0] = wgc_weakmap_new(h);
    wgc_weakmap *m = R[0];
    R[1] = mk(h, 1);
    R[2] = mk(h, 2);
    R[3] = mk(h, 3);
    cr_assert_eq(wgc_weakmap_count(h, m), 0);
    cr_assert_null(wgc_weakmap_get(h, m, R[1]));
    cr_assert_not(wgc_weakmap_has(h, m, R[1]));
    cr_assert(wgc_weakmap_set(h, m, R[1], R[2]));
    cr_assert_eq(wgc_weakmap_get(h, m, R[1]), R[2]);
    cr_assert(wgc_weakmap_set(h, m, R[1], R[3]), "set on an existing key must replace");
    cr_assert_eq(wgc_weakmap_get(h, m, R[1]), R[3]);
    cr_assert_eq(wgc_weakmap_count(h, m), 1);
    /* NULL value: present, get NULL */
    cr_assert(wgc_weakmap_set(h, m, R[2], NULL));
    cr_assert(wgc_weakmap_has(h, m, R[2]));
    cr_assert_null(wgc_weakmap_get(h, m, R[2]));
    cr_assert_eq(wgc_weakmap_count(h, m), 2);
    /* delete: true once */
    cr_assert(wgc_weakmap_delete(h, m, R[1]));
    cr_assert_not(wgc_weakmap_delete(h, m, R[1]));
    cr_assert_not(wgc_weakmap_has(h, m, R[1]));
    cr_assert_null(wgc_weakmap_get(h, m, R[1]));
    cr_assert_eq(wgc_weakmap_count(h, m), 1);
    /* NULL key */
    wgc_clear_error(h);
    cr_assert_not(wgc_weakmap_set(h, m, NULL, R[1]));
    cr_assert_eq(wgc_last_error(h), WGC_EINVAL);
    cr_assert_null(wgc_weakmap_get(h, m, NULL));
    cr_assert_not(wgc_weakmap_has(h, m, NULL));
    cr_assert_not(wgc_weakmap_delete(h, m, NULL));
    /* keys and values must be heap objects */
    int local;
    wgc_clear_error(h);
    cr_assert_not(wgc_weakmap_set(h, m, &local, R[1]));
    cr_assert_eq(wgc_last_error(h), WGC_EINVAL);
    wgc_clear_error(h);
    cr_assert_not(wgc_weakmap_set(h, m, R[1], &local));
    cr_assert_eq(wgc_last_error(h), WGC_EINVAL);
    cr_assert_eq(wgc_weakmap_count(h, m), 1);
    /* NULL map */
    cr_assert_not(wgc_weakmap_set(h, NULL, R[1], R[2]));
    cr_assert_null(wgc_weakmap_get(h, NULL, R[1]));
    cr_assert_not(wgc_weakmap_has(h, NULL, R[1]));
    cr_assert_not(wgc_weakmap_delete(h, NULL, R[1]));
    /* many keys, deleted in part, survive collections */
    enum { N = 3000 };
    for (int i = 0; i < N; i++) {
        obj *k = mk(h, MAX_IDS);
        k->a = R[5];
        R[5] = k;
        cr_assert(wgc_weakmap_set(h, m, k, (i % 3) ? k : NULL));
    }
    int i = 0;
    for (obj *k = R[5]; k; k = k->a, i++)
        if (i % 2)
            cr_assert(wgc_weakmap_delete(h, m, k));
    collect(h);
    cr_assert_eq(wgc_weakmap_count(h, m), 1 + N / 2);
    i = 0;
    for (obj *k = R[5]; k; k = k->a, i++) {
        cr_assert_eq(wgc_weakmap_has(h, m, k), i % 2 == 0);
        int orig = N - 1 - i;
        if (i % 2 == 0)
            cr_assert_eq(wgc_weakmap_get(h, m, k), (orig % 3) ? (void *)k : NULL);
    }
    wgc_heap_free(h);
}

Test(weak, W14_weakmap_dead_entries_removed_even_if_value_refers_to_key)
{
    enum { N = 4000 };
    wgc_heap *h = heap_with(false, false);
    R[0] = wgc_weakmap_new(h);
    wgc_weakmap *m = R[0];
    /* N keys on a strong list; each value refers back to its key */
    for (int i = 0; i < N; i++) {
        obj *k = mk(h, 100 + i);
        k->a = R[1];
        R[1] = k;
        R[2] = mk(h, 100 + N + i);
        ((obj *)R[2])->a = k;
        cr_assert(wgc_weakmap_set(h, m, k, R[2]));
        R[2] = NULL;
    }
    collect(h);
    cr_assert_eq(wgc_weakmap_count(h, m), N);
    for (int i = 0; i < 2 * N; i++)
        cr_assert_not(died[100 + i]);
    /* keep only the 10 newest keys */
    obj *k = R[1];
    for (int i = 0; i < 9; i++)
        k = k->a;
    k->a = NULL;
    collect(h);
    cr_assert_eq(wgc_weakmap_count(h, m), 10, "dead entries still counted");
    for (int i = 0; i < N - 10; i++)
        cr_assert(died[100 + i] && died[100 + N + i], "entry %d (value refers to key) kept", i);
    int n = 0;
    for (obj *x = R[1]; x; x = x->a, n++) {
        obj *v = wgc_weakmap_get(h, m, x);
        cr_assert_not_null(v);
        cr_assert_eq(v->a, x);
    }
    cr_assert_eq(n, 10);
    /* after shrinking, the map still grows and works */
    for (int i = 0; i < 1000; i++) {
        obj *x = mk(h, MAX_IDS);
        x->a = R[1];
        R[1] = x;
        cr_assert(wgc_weakmap_set(h, m, x, x));
    }
    collect(h);
    cr_assert_eq(wgc_weakmap_count(h, m), 1010);
    for (obj *x = R[1]; x; x = x->a)
        cr_assert(wgc_weakmap_has(h, m, x));
    /* a map that dies takes its entries' values with it */
    R[3] = mk(h, 5 * N);
    R[4] = wgc_weakmap_new(h);
    cr_assert(wgc_weakmap_set(h, R[4], R[1], R[3]));
    R[3] = R[4] = NULL;
    collect(h);
    cr_assert(died[5 * N], "a dead map's value survived");
    wgc_heap_free(h);
}

/* ============================================================== extras */

/* Chains of ephemerons across two weak maps: m0 maps k0->k1, m1 k1->k2,
 * m0 k2->k3, ...; only k0 and the maps are rooted. */
Test(weak, ephemeron_chain_across_two_weak_maps)
{
    enum { N = 2000 };
    wgc_heap *h = heap_with(false, false);
    R[0] = wgc_weakmap_new(h);
    R[1] = wgc_weakmap_new(h);
    for (int i = 0; i <= N; i++) {
        obj *k = mk(h, 10 + i);
        k->a = R[2];
        R[2] = k;
    }
    /* R[2] list: k[N] ... k[0] */
    obj **k = malloc((N + 1) * sizeof *k);
    obj *x = R[2];
    for (int i = N; i >= 0; i--, x = x->a)
        k[i] = x;
    /* insert in reverse chain order */
    for (int j = N - 1; j >= 0; j--)
        cr_assert(wgc_weakmap_set(h, R[j % 2], k[j], k[j + 1]));
    for (int i = 0; i <= N; i++)
        k[i]->a = NULL;
    R[3] = k[0];
    R[2] = NULL;
    collect(h);
    for (int i = 0; i <= N; i++)
        cr_assert_not(died[10 + i], "key %d collected", i);
    for (int j = 0; j < N; j++)
        cr_assert_eq(wgc_weakmap_get(h, R[j % 2], k[j]), k[j + 1]);
    cr_assert_eq(wgc_weakmap_count(h, R[0]) + wgc_weakmap_count(h, R[1]), N);
    /* cut the root: everything goes, both maps empty */
    R[3] = NULL;
    collect(h);
    for (int i = 0; i <= N; i++)
        cr_assert(died[10 + i], "key %d kept", i);
    cr_assert_eq(wgc_weakmap_count(h, R[0]), 0);
    cr_assert_eq(wgc_weakmap_count(h, R[1]), 0);
    free(k);
    wgc_heap_free(h);
}

Test(weak, weakref_to_weakmap_key)
{
    wgc_heap *h = heap_with(false, false);
    R[0] = wgc_weakmap_new(h);
    R[1] = mk(h, 1); /* key */
    R[2] = mk(h, 2); /* value */
    cr_assert(wgc_weakmap_set(h, R[0], R[1], R[2]));
    R[3] = wgc_weakref_new(h, R[1], NULL);
    R[4] = wgc_weakref_new(h, R[2], NULL); /* a weak ref to the value */
    R[2] = NULL;
    collect(h);
    cr_assert_eq(wgc_weakref_deref(h, R[3]), R[1]);
    cr_assert_not_null(wgc_weakref_deref(h, R[4]), "value of a live key collected");
    cr_assert_eq(wgc_weakmap_get(h, R[0], R[1]), wgc_weakref_deref(h, R[4]));
    /* the WeakRef alone does not keep the key (or the entry) */
    R[1] = NULL;
    collect(h);
    cr_assert(died[1] && died[2]);
    cr_assert_null(wgc_weakref_deref(h, R[3]));
    cr_assert_null(wgc_weakref_deref(h, R[4]));
    cr_assert_eq(wgc_weakmap_count(h, R[0]), 0);
    wgc_heap_free(h);
}

/* The executor clears the ref it is handed, and another queued ref. */
static int clear_exec_calls;
static int clearing_executor(wgc_heap *h, wgc_weakref *ref, void *holdings, void *user)
{
    (void)user;
    clear_exec_calls++;
    cr_assert(wgc_weakref_clear(h, ref), "clear from inside the executor failed");
    cr_assert_null(wgc_weakref_deref(h, ref));
    if ((uintptr_t)holdings == 1)
        cr_assert(wgc_weakref_clear(h, R[12])); /* queued: must not be delivered */
    cr_assert_neq((uintptr_t)holdings, 3, "a ref cleared by the executor was delivered");
    /* it may allocate and collect */
    cr_assert_not_null(wgc_alloc(h, &obj_type, sizeof(obj)));
    cr_assert(wgc_collect(h));
    return 0;
}

Test(weak, group_ref_cleared_during_its_own_executor_run)
{
    wgc_heap *h = heap_with(false, false);
    R[0] = wgc_group_new(h, clearing_executor, NULL);
    for (int i = 0; i < 3; i++) {
        R[1 + i] = mk(h, 1 + i);
        R[10 + i] = wgc_group_make_ref(R[0], R[1 + i], (void *)(uintptr_t)(i + 1));
        R[1 + i] = NULL;
    }
    collect(h);
    cr_assert_eq(wgc_group_pending(R[0]), 3);
    cr_assert_eq(wgc_group_finalize_some(R[0], SIZE_MAX), 2);
    cr_assert_eq(clear_exec_calls, 2);
    cr_assert_eq(wgc_group_pending(R[0]), 0);
    collect(h);
    cr_assert_eq(wgc_group_finalize_some(R[0], SIZE_MAX), 0);
    cr_assert_eq(wgc_run_cleanup(h, SIZE_MAX), 0);
    wgc_heap_free(h);
}

/* A group that dies with refs queued, the refs themselves still rooted:
 * no executor runs, the refs stay empty, clearing them is harmless. */
Test(weak, group_dies_with_refs_queued)
{
    wgc_heap *h = heap_with(false, false);
    R[0] = wgc_group_new(h, log_executor, NULL);
    for (int i = 0; i < 4; i++) {
        R[1 + i] = mk(h, 1 + i);
        R[10 + i] = wgc_group_make_ref(R[0], R[1 + i], (void *)(uintptr_t)(i + 1));
        R[1 + i] = NULL;
    }
    collect(h);
    cr_assert_eq(wgc_group_pending(R[0]), 4);
    R[20] = wgc_weakref_new(h, R[0], NULL);
    R[0] = NULL; /* the group dies; two of its queued refs stay rooted */
    R[11] = R[13] = NULL;
    collect(h);
    cr_assert_null(wgc_weakref_deref(h, R[20]), "group with queued refs kept alive");
    cr_assert_eq(wgc_cleanup_pending(h), 0);
    cr_assert_eq(wgc_run_cleanup(h, SIZE_MAX), 0);
    cr_assert_eq(exec_n, 0);
    cr_assert_null(wgc_weakref_deref(h, R[10]));
    cr_assert(wgc_weakref_clear(h, R[10]));
    cr_assert(wgc_weakref_clear(h, R[12]));
    cr_assert_null(wgc_weakref_holdings(h, R[12]), "clear keeps a group ref's holdings [W8]");
    collect(h);
    cr_assert(wgc_debug_verify(h));
    wgc_heap_free(h);
}

Test(weak, finalize_some_max_smaller_than_queue)
{
    enum { N = 100 };
    wgc_heap *h = heap_with(false, false);
    R[0] = wgc_group_new(h, log_executor, NULL);
    /* refs kept in a strong list of holders */
    for (int i = 0; i < N; i++) {
        R[2] = mk(h, MAX_IDS);
        obj *holder = mk(h, MAX_IDS);
        holder->a = R[3];
        R[3] = holder;
        holder->b = (obj *)wgc_group_make_ref(R[0], R[2], (void *)(uintptr_t)(1000 + i));
        wgc_write_barrier(h, holder);
        cr_assert_not_null(holder->b);
    }
    R[2] = NULL;
    collect(h);
    cr_assert_eq(wgc_group_pending(R[0]), N);
    size_t total = 0;
    for (int round = 0; total < N; round++) {
        size_t ran = wgc_group_finalize_some(R[0], 7);
        cr_assert_eq(ran, N - total < 7 ? N - total : 7);
        total += ran;
        cr_assert_eq(wgc_group_pending(R[0]), N - total);
        if (round % 3 == 0)
            collect(h);
    }
    cr_assert_eq(exec_n, N);
    for (int i = 0; i < N; i++)
        cr_assert_eq(exec_log[i], (uintptr_t)(1000 + i), "delivery %d out of order", i);
    cr_assert_eq(wgc_group_finalize_some(R[0], 7), 0);
    wgc_heap_free(h);
}
