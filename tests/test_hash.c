/*
 * tests/test_hash.c -- white-box: the tables keyed by addresses spread heap
 * addresses like random keys [A1 in gc/hash.h] (issue 13, item 14).
 *
 * The weak map and the page table probe linearly at load 1/2 at most; for
 * random keys a hit then reads 1.5 slots on average (Knuth: (1 + 1/(1 -
 * load)) / 2), 1.17 at load 1/4.  The weak map's old hash on a table of
 * chains (as it was then) compared 4.1 to 5.2 entries per hit, and used
 * 12-18% of its buckets for 65,536 keys of one size; on a table with
 * linear probing it reads hundreds of slots per hit.
 *
 * Every heap here has auto_collect off and no stress collections: nothing
 * is collected, so nothing needs rooting, and the layout of the keys is
 * what allocation made of them.
 */
#include <criterion/criterion.h>

#include <stdint.h>
#include <stdio.h>

#include "gc/internal.h"
#include "weak/weak_internal.h"

#include "tools.h"

static void two_trace(void *o, wgc_visitor *v)
{
    wgc_visit(v, &((void **)o)[0]);
    wgc_visit(v, &((void **)o)[1]);
}

static const wgc_type key_type = {.name = "key", .trace = two_trace};
static const wgc_type data_type = {.name = "data"};

static wgc_heap *quiet_heap(void)
{
    no_stress();
    wgc_config cfg;
    wgc_config_init(&cfg);
    cfg.auto_collect = false;
    wgc_heap *h = wgc_heap_new(&cfg);
    cr_assert_not_null(h);
    return h;
}

enum { KEYS = 65536 };

/* `KEYS` keys of `size` bytes (every `pad`-th followed by a pointer-free
 * object of `size` bytes, which shifts the stride), all in one map, whose
 * chains must look like random keys' [A1]. */
static void check_map_spread(size_t size, unsigned pad)
{
    wgc_heap *h = quiet_heap();
    wgc_weakmap *m = wgc_weakmap_new(h);
    cr_assert_not_null(m);
    for (unsigned i = 0; i < KEYS; i++) {
        void *k = wgc_alloc(h, &key_type, size);
        cr_assert_not_null(k);
        cr_assert(wgc_weakmap_set(h, m, k, NULL));
        if (pad && i % pad == 0)
            cr_assert_not_null(wgc_alloc(h, &data_type, size));
    }
    wgc__probe_shape s;
    wgc__weakmap_shape(m, &s);
    double per_hit = (double)s.probes / (double)s.entries;
    printf("weak map, %u keys of %zu bytes, pad %u: %zu slots, %.3f read per "
           "hit, longest %zu\n", KEYS, size, pad, s.slots, per_hit, s.longest);
    cr_assert_eq(s.entries, KEYS);
    cr_assert_eq(s.mismatches, 0, "the index and the pool disagree");
    cr_assert_eq(s.slots, 2 * KEYS, "the map should be at load 1/2 here");
    cr_assert_leq(per_hit, 1.7, "%zu-byte keys: %.3f slots read per hit "
                  "(random keys: 1.5)", size, per_hit);
    cr_assert_leq(s.longest, 100, "%zu-byte keys: a hit reads %zu slots", size,
                  s.longest);
    wgc_heap_free(h);
}

Test(hash, H1_weakmap_small_keys)
{
    check_map_spread(8, 0);
    check_map_spread(24, 0);
    check_map_spread(40, 0);
}

Test(hash, H1_weakmap_larger_and_mixed_keys)
{
    check_map_spread(100, 0);
    check_map_spread(200, 0);
    check_map_spread(24, 3);
    check_map_spread(56, 1);
}

/* A lookup after deletes and a collection still finds every survivor, and
 * the map still spreads its keys after it shrank [A1, W14]. */
Test(hash, H1_weakmap_after_shrink)
{
    wgc_heap *h = quiet_heap();
    wgc_root *mr = wgc_root_new(h, wgc_weakmap_new(h));
    wgc_weakmap *m = wgc_root_get(mr);
    void **keep = calloc(KEYS, sizeof *keep);
    wgc_root **roots = calloc(KEYS / 8, sizeof *roots);
    for (unsigned i = 0; i < KEYS; i++) {
        keep[i] = wgc_alloc(h, &key_type, 24);
        cr_assert(wgc_weakmap_set(h, m, keep[i], NULL));
        if (i % 8 == 0)
            roots[i / 8] = wgc_root_new(h, keep[i]);
    }
    wgc_collect(h); /* 7 keys in 8 die: the map shrinks to load 1/4 */
    wgc__probe_shape s;
    wgc__weakmap_shape(m, &s);
    cr_assert_eq(s.entries, KEYS / 8);
    cr_assert_eq(s.mismatches, 0, "the index and the pool disagree");
    cr_assert_eq(s.used, KEYS / 8, "the shrink dropped the tombstones");
    cr_assert_eq(s.slots, KEYS / 2);
    cr_assert_leq((double)s.probes / (double)s.entries, 1.3,
                  "%.3f slots read per hit at load 1/4 (random keys: 1.17)",
                  (double)s.probes / (double)s.entries);
    for (unsigned i = 0; i < KEYS / 8; i++)
        cr_assert(wgc_weakmap_has(h, m, keep[8 * i]));
    for (unsigned i = 0; i < KEYS / 8; i++)
        wgc_root_free(roots[i]);
    wgc_root_free(mr);
    free(roots);
    free(keep);
    wgc_heap_free(h);
}

