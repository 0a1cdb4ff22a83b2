/*
 * tests/test_model.c -- model-based randomized tests.
 *
 * Each seed runs a random program against wgc and, in lock step, against a
 * simple reference model of reachability:
 *
 *   (a) weak: objects with strong edges, root slots, WeakRefs (rooted,
 *       with optional holdings) and two weak maps.  An object is alive iff
 *       it is reachable from the roots (root slots, WeakRef holdings,
 *       temporaries the library roots during a call) through strong edges,
 *       plus weak-map values whose keys are alive, to a fixed point.
 *   (b) registries: the same objects, two registry slots (a registry can be
 *       replaced, its old one becomes garbage), register / unregister /
 *       collect / run_cleanup / cleanup_some.  The model predicts exactly
 *       which holdings are delivered, and in what order.
 *
 * The model collects whenever wgc collects: the collection-start event
 * hook runs the model's collection (pure C over the model's arrays; it
 * touches no heap object).  So the programs stay exact under WGC_STRESS=N,
 * where wgc_alloc collects at every N-th allocation.  After every step
 * the test compares: which objects died (their destructors), every WeakRef
 * deref, weak-map lookups and counts, registry queues and the delivery log.
 *
 * Seeds 1..500 per test (50 under valgrind, RUNNING_ON_VALGRIND: each seed
 * is a fresh heap and a few hundred steps, which memcheck slows about 50
 * times).  WGC_SEED=N runs seed N only.  Every failure names its seed.
 */
#include <criterion/criterion.h>

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "wgc.h"

#include "tools.h"

#define SEEDS 500
#define SEEDS_VALGRIND 50

/* ================================================================ shared */

#define MAXN 200  /* objects per program */
#define NR 10     /* root slots */
#define NE 3      /* strong edges per object */

typedef struct node {
    struct node *f[NE];
    uint64_t id;
} node;

static unsigned char died[MAXN];

static void node_trace(void *o, wgc_visitor *v)
{
    wgc_visit_array(v, ((node *)o)->f, NE);
}

static void node_destroy(void *o)
{
    uint64_t id = ((node *)o)->id;
    if (id < MAXN)
        died[id]++;
}

static const wgc_type node_type = {.name = "node", .trace = node_trace, .destroy = node_destroy};

static uint64_t seed;
static uint64_t rng_state;

static uint64_t rnd(void)
{
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 7;
    rng_state ^= rng_state << 17;
    return rng_state;
}

static unsigned below(unsigned n)
{
    return (unsigned)(rnd() % n);
}

#define CHECK(cond, ...)                                                        \
    do {                                                                        \
        if (!(cond)) {                                                          \
            char check_msg_[512];                                               \
            snprintf(check_msg_, sizeof check_msg_, __VA_ARGS__);               \
            cr_assert_fail("seed %llu (replay: WGC_SEED=%llu): %s",             \
                           (unsigned long long)seed, (unsigned long long)seed,  \
                           check_msg_);                                         \
        }                                                                       \
    } while (0)

/* The seeds to run: WGC_SEED=N, or 1..SEEDS (fewer under valgrind). */
static void seed_range(const char *name, uint64_t *first, uint64_t *last)
{
    const char *s = getenv("WGC_SEED");
    if (s && *s) {
        *first = *last = strtoull(s, NULL, 10);
    } else {
        *first = 1;
        *last = RUNNING_ON_VALGRIND ? SEEDS_VALGRIND : SEEDS;
    }
    printf("test_model %s: seeds %llu..%llu (WGC_SEED=N replays one)\n", name,
           (unsigned long long)*first, (unsigned long long)*last);
    fflush(stdout);
}

/* The model's objects, common to (a) and (b). */
static struct {
    node *ptr[MAXN];   /* the real object; NULL once dead in the model */
    int n;             /* objects made so far */
    bool dead[MAXN];
    int edge[MAXN][NE];
    int root[NR];      /* -1: empty */
    int temp[2];       /* objects the library roots during a call */
    bool mark[MAXN];
    int collections;
    /* The generational mode [Y1]: old[i], object i survived a collection;
     * minor, the collection being modelled is a minor one, which keeps
     * every old object (and what they hold) alive, garbage or not. */
    bool old[MAXN];
    bool minor;
} M;

