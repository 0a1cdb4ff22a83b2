/*
 * diag/diag_internal.h -- the diagnostic walk shared by the census, the
 * retaining paths and the heap snapshot.  docs/diag.md states the rules
 * D1... that the code cites.
 */
#ifndef WGC_DIAG_INTERNAL_H
#define WGC_DIAG_INTERNAL_H

#include "gc/internal.h"

#include <stdio.h>

/* "No node": a parent that is a root, a walk that holds no object. */
#define DIAG_NONE SIZE_MAX

/* An address-keyed map to size_t (keys are objects or spans, never
 * NULL): gc/addrtable.h's table, key and value side by side (one miss).
 * Its memory is the process's, not the heap's [D1]. */
typedef struct dmap_slot {
    const void *key;
    size_t value;
} dmap_slot;
typedef addrtable dmap;

/* A growable array of fixed-size items, plain malloc [D1]. */
typedef struct dvec {
    char *items;
    size_t count, capacity, item_size;
} dvec;
#define DVEC_AT(v, type, i) (((type *)(v)->items)[i])

/* How a slot sits in its holder: its byte offset if it lies inside the
 * holder object, else its ordinal among the holder's reported slots. */
typedef struct dslot {
    size_t where;             /* offset (in_object) or ordinal */
    bool in_object;
} dslot;

/* A reachable object, in walk order [D3]. */
typedef struct dnode {
    void *obj;
    size_t parent;            /* node index, or DIAG_NONE: from a root */
    size_t root;              /* parent DIAG_NONE: its index in walk.roots */
    dslot slot;               /* the slot of the parent that reached it */
    void *key;                /* reached as an ephemeron's value: its key */
    size_t first_edge;        /* snapshot: its edges in walk.edges */
} dnode;

/* A root slot: strong (it adds a node), weak, or an ephemeron's value
 * (strong only when its key is reached, `key` set). */
typedef struct droot {
    wgc_root_kind kind;
    size_t index, slot;
    const void *address;
    void *target;
    void *key;
    bool weak;
} droot;

/* A slot of a scanned object, recorded for the snapshot: its target (which
 * may turn out unreachable: the writer leaves such edges out). */
typedef struct dedge {
    void *target;
    void *key;                /* an ephemeron's value: needs this key */
    dslot slot;
    bool weak;
} dedge;

/* An ephemeron's value waiting for its key to be reached [D2]. */
typedef struct dpending {
    size_t holder;            /* node index, or DIAG_NONE for a root */
    size_t root;              /* holder DIAG_NONE: index in walk.roots */
    void *value;
    dslot slot;
    size_t next;              /* next pending on the same key, or DIAG_NONE */
} dpending;

/* The visited set [D1]: per span that holds a reached object, a side
 * array of 1 + node index per granule (one word for a large object), 0
 * for objects not reached.  Far from a hash of every object, it keeps the
 * heap's locality: a list or tree walks its pages, not a 32 MiB table. */
typedef struct dseen {
    dmap spans;               /* span -> index in tables */
    uint32_t **tables;
    size_t count, capacity;
    const span *last;         /* the span looked up last, and its table */
    uint32_t *last_table;
} dseen;

typedef struct dwalk {
    wgc_visitor v;            /* first: the visitor handed to callbacks */
    wgc_heap *heap;
    dseen seen;               /* object -> node index */
    dvec nodes;               /* dnode, in walk order */
    dvec roots;               /* droot, in the collector's root order */
    dvec edges;               /* dedge (record_edges only) */
    dvec pending;             /* dpending */
    dmap waiting;             /* key -> first dpending index */
    bool record_edges;        /* keep every slot for the snapshot */
    const void *stop_at;      /* stop once this object is reached */
    bool oom;                 /* some memory was refused: results void */
    size_t dangling;          /* slots not pointing at a live object */
    /* the holder being reported on */
    size_t holder;            /* node index, DIAG_NONE while roots report */
    const char *holder_start;
    size_t holder_size;
    size_t ordinal;           /* its non-NULL slots reported so far */
    wgc_root_kind root_kind;  /* while roots report: their kind, index */
    size_t root_index, root_slot;
} dwalk;

/* Walks the objects reachable from the roots now [D2], without marking,
 * allocating from the heap or changing its statistics [D1], for an entry
 * point that wgc__enter let in.  WGC_ENOMEM when memory ran out, for it
 * to record; the walk must be released either way. */
wgc_error wgc__diag_walk(wgc_heap *heap, dwalk *w, bool record_edges,
                         const void *stop_at);
void wgc__diag_walk_free(dwalk *w);

/* The bytes an object takes, counted as wgc_stats counts live_bytes: its
 * cell (header included) or a large object's usable size. */
size_t wgc__diag_bytes(const void *obj);
/* A type's name for reports: never NULL. */
const char *wgc__diag_name(const wgc_type *t);

/* The node of obj, DIAG_NONE if the walk did not reach it. */
size_t wgc__diag_node_of(dwalk *w, const void *obj);

void wgc__dmap_init(dmap *m);
size_t wgc__dmap_get(const dmap *m, const void *key); /* DIAG_NONE: absent */
/* Sets key's value, inserting it if absent; false if memory was refused. */
bool wgc__dmap_put(dmap *m, void *key, size_t value);
void wgc__dmap_free(dmap *m);

#endif
