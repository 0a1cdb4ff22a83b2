/*
 * deeplist.c -- one very long singly linked list.
 *
 * Builds an n-node list (default 10,000,000), keeps it alive across five
 * collections, walking it after each, then drops it and runs a full
 * collection.  The five are the collector's ordinary collections
 * (bench_collect_ordinary): full ones, but minor ones in wgc's
 * generational mode, where the old list must not be marked again.  A collector that marks with C recursion overflows its stack here;
 * one that cannot return a dead list's memory shows it in `reclaimed_pct`:
 * the share of the list's bytes that the last collection freed.
 *
 * usage: deeplist [n]
 */
/* malloc counts its bytes itself: see bench_used_bytes. */
#define BENCH_COUNT_BYTES
#include "bench.h"

struct cell {
    struct cell *next;
    long value;
};

static const bench_type cell_type = {.name = "cell",
    .pointer_words = BENCH_WORD(struct cell, next)};

static long sum_list(const struct cell *c)
{
    long s = 0;
    for (; c; c = c->next)
        s += c->value;
    return s;
}

static void list_free(struct cell *c)
{
    while (c) {
        struct cell *next = c->next;
        bench_free_sized(c, sizeof *c);
        c = next;
    }
}

/* Builds the list in `root` and walks it after each of `rounds`
 * collections.  Out of line so that no copy of the head outlives it in
 * main's registers or frame: a conservative collector would find such a
 * copy and keep the dropped list (a real embedder holds a long-lived
 * structure in a root, as here, not in a local of its main loop). */
static __attribute__((noinline)) void build_and_walk(bench_root *root, long n,
                                                     int rounds)
{
    struct cell *head = NULL, *c = NULL;
    BENCH_FRAME(&head, &c);
    for (long i = 0; i < n; i++) {
        c = bench_alloc(&cell_type, sizeof *c);
        c->value = i;
        c->next = head;
        head = c;
    }
    bench_root_set(root, head);
    head = c = NULL;
    BENCH_FRAME_POP();

    long expect = n * (n - 1) / 2;
    for (int r = 0; r < rounds; r++) {
        bench_collect_ordinary();
        BENCH_CHECK(sum_list(bench_root_get(root)) == expect,
                    "list damaged after collection %d", r + 1);
    }
}

int main(int argc, char **argv)
{
    long n = bench_arg(argc, argv, 1, 10000000);

    bench_init();
    uint64_t t0 = bench_now_ns();
    bench_root *root = bench_root_new(NULL);
    bench_collect();
    size_t base = bench_used_bytes();

    build_and_walk(root, n, 5);
    size_t with_list = bench_used_bytes();
    size_t heap_with_list = bench_heap_bytes();

    if (BENCH_EXPLICIT_FREE)
        list_free(bench_root_get(root));
    bench_root_set(root, NULL);
    bench_collect();
    size_t after = bench_used_bytes();
    bench_root_free(root);

    size_t list_bytes = with_list > base ? with_list - base : 0;
    size_t reclaimed = with_list > after ? with_list - after : 0;
    double pct = list_bytes ? 100.0 * (double)reclaimed / (double)list_bytes : 0;
    BENCH_CHECK(list_bytes >= (size_t)n * sizeof(struct cell) &&
                    reclaimed <= with_list,
                "the list's %ld cells take only %zu bytes?", n, list_bytes);
    bench_result("deeplist",
                 "n=%ld list_bytes=%zu reclaimed_bytes=%zu reclaimed_pct=%.2f "
                 "heap_with_list=%zu heap_after=%zu time_ms=%.1f",
                 n, list_bytes, reclaimed, pct, heap_with_list,
                 bench_heap_bytes(), (double)(bench_now_ns() - t0) / 1e6);
    bench_finish();
    return 0;
}