static void *Rr[NR]; /* the real root slots */

static void model_reset(void)
{
    memset(&M, 0, sizeof M);
    memset(died, 0, sizeof died);
    memset(Rr, 0, sizeof Rr);
    for (int i = 0; i < MAXN; i++)
        for (int k = 0; k < NE; k++)
            M.edge[i][k] = -1;
    for (int i = 0; i < NR; i++)
        M.root[i] = -1;
    M.temp[0] = M.temp[1] = -1;
}

/* Marks x and everything strongly reachable from it. */
static void mark_from(int x)
{
    static int stack[MAXN * (NE + 1) + 16];
    int sp = 0;
    if (x < 0 || M.mark[x])
        return;
    M.mark[x] = true;
    stack[sp++] = x;
    while (sp) {
        int y = stack[--sp];
        for (int k = 0; k < NE; k++) {
            int z = M.edge[y][k];
            if (z >= 0 && !M.mark[z]) {
                M.mark[z] = true;
                stack[sp++] = z;
            }
        }
    }
}

/* In a minor collection, the old objects live as if they were roots: the
 * barrier remembered each that was given a young pointer [Y3]. */
static void mark_old_if_minor(void)
{
    if (M.minor)
        for (int i = 0; i < M.n; i++)
            if (M.old[i] && !M.dead[i])
                mark_from(i);
}

/* After a collection every object that survived it is old [Y1]. */
static void age_survivors(void)
{
    for (int i = 0; i < M.n; i++)
        M.old[i] = !M.dead[i];
    M.minor = false;
}

/* Whether `e` starts a collection; sets M.minor to its kind. */
static bool collection_starts(wgc_event e)
{
    M.minor = e == WGC_EVENT_MINOR_START;
    return e == WGC_EVENT_COLLECT_START || e == WGC_EVENT_MINOR_START;
}

/* A random object alive (reachable) in the model now, or -1. */
static int pick_live(void)
{
    int live[MAXN], n = 0;
    for (int i = 0; i < M.n; i++)
        if (M.mark[i])
            live[n++] = i;
    return n ? live[below((unsigned)n)] : -1;
}

static wgc_heap *heap;

static node *mk(int *id_out)
{
    node *o = wgc_alloc(heap, &node_type, sizeof *o);
    CHECK(o != NULL, "wgc_alloc failed");
    int id = M.n++;
    o->id = (uint64_t)id;
    M.ptr[id] = o;
    *id_out = id;
    return o;
}

static void dump_object(int x);
static void check_deaths(void)
{
    for (int i = 0; i < M.n; i++)
        if (died[i] != (M.dead[i] ? 1 : 0))
            dump_object(i);
    for (int i = 0; i < M.n; i++)
        CHECK(died[i] == (M.dead[i] ? 1 : 0),
              "object %d: model says %s, wgc %s (destructor ran %d times) after %d collections",
              i, M.dead[i] ? "dead" : "alive", died[i] ? "collected it" : "kept it",
              died[i], M.collections);
}

/* Applies a model step shared by both tests; returns false if `op` is not
 * one of them.  mark[] must be current (callers recompute it). */
static bool common_step(unsigned op)
{
    switch (op) {
    case 0: { /* allocate into a root slot */
        if (M.n >= MAXN)
            return true;
        int r = (int)below(NR), id;
        node *o = mk(&id);
        M.root[r] = id;
        Rr[r] = o;
        return true;
    }
    case 1: { /* a root slot takes a live object, or is emptied */
        int r = (int)below(NR);
        int x = below(4) ? pick_live() : -1;
        M.root[r] = x;
        Rr[r] = x >= 0 ? M.ptr[x] : NULL;
        return true;
    }
    case 2: { /* set or clear an edge of a live object */
        int a = pick_live();
        if (a < 0)
            return true;
        int k = (int)below(NE);
        int b = below(5) ? pick_live() : -1;
        M.edge[a][k] = b;
        M.ptr[a]->f[k] = b >= 0 ? M.ptr[b] : NULL;
        wgc_write_barrier(heap, M.ptr[a]);
        return true;
    }
    default:
        return false;
    }
}

/* ====================================================== (a) the weak model */

