/*
 * diag/census.c -- reachable objects and bytes by type (wgc/diag.h).
 */
#include "diag/diag_internal.h"

void wgc_census_release(wgc_census *census)
{
    if (!census)
        return;
    free(census->types);
    *census = (wgc_census){0};
}

typedef struct allocated {
    size_t objects, bytes;
} allocated;

static void count_allocated(wgc_heap *heap, void *obj, void *arg)
{
    (void)heap;
    allocated *a = arg;
    a->objects++;
    a->bytes += wgc__diag_bytes(obj);
}

/* Most bytes first, then most objects, then first met: never an address. */
static int by_bytes(const void *a, const void *b)
{
    const wgc_census_entry *x = a, *y = b;
    if (x->bytes != y->bytes)
        return x->bytes > y->bytes ? -1 : 1;
    if (x->objects != y->objects)
        return x->objects > y->objects ? -1 : 1;
    return 0;
}

bool wgc_census_take(wgc_heap *heap, wgc_census *out)
{
    if (!out)
        return wgc__check_heap(heap) && wgc__fail(heap, WGC_EINVAL);
    *out = (wgc_census){0};
    if (!wgc__enter(heap))
        return false;
    dwalk w;
    bool ok = wgc__diag_walk(heap, &w, false, NULL) == WGC_OK;
    /* Types by their descriptor, in a map like the walk's. */
    dmap index;
    wgc__dmap_init(&index);
    wgc_census_entry *types = NULL;
    size_t count = 0, capacity = 0;
    for (size_t i = 0; ok && i < w.nodes.count; i++) {
        void *obj = DVEC_AT(&w.nodes, dnode, i).obj;
        const wgc_type *t = type_of(obj);
        size_t at = wgc__dmap_get(&index, t);
        if (at == DIAG_NONE) {
            if (count == capacity) {
                capacity = capacity ? capacity * 2 : 16;
                wgc_census_entry *grown = realloc(types, capacity * sizeof *types);
                if (!grown) {
                    ok = false;
                    break;
                }
                types = grown;
            }
            types[count] = (wgc_census_entry){t, wgc__diag_name(t), 0, 0};
            if (!wgc__dmap_put(&index, (void *)t, count)) {
                ok = false;
                break;
            }
            at = count++;
        }
        size_t bytes = wgc__diag_bytes(obj);
        types[at].objects++;
        types[at].bytes += bytes;
        out->objects++;
        out->bytes += bytes;
    }
    wgc__dmap_free(&index);
    wgc__diag_walk_free(&w);
    if (!ok) {
        free(types);
        *out = (wgc_census){0};
        return wgc__fail(heap, WGC_ENOMEM);
    }
    /* A stable sort: qsort is not, so ties keep their order by index. */
    for (size_t i = 1; i < count; i++) {
        wgc_census_entry e = types[i];
        size_t j = i;
        while (j > 0 && by_bytes(&types[j - 1], &e) > 0) {
            types[j] = types[j - 1];
            j--;
        }
        types[j] = e;
    }
    allocated a = {0, 0};
    wgc__each_object(heap, false, count_allocated, &a);
    out->allocated_objects = a.objects;
    out->allocated_bytes = a.bytes;
    out->type_count = count;
    out->types = types;
    return true;
}

bool wgc_census_print(const wgc_census *census, FILE *out)
{
    if (!census || !out)
        return false;
    fprintf(out, "%12s %14s  %s\n", "objects", "bytes", "type");
    for (size_t i = 0; i < census->type_count; i++) {
        const wgc_census_entry *e = &census->types[i];
        fprintf(out, "%12zu %14zu  %s\n", e->objects, e->bytes, e->name);
    }
    fprintf(out, "%12zu %14zu  reachable, %zu types\n", census->objects,
            census->bytes, census->type_count);
    fprintf(out, "%12zu %14zu  allocated (the rest is garbage awaiting the "
            "next collection)\n", census->allocated_objects,
            census->allocated_bytes);
    return !ferror(out);
}
