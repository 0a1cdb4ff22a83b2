/*
 * marktree.c -- the mark loop against a plain pointer chase (issue 14,
 * item 8; docs/critical-path.md, Marking).
 *
 * Builds one binary tree of 32-byte cells (two pointer fields in a
 * pointer_words layout, as binary-trees), 2^(depth+1) - 1 nodes: depth 24
 * is 1 GiB of cells.  Then, alternating, `reps` full collections
 * (wgc_collect, the collector's CPU time from wgc_stats) and `reps` walks
 * of the same tree by a DFS with an explicit stack, which reads every
 * node's two fields and pushes the non-NULL ones: the least a marker must
 * do, without marks.  Prints the medians and their ratio.
 *
 * usage: marktree-wgc [depth [reps]]   (defaults 24, 7)
 * With reps 0 it builds the tree, collects once and exits: for callgrind,
 * whose count of that one collection is the mark loop plus a sweep of
 * live pages.
 */
#include <wgc.h>

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

struct tnode {
    struct tnode *left, *right;
};

static const wgc_type tnode_type = {.name = "tnode", .pointer_words = 3};

static wgc_heap *heap;

/* Bottom-up, as binary-trees builds its trees: a node after its
 * subtrees. */
static struct tnode *build(int depth)
{
    struct tnode *l = NULL, *r = NULL, *n;
    if (depth > 0) {
        /* auto_collect is off: nothing moves or dies meanwhile. */
        l = build(depth - 1);
        r = build(depth - 1);
    }
    n = wgc_alloc(heap, &tnode_type, sizeof *n);
    if (!n) {
        fprintf(stderr, "FAIL: out of memory\n");
        exit(1);
    }
    n->left = l, n->right = r;
    return n;
}

static double cpu_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

/* The chase visits a node's right child first, as the drain does (scan
 * follows the last child it marks): children built before their parent,
 * the left subtree before the right, that is the tree's memory backwards,
 * the chase's best order. */
static size_t chase(struct tnode *root, struct tnode **stack)
{
    size_t sp = 0, n = 0;
    stack[sp++] = root;
    while (sp) {
        struct tnode *t = stack[--sp];
        n++;
        struct tnode *l = t->left, *r = t->right;
        if (l)
            stack[sp++] = l;
        if (r)
            stack[sp++] = r;
    }
    return n;
}

static int cmp(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

int main(int argc, char **argv)
{
    int depth = argc > 1 ? atoi(argv[1]) : 24;
    int reps = argc > 2 ? atoi(argv[2]) : 7;
    if (depth < 1 || depth > 30 || reps < 0 || reps > 1000) {
        fprintf(stderr, "usage: marktree-wgc [depth 1-30 [reps 0-1000]]\n");
        return 2;
    }
    wgc_config cfg;
    wgc_config_init(&cfg);
    cfg.auto_collect = false;
    heap = wgc_heap_new(&cfg);
    if (!heap) {
        fprintf(stderr, "FAIL: wgc_heap_new\n");
        return 1;
    }
    size_t nodes = ((size_t)1 << (depth + 1)) - 1;
    struct tnode *tree = build(depth);
    wgc_root *root = wgc_root_new(heap, tree);
    struct tnode **stack = malloc((size_t)(depth + 3) * sizeof *stack);
    if (!root || !stack) {
        fprintf(stderr, "FAIL: out of memory\n");
        return 1;
    }
    wgc_heap_stats st;
    wgc_collect(heap); /* the first one also sweeps what allocation left */
    if (reps == 0)
        return 0;
    double *gc = malloc(reps * sizeof *gc), *ch = malloc(reps * sizeof *ch);
    for (int i = 0; i < reps; i++) {
        wgc_collect(heap);
        wgc_stats(heap, &st);
        gc[i] = st.pause_cpu_last_ns / 1e6;
        if (st.live_bytes < nodes * 32) {
            fprintf(stderr, "FAIL: live %zu bytes, expected %zu\n", st.live_bytes, nodes * 32);
            return 1;
        }
        double t0 = cpu_ms();
        size_t seen = chase(wgc_root_get(root), stack);
        ch[i] = cpu_ms() - t0;
        if (seen != nodes) {
            fprintf(stderr, "FAIL: chase saw %zu nodes of %zu\n", seen, nodes);
            return 1;
        }
    }
    qsort(gc, reps, sizeof *gc, cmp);
    qsort(ch, reps, sizeof *ch, cmp);
    double g = gc[reps / 2], c = ch[reps / 2];
    printf("RESULT name=marktree variant=wgc nodes=%zu mib=%zu collect_ms=%.1f "
           "collect_min_ms=%.1f chase_ms=%.1f chase_min_ms=%.1f ratio=%.2f\n",
           nodes, nodes * 32 >> 20, g, gc[0], c, ch[0], g / c);
    wgc_root_free(root);
    wgc_heap_free(heap);
    free(stack);
    free(gc);
    free(ch);
    return 0;
}