#define NW 12 /* WeakRef slots */
#define NM 2  /* weak maps */

static struct {
    bool exists[NW];
    int target[NW];    /* -1: empty */
    int holdings[NW];  /* -1: none */
    bool has[NM][MAXN];
    int value[NM][MAXN]; /* -1: NULL */
} A;

static void *Wr[NW], *Mr[NM];

static void trace_a(wgc_visitor *v, void *user)
{
    (void)user;
    wgc_visit_array(v, Rr, NR);
    wgc_visit_array(v, Wr, NW);
    wgc_visit_array(v, Mr, NM);
}

static void mark_a(void)
{
    memset(M.mark, 0, sizeof M.mark);
    for (int i = 0; i < NR; i++)
        mark_from(M.root[i]);
    mark_from(M.temp[0]);
    mark_from(M.temp[1]);
    mark_old_if_minor();
    for (int w = 0; w < NW; w++)
        if (A.exists[w])
            mark_from(A.holdings[w]);
    /* ephemerons, to a fixed point (the model may be slow: it is simple) */
    for (bool changed = true; changed;) {
        changed = false;
        for (int m = 0; m < NM; m++)
            for (int k = 0; k < M.n; k++)
                if (A.has[m][k] && M.mark[k] && A.value[m][k] >= 0 &&
                    !M.mark[A.value[m][k]]) {
                    mark_from(A.value[m][k]);
                    changed = true;
                }
    }
}

static void event_a(wgc_heap *h, wgc_event e, void *user)
{
    (void)h, (void)user;
    if (!collection_starts(e))
        return;
    M.collections++;
    mark_a();
    for (int i = 0; i < M.n; i++)
        if (!M.dead[i] && !M.mark[i]) {
            M.dead[i] = true;
            M.ptr[i] = NULL;
        }
    for (int w = 0; w < NW; w++)
        if (A.exists[w] && A.target[w] >= 0 && M.dead[A.target[w]])
            A.target[w] = -1;
    for (int m = 0; m < NM; m++)
        for (int k = 0; k < M.n; k++)
            if (A.has[m][k] && M.dead[k])
                A.has[m][k] = false;
    age_survivors();
}

static void check_a(void)
{
    check_deaths();
    for (int w = 0; w < NW; w++) {
        if (!A.exists[w])
            continue;
        void *want = A.target[w] >= 0 ? M.ptr[A.target[w]] : NULL;
        void *got = wgc_weakref_deref(heap, Wr[w]);
        CHECK(got == want, "WeakRef %d: deref %p, model says object %d (%p)", w, got,
              A.target[w], want);
        void *wh = A.holdings[w] >= 0 ? M.ptr[A.holdings[w]] : NULL;
        CHECK(wgc_weakref_holdings(heap, Wr[w]) == wh, "WeakRef %d: holdings", w);
    }
    for (int m = 0; m < NM; m++) {
        size_t count = 0;
        for (int k = 0; k < M.n; k++) {
            count += A.has[m][k];
            if (M.dead[k])
                continue;
            CHECK(wgc_weakmap_has(heap, Mr[m], M.ptr[k]) == A.has[m][k],
                  "map %d key %d: has", m, k);
            void *want = A.has[m][k] && A.value[m][k] >= 0 ? M.ptr[A.value[m][k]] : NULL;
            CHECK(wgc_weakmap_get(heap, Mr[m], M.ptr[k]) == want, "map %d key %d: get", m, k);
        }
        CHECK(wgc_weakmap_count(heap, Mr[m]) == count, "map %d: count %zu, model %zu", m,
              wgc_weakmap_count(heap, Mr[m]), count);
    }
}

static long steps_run, deaths_seen, collections_seen;

