/*
 * storeheavy.c -- random pointer stores into a large old structure, each
 * through the write barrier: what the barrier costs.
 *
 * Builds n nodes (default 2,000,000: 96 MB of nodes, a 16 MB index array,
 * and up to 64 MB of leaves once the stores have filled them in), held in
 * a rooted index array and linked into a chain.  Then makes s stores
 * (default 6,000,000) into random nodes: every e-th (default 2) a
 * new leaf object is allocated and stored into the node's leaf field,
 * replacing the one before; every other store writes a pointer to another
 * random node into one of the node's two link fields, so the structure
 * becomes a random graph.  Every store into a node goes through
 * BENCH_STORE (wgc: WGC_STORE, the assignment and wgc_write_barrier).
 *
 * Ownership, for malloc/free: the index array owns the nodes, a node owns
 * its leaf, links own nothing.  So the malloc variant frees the replaced
 * leaf at the store that drops it (it reads the old leaf anyway, to check
 * it) and frees everything at the end; the collectors reclaim the replaced
 * leaves and drop the structure at exit.
 *
 * `nobarrier` (wgc only, full mode only) writes the same stores without the
 * barrier, which today's full-heap mode allows: the store phase's time
 * against the default's is the price of the barrier's fast path.
 *
 * Checks: every replaced leaf is intact and still names its node; at the
 * end every node keeps its id, every link points to a node of the index,
 * and the leaf values sum to what the stores put there.
 *
 * usage: storeheavy [n [s [e [barrier|nobarrier]]]]
 */
#include "bench.h"

struct leaf;

struct snode {
    struct snode *link[2];
    struct leaf *leaf;
    long id;
};

struct leaf {
    struct snode *owner;
    long value, check;
};

static const bench_type snode_type = {.name = "snode",
    .pointer_words = BENCH_WORD(struct snode, link[0]) |
                     BENCH_WORD(struct snode, link[1]) |
                     BENCH_WORD(struct snode, leaf)};

static const bench_type leaf_type = {.name = "leaf",
    .pointer_words = BENCH_WORD(struct leaf, owner)};

static inline uint64_t next_rand(uint64_t *x)
{
    /* xorshift64* */
    *x ^= *x >> 12;
    *x ^= *x << 25;
    *x ^= *x >> 27;
    return *x * 0x2545F4914F6CDD1DULL;
}

/* The process's CPU time: steadier than the wall clock on a busy machine. */
static uint64_t cpu_now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

struct totals {
    long sum; /* of the values of the leaves in the structure */
    long leaves, links;
};

/* The store loop, instantiated twice (with and without the barrier) so
 * that neither pays a test of the other's flag per store. */
static inline __attribute__((always_inline)) void
store_loop(struct bench_ptrs *nodes, long n, long s, long every, bool barrier,
           uint64_t seed, struct totals *t)
{
    uint64_t rng = seed;
    for (long k = 0; k < s; k++) {
        uint64_t r = next_rand(&rng);
        struct snode *node = nodes->item[(r >> 1) % (uint64_t)n];
        if (k % every == 0) {
            /* The node stays reachable from the rooted index across the
             * allocation, and no collector here moves objects. */
            struct leaf *l = bench_alloc(&leaf_type, sizeof *l);
            l->owner = node;
            l->value = k + 1;
            l->check = ~(k + 1);
            struct leaf *old = node->leaf;
            if (old) {
                BENCH_CHECK(old->owner == node && old->check == ~old->value,
                            "leaf of node %ld damaged", node->id);
                t->sum -= old->value;
                bench_free(old);
            }
            if (barrier)
                BENCH_STORE(node, leaf, l);
            else
                node->leaf = l;
            t->sum += l->value;
            t->leaves++;
        } else {
            struct snode *to = nodes->item[(r >> 32) % (uint64_t)n];
            if (barrier)
                BENCH_STORE(node, link[r & 1], to);
            else
                node->link[r & 1] = to;
            t->links++;
        }
    }
}

