/*
 * liveset.c -- collection pauses while a large live set is kept.
 *
 * Builds a live set of about L MiB (default 256): a rooted array of slots,
 * each holding a binary tree of depth 5 (63 nodes of 32 bytes as wgc
 * counts them).  Then allocates A MiB (default 1024) more in short-lived
 * trees of depth 3 (15 nodes), each checked and dropped, and every r-th
 * of them (default 16) replaces the tree of a random slot with a new
 * depth-5 tree (a store through the barrier into the old array), so the
 * old structure changes slowly while its size stays the same.
 *
 * The pause record is reset when the live set is built: the pause fields of
 * the RESULT line (median, p99, max, gc_ms) describe the allocation loop
 * over the full live set only.  Collectors only: malloc has no pauses.
 *
 * Checks: every short-lived tree's node count and sum; at the end, every
 * slot's tree (63 nodes, each carrying its tree's number).
 *
 * usage: liveset [L_mib [A_mib [r]]]
 */
#include "bench.h"

#ifdef VARIANT_MALLOC
#error "this workload measures collection pauses: build it for wgc or bdwgc"
#endif

struct lnode {
    struct lnode *left, *right;
    long tag;
};

static const bench_type lnode_type = {.name = "lnode",
    .pointer_words = BENCH_WORD(struct lnode, left) | BENCH_WORD(struct lnode, right)};

/* wgc's cell: 24 bytes and a header word.  The sizes are counted in
 * these, so both collectors get the same number of objects. */
#define NODE_BYTES 32
#define LIVE_DEPTH 5
#define LIVE_NODES 63
#define TEMP_DEPTH 3
#define TEMP_NODES 15

static struct lnode *new_node(struct lnode *l, struct lnode *r, long tag)
{
    struct lnode *n = bench_alloc(&lnode_type, sizeof *n);
    n->left = l;
    n->right = r;
    n->tag = tag;
    return n;
}

static struct lnode *make_tree(int depth, long tag)
{
    if (depth <= 0)
        return new_node(NULL, NULL, tag);
    struct lnode *l = NULL, *r = NULL, *n;
    BENCH_FRAME(&l, &r);
    l = make_tree(depth - 1, tag);
    r = make_tree(depth - 1, tag);
    n = new_node(l, r, tag);
    BENCH_FRAME_POP();
    return n;
}

/* Nodes of the tree, each checked to carry `tag`. */
static long check_tree(const struct lnode *n, long tag)
{
    BENCH_CHECK(n->tag == tag, "node of tree %ld carries %ld", tag, n->tag);
    return n->left ? 1 + check_tree(n->left, tag) + check_tree(n->right, tag) : 1;
}

static inline uint64_t next_rand(uint64_t *x)
{
    *x ^= *x >> 12;
    *x ^= *x << 25;
    *x ^= *x >> 27;
    return *x * 0x2545F4914F6CDD1DULL;
}

int main(int argc, char **argv)
{
    long live_mib = bench_arg(argc, argv, 1, 256);
    long alloc_mib = bench_arg(argc, argv, 2, 1024);
    long every = bench_arg(argc, argv, 3, 16);
    long slots = (long)(((size_t)live_mib << 20) / (LIVE_NODES * NODE_BYTES));
    long temps = (long)(((size_t)alloc_mib << 20) / (TEMP_NODES * NODE_BYTES));
    BENCH_CHECK(slots > 0, "live set too small");
    uint64_t rng = 0x11FE5E7ULL;

    bench_init();
    uint64_t t0 = bench_now_ns();
    struct bench_ptrs *set = NULL;
    struct lnode *t = NULL;
    BENCH_FRAME(&set, &t);
    set = bench_ptrs_new((size_t)slots);
    /* tags[i]: the tag slot i's tree carries (outside the heap). */
    long *tags = malloc((size_t)slots * sizeof *tags);
    BENCH_CHECK(tags, "out of memory");
    for (long i = 0; i < slots; i++) {
        t = make_tree(LIVE_DEPTH, i);
        BENCH_STORE(set, item[i], t);
        tags[i] = i;
    }
    t = NULL;
    uint64_t t1 = bench_now_ns();
    bench_pauses_reset();

    long replaced = 0, tag = slots;
    for (long k = 0; k < temps; k++) {
        t = make_tree(TEMP_DEPTH, -1);
        BENCH_CHECK(check_tree(t, -1) == TEMP_NODES, "short-lived tree broken");
        if (k % every == 0) {
            long i = (long)(next_rand(&rng) % (uint64_t)slots);
            t = make_tree(LIVE_DEPTH, tag);
            BENCH_STORE(set, item[i], t);
            tags[i] = tag++;
            replaced++;
        }
    }
    t = NULL;
    uint64_t t2 = bench_now_ns();

    for (long i = 0; i < slots; i++)
        BENCH_CHECK(check_tree(set->item[i], tags[i]) == LIVE_NODES,
                    "live tree %ld broken", i);
    BENCH_FRAME_POP();
    free(tags);

    bench_result("liveset",
                 "live_mib=%ld alloc_mib=%ld slots=%ld temps=%ld replaced=%ld "
                 "build_ms=%.1f loop_ms=%.1f time_ms=%.1f",
                 live_mib, alloc_mib, slots, temps, replaced,
                 (double)(t1 - t0) / 1e6, (double)(t2 - t1) / 1e6,
                 (double)(bench_now_ns() - t0) / 1e6);
    bench_finish();
    return 0;
}
