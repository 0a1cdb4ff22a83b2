/*
 * import_table.c -- imported remote references, the way a distributed-object
 * runtime keeps them.
 *
 * A remote object is known locally by its id.  The import table maps each
 * id to a WeakRef to the local proxy, so the table itself keeps no proxy
 * alive, and a FinalizationRegistry (holdings: the id) says when a proxy
 * was collected, which is when the runtime may tell the remote side "drop".
 *
 * The trap this example exists for: an id re-imported after its proxy died
 * but before the cleanup ran gets a fresh proxy; the old proxy's cleanup
 * arrives late and must not drop the new one.  So the cleanup acts only if
 * the table's WeakRef for the id is empty.
 *
 * Automatic collection is off: collections happen only in
 * bring_out_your_dead (and the explicit `collect`), so a replayed input
 * produces the same output every time.
 *
 * Input, one command per line:
 *   import ID   get (or make) the proxy for ID; the program holds it
 *   release ID  the program lets go of its proxy for ID
 *   collect     a collection only: cleanups stay queued
 *   bring_out_your_dead   collect and run cleanups until quiet; prints the
 *               dropped ids, sorted
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <wgc.h>

#define MAX_IDS 1024 /* ids are 0..MAX_IDS-1: enough for the example */

typedef struct proxy {
    uint64_t id;
    unsigned serial; /* which proxy this is, for the transcript */
} proxy;

static const wgc_type proxy_type = {.name = "proxy"};

typedef struct runtime {
    wgc_heap *heap;
    wgc_registry *registry; /* held by the `registry_root` handle */
    wgc_root *registry_root;
    wgc_weakref *table[MAX_IDS]; /* the import table: id -> WeakRef */
    proxy *held[MAX_IDS];        /* what the program itself holds */
    uint64_t dropped[MAX_IDS];
    size_t ndropped;
    unsigned serials;
} runtime;

/* The table's WeakRefs and the program's proxies are roots. */
static void trace_runtime(wgc_visitor *v, void *user)
{
    runtime *rt = user;
    for (size_t i = 0; i < MAX_IDS; i++) {
        wgc_visit(v, &rt->table[i]);
        wgc_visit(v, &rt->held[i]);
    }
}

/* Holdings are the id as a tagged integer: not a heap pointer, so the
 * library stores it as is and never traces it. */
static void *id_holdings(uint64_t id) { return (void *)(uintptr_t)(id << 1 | 1); }
static uint64_t holdings_id(void *h) { return (uint64_t)(uintptr_t)h >> 1; }

static int proxy_collected(wgc_heap *heap, void *holdings, void *user)
{
    runtime *rt = user;
    uint64_t id = holdings_id(holdings);
    wgc_weakref *ref = rt->table[id];
    if (!ref)
        return 0; /* dropped already, by the cleanup of a newer proxy */
    if (wgc_weakref_deref(heap, ref)) {
        printf("  late cleanup for an old proxy of %" PRIu64 ": ignored, a new one is alive\n",
               id);
        return 0;
    }
    rt->table[id] = NULL;
    rt->dropped[rt->ndropped++] = id;
    return 0;
}

static proxy *import(runtime *rt, uint64_t id)
{
    proxy *p = rt->table[id] ? wgc_weakref_deref(rt->heap, rt->table[id]) : NULL;
    if (p)
        return p;
    p = wgc_alloc(rt->heap, &proxy_type, sizeof *p);
    if (!p)
        return NULL;
    p->id = id;
    p->serial = ++rt->serials;
    /* p is only in a local: root it while the next calls allocate */
    WGC_FRAME(rt->heap, &p);
    wgc_weakref *ref = wgc_weakref_new(rt->heap, p, NULL);
    bool ok = ref && wgc_registry_register(rt->registry, p, id_holdings(id), NULL);
    if (ok)
        rt->table[id] = ref; /* replaces (and so forgets) an empty old ref */
    WGC_FRAME_POP(rt->heap);
    return ok ? p : NULL;
}

static int compare_ids(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return (x > y) - (x < y);
}

static void bring_out_your_dead(runtime *rt)
{
    wgc_collect_and_cleanup(rt->heap);
    qsort(rt->dropped, rt->ndropped, sizeof rt->dropped[0], compare_ids);
    printf("dropped:");
    for (size_t i = 0; i < rt->ndropped; i++)
        printf(" %" PRIu64, rt->dropped[i]);
    printf(rt->ndropped ? "\n" : " nothing\n");
    rt->ndropped = 0;
}

int main(void)
{
    static runtime rt;
    wgc_config cfg;
    wgc_config_init(&cfg);
    cfg.auto_collect = false;
    cfg.trace_roots = trace_runtime;
    cfg.trace_roots_user = &rt;
    rt.heap = wgc_heap_new(&cfg);
    if (!rt.heap)
        return 1;
    rt.registry = wgc_registry_new(rt.heap, proxy_collected, &rt);
    rt.registry_root = wgc_root_new(rt.heap, rt.registry);
    if (!rt.registry || !rt.registry_root)
        return 1;

    char line[256], cmd[64];
    uint64_t id = 0;
    int status = 0;
    while (fgets(line, sizeof line, stdin)) {
        if (line[0] == '#' || line[0] == '\n')
            continue;
        int n = sscanf(line, "%63s %" SCNu64, cmd, &id);
        if (n == 2 && id >= MAX_IDS) {
            printf("id %" PRIu64 " out of range\n", id);
            status = 1;
        } else if (n == 2 && strcmp(cmd, "import") == 0) {
            proxy *p = import(&rt, id);
            if (!p) {
                printf("import %" PRIu64 ": %s\n", id, wgc_error_string(wgc_last_error(rt.heap)));
                status = 1;
                continue;
            }
            printf("import %" PRIu64 " -> proxy #%u%s\n", id, p->serial,
                   rt.held[id] == p ? " (already held)" : "");
            rt.held[id] = p;
        } else if (n == 2 && strcmp(cmd, "release") == 0) {
            rt.held[id] = NULL;
        } else if (n == 1 && strcmp(cmd, "collect") == 0) {
            wgc_collect(rt.heap);
            printf("collect: %zu cleanup(s) queued\n", wgc_cleanup_pending(rt.heap));
        } else if (n == 1 && strcmp(cmd, "bring_out_your_dead") == 0) {
            bring_out_your_dead(&rt);
        } else {
            printf("unknown command: %s", line);
            status = 1;
        }
    }
    wgc_root_free(rt.registry_root);
    wgc_heap_free(rt.heap);
    return status;
}
