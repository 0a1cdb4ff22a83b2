/*
 * tests/determinism.c -- one seeded program that uses everything the
 * collection points touch (allocation of every size, WeakRefs with
 * keep-during-job, a weak map, a registry, a group), and prints a hash of
 * what a host can observe: where each collection started, the stats (less
 * the times, and heap_size, which is memory rather than behaviour: the
 * debug quarantine takes more pages), what deref and the weak map answered,
 * and the order of every cleanup delivery.
 *
 * [G4] says release, debug, valgrind and ASan builds of one program
 * collect at the same points and deliver the same cleanups in the same
 * order; scripts/test runs this program in each of its steps and fails if
 * the hashes differ.  Here it runs the program twice and fails (exit 1) if
 * the two runs differ.  WGC_STRESS changes the collection points by
 * design, so scripts/test runs it without.
 *
 * Usage: determinism [seed] (default 1).  Prints "determinism: seed S
 * collections N hash H".
 */
#include "wgc.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>

typedef struct obj {
    uint64_t id;
    struct obj *a, *b;
} obj;

static const wgc_type obj_type = {
    .name = "obj",
    .pointer_words = WGC_WORD(obj, a) | WGC_WORD(obj, b),
};
static const wgc_type blob_type = {.name = "blob"};

#define SLOTS 256

typedef struct table {
    void *slot[SLOTS];
} table;

static void table_trace(void *t, wgc_visitor *v)
{
    wgc_visit_array(v, ((table *)t)->slot, SLOTS);
}

static const wgc_type table_type = {.name = "table", .trace = table_trace};

/* ================================================================ state */

typedef struct run {
    uint64_t rng, hash, allocs, next_id;
    wgc_heap *heap;
} run;

static void mix(run *r, uint64_t v)
{
    for (int i = 0; i < 8; i++) { /* FNV-1a over the bytes */
        r->hash ^= (v >> (8 * i)) & 0xff;
        r->hash *= 0x100000001b3ull;
    }
}

static uint64_t rnd(run *r, uint64_t n)
{
    r->rng = r->rng * 6364136223846793005ull + 1442695040888963407ull;
    return (r->rng >> 33) % n;
}

static void on_event(wgc_heap *heap, wgc_event e, void *user)
{
    (void)heap;
    run *r = user;
    if (e == WGC_EVENT_COLLECT_START || e == WGC_EVENT_MINOR_START) {
        /* a minor one mixes in a tag of its own: the full mode's hash is
         * unchanged, the generational one says which kind ran where */
        mix(r, e == WGC_EVENT_COLLECT_START ? 0xc011ec7 : 0x3140c011ec7);
        mix(r, r->allocs);
    }
}

static int on_cleanup(wgc_heap *heap, void *holdings, void *user)
{
    (void)heap;
    run *r = user;
    mix(r, 0x5e9);
    mix(r, (uint64_t)(uintptr_t)holdings);
    return 0;
}

static int on_group(wgc_heap *heap, wgc_weakref *ref, void *holdings, void *user)
{
    (void)ref;
    run *r = user;
    mix(r, 0x9e0);
    mix(r, (uint64_t)(uintptr_t)holdings);
    if (wgc_weakref_deref(heap, ref) != NULL)
        mix(r, 0xbad);
    return 0;
}

static obj *new_obj(run *r)
{
    size_t size = rnd(r, 50) == 0 ? 9000 + rnd(r, 60000) /* large */
                : sizeof(obj) + rnd(r, 8) * rnd(r, 300);
    obj *o = wgc_alloc(r->heap, rnd(r, 4) ? &obj_type : &blob_type, size);
    if (!o) {
        fprintf(stderr, "determinism: allocation failed: %s\n",
                wgc_error_string(wgc_last_error(r->heap)));
        exit(2);
    }
    r->allocs++;
    o->id = ++r->next_id;
    return o;
}

static uint64_t id_of(const void *o)
{
    return o ? ((const obj *)o)->id : 0;
}

/* Slots of the table: 0..127 objects, 128..191 WeakRefs, 192..255 group
 * refs.  Only obj_type objects get pointer fields written. */
