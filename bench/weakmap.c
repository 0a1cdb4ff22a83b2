/*
 * weakmap.c -- wgc's weak map against a plain table on the same keys (wgc
 * only; issue 13, item 14).
 *
 * n keys (24-byte heap objects, kept in a rooted array) each map to the
 * next key.  The plain table is what an embedder would write for a strong
 * identity map: open addressing, linear probing, key and value inline,
 * load at most 1/2, and the same address hash as wgc's [A1], so what is
 * compared is the table and the API, not the hash.
 *
 * - lookups: `lookups` hits on keys drawn at random (the same sequence of
 *   key pointers for both tables, read sequentially), in 3 passes that
 *   alternate between the tables; each table's median pass counts.
 * - inserts: a fresh table, then every key in a random order, repeated
 *   until 1M inserts are made (one round for 1M keys), in 3 alternating
 *   passes.  Only the inserting is timed: the weak map is left to the
 *   collector, collected between rounds, and the plain table freed.
 *
 * Every lookup's value is summed and checked against the expected sum; the
 * weak map's count after each round must be n.
 *
 * usage: weakmap [n [lookups]]
 */
#include "bench.h"

#ifndef VARIANT_WGC
#error "weakmap measures wgc's weak maps; build it with VARIANT_WGC"
#endif

struct key {
    long id;
    long pad[2];
};

static const bench_type key_type = {.name = "key"};

/* ============================================================ plain table */

typedef struct {
    void *key, *value;
} plain_slot;

typedef struct {
    plain_slot *slots;
    size_t capacity, count;
} plain_table;

/* The same hash as gc/hash.h's wgc__addr_hash. */
static inline size_t plain_hash(const void *key, size_t capacity)
{
    uint64_t h = (uint64_t)(uintptr_t)key * 0x9e3779b97f4a7c15ull;
    h ^= h >> 32;
    h *= 0xbf58476d1ce4e5b9ull;
    return (size_t)(h >> 1 >> (63 - (unsigned)__builtin_ctzll(capacity)));
}

static void plain_put(plain_slot *slots, size_t capacity, void *key, void *value)
{
    size_t i = plain_hash(key, capacity);
    while (slots[i].key && slots[i].key != key)
        i = (i + 1) & (capacity - 1);
    slots[i] = (plain_slot){key, value};
}

static void plain_set(plain_table *t, void *key, void *value)
{
    if ((t->count + 1) * 2 > t->capacity) {
        size_t capacity = t->capacity ? t->capacity * 2 : 16;
        plain_slot *slots = calloc(capacity, sizeof *slots);
        BENCH_CHECK(slots, "out of memory");
        for (size_t i = 0; i < t->capacity; i++)
            if (t->slots[i].key)
                plain_put(slots, capacity, t->slots[i].key, t->slots[i].value);
        free(t->slots);
        t->slots = slots;
        t->capacity = capacity;
    }
    size_t i = plain_hash(key, t->capacity);
    while (t->slots[i].key && t->slots[i].key != key)
        i = (i + 1) & (t->capacity - 1);
    if (!t->slots[i].key)
        t->count++;
    t->slots[i] = (plain_slot){key, value};
}

static inline void *plain_get(const plain_table *t, const void *key)
{
    size_t i = plain_hash(key, t->capacity);
    for (;; i = (i + 1) & (t->capacity - 1)) {
        if (t->slots[i].key == key)
            return t->slots[i].value;
        if (!t->slots[i].key)
            return NULL;
    }
}

/* ================================================================ helpers */

static uint64_t rng = 0x2545f4914f6cdd1dull;

static inline uint64_t next_random(void)
{
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return rng;
}

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return (x > y) - (x < y);
}

static uint64_t median3(uint64_t v[3])
{
    qsort(v, 3, sizeof v[0], cmp_u64);
    return v[1];
}

enum { PASSES = 3 };
#define INSERTS_PER_PASS 1000000L

