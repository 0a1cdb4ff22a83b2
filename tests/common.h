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

#if defined(__has_include)
#if __has_include(<valgrind/valgrind.h>)
#include <valgrind/valgrind.h>
#endif
#endif
#ifndef RUNNING_ON_VALGRIND
#define RUNNING_ON_VALGRIND 0
#endif

#if defined(__SANITIZE_ADDRESS__)
#define TEST_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define TEST_ASAN 1
#endif
#endif
#ifndef TEST_ASAN
#define TEST_ASAN 0
#endif

#define UNUSED __attribute__((unused))

/* =============================================================== runtime */

static inline bool under_valgrind(void)
{
    return RUNNING_ON_VALGRIND != 0;
}

/* The stress interval from the environment (WGC_STRESS=N), 0 if none. */
static inline unsigned stress_interval(void)
{
    const char *s = getenv("WGC_STRESS");
    return s && *s ? (unsigned)strtoul(s, NULL, 10) : 0;
}

/* Under valgrind, or when every N-th allocation collects, big workloads
 * are scaled down: `full` normally, `small` under a tool or stress. */
static inline size_t scaled(size_t full, size_t small)
{
    return (under_valgrind() || stress_interval()) ? small : full;
}

/* Tests of the collection *policy* (when collections happen, how often)
 * cannot hold when the stress switch collects at every N-th allocation:
 * they switch it off for their own process (each test is a process). */
static inline void no_stress(void)
{
    unsetenv("WGC_STRESS");
}

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