static void run_a(void)
{
    model_reset();
    memset(&A, 0, sizeof A);
    memset(Wr, 0, sizeof Wr);
    memset(Mr, 0, sizeof Mr);
    rng_state = seed * 0x9e3779b97f4a7c15ull + 1;
    wgc_config cfg;
    wgc_config_init(&cfg);
    cfg.auto_collect = false;
    cfg.trace_roots = trace_a;
    cfg.on_event = event_a;
    heap = wgc_heap_new(&cfg);
    CHECK(heap != NULL, "wgc_heap_new");
    for (int m = 0; m < NM; m++) {
        Mr[m] = wgc_weakmap_new(heap);
        CHECK(Mr[m] != NULL, "wgc_weakmap_new");
    }
    int steps = 150 + (int)below(250);
    for (int step = 0; step < steps; step++) {
        mark_a();
        unsigned op = below(18);
        if (op >= 14)
            op = 0; /* allocate more often: bigger graphs */
        if (common_step(op))
            goto checked;
        switch (op) {
        case 3:
        case 4: { /* a new WeakRef in slot w, with optional holdings */
            int t = pick_live();
            if (t < 0)
                break;
            int hd = below(3) ? -1 : pick_live();
            if (hd == t)
                hd = -1;
            int w = (int)below(NW);
            M.temp[0] = t; /* rooted by wgc_weakref_new while it allocates */
            M.temp[1] = hd;
            wgc_weakref *ref = wgc_weakref_new(heap, M.ptr[t], hd >= 0 ? M.ptr[hd] : NULL);
            M.temp[0] = M.temp[1] = -1;
            CHECK(ref != NULL, "wgc_weakref_new failed");
            Wr[w] = ref;
            A.exists[w] = true;
            A.target[w] = t;
            A.holdings[w] = hd;
            break;
        }
        case 5: { /* deref into a root slot (legal until a collection) */
            int w = (int)below(NW);
            if (!A.exists[w])
                break;
            void *p = wgc_weakref_deref(heap, Wr[w]);
            int t = A.target[w];
            CHECK(p == (t >= 0 ? (void *)M.ptr[t] : NULL), "deref of WeakRef %d", w);
            if (p) {
                int r = (int)below(NR);
                M.root[r] = t;
                Rr[r] = p;
            }
            break;
        }
        case 6:
        case 7: { /* map set */
            int m = (int)below(NM), k = pick_live();
            if (k < 0)
                break;
            int v = below(4) ? pick_live() : -1;
            CHECK(wgc_weakmap_set(heap, Mr[m], M.ptr[k], v >= 0 ? M.ptr[v] : NULL),
                  "wgc_weakmap_set");
            A.has[m][k] = true;
            A.value[m][k] = v;
            break;
        }
        case 8: { /* map delete */
            int m = (int)below(NM), k = pick_live();
            if (k < 0)
                break;
            CHECK(wgc_weakmap_delete(heap, Mr[m], M.ptr[k]) == A.has[m][k], "delete");
            A.has[m][k] = false;
            break;
        }
        case 9: { /* map get into a root slot */
            int m = (int)below(NM), k = pick_live();
            if (k < 0)
                break;
            void *p = wgc_weakmap_get(heap, Mr[m], M.ptr[k]);
            int v = A.has[m][k] ? A.value[m][k] : -1;
            CHECK(p == (v >= 0 ? (void *)M.ptr[v] : NULL), "get of map %d key %d", m, k);
            if (p) {
                int r = (int)below(NR);
                M.root[r] = v;
                Rr[r] = p;
            }
            break;
        }
        case 10: { /* clear a WeakRef */
            int w = (int)below(NW);
            if (A.exists[w]) {
                CHECK(wgc_weakref_clear(heap, Wr[w]), "clear");
                A.target[w] = -1;
            }
            break;
        }
        case 11: { /* drop a WeakRef (with its holdings) */
            int w = (int)below(NW);
            Wr[w] = NULL;
            A.exists[w] = false;
            break;
        }
        default: /* 12, 13: collect */
            CHECK(wgc_collect(heap), "wgc_collect");
            break;
        }
    checked:
        steps_run++;
        check_a();
    }
    /* the end: drop every root, everything but the maps dies */
    memset(M.root, -1, sizeof M.root);
    memset(Rr, 0, sizeof Rr);
    for (int w = 0; w < NW; w++) {
        A.exists[w] = false;
        Wr[w] = NULL;
    }
    CHECK(wgc_collect(heap), "wgc_collect");
    check_a();
    for (int i = 0; i < M.n; i++)
        CHECK(M.dead[i], "object %d alive at the end", i);
    CHECK(wgc_debug_verify(heap), "wgc_debug_verify");
    collections_seen += M.collections;
    deaths_seen += M.n;
    wgc_heap_free(heap);
    heap = NULL;
}

