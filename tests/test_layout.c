/*
 * tests/test_layout.c -- types described by pointer_words instead of (or
 * beside) a trace callback: exactly the listed words are strong slots.
 */
#include "common.h"

/* A node whose middle word is not a pointer field, even when it happens to
 * hold an object's address: a precise collector must not retain it. */
typedef struct lnode {
    struct lnode *left;
    uintptr_t payload;
    struct lnode *right;
} lnode;

static const wgc_type lnode_type = {
    .name = "lnode",
    .pointer_words = WGC_WORD(lnode, left) | WGC_WORD(lnode, right)};

static unsigned long victims_destroyed;
static void victim_destroy(void *obj)
{
    (void)obj;
    victims_destroyed++;
}
static const wgc_type victim_type = {.name = "victim", .destroy = victim_destroy};

static lnode *build(wgc_heap *h, int depth, uintptr_t *next_id)
{
    lnode *n = wgc_alloc(h, &lnode_type, sizeof *n);
    cr_assert_not_null(n);
    n->payload = (*next_id)++;
    if (depth > 0) {
        WGC_FRAME(h, &n);
        lnode *l = build(h, depth - 1, next_id);
        WGC_STORE(h, n, left, l);
        lnode *r = build(h, depth - 1, next_id);
        WGC_STORE(h, n, right, r);
        WGC_FRAME_POP(h);
    }
    return n;
}

static size_t count_and_check(const lnode *n, uintptr_t *expect)
{
    if (!n)
        return 0;
    cr_assert_eq(n->payload, (*expect)++, "node payload overwritten");
    size_t c = 1 + count_and_check(n->left, expect);
    return c + count_and_check(n->right, expect);
}

Test(layout, listed_words_keep_a_tree_alive)
{
    wgc_heap *h = new_heap();
    uintptr_t id = 0;
    wgc_root *root = wgc_root_new(h, build(h, 12, &id));
    for (int i = 0; i < 3; i++) {
        collect(h);
        uintptr_t expect = 0;
        cr_assert_eq(count_and_check(wgc_root_get(root), &expect), (size_t)(1 << 13) - 1);
        verify(h);
    }
    /* Cut the left subtree: exactly the right half and the root stay. */
    lnode *top = wgc_root_get(root);
    top->left = NULL;
    collect(h);
    wgc_heap_stats st = get_stats(h);
    const size_t cell = 32; /* 24 bytes and the header word */
    cr_assert_eq(st.live_bytes, ((size_t)1 << 12) * cell, "live bytes %zu", st.live_bytes);
    wgc_root_free(root);
    collect(h);
    cr_assert_eq(get_stats(h).live_bytes, 0);
    wgc_heap_free(h);
}

Test(layout, words_outside_the_layout_are_not_roots)
{
    wgc_heap *h = new_heap();
    lnode *n = wgc_alloc(h, &lnode_type, sizeof *n);
    wgc_root *root = wgc_root_new(h, n);
    void *victim = wgc_alloc(h, &victim_type, 16);
    cr_assert_not_null(victim);
    n->payload = (uintptr_t)victim; /* an address, but not in a listed word */
    victim = NULL;
    collect(h);
    cr_assert_eq(victims_destroyed, 1, "an unlisted word retained its target");
    cr_assert(wgc_is_object(h, wgc_root_get(root)));
    wgc_root_free(root);
    wgc_heap_free(h);
}

/* Layout for the strong field, trace for the weak one. */
typedef struct both {
    struct lnode *strong;
    struct lnode *weak;
} both;

static void both_trace(void *obj, wgc_visitor *v)
{
    wgc_visit_weak(v, &((both *)obj)->weak);
}

static const wgc_type both_type = {.name = "both",
                                   .trace = both_trace,
                                   .pointer_words = WGC_WORD(both, strong)};

Test(layout, trace_runs_beside_the_words)
{
    wgc_heap *h = new_heap();
    both *b = wgc_alloc(h, &both_type, sizeof *b);
    wgc_root *root = wgc_root_new(h, b);
    lnode *kept = wgc_alloc(h, &lnode_type, sizeof *kept);
    WGC_STORE(h, b, strong, kept);
    lnode *weak = wgc_alloc(h, &lnode_type, sizeof *weak);
    WGC_STORE(h, b, weak, weak);
    kept = weak = NULL;
    collect(h);
    b = wgc_root_get(root);
    cr_assert_not_null(b->strong, "the layout's word did not keep its target");
    cr_assert(wgc_is_object(h, b->strong));
    cr_assert_null(b->weak, "the trace callback's weak slot was not cleared");
    cr_assert_eq(get_stats(h).weak_slots_cleared, 1);
    wgc_root_free(root);
    wgc_heap_free(h);
}

/* Word 63, the last a layout can name. */
static const wgc_type word63_type = {.name = "word63", .pointer_words = (uint64_t)1 << 63};

Test(layout, size_must_cover_every_word)
{
    wgc_heap *h = new_heap();
    wgc_heap_stats before = get_stats(h);
    cr_assert_null(wgc_alloc(h, &lnode_type, 2 * sizeof(void *)),
                   "a size ending before the last word was accepted");
    cr_assert_eq(wgc_last_error(h), WGC_EINVAL);
    cr_assert_null(wgc_alloc(h, &word63_type, 63 * sizeof(void *)));
    cr_assert_eq(wgc_last_error(h), WGC_EINVAL);
    wgc_heap_stats after = get_stats(h);
    cr_assert_eq(after.objects_allocated, before.objects_allocated);
    cr_assert_eq(after.bytes_allocated, before.bytes_allocated);
    wgc_clear_error(h);

    void **w = wgc_alloc(h, &word63_type, 64 * sizeof(void *));
    cr_assert_not_null(w, "a size covering word 63 was refused");
    wgc_root *root = wgc_root_new(h, w);
    w[63] = wgc_alloc(h, &lnode_type, sizeof(lnode));
    wgc_write_barrier(h, w);
    cr_assert_not_null(w[63]);
    collect(h);
    w = wgc_root_get(root);
    cr_assert(wgc_is_object(h, w[63]), "word 63 did not keep its target");
    cr_assert_eq(wgc_last_error(h), WGC_OK);
    wgc_root_free(root);
    wgc_heap_free(h);
}

Test(layout, large_object_words)
{
    wgc_heap *h = new_heap();
    const size_t size = 100000; /* a large object of its own */
    void **big = wgc_alloc(h, &word63_type, size);
    cr_assert_not_null(big);
    wgc_root *root = wgc_root_new(h, big);
    big[63] = wgc_alloc(h, &lnode_type, sizeof(lnode));
    wgc_write_barrier(h, big);
    big[64] = wgc_alloc(h, &victim_type, 16); /* past the layout: not a slot */
    collect(h);
    big = wgc_root_get(root);
    cr_assert(wgc_is_object(h, big[63]));
    cr_assert_eq(victims_destroyed, 1);
    wgc_root_free(root);
    wgc_heap_free(h);
}
