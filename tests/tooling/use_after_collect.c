/*
 * tests/tooling/use_after_collect.c -- a deliberately broken program: it
 * keeps a pointer to an object in a C global (not a root), lets the
 * collector reclaim the object, then reads it.  Memcheck must report an
 * invalid read and ASan a use-after-poison; the drivers fail if not.
 */
#include "wgc.h"

#include <stdio.h>

typedef struct cell {
    long value;
    struct cell *next;
} cell;

static void cell_trace(void *obj, wgc_visitor *v)
{
    wgc_visit(v, &((cell *)obj)->next);
}

static const wgc_type cell_type = {.name = "cell", .trace = cell_trace};

static cell *volatile dangling;

int main(void)
{
    wgc_heap *h = wgc_heap_new(NULL);
    if (!h)
        return 2;
    wgc_root *keep = wgc_root_new(h, NULL);
    for (int i = 0; i < 100; i++) {
        cell *c = wgc_alloc(h, &cell_type, sizeof *c);
        if (!c)
            return 2;
        c->value = i;
        if (i == 50)
            dangling = c;          /* not a root: the bug */
        else
            wgc_root_set(keep, c); /* neighbours stay alive */
    }
    wgc_collect(h);
    if (wgc_is_object(h, dangling)) {
        fprintf(stderr, "use_after_collect: the object was not collected\n");
        return 3;
    }
    long v = dangling->value;     /* the invalid read */
    printf("read %ld from a collected object\n", v);
    wgc_root_free(keep);
    wgc_heap_free(h);
    return 0;
}