Test(model, weak_refs_and_weak_maps_match_reachability_model, .timeout = 300)
{
    uint64_t first, last;
    seed_range("weak", &first, &last);
    for (seed = first; seed <= last; seed++)
        run_a();
    printf("test_model weak: %ld steps, %ld collections, %ld objects: all matched the model\n",
           steps_run, collections_seen, deaths_seen);
}

/* ================================================ (b) the registry model */

#define NRG 2      /* registry slots */
#define MAXREG 64  /* registries per program */
#define MAXC 600   /* cells per program */
#define LOGN 1200

enum { C_LIVE, C_QUEUED, C_GONE };

static struct {
    int slot_reg[NRG];      /* the registry in each slot */
    bool reg_rooted[MAXREG];
    bool reg_dead[MAXREG];
    bool reg_old[MAXREG]; /* survived a collection: a minor keeps it */
    int nreg;
    struct {
        int reg, target, hold_node, token, state, epoch;
        uintptr_t hold_int;
    } c[MAXC];
    int nc;
    uint64_t want[LOGN], got[LOGN];
    int nwant, ngot;
} B;

static void *Gr[NRG]; /* the real registries in their slots */
static bool trace_ops; /* WGC_MODEL_TRACE=1: print each step (for replays) */

static void trace_b(wgc_visitor *v, void *user)
{
    (void)user;
    wgc_visit_array(v, Rr, NR);
    wgc_visit_array(v, Gr, NRG);
}

/* Whether registry r lives through the collection being modelled: rooted,
 * or old in a minor collection (which keeps old garbage). */
static bool reg_lives(int r)
{
    return B.reg_rooted[r] || (M.minor && B.reg_old[r] && !B.reg_dead[r]);
}

static void mark_b(void)
{
    memset(M.mark, 0, sizeof M.mark);
    for (int i = 0; i < NR; i++)
        mark_from(M.root[i]);
    mark_from(M.temp[0]);
    mark_from(M.temp[1]);
    mark_old_if_minor();
    for (int i = 0; i < B.nc; i++)
        if (B.c[i].state != C_GONE && reg_lives(B.c[i].reg))
            mark_from(B.c[i].hold_node);
}

static void event_b(wgc_heap *h, wgc_event e, void *user)
{
    (void)h, (void)user;
    if (!collection_starts(e))
        return;
    M.collections++;
    mark_b();
    for (int i = 0; i < M.n; i++)
        if (!M.dead[i] && !M.mark[i]) {
            M.dead[i] = true;
            M.ptr[i] = NULL;
        }
    for (int r = 0; r < B.nreg; r++)
        if (!reg_lives(r))
            B.reg_dead[r] = true;
    /* cells in registration order (their index order) */
    for (int i = 0; i < B.nc; i++) {
        if (B.c[i].state == C_GONE)
            continue;
        if (B.reg_dead[B.c[i].reg]) {
            B.c[i].state = C_GONE; /* a dead registry takes its cells */
            continue;
        }
        if (B.c[i].token >= 0 && M.dead[B.c[i].token])
            B.c[i].token = -1;
        if (B.c[i].state == C_LIVE && M.dead[B.c[i].target]) {
            B.c[i].state = C_QUEUED;
            B.c[i].epoch = M.collections;
        }
    }
    for (int r = 0; r < B.nreg; r++)
        B.reg_old[r] = !B.reg_dead[r];
    age_survivors();
}

static uint64_t log_code(int reg, uintptr_t holdings_code)
{
    return ((uint64_t)reg << 32) | holdings_code;
}

static int reg_cb(wgc_heap *h, void *holdings, void *user)
{
    uintptr_t code = wgc_is_object(h, holdings) ? (uintptr_t)((node *)holdings)->id
                                                : (uintptr_t)holdings;
    CHECK(B.ngot < LOGN, "log full");
    B.got[B.ngot++] = log_code((int)(uintptr_t)user, code);
    return 0;
}

/* The model's delivery: the queued cell of registry `only` (or of any
 * registry, -1) with the smallest (epoch, registration order). */
