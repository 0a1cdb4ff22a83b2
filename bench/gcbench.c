/*
 * gcbench.c -- GCBench (John Ellis and Pete Kovac, C version by Hans
 * Boehm), written anew for bench.h.
 *
 * Builds a stretch tree, then a long-lived tree and an array of doubles
 * that stay alive throughout, then many short-lived complete binary trees
 * of growing depth, both top-down (allocate a node, then populate its
 * children) and bottom-up (children first).  Each depth builds the same
 * number of nodes in total.
 *
 * usage: gcbench [stretch_depth [long_lived_depth [max_depth [array_size]]]]
 *        defaults 18 16 16 500000; min depth is 4, step 2.
 */
#include "bench.h"

struct node {
    struct node *left, *right;
    int i, j;
};

static const bench_type node_type = {.name = "node",
    .pointer_words = BENCH_WORD(struct node, left) | BENCH_WORD(struct node, right)};
static const bench_type doubles_type = {.name = "doubles"};

static uint64_t nodes_made;

/* Does not allocate after its own allocation: l and r need no rooting
 * beyond the caller's. */
static struct node *new_node(struct node *l, struct node *r)
{
    struct node *n = bench_alloc(&node_type, sizeof *n);
    n->left = l;
    n->right = r;
    n->i = n->j = 0;
    nodes_made++;
    return n;
}

static long tree_size(int depth)
{
    return (1L << (depth + 1)) - 1;
}

static long count_nodes(const struct node *n)
{
    return n ? 1 + count_nodes(n->left) + count_nodes(n->right) : 0;
}

static void tree_free(struct node *n)
{
    if (!n)
        return;
    tree_free(n->left);
    tree_free(n->right);
    bench_free(n);
}

/* Top-down: gives `n` two fresh children, then recurses into them. */
static void populate(int depth, struct node *n)
{
    if (depth <= 0)
        return;
    BENCH_FRAME(&n);
    BENCH_STORE(n, left, new_node(NULL, NULL));
    BENCH_STORE(n, right, new_node(NULL, NULL));
    populate(depth - 1, n->left);
    populate(depth - 1, n->right);
    BENCH_FRAME_POP();
}

/* Bottom-up: children first, then their parent. */
static struct node *make_tree(int depth)
{
    if (depth <= 0)
        return new_node(NULL, NULL);
    struct node *l = NULL, *r = NULL, *n;
    BENCH_FRAME(&l, &r);
    l = make_tree(depth - 1);
    r = make_tree(depth - 1);
    n = new_node(l, r);
    BENCH_FRAME_POP();
    return n;
}

static void time_construction(int depth, int stretch_depth)
{
    long iters = 2 * tree_size(stretch_depth) / tree_size(depth);
    struct node *t = NULL;
    BENCH_FRAME(&t);
    for (long i = 0; i < iters; i++) {
        t = new_node(NULL, NULL);
        populate(depth, t);
        /* Checking every tree would double the work; the last one of each
         * kind is checked, and nodes_made checks the total. */
        if (i == iters - 1)
            BENCH_CHECK(count_nodes(t) == tree_size(depth),
                        "top-down tree of depth %d has %ld nodes", depth,
                        count_nodes(t));
        if (BENCH_EXPLICIT_FREE)
            tree_free(t);
        t = NULL;
    }
    for (long i = 0; i < iters; i++) {
        t = make_tree(depth);
        if (i == iters - 1)
            BENCH_CHECK(count_nodes(t) == tree_size(depth),
                        "bottom-up tree of depth %d has %ld nodes", depth,
                        count_nodes(t));
        if (BENCH_EXPLICIT_FREE)
            tree_free(t);
        t = NULL;
    }
    BENCH_FRAME_POP();
}

int main(int argc, char **argv)
{
    int stretch_depth = (int)bench_arg(argc, argv, 1, 18);
    int long_lived_depth = (int)bench_arg(argc, argv, 2, 16);
    int max_depth = (int)bench_arg(argc, argv, 3, 16);
    long array_size = bench_arg(argc, argv, 4, 500000);
    const int min_depth = 4;
    BENCH_CHECK(stretch_depth < 30 && long_lived_depth < 30 && max_depth < 30 &&
                    array_size > 2002,
                "sizes out of range");

    bench_init();
    uint64_t t0 = bench_now_ns();

    struct node *tmp = NULL, *long_lived = NULL;
    double *array = NULL;
    BENCH_FRAME(&tmp, &long_lived, &array);

    /* Stretch the heap to its working size first. */
    tmp = make_tree(stretch_depth);
    BENCH_CHECK(count_nodes(tmp) == tree_size(stretch_depth),
                "stretch tree is wrong");
    if (BENCH_EXPLICIT_FREE)
        tree_free(tmp);
    tmp = NULL;

    long_lived = new_node(NULL, NULL);
    populate(long_lived_depth, long_lived);

    array = bench_alloc(&doubles_type, (size_t)array_size * sizeof *array);
    for (long i = 0; i < array_size / 2; i++)
        array[i] = 1.0 / (double)i;
    for (long i = array_size / 2; i < array_size; i++)
        array[i] = 0.0;

    for (int d = min_depth; d <= max_depth; d += 2)
        time_construction(d, stretch_depth);

    BENCH_CHECK(count_nodes(long_lived) == tree_size(long_lived_depth),
                "long-lived tree lost nodes");
    BENCH_CHECK(array[1000] == 1.0 / 1000.0, "array was overwritten");

    uint64_t expect = (uint64_t)tree_size(stretch_depth) +
                      (uint64_t)tree_size(long_lived_depth);
    for (int d = min_depth; d <= max_depth; d += 2)
        expect += 2 * (uint64_t)(2 * tree_size(stretch_depth) / tree_size(d)) *
                  (uint64_t)tree_size(d);
    BENCH_CHECK(nodes_made == expect, "made %llu nodes, expected %llu",
                (unsigned long long)nodes_made, (unsigned long long)expect);

    if (BENCH_EXPLICIT_FREE) {
        tree_free(long_lived);
        bench_free(array);
    }
    long_lived = NULL;
    array = NULL;
    BENCH_FRAME_POP();

    bench_result("gcbench", "nodes=%llu time_ms=%.1f",
                 (unsigned long long)nodes_made,
                 (double)(bench_now_ns() - t0) / 1e6);
    bench_finish();
    return 0;
}
