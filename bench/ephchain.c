/*
 * ephchain.c -- a chain of ephemerons in one weak map (wgc only).
 *
 * Keys k0 .. kn are small objects; the map holds k(i) -> k(i+1), and only
 * k0 is rooted.  A collection must find the whole chain alive: each key is
 * reachable only through the value of the entry before it.  In the
 * adversarial order the keys are allocated and inserted from the end of
 * the chain back to its start, so tracing meets every entry before its key
 * is marked; a collector that converges by repeated passes over the table
 * takes quadratic time.  The in-order control inserts from the start.
 * Then k0 is dropped and one collection must empty the map.
 *
 * usage: ephchain [n [adversarial|inorder]]
 */
#include "bench.h"

#ifndef VARIANT_WGC
#error "ephchain measures wgc's weak maps; build it with VARIANT_WGC"
#endif

struct key {
    long id;
};

static const bench_type key_type = {.name = "key"};

int main(int argc, char **argv)
{
    long n = bench_arg(argc, argv, 1, 1000000);
    bool inorder = argc > 2 && strcmp(argv[2], "inorder") == 0;
    BENCH_CHECK(argc <= 2 || inorder || strcmp(argv[2], "adversarial") == 0,
                "order must be adversarial or inorder");
    enum { rounds = 5 };

    bench_init();
    uint64_t t0 = bench_now_ns();
    struct bench_ptrs *keys = NULL;
    wgc_weakmap *map = NULL;
    struct key *head = NULL;
    BENCH_FRAME(&keys, &map, &head);

    keys = bench_ptrs_new((size_t)n + 1);
    for (long j = 0; j <= n; j++) {
        long i = inorder ? j : n - j;
        struct key *k = bench_alloc(&key_type, sizeof *k);
        k->id = i;
        BENCH_STORE(keys, item[i], k);
    }
    map = wgc_weakmap_new(bench_heap);
    BENCH_CHECK(map, "wgc_weakmap_new failed");
    for (long j = 0; j < n; j++) {
        long i = inorder ? j : n - 1 - j;
        BENCH_CHECK(wgc_weakmap_set(bench_heap, map, keys->item[i],
                                    keys->item[i + 1]),
                    "wgc_weakmap_set failed: %s",
                    wgc_error_string(wgc_last_error(bench_heap)));
    }
    head = keys->item[0];
    keys = NULL;

    /* Only the chain's own collections are timed: building it is the same
     * work in both orders. */
    uint64_t chain_ns = 0, best_ns = UINT64_MAX, round_ns[rounds];
    for (int r = 0; r < rounds; r++) {
        uint64_t s = bench_now_ns();
        wgc_collect(bench_heap);
        uint64_t d = bench_now_ns() - s;
        round_ns[r] = d;
        chain_ns += d;
        if (d < best_ns)
            best_ns = d;
        BENCH_CHECK(wgc_weakmap_count(bench_heap, map) == (size_t)n,
                    "collection %d left %zu of %ld entries", r + 1,
                    wgc_weakmap_count(bench_heap, map), n);
    }
    long steps = 0;
    for (struct key *k = head; k->id != n; steps++) {
        struct key *next = wgc_weakmap_get(bench_heap, map, k);
        BENCH_CHECK(next && next->id == k->id + 1, "chain broken after key %ld",
                    k->id);
        k = next;
    }
    BENCH_CHECK(steps == n, "chain has %ld links, expected %ld", steps, n);

    head = NULL;
    wgc_collect(bench_heap);
    BENCH_CHECK(wgc_weakmap_count(bench_heap, map) == 0,
                "%zu entries survive their keys",
                wgc_weakmap_count(bench_heap, map));
    wgc_heap_stats st;
    wgc_stats(bench_heap, &st);
    BENCH_FRAME_POP();

    char rounds_ms[16 * rounds];
    size_t len = 0;
    for (int r = 0; r < rounds; r++)
        len += (size_t)snprintf(rounds_ms + len, sizeof rounds_ms - len, "%s%.1f",
                                r ? "/" : "", (double)round_ns[r] / 1e6);
    bench_result(inorder ? "ephchain-inorder" : "ephchain",
                 "n=%ld chain_gc_ms=%.3f chain_gc_best_ms=%.3f "
                 "chain_gc_rounds_ms=%s ephemerons_resolved=%llu time_ms=%.1f",
                 n, (double)chain_ns / 1e6, (double)best_ns / 1e6, rounds_ms,
                 (unsigned long long)st.ephemerons_resolved,
                 (double)(bench_now_ns() - t0) / 1e6);
    bench_finish();
    return 0;
}