static int model_next(int only)
{
    int best = -1;
    for (int i = 0; i < B.nc; i++) {
        if (B.c[i].state != C_QUEUED || B.reg_dead[B.c[i].reg])
            continue;
        if (only >= 0 && B.c[i].reg != only)
            continue;
        if (best < 0 || B.c[i].epoch < B.c[best].epoch)
            best = i;
    }
    return best;
}

static size_t model_deliver(int only, size_t max)
{
    size_t ran = 0;
    int i;
    while (ran < max && (i = model_next(only)) >= 0) {
        B.c[i].state = C_GONE;
        uintptr_t code = B.c[i].hold_node >= 0 ? (uintptr_t)B.c[i].hold_node
                                                : B.c[i].hold_int;
        CHECK(B.nwant < LOGN, "log full");
        B.want[B.nwant++] = log_code(B.c[i].reg, code);
        ran++;
    }
    return ran;
}

static void check_b(void)
{
    check_deaths();
    CHECK(B.ngot == B.nwant, "%d callbacks ran, the model expects %d", B.ngot, B.nwant);
    for (int i = 0; i < B.ngot; i++)
        CHECK(B.got[i] == B.want[i],
              "delivery %d: registry %llu holdings %llu; model: registry %llu holdings %llu",
              i, (unsigned long long)(B.got[i] >> 32),
              (unsigned long long)(B.got[i] & 0xffffffffu),
              (unsigned long long)(B.want[i] >> 32),
              (unsigned long long)(B.want[i] & 0xffffffffu));
    for (int s = 0; s < NRG; s++) {
        size_t q = 0;
        for (int i = 0; i < B.nc; i++)
            q += B.c[i].state == C_QUEUED && B.c[i].reg == B.slot_reg[s];
        CHECK(wgc_registry_pending(Gr[s]) == q, "registry slot %d: %zu pending, model %zu", s,
              wgc_registry_pending(Gr[s]), q);
    }
}

static void dump_object(int x)
{
    if (!getenv("WGC_MODEL_TRACE"))
        return;
    printf("object %d: dead %d died %d\n", x, M.dead[x], died[x]);
    for (int i = 0; i < M.n; i++)
        for (int k = 0; k < NE; k++)
            if (M.edge[i][k] == x)
                printf("  edge from %d (dead %d)\n", i, M.dead[i]);
    for (int i = 0; i < B.nc; i++)
        if (B.c[i].target == x || B.c[i].hold_node == x || B.c[i].token == x)
            printf("  cell %d reg %d (rooted %d dead %d): target %d hold %d token %d state %d epoch %d\n",
                   i, B.c[i].reg, B.reg_rooted[B.c[i].reg], B.reg_dead[B.c[i].reg], B.c[i].target,
                   B.c[i].hold_node, B.c[i].token, B.c[i].state, B.c[i].epoch);
}

static void new_registry(int s)
{
    int r = B.nreg;
    /* the old registry stays rooted (in its slot) while the new one is
     * allocated; the new one exists for the model only once made */
    wgc_registry *reg = wgc_registry_new(heap, reg_cb, (void *)(uintptr_t)r);
    CHECK(reg != NULL, "wgc_registry_new");
    B.nreg++;
    if (Gr[s])
        B.reg_rooted[B.slot_reg[s]] = false;
    Gr[s] = reg;
    B.slot_reg[s] = r;
    B.reg_rooted[r] = true;
}