/* Slots read by a hit on each span of the page table (linear probing from
 * the slot wgc__addr_hash gives); also its longest such walk. */
static double page_table_reads(const wgc_heap *h, size_t *longest)
{
    const uintptr_t *slots = (const uintptr_t *)h->space.page_table.items;
    cr_assert_eq(h->space.page_table.item_size, sizeof *slots);
    size_t cap = h->space.page_table.capacity, spans = 0, reads = 0;
    *longest = 0;
    for (size_t i = 0; i < cap; i++) {
        if (slots[i] <= 1) /* empty or a tombstone */
            continue;
        size_t home = wgc__addr_hash((const void *)slots[i], cap);
        size_t walk = ((i - home) & (cap - 1)) + 1;
        spans++;
        reads += walk;
        if (walk > *longest)
            *longest = walk;
    }
    cr_assert_gt(spans, 0);
    return (double)reads / (double)spans;
}

static void check_page_table(const wgc_heap *h, const char *what)
{
    size_t longest;
    double reads = page_table_reads(h, &longest);
    printf("page table, %s: %zu spans in %zu slots, %.3f slots read per hit, "
           "longest %zu\n", what, h->space.page_table.used, h->space.page_table.capacity,
           reads, longest);
    cr_assert_leq(reads, 2.0, "%s: %.3f slots read per hit (random: 1.5)",
                  what, reads);
    cr_assert_leq(longest, 60, "%s: a walk of %zu slots", what, longest);
}

/* Pages in runs of 16, then large objects too [A1]. */
Test(hash, H1_page_table_pages)
{
    wgc_heap *h = quiet_heap();
    size_t small_pages = scaled(2048, 512);
    for (size_t i = 0; i < small_pages * (WGC_PAGE_SIZE / 1024); i++)
        cr_assert_not_null(wgc_alloc(h, &data_type, 1000));
    check_page_table(h, "small pages");
    for (int i = 0; i < 400; i++)
        cr_assert_not_null(wgc_alloc(h, &data_type, ((size_t)1 << 20) -
                                                        WGC_LARGE_OBJECT_OFFSET));
    check_page_table(h, "small pages and large objects");
    wgc_heap_free(h);
}

/* Large objects whose mappings (with the alignment slack mmap is asked
 * for) take 1 MiB each: the kernel stacks them 16 pages apart, so their
 * addresses differ only in bits that a hash of the page number's low bits
 * ignores [A1]. */
Test(hash, H1_page_table_power_of_two_strides)
{
    wgc_heap *h = quiet_heap();
    size_t size = ((size_t)1 << 20) - WGC_PAGE_SIZE - WGC_LARGE_OBJECT_OFFSET;
    for (int i = 0; i < 1000; i++)
        cr_assert_not_null(wgc_alloc(h, &data_type, size));
    check_page_table(h, "1 MiB strides");
    wgc_heap_free(h);
}

/* The helper alone: in range for every capacity, 0 for one slot, and heap
 * addresses in a table of linear probing at load 1/2, as a registry keeps
 * its tokens, cost about 1.5 slots read per hit [A1]. */
Test(hash, H1_helper)
{
    wgc_heap *h = quiet_heap();
    enum { N = 32768, CAP = 2 * N };
    static void *keys[N];
    static void *table[CAP];
    for (int i = 0; i < N; i++)
        keys[i] = wgc_alloc(h, &key_type, 16 + 16 * (size_t)(i % 5));
    for (int i = 0; i < N; i++) {
        cr_assert_eq(wgc__addr_hash(keys[i], 1), 0);
        for (unsigned b = 1; b < 64; b += 7)
            cr_assert_lt(wgc__addr_hash(keys[i], (size_t)1 << b), (size_t)1 << b);
    }
    size_t reads = 0;
    for (int i = 0; i < N; i++) {
        size_t s = wgc__addr_hash(keys[i], CAP);
        while (table[s])
            s = (s + 1) & (CAP - 1);
        table[s] = keys[i];
    }
    for (int i = 0; i < N; i++) {
        size_t s = wgc__addr_hash(keys[i], CAP);
        for (reads++; table[s] != keys[i]; reads++)
            s = (s + 1) & (CAP - 1);
    }
    double per_hit = (double)reads / N;
    printf("linear probing, %d heap addresses in %d slots: %.3f reads per hit\n",
           N, CAP, per_hit);
    cr_assert_leq(per_hit, 1.8, "%.3f slots read per hit (random: 1.5)", per_hit);
    wgc_heap_free(h);
}

