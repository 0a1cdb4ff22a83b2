/*
 * weak/weak_internal.h -- the layout of WeakRefs and groups, shared by
 * weak/weakref.c and weak/group.c.  docs/weak.md states the rules W1...
 */
#ifndef WGC_WEAK_INTERNAL_H
#define WGC_WEAK_INTERNAL_H

#include "gc/internal.h"
#include "finalize/queue.h"

#define WGC_SIG_GROUP 0x47525550u /* "GRUP" */

enum weakref_flags {
    REF_HOLDINGS_TRACED = 1, /* holdings was a heap object when made */
    REF_QUEUED = 2           /* waiting in its group's queue */
};

/* A plain WeakRef: 24 bytes, a 32-byte cell.  Every kind of ref starts
 * with its target. */
struct wgc_weakref {
    void *target;            /* weak [W1] */
    void *holdings;          /* strong if REF_HOLDINGS_TRACED */
    uintptr_t flags;
};

/* A WeakRef made without holdings is its target alone: 8 bytes, a 16-byte
 * cell (wgc__weakref_bare_type).  Only `target` may be touched. */
typedef struct bare_ref {
    void *target;            /* weak [W1] */
} bare_ref;

/* A group's ref: a WeakRef with queue links.  While queued the group holds
 * it (and so its holdings) strongly [W7]; the links are traced by the
 * group, never by the ref. */
typedef struct group_ref {
    struct wgc_weakref ref;  /* first: a group_ref is a wgc_weakref */
    wgc_group *group;        /* weak: a dead group queues nothing [W10] */
    uint64_t seq;            /* registration order, heap-wide */
    uint64_t queued_epoch;   /* the collection that found the target dead */
    struct group_ref *prev, *next;
} group_ref;

struct wgc_group {
    queue_owner q;           /* first: a group is a queue owner */
    wgc_group_fn executor;
    void *user;
    group_ref *head, *tail;  /* the queue, oldest first */
    bool shut;               /* wgc_group_shutdown ran: nothing queues [W15] */
};

extern const wgc_type wgc__weakref_type;
extern const wgc_type wgc__weakref_bare_type;
extern const wgc_type wgc__group_ref_type;

/* Makes a ref of `type`, checking arguments as wgc_weakref_new does. */
struct wgc_weakref *wgc__weakref_make(wgc_heap *heap, const wgc_type *type,
                                      void *target, void *holdings);
void wgc__group_unlink(wgc_group *g, group_ref *r);
/* Drops a group ref's holdings (cleared, delivered or dropped by its
 * group's shutdown): no executor can be handed them any more [W8]. */
static inline void wgc__group_ref_release(group_ref *r)
{
    r->ref.holdings = NULL;
    r->ref.flags &= ~(uintptr_t)REF_HOLDINGS_TRACED;
}

/* The weak map's layout (weak/weakmap.c explains it), here for the
 * white-box tests of its check [G10]. */
#define WGC_SIG_WEAKMAP 0x574d4150u /* "WMAP" */
typedef struct wm_entry {
    void *key;               /* NULL: free, or emptied by a collection */
    void *value;
    uint32_t slot;           /* its index slot; NIL while free */
    uint32_t next;           /* the free list */
} wm_entry;

typedef struct wm_slot {
    void *key;               /* FREE, NULL (a tombstone), or a key */
    void *value;
} wm_slot;

struct wgc_weakmap {
    special sp;
    wm_slot *slots;          /* the index: capacity slots */
    uint32_t *owner;         /* owner[s]: the entry whose copy slot s holds */
    wm_entry *pool;          /* capacity / 2 entries: used never exceeds it */
    uint32_t capacity;       /* a power of two, or 0 before the first set */
    uint32_t count;          /* entries */
    uint32_t used;           /* slots with copies or tombstones: <= capacity / 2 */
    uint32_t pool_size;      /* entries in use or on the free list */
    uint32_t free_list;
    bool waited;             /* an entry waited in this collection's marking */
    bool traced;             /* traced since its last after_weak: only then
                              * can an entry have died [Y5] */
};

/* White-box, for tests [A1]: the weak map's slots as lookups probe them. */
typedef struct wgc__probe_shape {
    size_t entries;          /* live entries */
    size_t slots;            /* capacity */
    size_t used;             /* entries and tombstones */
    size_t probes;           /* slots read by a hit on every entry */
    size_t longest;          /* the most slots one hit reads */
    size_t mismatches;       /* slots whose entry disagrees, and 1 if the
                              * pool's entries are not `count` */
} wgc__probe_shape;
void wgc__weakmap_shape(const wgc_weakmap *m, wgc__probe_shape *out);

#endif