static void run_b(void)
{
    model_reset();
    memset(&B, 0, sizeof B);
    memset(Gr, 0, sizeof Gr);
    rng_state = seed * 0xd1b54a32d192ed03ull + 7;
    trace_ops = getenv("WGC_MODEL_TRACE") != NULL;
    wgc_config cfg;
    wgc_config_init(&cfg);
    cfg.auto_collect = false;
    cfg.trace_roots = trace_b;
    cfg.on_event = event_b;
    heap = wgc_heap_new(&cfg);
    CHECK(heap != NULL, "wgc_heap_new");
    for (int s = 0; s < NRG; s++)
        new_registry(s);
    int steps = 150 + (int)below(250);
    for (int step = 0; step < steps; step++) {
        mark_b();
        unsigned op = below(16);
        if (op >= 13)
            op = 0;
        if (trace_ops)
            printf("step %d: op %u (objects %d, cells %d, collections %d)\n", step, op,
                   M.n, B.nc, M.collections);
        if (common_step(op))
            goto checked;
        switch (op) {
        case 3:
        case 4:
        case 5: { /* register */
            int t = pick_live();
            if (t < 0 || B.nc >= MAXC)
                break;
            int s = (int)below(NRG);
            int hn = below(2) ? pick_live() : -1;
            if (hn == t)
                hn = -1;
            uintptr_t hi = 1000 + (uintptr_t)B.nc;
            int token;
            switch (below(4)) {
            case 0: token = -1; break;
            case 1: token = t; break;
            case 2: token = hn; break;
            default: token = pick_live(); break;
            }
            CHECK(wgc_registry_register(Gr[s], M.ptr[t],
                                        hn >= 0 ? (void *)M.ptr[hn] : (void *)hi,
                                        token >= 0 ? M.ptr[token] : NULL),
                  "wgc_registry_register");
            int i = B.nc++;
            B.c[i].reg = B.slot_reg[s];
            B.c[i].target = t;
            B.c[i].hold_node = hn;
            B.c[i].hold_int = hi;
            B.c[i].token = token;
            B.c[i].state = C_LIVE;
            break;
        }
        case 6: { /* unregister by a live object */
            int s = (int)below(NRG), tok = pick_live();
            if (tok < 0)
                break;
            bool want = false;
            for (int i = 0; i < B.nc; i++)
                if (B.c[i].reg == B.slot_reg[s] && B.c[i].token == tok &&
                    B.c[i].state != C_GONE) {
                    B.c[i].state = C_GONE;
                    want = true;
                }
            CHECK(wgc_registry_unregister(Gr[s], M.ptr[tok]) == want,
                  "unregister(slot %d, object %d): model says %d", s, tok, want);
            break;
        }
        case 7:
        case 8: { /* the heap's safe point */
            size_t max = below(3) ? below(6) : SIZE_MAX;
            size_t want = model_deliver(-1, max);
            size_t got = wgc_run_cleanup(heap, max);
            CHECK(got == want, "wgc_run_cleanup(%zu) ran %zu, model %zu", max, got, want);
            break;
        }
        case 9: { /* one registry's queue */
            int s = (int)below(NRG);
            size_t max = below(5);
            size_t want = model_deliver(B.slot_reg[s], max);
            size_t got = wgc_registry_cleanup_some(Gr[s], max);
            CHECK(got == want, "cleanup_some(%zu) ran %zu, model %zu", max, got, want);
            break;
        }
        case 10: /* replace a registry: the old one becomes garbage */
            if (!below(4))
                new_registry((int)below(NRG));
            break;
        default: /* 11, 12: collect */
            CHECK(wgc_collect(heap), "wgc_collect");
            break;
        }
    checked:
        check_b();
    }
    /* the end: drop every root; collect and drain to the fixed point */
    memset(M.root, -1, sizeof M.root);
    memset(Rr, 0, sizeof Rr);
    for (int round = 0;; round++) {
        CHECK(round < MAXC, "no fixed point");
        CHECK(wgc_collect(heap), "wgc_collect");
        size_t want = model_deliver(-1, SIZE_MAX);
        size_t got = wgc_run_cleanup(heap, SIZE_MAX);
        CHECK(got == want, "final drain %d: ran %zu, model %zu", round, got, want);
        check_b();
        if (!want)
            break;
    }
    CHECK(wgc_collect_and_cleanup(heap) == 0, "collect_and_cleanup after the fixed point");
    check_b();
    /* live cells whose holdings hold each other's targets keep them alive
     * (holdings are strong); replacing the registries frees them all */
    for (int s = 0; s < NRG; s++)
        new_registry(s);
    CHECK(wgc_collect(heap), "wgc_collect");
    check_b();
    for (int i = 0; i < M.n; i++)
        CHECK(M.dead[i], "object %d alive at the end", i);
    CHECK(wgc_debug_verify(heap), "wgc_debug_verify");
    wgc_heap_free(heap);
    heap = NULL;
}

Test(model, registries_deliver_exactly_what_the_model_predicts, .timeout = 300)
{
    uint64_t first, last;
    seed_range("registry", &first, &last);
    for (seed = first; seed <= last; seed++)
        run_b();
}
