/*
 * binarytrees.c -- the Computer Language Benchmarks Game's binary-trees,
 * single-threaded, written anew for bench.h.
 *
 * A stretch tree of depth max+1, a long-lived tree of depth max, then for
 * each depth d = 4, 6, ..., max: 2^(max - d + 4) trees of depth d, each
 * built bottom-up, checked (its node count) and dropped.
 *
 * usage: binarytrees [max_depth]   (default 20)
 */
#include "bench.h"

struct tnode {
    struct tnode *left, *right;
};

static const bench_type tnode_type = {.name = "tnode",
    .pointer_words = BENCH_WORD(struct tnode, left) | BENCH_WORD(struct tnode, right)};

static struct tnode *new_tnode(struct tnode *l, struct tnode *r)
{
    struct tnode *n = bench_alloc(&tnode_type, sizeof *n);
    n->left = l;
    n->right = r;
    return n;
}

static struct tnode *bottom_up_tree(int depth)
{
    if (depth <= 0)
        return new_tnode(NULL, NULL);
    struct tnode *l = NULL, *r = NULL, *n;
    BENCH_FRAME(&l, &r);
    l = bottom_up_tree(depth - 1);
    r = bottom_up_tree(depth - 1);
    n = new_tnode(l, r);
    BENCH_FRAME_POP();
    return n;
}

static long item_check(const struct tnode *n)
{
    return n->left ? 1 + item_check(n->left) + item_check(n->right) : 1;
}

static void tree_free(struct tnode *n)
{
    if (n->left) {
        tree_free(n->left);
        tree_free(n->right);
    }
    bench_free(n);
}

static long nodes_of(int depth)
{
    return (1L << (depth + 1)) - 1;
}

int main(int argc, char **argv)
{
    const int min_depth = 4;
    int max_depth = (int)bench_arg(argc, argv, 1, 20);
    BENCH_CHECK(max_depth < 28, "depth out of range");
    if (max_depth < min_depth + 2)
        max_depth = min_depth + 2;

    bench_init();
    uint64_t t0 = bench_now_ns();
    struct tnode *long_lived = NULL, *t = NULL;
    BENCH_FRAME(&long_lived, &t);

    t = bottom_up_tree(max_depth + 1);
    long check = item_check(t);
    BENCH_CHECK(check == nodes_of(max_depth + 1), "stretch tree check %ld",
                check);
    if (BENCH_EXPLICIT_FREE)
        tree_free(t);
    t = NULL;

    long_lived = bottom_up_tree(max_depth);

    long total = 0;
    for (int d = min_depth; d <= max_depth; d += 2) {
        long iters = 1L << (max_depth - d + min_depth);
        check = 0;
        for (long i = 0; i < iters; i++) {
            t = bottom_up_tree(d);
            check += item_check(t);
            if (BENCH_EXPLICIT_FREE)
                tree_free(t);
            t = NULL;
        }
        BENCH_CHECK(check == iters * nodes_of(d),
                    "%ld trees of depth %d: check %ld", iters, d, check);
        total += check;
    }

    check = item_check(long_lived);
    BENCH_CHECK(check == nodes_of(max_depth), "long-lived tree check %ld",
                check);
    if (BENCH_EXPLICIT_FREE)
        tree_free(long_lived);
    long_lived = NULL;
    BENCH_FRAME_POP();

    char name[32];
    snprintf(name, sizeof name, "binarytrees-%d", max_depth);
    bench_result(name, "depth=%d checksum=%ld time_ms=%.1f", max_depth, total,
                 (double)(bench_now_ns() - t0) / 1e6);
    bench_finish();
    return 0;
}
