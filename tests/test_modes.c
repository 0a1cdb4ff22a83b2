/*
 * tests/test_modes.c -- semantics do not depend on the collector mode
 * (docs/generational.md, Y4): the same seeded program, collecting at the
 * same points, observes the same weak and cleanup outcomes in the full
 * mode, in the generational mode with minor collections, and with major
 * ones.
 *
 * A minor collection frees only young garbage; a full one frees old
 * garbage too.  So that both may be asked for at every point, the programs
 * make no old garbage: an object that lives through a collection lives to
 * the end.  At each collection point the temporaries still held (by the
 * scratch table, by a keep-during-job deref) are promoted into the
 * permanent table first; the rest, young, die.  Within that rule the
 * program does everything the weak layer offers: weak fields of old
 * objects pointing to young ones, weak-map entries with young keys or
 * values in an old map, registrations and group refs of young targets,
 * unregister tokens, keep-during-job, deliveries at random points.
 *
 * Seeds 1..150 (WGC_SEEDS=N for 1..N, WGC_SEED=S replays S); every failure
 * names its seed.
 */
#include "common.h"

typedef struct obj {
    uint64_t id;
    struct obj *a, *b; /* strong: set once, from NULL, on permanent objects */
    void *w;           /* weak */
} obj;

static void obj_trace(void *o, wgc_visitor *v)
{
    obj *x = o;
    wgc_visit(v, &x->a);
    wgc_visit(v, &x->b);
    wgc_visit_weak(v, &x->w);
}

static const wgc_type obj_type = {.name = "obj", .trace = obj_trace};

#define PERM 4096
#define SCRATCH 64

typedef struct table {
    size_t count;
    void *slot[PERM];
} table;

static void table_trace(void *t, wgc_visitor *v)
{
    wgc_visit_array(v, ((table *)t)->slot, PERM);
}

static const wgc_type table_type = {.name = "table", .trace = table_trace};

typedef enum { FULL, GEN_MINOR, GEN_MAJOR, GEN_MIXED } mode;

typedef struct prog {
    uint64_t rng, hash, next_id, young_from; /* ids >= young_from: young */
    wgc_heap *heap;
    mode mode;
    void *kept[256];  /* deref results since the last collection */
    size_t kept_count;
} prog;

static void mix(prog *p, uint64_t v)
{
    for (int i = 0; i < 8; i++) {
        p->hash ^= (v >> (8 * i)) & 0xff;
        p->hash *= 0x100000001b3ull;
    }
}

static uint64_t rnd(prog *p, uint64_t n)
{
    p->rng = p->rng * 6364136223846793005ull + 1442695040888963407ull;
    return (p->rng >> 33) % n;
}

/* What the program may observe of an object: an obj's id; of any other
 * object only its type (never an address: layouts differ between modes). */
static uint64_t id_of(const void *o)
{
    if (!o)
        return 0;
    const wgc_type *t = wgc_type_of(o);
    return t == &obj_type ? ((const obj *)o)->id : t == &table_type ? 1 : 2;
}

static int on_cleanup(wgc_heap *heap, void *holdings, void *user)
{
    (void)heap;
    prog *p = user;
    mix(p, 0x5e9);
    mix(p, (uint64_t)(uintptr_t)holdings);
    return 0;
}

static int on_group(wgc_heap *heap, wgc_weakref *ref, void *holdings, void *user)
{
    prog *p = user;
    mix(p, 0x9e0);
    mix(p, (uint64_t)(uintptr_t)holdings);
    mix(p, wgc_weakref_deref(heap, ref) != NULL);
    return 0;
}

static obj *new_obj(prog *p)
{
    obj *o = wgc_alloc(p->heap, &obj_type, sizeof(obj) + 16 * rnd(p, 4));
    cr_assert_not_null(o);
    o->id = ++p->next_id;
    return o;
}

static void keep(prog *p, void *o)
{
    if (o && p->kept_count < 256)
        p->kept[p->kept_count++] = o;
}

/* A temporary, or a permanent object, or NULL. */
static void *any(prog *p, table *perm, table *scratch)
{
    if (rnd(p, 2) && perm->count)
        return perm->slot[rnd(p, perm->count)];
    return scratch->slot[rnd(p, SCRATCH)];
}