int main(int argc, char **argv)
{
    long n = bench_arg(argc, argv, 1, 65536);
    long lookups = bench_arg(argc, argv, 2, 2000000);

    bench_init();
    uint64_t t0 = bench_now_ns();
    struct bench_ptrs *keys = NULL;
    wgc_weakmap *map = NULL;
    BENCH_FRAME(&keys, &map);

    keys = bench_ptrs_new((size_t)n);
    for (long i = 0; i < n; i++) {
        struct key *k = bench_alloc(&key_type, sizeof *k);
        k->id = i;
        BENCH_STORE(keys, item[i], k);
    }
    /* Copies of rooted pointers: nothing moves, and lookups never
     * allocate. */
    void **order = malloc((size_t)n * sizeof *order);  /* insertion order */
    long *order_ix = malloc((size_t)n * sizeof *order_ix);
    void **seq = malloc((size_t)lookups * sizeof *seq); /* lookup keys */
    BENCH_CHECK(order && order_ix && seq, "out of memory");
    for (long i = 0; i < n; i++)
        order_ix[i] = i;
    for (long i = n - 1; i > 0; i--) {
        long j = (long)(next_random() % (uint64_t)(i + 1)), t = order_ix[i];
        order_ix[i] = order_ix[j];
        order_ix[j] = t;
    }
    for (long i = 0; i < n; i++)
        order[i] = keys->item[order_ix[i]];
    uint64_t expect = 0;
    for (long i = 0; i < lookups; i++) {
        long ix = (long)(next_random() % (uint64_t)n);
        seq[i] = keys->item[ix];
        expect += (uintptr_t)keys->item[(ix + 1) % n];
    }

    /* Inserts. */
    long rounds = n >= INSERTS_PER_PASS ? 1 : INSERTS_PER_PASS / n;
    uint64_t map_ins[PASSES], plain_ins[PASSES];
    for (int p = 0; p < PASSES; p++) {
        uint64_t spent = 0;
        for (long r = 0; r < rounds; r++) {
            uint64_t s = bench_now_ns();
            map = wgc_weakmap_new(bench_heap);
            BENCH_CHECK(map, "wgc_weakmap_new failed");
            for (long i = 0; i < n; i++)
                BENCH_CHECK(wgc_weakmap_set(bench_heap, map, order[i],
                                            keys->item[(order_ix[i] + 1) % n]),
                            "wgc_weakmap_set failed: %s",
                            wgc_error_string(wgc_last_error(bench_heap)));
            spent += bench_now_ns() - s;
            BENCH_CHECK(wgc_weakmap_count(bench_heap, map) == (size_t)n,
                        "the map holds %zu of %ld keys",
                        wgc_weakmap_count(bench_heap, map), n);
            map = NULL;
            bench_collect();
        }
        map_ins[p] = spent;
        spent = 0;
        for (long r = 0; r < rounds; r++) {
            uint64_t s = bench_now_ns();
            plain_table t = {0};
            for (long i = 0; i < n; i++)
                plain_set(&t, order[i], keys->item[(order_ix[i] + 1) % n]);
            spent += bench_now_ns() - s;
            BENCH_CHECK(t.count == (size_t)n, "the plain table holds %zu of %ld",
                        t.count, n);
            free(t.slots);
        }
        plain_ins[p] = spent;
    }

    /* Lookups, on one table of each kind holding every key. */
    map = wgc_weakmap_new(bench_heap);
    BENCH_CHECK(map, "wgc_weakmap_new failed");
    plain_table plain = {0};
    for (long i = 0; i < n; i++) {
        BENCH_CHECK(wgc_weakmap_set(bench_heap, map, order[i],
                                    keys->item[(order_ix[i] + 1) % n]),
                    "wgc_weakmap_set failed");
        plain_set(&plain, order[i], keys->item[(order_ix[i] + 1) % n]);
    }
    uint64_t map_get[PASSES], plain_get_ns[PASSES];
    for (int p = 0; p < PASSES; p++) {
        uint64_t sum = 0, s = bench_now_ns();
        for (long i = 0; i < lookups; i++)
            sum += (uintptr_t)wgc_weakmap_get(bench_heap, map, seq[i]);
        map_get[p] = bench_now_ns() - s;
        BENCH_CHECK(sum == expect, "weak map lookups: wrong values");
        sum = 0;
        s = bench_now_ns();
        for (long i = 0; i < lookups; i++)
            sum += (uintptr_t)plain_get(&plain, seq[i]);
        plain_get_ns[p] = bench_now_ns() - s;
        BENCH_CHECK(sum == expect, "plain table lookups: wrong values");
    }
    map = NULL;
    keys = NULL;
    BENCH_FRAME_POP();

    double inserts = (double)rounds * (double)n;
    double ml = (double)median3(map_get) / (double)lookups;
    double pl = (double)median3(plain_get_ns) / (double)lookups;
    double mi = (double)median3(map_ins) / inserts;
    double pi = (double)median3(plain_ins) / inserts;
    char name[32];
    snprintf(name, sizeof name, "weakmap-%ld", n);
    bench_result(name,
                 "n=%ld lookups=%ld inserts=%.0f map_lookup_ns=%.2f "
                 "plain_lookup_ns=%.2f lookup_ratio=%.3f map_insert_ns=%.2f "
                 "plain_insert_ns=%.2f insert_ratio=%.3f time_ms=%.1f",
                 n, lookups, inserts, ml, pl, ml / pl, mi, pi, mi / pi,
                 (double)(bench_now_ns() - t0) / 1e6);
    free(plain.slots);
    free(seq);
    free(order_ix);
    free(order);
    bench_finish();
    return 0;
}
