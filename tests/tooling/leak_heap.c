/*
 * tests/tooling/leak_heap.c -- a deliberately broken program: it makes a
 * heap, allocates in it, and loses the heap without wgc_heap_free.
 * Memcheck (--leak-check=full) must report memory definitely lost; the
 * driver fails if not.
 */
#include "wgc.h"

#include <stdio.h>

typedef struct cell {
    struct cell *next;
    long value;
} cell;

static void cell_trace(void *obj, wgc_visitor *v)
{
    wgc_visit(v, &((cell *)obj)->next);
}

static const wgc_type cell_type = {.name = "cell", .trace = cell_trace};

/* Not inlined, so the heap pointer dies with this frame. */
__attribute__((noinline)) static int make_and_forget(int n)
{
    wgc_heap *h = wgc_heap_new(NULL);
    if (!h)
        return -1;
    wgc_root *r = wgc_root_new(h, NULL);
    for (int i = 0; i < n; i++) {
        cell *c = wgc_alloc(h, &cell_type, sizeof *c);
        if (!c)
            return -1;
        c->value = i;
        c->next = wgc_root_get(r);
        wgc_root_set(r, c);
    }
    wgc_collect(h);
    return (int)((cell *)wgc_root_get(r))->value;
    /* the bug: no wgc_heap_free(h) */
}

/* Overwrites the stack area the heap pointer lived in. */
__attribute__((noinline)) static void scrub_stack(void)
{
    volatile char junk[4096];
    for (size_t i = 0; i < sizeof junk; i++)
        junk[i] = 0;
}

int main(void)
{
    int last = make_and_forget(1000);
    scrub_stack();
    printf("leak_heap: last value %d, heap forgotten\n", last);
    return last == 999 ? 0 : 2;
}