static void promote(prog *p, table *perm, void *o)
{
    cr_assert_lt(perm->count, (size_t)PERM, "seed's program outgrew the table");
    perm->slot[perm->count++] = o;
    wgc_write_barrier(p->heap, perm);
}

/* [Y4] Promotes what is still held, then collects as the mode says. */
static void collect_at_point(prog *p, table *perm, table *scratch)
{
    for (size_t i = 0; i < SCRATCH; i++)
        if (scratch->slot[i])
            promote(p, perm, scratch->slot[i]);
    memset(scratch->slot, 0, sizeof scratch->slot);
    for (size_t i = 0; i < p->kept_count; i++)
        promote(p, perm, p->kept[i]);
    p->kept_count = 0;
    uint64_t draw = rnd(p, 3); /* drawn in every mode: one program for all */
    bool minor = p->mode == GEN_MINOR || (p->mode == GEN_MIXED && draw);
    cr_assert(minor ? wgc_collect_minor(p->heap) : wgc_collect(p->heap));
    p->young_from = p->next_id + 1;
}

static uint64_t run_program(uint64_t seed, mode m)
{
    prog p = {.rng = seed, .hash = 0xcbf29ce484222325ull, .mode = m};
    wgc_config cfg;
    wgc_config_init(&cfg);
    cfg.collector = m == FULL ? WGC_COLLECTOR_FULL : WGC_COLLECTOR_GENERATIONAL;
    cfg.auto_collect = false;
    cfg.stress_interval = 0;
    cfg.keep_during_job = true;
    wgc_heap *h = p.heap = wgc_heap_new(&cfg);
    cr_assert_not_null(h);
    table *perm = wgc_alloc(h, &table_type, sizeof *perm);
    wgc_root *proot = wgc_root_new(h, perm);
    table *scratch = wgc_alloc(h, &table_type, sizeof *scratch);
    wgc_root *sroot = wgc_root_new(h, scratch);
    wgc_weakmap *map = wgc_weakmap_new(h);
    wgc_root *mroot = wgc_root_new(h, map);
    wgc_registry *reg = wgc_registry_new(h, on_cleanup, &p);
    wgc_root *rroot = wgc_root_new(h, reg);
    wgc_group *group = wgc_group_new(h, on_group, &p);
    wgc_root *groot = wgc_root_new(h, group);
    cr_assert(perm && scratch && map && reg && group);
    collect_at_point(&p, perm, scratch); /* everything above is old */

    for (int step = 0; step < 6000; step++) {
        uint64_t op = rnd(&p, 100);
        if (op < 30) { /* a temporary, linked to anything */
            obj *o = new_obj(&p);
            o->a = any(&p, perm, scratch);
            o->w = any(&p, perm, scratch);
            if (rnd(&p, 2))
                WGC_STORE(h, scratch, slot[rnd(&p, SCRATCH)], o);
        } else if (op < 38) { /* a permanent object's field */
            obj *holder = perm->count ? perm->slot[rnd(&p, perm->count)] : NULL;
            void *target = any(&p, perm, scratch);
            if (holder && wgc_type_of(holder) == &obj_type && target) {
                if (rnd(&p, 3) == 0 && !holder->b)
                    WGC_STORE(h, holder, b, target); /* target lives on */
                else
                    WGC_STORE(h, holder, w, target);
            }
        } else if (op < 45) { /* observe weak fields */
            for (int i = 0; i < 4 && perm->count; i++) {
                obj *o = perm->slot[rnd(&p, perm->count)];
                if (wgc_type_of(o) == &obj_type)
                    mix(&p, id_of(o->w));
            }
        } else if (op < 52) { /* a WeakRef */
            void *target = any(&p, perm, scratch);
            if (target && wgc_type_of(target) == &obj_type) {
                wgc_weakref *r = wgc_weakref_new(h, target, NULL);
                keep(&p, target); /* keep-during-job keeps it */
                WGC_STORE(h, scratch, slot[rnd(&p, SCRATCH)], r);
            }
        } else if (op < 60) { /* deref a WeakRef: keeps its target */
            void *r = any(&p, perm, scratch);
            if (r && wgc_type_of(r) != &obj_type && wgc_type_of(r) != &table_type) {
                void *t = wgc_weakref_deref(h, r);
                mix(&p, id_of(t));
                keep(&p, t);
            }
        } else if (op < 70) { /* weak map */
            obj *key = any(&p, perm, scratch);
            if (key && wgc_type_of(key) == &obj_type) {
                bool young_key = key->id >= p.young_from;
                uint64_t what = rnd(&p, 4);
                if (what == 0 && (young_key || !wgc_weakmap_has(h, map, key))) {
                    obj *value = rnd(&p, 2) ? new_obj(&p) : any(&p, perm, scratch);
                    cr_assert(wgc_weakmap_set(h, map, key, value));
                } else if (what == 1 && young_key) {
                    mix(&p, wgc_weakmap_delete(h, map, key));
                } else {
                    void *v = wgc_weakmap_get(h, map, key);
                    mix(&p, id_of(v));
                    keep(&p, v);
                }
            }
            mix(&p, wgc_weakmap_count(h, map));
        } else if (op < 78) { /* registry: holdings tags, token the target */
            obj *target = any(&p, perm, scratch);
            if (target && wgc_type_of(target) == &obj_type) {
                if (rnd(&p, 6) == 0)
                    mix(&p, wgc_registry_unregister(reg, target));
                else
                    wgc_registry_register(reg, target, (void *)(uintptr_t)(target->id << 1 | 1),
                                          rnd(&p, 2) ? target : NULL);
            }
        } else if (op < 85) { /* group refs */
            obj *target = any(&p, perm, scratch);
            if (target && wgc_type_of(target) == &obj_type) {
                wgc_weakref *r = wgc_group_make_ref(group, target,
                                                    (void *)(uintptr_t)(target->id << 1 | 1));
                keep(&p, target);
                if (rnd(&p, 2))
                    WGC_STORE(h, scratch, slot[rnd(&p, SCRATCH)], r);
            }
        } else if (op < 90) { /* drop temporaries */
            scratch->slot[rnd(&p, SCRATCH)] = NULL;
        } else if (op < 95) {
            wgc_end_job(h);
            mix(&p, wgc_run_cleanup(h, 1 + rnd(&p, 10)));
        } else if (op < 97) {
            collect_at_point(&p, perm, scratch);
        }
    }
    collect_at_point(&p, perm, scratch);
    wgc_end_job(h);
    mix(&p, wgc_run_cleanup(h, SIZE_MAX));

    wgc_heap_stats s;
    wgc_stats(h, &s);
    /* Not ephemerons_resolved: a minor does not trace an old map whose
     * entries are all old, so it resolves fewer.  live_bytes agrees: there
     * is no old garbage. */
    const uint64_t fields[] = {
        s.collections, s.live_bytes, s.weak_slots_cleared, s.group_refs_queued,
        s.group_refs_run, s.cells_registered, s.cells_queued, s.cells_delivered,
        s.cells_unregistered,
    };
    for (size_t i = 0; i < sizeof fields / sizeof fields[0]; i++)
        mix(&p, fields[i]);
    wgc_root_free(groot);
    wgc_root_free(rroot);
    wgc_root_free(mroot);
    wgc_root_free(sroot);
    wgc_root_free(proot);
    wgc_heap_free(h);
    return p.hash;
}