/* Tombstones: entries emptied by a collection (by after_weak, or by the
 * fallback pass that runs when a collection gets no memory) and deleted
 * ones sit inside probe runs; every survivor is still found past them,
 * and their slots are reused [A1, W13, W14]. */
static void check_tombstones(bool without_memory)
{
    enum { N = 4096 };
    wgc_heap *h = quiet_heap();
    wgc_root *mr = wgc_root_new(h, wgc_weakmap_new(h));
    wgc_weakmap *m = wgc_root_get(mr);
    wgc_root *kept[N / 2];
    void *keys[N];
    for (int i = 0; i < N; i++) {
        keys[i] = wgc_alloc(h, &key_type, 24);
        cr_assert(wgc_weakmap_set(h, m, keys[i], keys[i]));
        if (i % 2 == 0)
            kept[i / 2] = wgc_root_new(h, keys[i]);
    }
    for (int i = 0; i < N; i += 4) /* a quarter deleted, still rooted */
        cr_assert(wgc_weakmap_delete(h, m, keys[i]));
    if (without_memory)
        wgc_debug_fail_request(h, 1, true);
    cr_assert(wgc_collect(h));
    wgc_debug_fail_request(h, 0, false);
    cr_assert_eq(wgc_weakmap_count(h, m), N / 4);
    for (int i = 0; i < N; i += 2) {
        bool in = i % 4 != 0;
        cr_assert_eq(wgc_weakmap_has(h, m, keys[i]), in, "key %d", i);
        cr_assert_eq(wgc_weakmap_get(h, m, keys[i]), in ? keys[i] : NULL);
    }
    for (int i = 0; i < N; i += 4)
        cr_assert(wgc_weakmap_set(h, m, keys[i], NULL));
    for (int i = 2; i < N; i += 4) /* replaced: index and pool both */
        cr_assert(wgc_weakmap_set(h, m, keys[i], keys[i - 2]));
    cr_assert_eq(wgc_weakmap_count(h, m), N / 2);
    for (int i = 2; i < N; i += 4)
        cr_assert_eq(wgc_weakmap_get(h, m, keys[i]), keys[i - 2]);
    wgc__probe_shape s;
    wgc__weakmap_shape(m, &s);
    cr_assert_eq(s.entries, N / 2);
    cr_assert_eq(s.mismatches, 0, "the index and the pool disagree");
    cr_assert_leq(s.used * 2, s.slots);
    for (int i = 0; i < N; i += 2)
        cr_assert(wgc_weakmap_has(h, m, keys[i]), "key %d", i);
    cr_assert(wgc_debug_verify(h));
    for (int i = 0; i < N / 2; i++)
        wgc_root_free(kept[i]);
    wgc_root_free(mr);
    wgc_heap_free(h);
}

Test(hash, H1_weakmap_tombstones)
{
    check_tombstones(false);
}

Test(hash, H1_weakmap_tombstones_without_memory)
{
    check_tombstones(true);
}

static const wgc_type tok_type = {.name = "token"};

static int no_cleanup(wgc_heap *heap, void *holdings, void *user)
{
    (void)heap, (void)holdings, (void)user;
    return 0;
}

/* [A2] A table of tokens churned at a steady count (each unregistered
 * token replaced by a new one) rehashes a bounded number of times: a
 * rehash that left the load just under 1/2 (4,095 tokens in 8,192 slots)
 * was followed by another at the next insertion, each a fresh table. */
Test(hash, A2_token_churn_rehashes_rarely)
{
    wgc_heap *h = quiet_heap();
    enum { LIVE = 4095, CHURN = 20000 };
    wgc_registry *reg = wgc_registry_new(h, no_cleanup, NULL);
    cr_assert_not_null(reg);
    void **tok = calloc(LIVE, sizeof *tok);
    for (int i = 0; i < LIVE; i++) {
        tok[i] = wgc_alloc(h, &tok_type, 16);
        cr_assert(wgc_registry_register(reg, tok[i], NULL, tok[i]));
    }
    uint64_t before = h->requests;
    for (int i = 0; i < CHURN; i++) {
        int k = i % LIVE;
        cr_assert(wgc_registry_unregister(reg, tok[k]));
        tok[k] = wgc_alloc(h, &tok_type, 16);
        cr_assert(wgc_registry_register(reg, tok[k], NULL, tok[k]));
    }
    uint64_t requests = h->requests - before;
    printf("token churn: %d replacements, %llu memory requests\n", CHURN,
           (unsigned long long)requests);
    cr_assert_lt(requests, CHURN / 100, "%llu memory requests for %d replacements",
                 (unsigned long long)requests, CHURN);
    free(tok);
    wgc_heap_free(h);
}