static uint64_t one_run(uint64_t seed, uint64_t *collections)
{
    run r = {.rng = seed, .hash = 0xcbf29ce484222325ull};
    wgc_config cfg;
    wgc_config_init(&cfg);
    cfg.initial_heap_size = 256 * 1024;
    cfg.keep_during_job = true;
    cfg.on_event = on_event;
    cfg.on_event_user = &r;
    wgc_heap *h = r.heap = wgc_heap_new(&cfg);
    if (!h)
        exit(2);
    table *t = wgc_alloc(h, &table_type, sizeof *t);
    wgc_root *troot = wgc_root_new(h, t);
    wgc_weakmap *map = wgc_weakmap_new(h);
    wgc_root *mroot = wgc_root_new(h, map);
    wgc_registry *reg = wgc_registry_new(h, on_cleanup, &r);
    wgc_root *rroot = wgc_root_new(h, reg);
    wgc_group *group = wgc_group_new(h, on_group, &r);
    wgc_root *groot = wgc_root_new(h, group);
    if (!t || !map || !reg || !group)
        exit(2);

    for (int step = 0; step < 60000; step++) {
        uint64_t op = rnd(&r, 100);
        if (op < 55) { /* an object, maybe linked, maybe kept */
            obj *o = new_obj(&r);
            size_t k = rnd(&r, 128);
            obj *other = t->slot[k];
            if (wgc_type_of(o) == &obj_type && other) {
                o->a = other;
                if (wgc_type_of(other) == &obj_type && rnd(&r, 4) == 0)
                    WGC_STORE(h, other, b, o);
            }
            if (rnd(&r, 3) == 0) {
                t->slot[rnd(&r, 128)] = o;
                wgc_write_barrier(h, t);
            }
        } else if (op < 65) { /* a WeakRef to a kept object */
            obj *target = t->slot[rnd(&r, 128)];
            if (target) {
                wgc_weakref *w = wgc_weakref_new(h, target, NULL);
                t->slot[128 + rnd(&r, 64)] = w;
                wgc_write_barrier(h, t);
            }
        } else if (op < 75) { /* deref: keeps the target for the job */
            wgc_weakref *w = t->slot[128 + rnd(&r, 64)];
            if (w)
                mix(&r, id_of(wgc_weakref_deref(h, w)));
        } else if (op < 82) { /* weak map */
            obj *key = t->slot[rnd(&r, 128)];
            if (key) {
                if (rnd(&r, 2)) {
                    obj *value = new_obj(&r);
                    wgc_weakmap_set(h, map, key, value);
                } else {
                    mix(&r, id_of(wgc_weakmap_get(h, map, key)));
                }
            }
            mix(&r, wgc_weakmap_count(h, map));
        } else if (op < 89) { /* registry: holdings are tags, token the target */
            obj *target = t->slot[rnd(&r, 128)];
            if (target) {
                if (rnd(&r, 8) == 0)
                    mix(&r, wgc_registry_unregister(reg, target));
                else
                    wgc_registry_register(reg, target,
                                          (void *)(uintptr_t)(target->id << 1 | 1),
                                          rnd(&r, 2) ? target : NULL);
            }
        } else if (op < 95) { /* group refs */
            obj *target = t->slot[rnd(&r, 128)];
            if (target) {
                wgc_weakref *w = wgc_group_make_ref(
                    group, target, (void *)(uintptr_t)(target->id << 1 | 1));
                t->slot[192 + rnd(&r, 64)] = w;
                wgc_write_barrier(h, t);
            }
        } else if (op < 98) { /* drop some objects */
            t->slot[rnd(&r, 128)] = NULL;
            t->slot[rnd(&r, 128)] = NULL;
        } else {
            wgc_end_job(h);
            mix(&r, wgc_run_cleanup(h, 1 + rnd(&r, 20)));
        }
    }
    wgc_end_job(h);
    mix(&r, wgc_run_cleanup(h, SIZE_MAX));
    wgc_collect(h);
    mix(&r, wgc_run_cleanup(h, SIZE_MAX));

    wgc_heap_stats s;
    wgc_stats(h, &s);
    const uint64_t fields[] = {
        s.collections, s.bytes_allocated, s.objects_allocated, s.live_bytes,
        s.weak_slots_cleared, s.ephemerons_resolved, s.group_refs_queued,
        s.group_refs_run, s.cells_registered, s.cells_queued,
        s.cells_delivered, s.cells_unregistered,
    };
    for (size_t i = 0; i < sizeof fields / sizeof fields[0]; i++)
        mix(&r, fields[i]);
    *collections = s.collections;
    wgc_root_free(groot);
    wgc_root_free(rroot);
    wgc_root_free(mroot);
    wgc_root_free(troot);
    wgc_heap_free(h);
    return r.hash;
}

int main(int argc, char **argv)
{
    uint64_t seed = argc > 1 ? strtoull(argv[1], NULL, 10) : 1;
    uint64_t n1, n2;
    uint64_t h1 = one_run(seed, &n1);
    uint64_t h2 = one_run(seed, &n2);
    printf("determinism: seed %" PRIu64 " collections %" PRIu64 " hash %016" PRIx64 "\n",
           seed, n1, h1);
    if (h1 != h2 || n1 != n2) {
        printf("determinism: a second run in the same process differs: "
               "collections %" PRIu64 " hash %016" PRIx64 "\n", n2, h2);
        return 1;
    }
    return 0;
}