Test(modes, Y4_same_outcomes_in_every_mode, .timeout = 600)
{
    unsetenv("WGC_STRESS");
    uint64_t first = 1, last = 150;
    const char *env = getenv("WGC_SEED");
    if (env && *env)
        first = last = strtoull(env, NULL, 10);
    else if ((env = getenv("WGC_SEEDS")) && *env)
        last = strtoull(env, NULL, 10);
    else if (RUNNING_ON_VALGRIND)
        last = 15;
    printf("modes: seeds %llu..%llu\n", (unsigned long long)first, (unsigned long long)last);
    for (uint64_t seed = first; seed <= last; seed++) {
        uint64_t full = run_program(seed, FULL);
        uint64_t minor = run_program(seed, GEN_MINOR);
        uint64_t major = run_program(seed, GEN_MAJOR);
        uint64_t mixed = run_program(seed, GEN_MIXED);
        cr_assert_eq(minor, full, "seed %llu: minor collections observe other outcomes "
                     "than full ones (replay: WGC_SEED=%llu)",
                     (unsigned long long)seed, (unsigned long long)seed);
        cr_assert_eq(major, full, "seed %llu: generational majors differ from the full mode",
                     (unsigned long long)seed);
        cr_assert_eq(mixed, full, "seed %llu: mixed minor and major collections differ",
                     (unsigned long long)seed);
    }
}