int main(int argc, char **argv)
{
    long n = bench_arg(argc, argv, 1, 2000000);
    long s = bench_arg(argc, argv, 2, 6000000);
    long every = bench_arg(argc, argv, 3, 2);
    bool barrier = argc <= 4 || strcmp(argv[4], "barrier") == 0;
    BENCH_CHECK(argc <= 4 || barrier || strcmp(argv[4], "nobarrier") == 0,
                "mode must be barrier or nobarrier");
    const uint64_t seed = 0x5EED5106ULL;

    bench_init();
#ifdef VARIANT_WGC
    /* Leaving the barrier out is allowed in the full-heap mode only. */
    BENCH_CHECK(barrier || strcmp(bench_collector_, "full") == 0,
                "nobarrier needs the full-heap collector");
#endif
    uint64_t t0 = bench_now_ns();
    struct bench_ptrs *nodes = NULL;
    struct snode *node = NULL;
    BENCH_FRAME(&nodes, &node);
    nodes = bench_ptrs_new((size_t)n);
    for (long i = 0; i < n; i++) {
        node = bench_alloc(&snode_type, sizeof *node);
        node->link[0] = i ? nodes->item[i - 1] : NULL;
        node->link[1] = NULL;
        node->leaf = NULL;
        node->id = i;
        BENCH_STORE(nodes, item[i], node);
    }
    node = NULL;
    uint64_t t1 = bench_now_ns(), c1 = cpu_now_ns();
    uint64_t gc_before = bench_pauses.total;

    struct totals t = {0, 0, 0};
    if (barrier)
        store_loop(nodes, n, s, every, true, seed, &t);
    else
        store_loop(nodes, n, s, every, false, seed, &t);
    uint64_t t2 = bench_now_ns(), c2 = cpu_now_ns();
    uint64_t store_gc = bench_pauses.total - gc_before;

    long sum = 0;
    for (long i = 0; i < n; i++) {
        struct snode *x = nodes->item[i];
        BENCH_CHECK(x->id == i, "node %ld damaged", i);
        for (int j = 0; j < 2; j++) {
            struct snode *y = x->link[j];
            BENCH_CHECK(!y || (y->id >= 0 && y->id < n && nodes->item[y->id] == y),
                        "node %ld: link %d points outside the index", i, j);
        }
        if (x->leaf) {
            BENCH_CHECK(x->leaf->owner == x && x->leaf->check == ~x->leaf->value,
                        "leaf of node %ld damaged", i);
            sum += x->leaf->value;
        }
    }
    BENCH_CHECK(sum == t.sum, "leaf values sum to %ld, stored %ld", sum, t.sum);
    if (BENCH_EXPLICIT_FREE) {
        for (long i = 0; i < n; i++) {
            struct snode *x = nodes->item[i];
            bench_free(x->leaf);
            bench_free(x);
        }
        bench_free(nodes);
    }
    BENCH_FRAME_POP();

    double store_ms = (double)(t2 - t1) / 1e6;
    bench_result("storeheavy",
                 "n=%ld stores=%ld leaf_every=%ld barrier=%d leaves=%ld "
                 "links=%ld build_ms=%.1f store_ms=%.1f store_gc_ms=%.1f "
                 "ns_per_store=%.2f mutator_ns_per_store=%.2f "
                 "store_cpu_ms=%.1f cpu_ns_per_store=%.2f time_ms=%.1f",
                 n, s, every, barrier, t.leaves, t.links,
                 (double)(t1 - t0) / 1e6, store_ms, (double)store_gc / 1e6,
                 store_ms * 1e6 / (double)s,
                 (store_ms - (double)store_gc / 1e6) * 1e6 / (double)s,
                 (double)(c2 - c1) / 1e6, (double)(c2 - c1) / (double)s,
                 (double)(bench_now_ns() - t0) / 1e6);
    bench_finish();
    return 0;
}
