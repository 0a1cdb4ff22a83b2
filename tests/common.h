/*
 * tests/common.h -- types and helpers shared by the Criterion tests.
 *
 * Every test runs in its own process (Criterion forks), so the counters
 * below start at zero in each test.
 */
#ifndef WGC_TESTS_COMMON_H
#define WGC_TESTS_COMMON_H

#include <criterion/criterion.h>

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "wgc.h"

#include "tools.h"

#define UNUSED __attribute__((unused))
#define MiB ((size_t)1 << 20)

/* ================================================================= types */

/* A list node: one pointer field. 8 bytes, a 16-byte cell. */
typedef struct node {
    struct node *next;
} node;

static inline void node_trace(void *obj, wgc_visitor *v)
{
    wgc_visit(v, &((node *)obj)->next);
}

static const wgc_type UNUSED node_type = {.name = "node", .trace = node_trace};

/* Objects counted by their destructor. */
static unsigned long UNUSED destroyed_count;

typedef struct cnode {
    struct cnode *next;
    struct cnode *other;
    uint64_t id;
} cnode;

static inline void cnode_trace(void *obj, wgc_visitor *v)
{
    cnode *c = obj;
    wgc_visit(v, &c->next);
    wgc_visit(v, &c->other);
}

static inline void cnode_destroy(void *obj)
{
    (void)obj;
    destroyed_count++;
}

static const wgc_type UNUSED cnode_type = {.name = "cnode", .trace = cnode_trace, .destroy = cnode_destroy};

/* Pointer-free data, never scanned. */
static const wgc_type UNUSED blob_type = {.name = "blob"};

/* Pointer-free data with a counting destructor. */
static const wgc_type UNUSED cblob_type = {.name = "cblob", .destroy = cnode_destroy};

/* About a kilobyte, in a list: a heap fills quickly. */
typedef struct kilo {
    struct kilo *next;
    unsigned char data[1000];
} kilo;

static inline void kilo_trace(void *obj, wgc_visitor *v)
{
    wgc_visit(v, &((kilo *)obj)->next);
}

static const wgc_type UNUSED kilo_type = {.name = "kilo", .trace = kilo_trace};

/* ================================================================ heaps */

static inline wgc_heap *new_heap(void)
{
    wgc_heap *h = wgc_heap_new(NULL);
    cr_assert_not_null(h, "wgc_heap_new(NULL) failed");
    return h;
}

static inline wgc_heap *new_heap_cfg(const wgc_config *cfg)
{
    wgc_heap *h = wgc_heap_new(cfg);
    cr_assert_not_null(h, "wgc_heap_new failed");
    return h;
}

static inline wgc_heap_stats get_stats(const wgc_heap *h)
{
    wgc_heap_stats s;
    cr_assert(wgc_stats(h, &s), "wgc_stats failed");
    return s;
}

static inline void collect(wgc_heap *h)
{
    cr_assert(wgc_collect(h), "wgc_collect failed: %s",
              wgc_error_string(wgc_last_error(h)));
}

static inline void verify(wgc_heap *h)
{
    cr_assert(wgc_debug_verify(h), "wgc_debug_verify found a broken invariant");
}

/* Builds a list of `n` cnodes (ids 0..n-1 from the tail) held by `root`. */
static inline cnode *build_clist(wgc_heap *h, wgc_root *root, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        cnode *c = wgc_alloc(h, &cnode_type, sizeof *c);
        cr_assert_not_null(c, "allocation %zu failed: %s", i,
                           wgc_error_string(wgc_last_error(h)));
        c->id = i;
        c->next = wgc_root_get(root);
        wgc_root_set(root, c);
    }
    return wgc_root_get(root);
}

static inline size_t list_length(const node *n)
{
    size_t len = 0;
    for (; n; n = n->next)
        len++;
    return len;
}

#endif
