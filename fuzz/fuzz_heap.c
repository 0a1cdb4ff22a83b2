/*
 * fuzz_heap.c -- libFuzzer target: the input is a small program of heap
 * operations, run against real heaps and against a reference model kept
 * here.  Every observable outcome is checked against the model; any
 * mismatch prints a message to stderr and aborts.  README.md lists the ops.
 *
 * Program format: a configuration (two bytes), then a sequence of ops, each
 * an opcode byte followed by the argument bytes that op reads (reading past
 * the end gives 0).  At most MAX_OPS ops run.
 *
 * Collections are not predicted, they are observed: the heap may collect
 * inside any call that may allocate (auto_collect, stress mode, a full
 * max_heap_size), so the model runs from the event hook.  At
 * WGC_EVENT_COLLECT_START it computes the live set from every root the
 * library is documented to have (handles, frames, kept objects, the
 * trace_roots slots, what the library roots itself during a call: see
 * pins), and at WGC_EVENT_COLLECT_END it compares every object's fate
 * (wgc_is_object, destructors, which ran in between) and applies the weak
 * consequences: weak slots and ephemerons emptied, map entries dropped,
 * registry cells and group refs queued in (collection, registration) order.
 * A minor collection of the generational mode (MINOR_START/MINOR_END) is
 * modelled as keeping every old object (one that survived a collection)
 * as if it were a root [Y3]; the harness calls the write barrier after
 * every store into an object.
 * Cleanup callbacks and executors check each delivery as it happens, so a
 * callback may itself allocate, register, unregister and collect.
 *
 * Allocation failure (WGC_EHEAPMAX with max_heap_size, WGC_ENOMEM under
 * fault injection) is an accepted outcome of any call that may allocate;
 * the model then expects nothing to have changed but what the hook saw.
 *
 * Dead objects are remembered by id only: the harness never touches an
 * object the model says is dead.
 */
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "wgc.h"


#define MAX_OPS 3000
#define MAX_IDS 20000
#define SLOT_POOL 200000
#define NF 3
#define MAX_ROOTS 32
#define MAX_SP 4 /* maps, registries, groups: at most this many of each */
#define MAX_CELLS 16384
#define MAX_FRAMES 8
#define FRAME_SLOTS 4
#define NVM 8   /* strong slots reported by trace_roots */
#define NVMW 4  /* weak slots reported by trace_roots */
#define MAX_PINS 32
#define MAX_VEC 2048
#define MASS 8200 /* more than a mark-stack segment (8190) */
#define MAX_DATA (64 << 10)

#define MAGIC 0x6e6f6465u
#define DEAD 0xdeadbeefu

enum kind { K_NODE, K_LAYOUT, K_PLAIN, K_DATA, K_VEC, K_EPH, K_WREF, K_GREF, K_MAP, K_REG, K_GROUP };
static const char *const kind_name[] = {"node", "layout", "plain", "data", "vec", "eph",
                                        "weakref", "groupref", "map", "registry", "group"};

enum gstate { GS_NONE, GS_QUEUED, GS_DONE, GS_CLEARED, GS_ORPHAN };
enum cstate { C_REGISTERED, C_QUEUED, C_DONE };

struct state;

/* ------------------------------------------------------------ object types */

struct node { /* K_NODE: trace + destroy (the slow path) */
    uint32_t magic, id;
    struct state *st;
    void *f[NF];
    void *w; /* weak */
};

struct lnode { /* K_LAYOUT (layout + trace for w) and K_PLAIN (layout only) */
    uint32_t magic, id;
    void *f[NF];
    void *w; /* weak for K_LAYOUT; not a pointer field for K_PLAIN */
};

struct vec { /* K_VEC: variable size, trace + size + destroy */
    uint32_t magic, id;
    struct state *st;
    uint64_t n;
    void *s[];
};

struct eph { /* K_EPH: a user ephemeron (key, value) and one strong field */
    uint32_t magic, id;
    void *key, *value;
    void *f;
};

struct data { /* K_DATA: pointer-free, any size (large above 8 KiB) */
    uint32_t magic, id;
    uint8_t bytes[];
};

static void node_trace(void *obj, wgc_visitor *v);
static void node_destroy(void *obj);
static void lnode_trace(void *obj, wgc_visitor *v);
static void vec_trace(void *obj, wgc_visitor *v);
static size_t vec_size(const void *obj);
static void vec_destroy(void *obj);
static void eph_trace(void *obj, wgc_visitor *v);

#define LNODE_WORDS                                                          \
    ((uint64_t)7 << (offsetof(struct lnode, f) / sizeof(void *)))

static const wgc_type node_type = {.name = "fuzz-node", .trace = node_trace, .destroy = node_destroy};
static const wgc_type layout_type = {.name = "fuzz-layout", .trace = lnode_trace,
                                     .pointer_words = LNODE_WORDS};
static const wgc_type plain_type = {.name = "fuzz-plain", .pointer_words = LNODE_WORDS};
static const wgc_type data_type = {.name = "fuzz-data"};
static const wgc_type vec_type = {.name = "fuzz-vec", .trace = vec_trace, .destroy = vec_destroy,
                                  .size = vec_size};
static const wgc_type eph_type = {.name = "fuzz-eph", .trace = eph_trace};

/* ------------------------------------------------------------------ model */

struct mobj {
    uint8_t kind;
    bool inheap;    /* allocated and not found dead yet */
    bool destroyed; /* its destructor ran */
    bool reenter;   /* destructor / trace make refused calls */
    bool old;       /* survived a collection: a minor one keeps it [Y1] */
    uint32_t soff, ns; /* strong slots (K_EPH: key, value, f) */
    uint32_t weak;     /* weak field (node, layout) */
    void *ptr;
    size_t size;
    /* refs */
    uint32_t target; /* weak; 0 once dead or cleared */
    uint32_t hold;   /* holdings object, 0 if none or not an object */
    uintptr_t hval;  /* the holdings value as given */
    uint32_t group;  /* group refs: the group, 0 once dead */
    uint8_t gstate;
    bool relaxed;    /* queued by a collection under fault injection */
    uint64_t epoch, seq;
    int sidx;        /* maps, registries, groups: index in their table */
    void *stale;     /* K_EPH: a NULL key leaves the value untraced [W12], so
                      * a value that died meanwhile stays as it was */
};

struct cell {
    uint32_t reg;    /* registry id */
    uint32_t target; /* 0 once dead */
    uint32_t hold;   /* holdings object or 0 */
    uintptr_t hval;
    uint32_t token;  /* 0 none or dead */
    uint8_t state;
    bool relaxed;
    uint64_t epoch, seq;
};

struct spctx { /* user pointer of a registry callback or group executor */
    struct state *s;
    int idx;
};

struct state {
    /* storage kept from run to run */
    uint32_t *slot; /* SLOT_POOL model slots */
    bool *kept;     /* keep-during-job: kept[id] */
    bool *markS, *markL; /* strict and lax live sets (see model_mark) */
    int32_t *mval[MAX_SP]; /* [MAX_IDS]: -1 absent, 0 NULL value, else id */
    int index;
    /* cleared by heap_start from here to o */
    wgc_heap *heap;
    wgc_config cfg;
    bool faults; /* fault injection armed since the last "off" */
    uint32_t next_id;
    uint32_t slot_used;
    uint32_t live[MAX_IDS]; /* ids in the heap */
    uint32_t nlive;
    uint32_t ndestroyed;
    /* roots */
    wgc_root *root[MAX_ROOTS];
    uint32_t root_target[MAX_ROOTS];
    wgc_frame frame[MAX_FRAMES];
    void *fslot[MAX_FRAMES][FRAME_SLOTS];
    void *fslot_addr[MAX_FRAMES][FRAME_SLOTS];
    uint32_t fid[MAX_FRAMES][FRAME_SLOTS];
    int nframes;
    void *vm[NVM];
    uint32_t vm_id[NVM];
    void *vmw[NVMW];
    uint32_t vmw_id[NVMW];
    uint32_t pin[MAX_PINS];
    int npins;

    /* specials */
    uint32_t map_id[MAX_SP]; /* 0: free */
    uint32_t reg_id[MAX_SP];
    struct spctx regctx[MAX_SP];
    uint32_t group_id[MAX_SP];
    struct spctx groupctx[MAX_SP];
    struct cell cell[MAX_CELLS];
    uint32_t ncells;
    uint64_t seq;
    uint64_t collections; /* model's count */
    uint8_t reenter_hooks; /* bit 0: event hook, 1: cleanup_pending, 2: trace_roots */
    /* the collection in progress */
    bool in_collection;
    bool minor; /* it is a minor one (MINOR_START) */
    bool notified;
    unsigned refused; /* sites that made their refused calls this collection */
    unsigned refusals;
    /* drains */
    int drain_kind; /* 0 none, 1 all, 2 registry, 3 group (executor), 4 group manual */
    uint32_t drain_id;
    size_t drained;
    uint32_t fail_at;
    uint8_t act;
    int spawned;
    bool in_callback;
    /* stats the model predicts */
    uint64_t st_registered, st_queued, st_delivered, st_unregistered;
    uint64_t st_gqueued, st_grun;
    struct mobj o[MAX_IDS];
};

static struct state *manual_state; /* whose group wgc_group_manually_finalize drains */

static uint32_t g_ops;
/* Objects visited by collections so far (the model's and the library's
 * cost): an input stops allocating, then stops, past WORK_MAX, so that
 * stress mode with thousands of objects stays fast. */
static uint64_t g_work;
#define WORK_MAX 2000000
/* FUZZ_NO_LARGE=1: no object above 8000 bytes (see README: issue 13 item 2
 * makes ASan report large objects falsely unless user poisoning is off) */
static bool no_large;

/* The model's loops are the harness's, not the library's: keep them out of
 * libFuzzer's coverage feedback (and its comparison tracing, which made
 * them several times slower). */
#if defined(__clang__) && __clang_major__ >= 13
#define MODEL __attribute__((no_sanitize("coverage")))
#else
#define MODEL
#endif

static void fail(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "fuzz_heap: MISMATCH at op %u: ", g_ops);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
    abort();
}

#define CHECK(cond, ...)                                                     \
    do {                                                                     \
        if (!(cond))                                                         \
            fail(__VA_ARGS__);                                               \
    } while (0)

static void *P(struct state *s, uint32_t id)
{
    return id ? s->o[id].ptr : NULL;
}

static uint32_t *S(struct state *s, uint32_t id)
{
    return &s->slot[s->o[id].soff];
}

/* Whether an error is an accepted outcome of a call that may allocate. */
static bool may_fail(struct state *s, wgc_error e)
{
    return (e == WGC_EHEAPMAX && (s->cfg.max_heap_size || s->faults)) ||
           (e == WGC_ENOMEM && s->faults);
}

#define CHECK_ALLOC_FAIL(s, what)                                            \
    do {                                                                     \
        wgc_error e_ = wgc_last_error((s)->heap);                            \
        CHECK(may_fail((s), e_), "%s failed: %s", what, wgc_error_string(e_)); \
        wgc_clear_error((s)->heap);                                          \
    } while (0)

/* Calls the library must refuse from inside a collection (trace callbacks,
 * destructors, hooks, trace_roots) [G5]. */
static void refused_calls(struct state *s, const char *where, unsigned site)
{
    /* once per site and collection, 6 times per heap: debug builds print
     * every refusal */
    if ((s->refused & site) || s->refusals >= 6)
        return;
    s->refused |= site;
    s->refusals++;
    wgc_heap *h = s->heap;
    CHECK(!wgc_alloc(h, &node_type, sizeof(struct node)), "%s: wgc_alloc accepted", where);
    CHECK(wgc_last_error(h) == WGC_EREENTRY, "%s: wgc_alloc error %d", where,
          wgc_last_error(h));
    CHECK(!wgc_alloc(h, &layout_type, sizeof(struct lnode)),
          "%s: inline wgc_alloc accepted", where);
    CHECK(!wgc_alloc(h, &data_type, 32), "%s: pointer-free wgc_alloc accepted", where);
    CHECK(!wgc_collect(h), "%s: wgc_collect accepted", where);
    CHECK(wgc_run_cleanup(h, 10) == 0 && wgc_last_error(h) == WGC_EREENTRY,
          "%s: wgc_run_cleanup accepted", where);
    CHECK(!wgc_root_new(h, NULL) && wgc_last_error(h) == WGC_EREENTRY,
          "%s: wgc_root_new accepted", where);
    CHECK(!wgc_end_job(h), "%s: wgc_end_job accepted", where);
    CHECK(!wgc_weakmap_new(h), "%s: wgc_weakmap_new accepted", where);
    CHECK(wgc_collect_and_cleanup(h) == 0, "%s: wgc_collect_and_cleanup ran", where);
    wgc_heap_stats st;
    CHECK(wgc_stats(h, &st), "%s: wgc_stats refused", where);
}

/* ------------------------------------------------------------ trace, destroy */

static void node_trace(void *obj, wgc_visitor *v)
{
    struct node *n = obj;
    wgc_visit_array(v, n->f, NF);
    wgc_visit_weak(v, &n->w);
    struct state *s = n->st;
    if (s->in_collection && s->o[n->id].reenter)
        refused_calls(s, "trace callback", 1);
}

static void lnode_trace(void *obj, wgc_visitor *v)
{
    wgc_visit_weak(v, &((struct lnode *)obj)->w);
}

static void vec_trace(void *obj, wgc_visitor *v)
{
    struct vec *x = obj;
    wgc_visit_array(v, x->s, x->n);
}

static size_t vec_size(const void *obj)
{
    return sizeof(struct vec) + ((const struct vec *)obj)->n * sizeof(void *);
}

static void eph_trace(void *obj, wgc_visitor *v)
{
    struct eph *e = obj;
    wgc_visit_ephemeron(v, &e->key, &e->value);
    wgc_visit(v, &e->f);
}

static void destroyed(struct state *s, uint32_t magic, uint32_t id)
{
    CHECK(magic == MAGIC, "destructor on a non-object or twice (magic %#x)", magic);
    CHECK(id > 0 && id < s->next_id, "destructor: bad id %u", id);
    struct mobj *m = &s->o[id];
    CHECK(!m->destroyed, "%s %u destroyed twice", kind_name[m->kind], id);
    if (s->in_collection)
        CHECK(!s->markL[id], "%s %u destroyed but the model says it lives",
              kind_name[m->kind], id);
    m->destroyed = true;
    s->ndestroyed++;
    if (m->reenter)
        refused_calls(s, "destructor", 2);
}

static void node_destroy(void *obj)
{
    struct node *n = obj;
    destroyed(n->st, n->magic, n->id);
    n->magic = DEAD;
}

static void vec_destroy(void *obj)
{
    struct vec *x = obj;
    destroyed(x->st, x->magic, x->id);
    x->magic = DEAD;
}

/* ---------------------------------------------------------------- input */

struct input {
    const uint8_t *p;
    size_t n;
};

static uint8_t byte(struct input *in)
{
    if (!in->n)
        return 0;
    in->n--;
    return *in->p++;
}

static uint16_t word16(struct input *in)
{
    uint16_t lo = byte(in);
    return (uint16_t)(lo | byte(in) << 8);
}

/* Any object in the heap, by the next byte (two for big heaps); 0 if none. */
static uint32_t pick(struct state *s, struct input *in)
{
    if (!s->nlive)
        return 0;
    uint32_t b = byte(in);
    if (s->nlive > 200)
        b = b << 8 | byte(in);
    return s->live[b % s->nlive];
}

/* Like pick, but byte values >= 0xf0 mean none. */
static uint32_t pick_or_null(struct state *s, struct input *in)
{
    uint8_t b = byte(in);
    if (b >= 0xf0 || !s->nlive)
        return 0;
    uint32_t x = b;
    if (s->nlive > 200)
        x = x << 8 | byte(in);
    return s->live[x % s->nlive];
}

/* An object of one of the kinds in `mask`, chosen by the next byte. */
MODEL static uint32_t pick_kind(struct state *s, struct input *in, unsigned mask)
{
    uint32_t n = 0;
    for (uint32_t i = 0; i < s->nlive; i++)
        n += (mask >> s->o[s->live[i]].kind) & 1;
    uint32_t b = byte(in);
    if (!n)
        return 0;
    b %= n;
    for (uint32_t i = 0; i < s->nlive; i++)
        if (((mask >> s->o[s->live[i]].kind) & 1) && b-- == 0)
            return s->live[i];
    return 0;
}

#define M_SLOTS ((1u << K_NODE) | (1u << K_LAYOUT) | (1u << K_PLAIN) | (1u << K_VEC) | (1u << K_EPH))
#define M_WEAKF ((1u << K_NODE) | (1u << K_LAYOUT))
#define M_REFS ((1u << K_WREF) | (1u << K_GREF))

/* ------------------------------------------------------------- the model */

struct marker {
    struct state *s;
    bool *mark;
    bool lax;
    uint32_t *stack;
    size_t sp;
    /* ephemerons waiting on their key: wait_head[key] -> chain of values */
    int32_t *wait_head, *wait_next;
    uint32_t *wait_val;
    uint32_t nwait;
};

MODEL static void mk(struct marker *k, uint32_t id)
{
    if (!id || k->mark[id])
        return;
    k->mark[id] = true;
    k->stack[k->sp++] = id;
}

MODEL static void mk_eph(struct marker *k, uint32_t key, uint32_t val)
{
    if (!key || !val)
        return;
    if (k->mark[key]) {
        mk(k, val);
        return;
    }
    k->wait_val[k->nwait] = val;
    k->wait_next[k->nwait] = k->wait_head[key];
    k->wait_head[key] = (int32_t)k->nwait++;
}

MODEL static void mk_drain(struct marker *k)
{
    struct state *s = k->s;
    while (k->sp) {
        uint32_t x = k->stack[--k->sp];
        for (int32_t w = k->wait_head[x]; w >= 0; w = k->wait_next[w])
            mk(k, k->wait_val[w]);
        k->wait_head[x] = -1;
        struct mobj *m = &s->o[x];
        uint32_t *sl = S(s, x);
        switch (m->kind) {
        case K_NODE:
        case K_LAYOUT:
        case K_PLAIN:
        case K_VEC:
            for (uint32_t i = 0; i < m->ns; i++)
                mk(k, sl[i]);
            break;
        case K_EPH:
            mk_eph(k, sl[0], sl[1]);
            mk(k, sl[2]);
            break;
        case K_WREF:
            mk(k, m->hold);
            break;
        case K_GREF:
            /* [W8][W9] A cleared or delivered group ref has given its
             * holdings up (issue 13 item 10). */
            if (m->gstate != GS_DONE && m->gstate != GS_CLEARED)
                mk(k, m->hold);
            break;
        case K_MAP: {
            int32_t *mv = s->mval[m->sidx];
            for (uint32_t key = 1; key < s->next_id; key++)
                if (mv[key] > 0)
                    mk_eph(k, key, (uint32_t)mv[key]);
            break;
        }
        case K_REG:
            for (uint32_t c = 0; c < s->ncells; c++)
                if (s->cell[c].reg == x && s->cell[c].state != C_DONE)
                    mk(k, s->cell[c].hold);
            break;
        case K_GROUP:
            for (uint32_t i = 0; i < s->nlive; i++) {
                struct mobj *r = &s->o[s->live[i]];
                if (r->kind == K_GREF && r->group == x && r->gstate == GS_QUEUED)
                    mk(k, s->live[i]);
            }
            break;
        }
    }
}

MODEL static void model_mark_one(struct state *s, bool *mark, bool lax)
{
    static uint32_t stack[MAX_IDS];
    static int32_t wait_head[MAX_IDS], wait_next[MAX_IDS * 6];
    static uint32_t wait_val[MAX_IDS * 6];
    struct marker k = {s, mark, lax, stack, 0, wait_head, wait_next, wait_val, 0};
    memset(mark, 0, s->next_id * sizeof *mark);
    memset(wait_head, 0xff, s->next_id * sizeof *wait_head);
    /* [Y3][Y4] A minor collection keeps every old object, and what old
     * objects point to (the barrier remembered each that got a young
     * pointer), without marking old objects as the full mode does: the
     * old live as if they were roots. */
    if (s->minor)
        for (uint32_t i = 0; i < s->nlive; i++)
            if (s->o[s->live[i]].old)
                mk(&k, s->live[i]);
    for (int r = 0; r < MAX_ROOTS; r++)
        if (s->root[r])
            mk(&k, s->root_target[r]);
    for (int f = 0; f < s->nframes; f++)
        for (int i = 0; i < FRAME_SLOTS; i++)
            mk(&k, s->fid[f][i]);
    for (uint32_t i = 1; i < s->next_id; i++)
        if (s->kept[i])
            mk(&k, i);
    for (int i = 0; i < NVM; i++)
        mk(&k, s->vm_id[i]);
    for (int i = 0; i < s->npins; i++)
        mk(&k, s->pin[i]);
    mk_drain(&k);
}

/* markS: the live set if cleared or delivered group refs keep their
 * holdings; markL: if they do not.  markL is a subset of markS; objects in
 * between may go either way, and the collection's outcome decides. */
static void model_mark(struct state *s)
{
    model_mark_one(s, s->markS, false);
    model_mark_one(s, s->markL, true);
}

static bool key_before(uint64_t ea, uint64_t sa, uint64_t eb, uint64_t sb)
{
    return ea < eb || (ea == eb && sa < sb);
}

/* --------------------------------------------------------------- hooks */

static void on_collect_end(struct state *s);

static void on_event(wgc_heap *heap, wgc_event ev, void *user)
{
    struct state *s = user;
    CHECK(heap == s->heap, "event hook: wrong heap");
    wgc_heap_stats st;
    CHECK(wgc_stats(heap, &st), "wgc_stats in the hook failed");
    if (ev == WGC_EVENT_COLLECT_START || ev == WGC_EVENT_MINOR_START) {
        CHECK(!s->in_collection, "collection start twice");
        s->minor = ev == WGC_EVENT_MINOR_START;
        CHECK(st.collections == s->collections, "collection start: stats say %llu, model %llu",
              (unsigned long long)st.collections, (unsigned long long)s->collections);
        model_mark(s);
        s->in_collection = true;
        s->notified = false;
        s->refused = 0;
        if (s->reenter_hooks & 1)
            refused_calls(s, "event hook (start)", 4);
    } else {
        CHECK(s->in_collection, "collection end without start");
        CHECK(s->minor == (ev == WGC_EVENT_MINOR_END), "%s collection ended as %s",
              s->minor ? "minor" : "full", s->minor ? "full" : "minor");
        CHECK(st.collections == s->collections + 1, "collection end: stats say %llu, model %llu",
              (unsigned long long)st.collections, (unsigned long long)s->collections + 1);
        if (s->reenter_hooks & 1)
            refused_calls(s, "event hook (end)", 8);
        on_collect_end(s);
        s->in_collection = false;
        s->minor = false;
    }
}

static void on_cleanup_pending(wgc_heap *heap, void *user)
{
    struct state *s = user;
    CHECK(heap == s->heap && s->in_collection, "cleanup_pending hook outside a collection");
    CHECK(!s->notified, "cleanup_pending hook called twice");
    s->notified = true;
    if (s->reenter_hooks & 2)
        refused_calls(s, "cleanup_pending hook", 16);
}

static void trace_roots(wgc_visitor *v, void *user)
{
    struct state *s = user;
    wgc_visit_array(v, s->vm, NVM);
    for (int i = 0; i < NVMW; i++)
        wgc_visit_weak(v, &s->vmw[i]);
    if ((s->reenter_hooks & 4) && s->in_collection)
        refused_calls(s, "trace_roots", 32);
}

/* The collection is over: compare the fate of every object with the model
 * and apply what the deaths imply. */
MODEL static void on_collect_end(struct state *s)
{
    static bool dead[MAX_IDS];
    uint64_t epoch = ++s->collections;
    g_work += s->nlive + s->next_id / 4 + 64;
    memset(dead, 0, s->next_id * sizeof *dead);
    uint32_t j = 0;
    for (uint32_t i = 0; i < s->nlive; i++) {
        uint32_t id = s->live[i];
        struct mobj *m = &s->o[id];
        bool obs = wgc_is_object(s->heap, m->ptr);
        if (s->markL[id])
            CHECK(obs, "%s %u died but the model says it lives", kind_name[m->kind], id);
        else if (!s->markS[id])
            CHECK(!obs, "%s %u lives but the model says it died", kind_name[m->kind], id);
        if (m->kind == K_NODE || m->kind == K_VEC || m->kind == K_REG || m->kind == K_GROUP) {
            if (m->kind == K_NODE || m->kind == K_VEC)
                CHECK(m->destroyed == !obs, "%s %u: destroyed %d, is_object %d",
                      kind_name[m->kind], id, m->destroyed, obs);
        }
        if (obs) {
            s->live[j++] = id;
            m->old = true; /* [Y1] every survivor is old */
        } else {
            dead[id] = true;
            m->inheap = false;
            m->ptr = NULL;
        }
    }
    s->nlive = j;
    bool queued = false;
    /* weak fields, ephemerons, trace_roots weak slots */
    for (uint32_t i = 0; i < s->nlive; i++) {
        struct mobj *m = &s->o[s->live[i]];
        if (m->weak && dead[m->weak])
            m->weak = 0;
        if (m->kind == K_EPH) {
            uint32_t *sl = S(s, s->live[i]);
            if (sl[0] && dead[sl[0]]) {
                sl[0] = sl[1] = 0;
            } else if (!sl[0] && sl[1] && dead[sl[1]]) {
                m->stale = ((struct eph *)m->ptr)->value;
                sl[1] = 0;
            }
        }
    }
    for (int i = 0; i < NVMW; i++)
        if (s->vmw_id[i] && dead[s->vmw_id[i]]) {
            s->vmw_id[i] = 0;
            s->vmw[i] = NULL;
        }
    /* maps, registries, groups that died */
    for (int x = 0; x < MAX_SP; x++) {
        if (s->map_id[x] && dead[s->map_id[x]])
            s->map_id[x] = 0;
        if (s->reg_id[x] && dead[s->reg_id[x]]) { /* [F8] */
            for (uint32_t c = 0; c < s->ncells; c++)
                if (s->cell[c].reg == s->reg_id[x])
                    s->cell[c].state = C_DONE;
            s->reg_id[x] = 0;
        }
        if (s->group_id[x] && dead[s->group_id[x]])
            s->group_id[x] = 0;
    }
    /* refs, in registration order: live refs whose target died are emptied,
     * group refs queued if their group lives [W7] */
    for (uint32_t i = 0; i < s->nlive; i++) {
        struct mobj *m = &s->o[s->live[i]];
        if (m->kind != K_WREF && m->kind != K_GREF)
            continue;
        if (m->kind == K_GREF && m->group && dead[m->group]) {
            m->group = 0;
            if (m->gstate == GS_QUEUED)
                m->gstate = GS_ORPHAN; /* [W10] */
        }
        if (m->target && dead[m->target]) {
            m->target = 0;
            if (m->kind == K_GREF && m->group && m->gstate == GS_NONE) {
                m->gstate = GS_QUEUED;
                m->epoch = epoch;
                m->relaxed = s->faults;
                s->st_gqueued++;
                queued = true;
            }
        }
    }
    /* map entries */
    for (int x = 0; x < MAX_SP; x++) {
        int32_t *mv = s->mval[x];
        for (uint32_t id = 1; id < s->next_id; id++)
            if (mv[id] >= 0 && (dead[id] || !s->map_id[x]))
                mv[id] = -1;
    }
    /* registry cells [F3] */
    for (uint32_t c = 0; c < s->ncells; c++) {
        struct cell *cl = &s->cell[c];
        if (cl->state == C_DONE)
            continue;
        if (cl->token && dead[cl->token])
            cl->token = 0;
        if (cl->state == C_REGISTERED && dead[cl->target]) {
            cl->target = 0;
            cl->state = C_QUEUED;
            cl->epoch = epoch;
            cl->relaxed = s->faults;
            s->st_queued++;
            queued = true;
        }
    }
    for (int f = 0; f < s->nframes; f++)
        for (int i = 0; i < FRAME_SLOTS; i++)
            CHECK(!dead[s->fid[f][i]], "framed object died");
    CHECK(s->notified == queued, "cleanup_pending hook %d, model queued %d", s->notified,
          queued);
}

/* ---------------------------------------------------------------- checks */

static void check_ref(struct state *s, uint32_t id)
{
    struct mobj *m = &s->o[id];
    void *got = wgc_weakref_deref(s->heap, m->ptr);
    /* A live target is always returned, even when the kept list cannot
     * grow under fault injection (issue 13 item 6). */
    CHECK(got == P(s, m->target), "%s %u deref %p, model target %u (%p)",
          kind_name[m->kind], id, got, m->target, P(s, m->target));
    if (got && s->cfg.keep_during_job)
        s->kept[m->target] = true;
    void *h = wgc_weakref_holdings(s->heap, m->ptr);
    bool released = m->kind == K_GREF && (m->gstate == GS_DONE || m->gstate == GS_CLEARED);
    CHECK(h == (void *)m->hval || (released && !h), "%s %u holdings %p, model %p (state %d)",
          kind_name[m->kind], id, h, (void *)m->hval, (int)m->gstate);
}

MODEL static size_t model_pending_reg(struct state *s, uint32_t reg)
{
    size_t n = 0;
    for (uint32_t c = 0; c < s->ncells; c++)
        n += s->cell[c].state == C_QUEUED && s->cell[c].reg == reg;
    return n;
}

MODEL static size_t model_pending_group(struct state *s, uint32_t g)
{
    size_t n = 0;
    for (uint32_t i = 0; i < s->nlive; i++) {
        struct mobj *r = &s->o[s->live[i]];
        n += r->kind == K_GREF && r->group == g && r->gstate == GS_QUEUED;
    }
    return n;
}

static bool group_has_executor(struct state *s, uint32_t g)
{
    return (s->o[g].sidx & 1) == 0; /* groups 0 and 2 have an executor */
}

static size_t model_pending_all(struct state *s)
{
    size_t n = 0;
    for (int x = 0; x < MAX_SP; x++) {
        if (s->reg_id[x])
            n += model_pending_reg(s, s->reg_id[x]);
        if (s->group_id[x] && group_has_executor(s, s->group_id[x]))
            n += model_pending_group(s, s->group_id[x]);
    }
    return n;
}

static void check_pending(struct state *s)
{
    CHECK(wgc_cleanup_pending(s->heap) == model_pending_all(s), "cleanup pending %zu, model %zu",
          wgc_cleanup_pending(s->heap), model_pending_all(s));
    for (int x = 0; x < MAX_SP; x++) {
        if (s->reg_id[x])
            CHECK(wgc_registry_pending(P(s, s->reg_id[x])) == model_pending_reg(s, s->reg_id[x]),
                  "registry %u pending %zu, model %zu", s->reg_id[x],
                  wgc_registry_pending(P(s, s->reg_id[x])), model_pending_reg(s, s->reg_id[x]));
        if (s->group_id[x])
            CHECK(wgc_group_pending(P(s, s->group_id[x])) ==
                      model_pending_group(s, s->group_id[x]),
                  "group %u pending %zu, model %zu", s->group_id[x],
                  wgc_group_pending(P(s, s->group_id[x])),
                  model_pending_group(s, s->group_id[x]));
    }
}

static void check_obj(struct state *s, uint32_t id)
{
    struct mobj *m = &s->o[id];
    CHECK(wgc_is_object(s->heap, m->ptr), "%s %u not an object", kind_name[m->kind], id);
    uint32_t *sl = S(s, id);
    switch (m->kind) {
    case K_NODE: {
        struct node *n = m->ptr;
        CHECK(wgc_type_of(n) == &node_type, "node %u wrong type", id);
        CHECK(n->magic == MAGIC && n->id == id, "node %u corrupt", id);
        for (int f = 0; f < NF; f++)
            CHECK(n->f[f] == P(s, sl[f]), "node %u field %d: %p, model %u", id, f, n->f[f], sl[f]);
        CHECK(n->w == P(s, m->weak), "node %u weak field %p, model %u", id, n->w, m->weak);
        break;
    }
    case K_LAYOUT:
    case K_PLAIN: {
        struct lnode *n = m->ptr;
        CHECK(wgc_type_of(n) == (m->kind == K_LAYOUT ? &layout_type : &plain_type),
              "%s %u wrong type", kind_name[m->kind], id);
        CHECK(n->magic == MAGIC && n->id == id, "%s %u corrupt", kind_name[m->kind], id);
        for (int f = 0; f < NF; f++)
            CHECK(n->f[f] == P(s, sl[f]), "%s %u field %d: %p, model %u", kind_name[m->kind],
                  id, f, n->f[f], sl[f]);
        CHECK(n->w == P(s, m->weak), "%s %u weak field", kind_name[m->kind], id);
        break;
    }
    case K_VEC: {
        struct vec *x = m->ptr;
        CHECK(wgc_type_of(x) == &vec_type, "vec %u wrong type", id);
        CHECK(x->magic == MAGIC && x->id == id && x->n == m->ns, "vec %u corrupt", id);
        CHECK(wgc_size_of(x) >= m->size, "vec %u size %zu < %zu", id, wgc_size_of(x), m->size);
        for (uint32_t i = 0; i < m->ns; i++)
            CHECK(x->s[i] == P(s, sl[i]), "vec %u slot %u: %p, model %u", id, i, x->s[i], sl[i]);
        break;
    }
    case K_EPH: {
        struct eph *e = m->ptr;
        CHECK(wgc_type_of(e) == &eph_type && e->magic == MAGIC && e->id == id,
              "eph %u corrupt", id);
        void *val = sl[1] ? P(s, sl[1]) : m->stale;
        CHECK(e->key == P(s, sl[0]) && e->value == val && e->f == P(s, sl[2]),
              "eph %u: key %p value %p f %p, model %u %u %u", id, e->key, e->value, e->f,
              sl[0], sl[1], sl[2]);
        break;
    }
    case K_DATA: {
        struct data *d = m->ptr;
        CHECK(wgc_type_of(d) == &data_type && d->magic == MAGIC && d->id == id,
              "data %u corrupt", id);
        size_t n = m->size - sizeof *d;
        CHECK(wgc_size_of(d) >= m->size, "data %u size", id);
        if (n)
            CHECK(d->bytes[0] == (uint8_t)id && d->bytes[n - 1] == (uint8_t)(id + n),
                  "data %u contents", id);
        break;
    }
    case K_WREF:
    case K_GREF:
        check_ref(s, id);
        break;
    }
}

static void check_all(struct state *s)
{
    for (uint32_t i = 0; i < s->nlive; i++)
        check_obj(s, s->live[i]);
    for (int r = 0; r < MAX_ROOTS; r++)
        if (s->root[r])
            CHECK(wgc_root_get(s->root[r]) == P(s, s->root_target[r]),
                  "root %d holds the wrong object", r);
    for (int f = 0; f < s->nframes; f++)
        for (int i = 0; i < FRAME_SLOTS; i++)
            CHECK(s->fslot[f][i] == P(s, s->fid[f][i]), "frame slot changed");
    for (int i = 0; i < NVM; i++)
        CHECK(s->vm[i] == P(s, s->vm_id[i]), "trace_roots slot %d changed", i);
    for (int i = 0; i < NVMW; i++)
        CHECK(s->vmw[i] == P(s, s->vmw_id[i]), "trace_roots weak slot %d: %p, model %u", i,
              s->vmw[i], s->vmw_id[i]);
    for (int x = 0; x < MAX_SP; x++) {
        if (!s->map_id[x])
            continue;
        wgc_weakmap *map = P(s, s->map_id[x]);
        int32_t *mv = s->mval[x];
        size_t count = 0;
        for (uint32_t i = 0; i < s->nlive; i++) {
            uint32_t k = s->live[i];
            int32_t v = mv[k];
            bool has = wgc_weakmap_has(s->heap, map, P(s, k));
            void *got = wgc_weakmap_get(s->heap, map, P(s, k));
            CHECK(has == (v >= 0), "map %u has(%u) = %d, model %d", s->map_id[x], k, has, v);
            CHECK(got == (v > 0 ? P(s, (uint32_t)v) : NULL), "map %u get(%u) = %p, model %d",
                  s->map_id[x], k, got, v);
            count += v >= 0;
        }
        CHECK(wgc_weakmap_count(s->heap, map) == count, "map %u count %zu, model %zu",
              s->map_id[x], wgc_weakmap_count(s->heap, map), count);
    }
    check_pending(s);
    wgc_heap_stats st;
    CHECK(wgc_stats(s->heap, &st), "wgc_stats failed");
    CHECK(st.collections == s->collections, "stats: %llu collections, model %llu",
          (unsigned long long)st.collections, (unsigned long long)s->collections);
    CHECK(st.cells_registered == s->st_registered && st.cells_queued == s->st_queued &&
              st.cells_delivered == s->st_delivered &&
              st.cells_unregistered == s->st_unregistered,
          "stats: cells registered %llu queued %llu delivered %llu unregistered %llu, model "
          "%llu %llu %llu %llu",
          (unsigned long long)st.cells_registered, (unsigned long long)st.cells_queued,
          (unsigned long long)st.cells_delivered, (unsigned long long)st.cells_unregistered,
          (unsigned long long)s->st_registered, (unsigned long long)s->st_queued,
          (unsigned long long)s->st_delivered, (unsigned long long)s->st_unregistered);
    CHECK(st.group_refs_queued == s->st_gqueued && st.group_refs_run == s->st_grun,
          "stats: group refs queued %llu run %llu, model %llu %llu",
          (unsigned long long)st.group_refs_queued, (unsigned long long)st.group_refs_run,
          (unsigned long long)s->st_gqueued, (unsigned long long)s->st_grun);
}

/* ------------------------------------------------------------ allocation */

MODEL static uint32_t new_id(struct state *s, int kind, void *ptr, uint32_t ns, size_t size)
{
    uint32_t id = s->next_id++;
    struct mobj *m = &s->o[id];
    memset(m, 0, sizeof *m);
    m->kind = (uint8_t)kind;
    m->inheap = true;
    m->ptr = ptr;
    m->size = size;
    m->ns = ns;
    m->soff = s->slot_used;
    memset(&s->slot[s->slot_used], 0, ns * sizeof *s->slot);
    s->slot_used += ns;
    for (int x = 0; x < MAX_SP; x++)
        s->mval[x][id] = -1;
    s->kept[id] = false;
    s->live[s->nlive++] = id;
    return id;
}

static bool room(struct state *s, uint32_t ns)
{
    return s->next_id < MAX_IDS - 1 && s->slot_used + ns <= SLOT_POOL && g_work < WORK_MAX;
}

/* Allocates an object of `kind`; `arg` picks a size.  Returns its id, or 0
 * (no room, or an accepted allocation failure). */
static uint32_t alloc_obj(struct state *s, int kind, unsigned arg, bool reenter)
{
    static const unsigned vec_n[] = {1, 2, 5, 16, 100, 1020, 1100, MAX_VEC};
    size_t size;
    uint32_t ns;
    const wgc_type *t;
    switch (kind) {
    case K_NODE: t = &node_type; size = sizeof(struct node); ns = NF; break;
    case K_LAYOUT: t = &layout_type; size = sizeof(struct lnode); ns = NF; break;
    case K_PLAIN: t = &plain_type; size = sizeof(struct lnode); ns = NF; break;
    case K_EPH: t = &eph_type; size = sizeof(struct eph); ns = 3; break;
    case K_VEC:
        t = &vec_type;
        ns = (arg & 8) ? vec_n[arg & 7] : 1 + (arg >> 4) % 24;
        size = sizeof(struct vec) + ns * sizeof(void *);
        break;
    default: {
        static const size_t big[] = {8184, 8185, 9000, 16384, 30000, MAX_DATA};
        t = &data_type;
        ns = 0;
        size = (arg & 8) ? big[(arg & 7) % 6] : sizeof(struct data) + (arg >> 3) * 3;
        break;
    }
    }
    if (!room(s, ns))
        return 0;
    if (size > 8000 && no_large)
        size = 8000, ns = kind == K_VEC ? (8000 - sizeof(struct vec)) / sizeof(void *) : 0;
    void *p = wgc_alloc(s->heap, t, size);
    if (!p) {
        CHECK_ALLOC_FAIL(s, "wgc_alloc");
        return 0;
    }
    CHECK(((uintptr_t)p & 15) == 0, "wgc_alloc: misaligned %p", p);
    uint32_t id = new_id(s, kind, p, ns, size);
    s->o[id].reenter = reenter;
    uint32_t *hdr = p;
    hdr[0] = MAGIC;
    hdr[1] = id;
    switch (kind) {
    case K_NODE: ((struct node *)p)->st = s; break;
    case K_VEC:
        ((struct vec *)p)->st = s;
        ((struct vec *)p)->n = ns;
        break;
    case K_DATA: {
        struct data *d = p;
        size_t n = size - sizeof *d;
        if (n) {
            d->bytes[0] = (uint8_t)id;
            d->bytes[n - 1] = (uint8_t)(id + n);
        }
        break;
    }
    }
    return id;
}

/* Stores b in object a's strong slot i (memory and model). */
static void set_slot(struct state *s, uint32_t a, uint32_t i, uint32_t b)
{
    struct mobj *m = &s->o[a];
    void *v = P(s, b);
    switch (m->kind) {
    case K_NODE: ((struct node *)m->ptr)->f[i] = v; break;
    case K_LAYOUT:
    case K_PLAIN: ((struct lnode *)m->ptr)->f[i] = v; break;
    case K_VEC: ((struct vec *)m->ptr)->s[i] = v; break;
    case K_EPH: {
        struct eph *e = m->ptr;
        if (m->stale && i <= 1) { /* never let the collector see it */
            e->value = NULL;
            m->stale = NULL;
        }
        if (i == 0)
            e->key = v;
        else if (i == 1)
            e->value = v;
        else
            e->f = v;
        break;
    }
    default: return;
    }
    wgc_write_barrier(s->heap, m->ptr);
    S(s, a)[i] = b;
}

static void pin_push(struct state *s, uint32_t id)
{
    CHECK(s->npins < MAX_PINS, "harness: too many pins");
    s->pin[s->npins++] = id;
}

/* ------------------------------------------------------------- specials */

static int cleanup_cb(wgc_heap *heap, void *holdings, void *user);
static int executor(wgc_heap *heap, wgc_weakref *ref, void *holdings, void *user);

static uint32_t new_special(struct state *s, int kind, int root_slot, bool with_executor)
{
    uint32_t *tab = kind == K_MAP ? s->map_id : kind == K_REG ? s->reg_id : s->group_id;
    int x = 0;
    if (!room(s, 0))
        return 0;
    if (kind == K_GROUP) {
        /* groups 0, 2 have an executor, 1, 3 not */
        x = with_executor ? 0 : 1;
        if (tab[x])
            x += 2;
        if (tab[x])
            return 0;
    } else {
        while (x < MAX_SP && tab[x])
            x++;
        if (x == MAX_SP)
            return 0;
    }
    void *p;
    if (kind == K_MAP)
        p = wgc_weakmap_new(s->heap);
    else if (kind == K_REG)
        p = wgc_registry_new(s->heap, cleanup_cb, &s->regctx[x]);
    else
        p = wgc_group_new(s->heap, with_executor ? executor : NULL, &s->groupctx[x]);
    if (!p) {
        CHECK_ALLOC_FAIL(s, kind_name[kind]);
        return 0;
    }
    uint32_t id = new_id(s, kind, p, 0, 0);
    s->o[id].sidx = x;
    tab[x] = id;
    if (kind == K_MAP)
        for (uint32_t k = 0; k < s->next_id; k++)
            s->mval[x][k] = -1;
    wgc_root *r = s->root[root_slot];
    if (r) {
        CHECK(wgc_root_set(r, p), "wgc_root_set failed");
    } else {
        r = wgc_root_new(s->heap, p);
        if (!r) {
            CHECK_ALLOC_FAIL(s, "wgc_root_new");
            return id;
        }
        s->root[root_slot] = r;
    }
    s->root_target[root_slot] = id;
    return id;
}

static uint32_t new_ref(struct state *s, uint32_t group, uint32_t t, uint32_t h, uintptr_t hint)
{
    uintptr_t hval = h ? (uintptr_t)P(s, h) : hint;
    if (!room(s, 0))
        return 0;
    int np = s->npins;
    pin_push(s, t);
    pin_push(s, h);
    pin_push(s, group);
    wgc_weakref *ref = group ? wgc_group_make_ref(P(s, group), P(s, t), (void *)hval)
                             : wgc_weakref_new(s->heap, P(s, t), (void *)hval);
    s->npins = np;
    if (t && t == h) {
        CHECK(!ref && wgc_last_error(s->heap) == WGC_EINVAL,
              "weakref with target == holdings accepted");
        wgc_clear_error(s->heap);
        return 0;
    }
    if (!ref) {
        CHECK_ALLOC_FAIL(s, "weakref new");
        return 0;
    }
    uint32_t id = new_id(s, group ? K_GREF : K_WREF, ref, 0, 0);
    struct mobj *m = &s->o[id];
    m->target = t;
    m->hold = h;
    m->hval = hval;
    m->group = group;
    if (group)
        m->seq = s->seq++;
    if (s->cfg.keep_during_job)
        s->kept[t] = true;
    return id;
}

static bool do_register(struct state *s, uint32_t reg, uint32_t t, uint32_t h, uintptr_t hint,
                        uint32_t token)
{
    uintptr_t hval = h ? (uintptr_t)P(s, h) : hint;
    if (s->ncells >= MAX_CELLS)
        return false;
    bool ok = wgc_registry_register(P(s, reg), P(s, t), (void *)hval, P(s, token));
    if (h && h == t) {
        CHECK(!ok && wgc_last_error(s->heap) == WGC_EINVAL,
              "register with target == holdings accepted");
        wgc_clear_error(s->heap);
        return false;
    }
    if (!ok) {
        CHECK_ALLOC_FAIL(s, "wgc_registry_register");
        return false;
    }
    s->cell[s->ncells++] = (struct cell){reg, t, h, hval, token, C_REGISTERED, false, 0, s->seq++};
    s->st_registered++;
    return true;
}

static bool do_unregister(struct state *s, uint32_t reg, uint32_t tok)
{
    bool expect = false;
    for (uint32_t c = 0; c < s->ncells; c++) {
        struct cell *cl = &s->cell[c];
        if (cl->reg == reg && cl->token == tok && cl->state != C_DONE) {
            cl->state = C_DONE;
            expect = true;
            s->st_unregistered++;
        }
    }
    bool got = wgc_registry_unregister(P(s, reg), P(s, tok));
    CHECK(got == expect, "unregister(registry %u, token %u) = %d, model %d", reg, tok, got,
          expect);
    return got;
}

/* ---------------------------------------------------------------- drains */

enum { D_NONE, D_ALL, D_REG, D_GROUP, D_MANUAL };

/* Whether a queued entry (registry `reg` or group `group`) can be delivered
 * by the drain in progress. */
static bool in_scope(struct state *s, uint32_t reg, uint32_t group)
{
    switch (s->drain_kind) {
    case D_ALL: return reg ? true : group_has_executor(s, group);
    case D_REG: return reg == s->drain_id;
    default: return group == s->drain_id;
    }
}

/* The key of the first deliverable entry in scope; false if none. */
MODEL static bool first_key(struct state *s, uint64_t *epoch, uint64_t *seq, bool *relaxed)
{
    bool any = false;
    for (uint32_t c = 0; c < s->ncells; c++) {
        struct cell *cl = &s->cell[c];
        if (cl->state != C_QUEUED || !in_scope(s, cl->reg, 0))
            continue;
        if (!any || key_before(cl->epoch, cl->seq, *epoch, *seq)) {
            *epoch = cl->epoch, *seq = cl->seq, *relaxed = cl->relaxed;
            any = true;
        }
    }
    for (uint32_t i = 0; i < s->nlive; i++) {
        struct mobj *r = &s->o[s->live[i]];
        if (r->kind != K_GREF || r->gstate != GS_QUEUED || !in_scope(s, 0, r->group))
            continue;
        if (!any || key_before(r->epoch, r->seq, *epoch, *seq)) {
            *epoch = r->epoch, *seq = r->seq, *relaxed = r->relaxed;
            any = true;
        }
    }
    return any;
}

/* A delivery happened: is it the one the model expects?  [F4] */
static void check_order(struct state *s, uint64_t epoch, uint64_t seq, bool relaxed)
{
    uint64_t e, q;
    bool r;
    CHECK(first_key(s, &e, &q, &r), "a delivery the model did not expect");
    /* [F4] exception: a collection short of memory queues group refs in
     * heap order */
    if (relaxed || r)
        CHECK(epoch == e, "delivery from collection %llu before collection %llu",
              (unsigned long long)epoch, (unsigned long long)e);
    else
        CHECK(epoch == e && seq == q, "delivery (%llu, %llu), model expects (%llu, %llu)",
              (unsigned long long)epoch, (unsigned long long)seq, (unsigned long long)e,
              (unsigned long long)q);
}

/* What a callback does besides checking (the drain's action byte). */
static void callback_action(struct state *s, uint32_t reg, uint32_t group)
{
    unsigned a = (s->act >> (2 * (s->drained % 4))) & 3;
    if (a == 1 && s->spawned < 12) {
        /* new garbage with a registered target: collect_and_cleanup must
         * keep going [F12] */
        s->spawned++;
        uint32_t t = alloc_obj(s, K_NODE, 0, false);
        if (!t)
            return;
        if (reg) {
            do_register(s, reg, t, 0, 0x1001, 0);
        } else {
            uint32_t r = new_ref(s, group, t, 0, 0x2001);
            int slot = MAX_ROOTS - 1 - (int)(s->drained % 4);
            if (!r)
                return;
            wgc_root *h = s->root[slot];
            if (h) {
                CHECK(wgc_root_set(h, P(s, r)), "wgc_root_set failed");
            } else if (!(h = wgc_root_new(s->heap, P(s, r)))) {
                CHECK_ALLOC_FAIL(s, "wgc_root_new");
                return;
            }
            s->root[slot] = h;
            s->root_target[slot] = r;
        }
    } else if (a == 2) {
        CHECK(wgc_collect(s->heap), "wgc_collect in a callback failed");
    } else if (a == 3 && s->nlive) {
        uint32_t tok = s->live[(s->act + s->drained * 7) % s->nlive];
        for (int x = 0; x < MAX_SP; x++)
            if (s->reg_id[x]) {
                do_unregister(s, s->reg_id[x], tok);
                break;
            }
        if (s->o[tok].kind == K_GREF) {
            CHECK(wgc_weakref_clear(s->heap, P(s, tok)), "clear in a callback failed");
            s->o[tok].target = 0;
            /* [W8] clearing empties the holdings, whatever the state
             * (also of a ref whose group died: an orphan) */
            if (s->o[tok].gstate != GS_DONE)
                s->o[tok].gstate = GS_CLEARED;
        }
    }
}

static int cleanup_cb(wgc_heap *heap, void *holdings, void *user)
{
    struct spctx *c = user;
    struct state *s = c->s;
    CHECK(heap == s->heap, "cleanup callback: wrong heap");
    CHECK(s->drain_kind != D_NONE && !s->in_callback && !s->in_collection,
          "cleanup callback outside a drain [F0]");
    uint32_t reg = s->reg_id[c->idx];
    CHECK(reg, "callback of a dead registry [F8]");
    /* the first queued cell of this registry with these holdings */
    struct cell *best = NULL;
    for (uint32_t i = 0; i < s->ncells; i++) {
        struct cell *cl = &s->cell[i];
        if (cl->state == C_QUEUED && cl->reg == reg && cl->hval == (uintptr_t)holdings &&
            (!best || key_before(cl->epoch, cl->seq, best->epoch, best->seq)))
            best = cl;
    }
    CHECK(best, "registry %u delivered holdings %p, not queued in the model", reg, holdings);
    check_order(s, best->epoch, best->seq, best->relaxed);
    best->state = C_DONE;
    s->st_delivered++;
    s->drained++;
    s->in_callback = true;
    int np = s->npins;
    pin_push(s, reg);
    pin_push(s, best->hold);
    callback_action(s, reg, 0);
    s->npins = np;
    s->in_callback = false;
    return s->fail_at && s->drained == s->fail_at;
}

static int executor(wgc_heap *heap, wgc_weakref *ref, void *holdings, void *user)
{
    struct spctx *c = user;
    struct state *s = c->s;
    CHECK(heap == s->heap, "executor: wrong heap");
    CHECK(s->drain_kind != D_NONE && !s->in_callback && !s->in_collection,
          "executor outside a drain [W9]");
    uint32_t g = c ? s->group_id[c->idx] : 0;
    if (s->drain_kind == D_MANUAL)
        g = s->drain_id;
    CHECK(g, "executor of a dead group [W10]");
    uint32_t id = 0;
    for (uint32_t i = 0; i < s->nlive && !id; i++)
        if (s->o[s->live[i]].ptr == (void *)ref)
            id = s->live[i];
    CHECK(id && s->o[id].kind == K_GREF && s->o[id].group == g && s->o[id].gstate == GS_QUEUED,
          "group %u delivered ref %p, not queued in the model", g, (void *)ref);
    struct mobj *m = &s->o[id];
    CHECK(holdings == (void *)m->hval, "group ref %u delivered holdings %p, model %p", id,
          holdings, (void *)m->hval);
    check_order(s, m->epoch, m->seq, m->relaxed);
    CHECK(!wgc_weakref_deref(heap, ref), "delivered group ref not empty");
    m->gstate = GS_DONE;
    s->st_grun++;
    s->drained++;
    s->in_callback = true;
    int np = s->npins;
    pin_push(s, g);
    pin_push(s, id);
    pin_push(s, m->hold);
    callback_action(s, 0, g);
    s->npins = np;
    s->in_callback = false;
    return s->fail_at && s->drained == s->fail_at;
}

static int manual_fn(wgc_heap *heap, wgc_weakref *ref, void *holdings, void *user)
{
    (void)user;
    struct state *s = manual_state;
    return executor(heap, ref, holdings, &s->groupctx[s->o[s->drain_id].sidx]);
}

/* Runs one drain and checks its result. */
static void drain(struct state *s, int kind, uint32_t id, size_t max, uint32_t fail_at,
                  uint8_t act)
{
    s->drain_kind = kind;
    s->drain_id = id;
    s->drained = 0;
    s->fail_at = fail_at;
    s->act = act;
    s->spawned = 0;
    int np = s->npins;
    if (kind == D_REG || kind == D_GROUP || kind == D_MANUAL)
        pin_push(s, id); /* wgc__drain roots the owner */
    wgc_clear_error(s->heap);
    size_t ran = 0;
    switch (kind) {
    case D_ALL: ran = wgc_run_cleanup(s->heap, max); break;
    case D_REG: ran = wgc_registry_cleanup_some(P(s, id), max); break;
    case D_GROUP: ran = wgc_group_finalize_some(P(s, id), max); break;
    case D_MANUAL:
        manual_state = s;
        ran = wgc_group_manually_finalize(P(s, id), manual_fn, NULL);
        break;
    }
    s->npins = np;
    CHECK(ran == s->drained, "drain returned %zu, %zu callbacks ran", ran, s->drained);
    if (fail_at && ran == fail_at) {
        CHECK(wgc_last_error(s->heap) == WGC_ECALLBACK, "failed callback: error %d",
              wgc_last_error(s->heap));
    } else if (ran < max && !(kind == D_GROUP && !group_has_executor(s, id))) {
        uint64_t e, q;
        bool r;
        CHECK(!first_key(s, &e, &q, &r), "drain stopped at %zu (max %zu) with work queued",
              ran, max);
    }
    wgc_clear_error(s->heap);
    s->drain_kind = D_NONE;
    check_pending(s);
}

/* ------------------------------------------------------------------- ops */

/* Makes root slot r hold object `id` (at `p`): its handle, made if need
 * be (which may fail under fault injection or at the heap's maximum). */
static void root_slot_hold(struct state *s, int r, void *p, uint32_t id)
{
    wgc_root *h = s->root[r];
    if (h)
        CHECK(wgc_root_set(h, p), "wgc_root_set failed");
    else if (!(h = wgc_root_new(s->heap, p)))
        CHECK_ALLOC_FAIL(s, "wgc_root_new");
    if (h) {
        s->root[r] = h;
        s->root_target[r] = id;
    }
}

static void op_collect(struct state *s)
{
    uint64_t before = s->collections;
    CHECK(wgc_collect(s->heap), "wgc_collect failed");
    CHECK(s->collections == before + 1, "wgc_collect: %llu collections seen",
          (unsigned long long)(s->collections - before));
    CHECK(wgc_debug_verify(s->heap), "wgc_debug_verify failed");
    check_all(s);
}

static void op_collect_and_cleanup(struct state *s, uint8_t act)
{
    s->drain_kind = D_ALL;
    s->drained = 0;
    s->fail_at = 0;
    s->act = act;
    s->spawned = 0;
    size_t ran = wgc_collect_and_cleanup(s->heap);
    s->drain_kind = D_NONE;
    CHECK(ran == s->drained, "collect_and_cleanup returned %zu, %zu callbacks ran", ran,
          s->drained);
    CHECK(!model_pending_all(s), "collect_and_cleanup left %zu queued", model_pending_all(s));
    /* [F12] the last collection queued nothing and no callback ran after
     * it: every registered target of a registry that surely lives is
     * reachable, and so is every target of a live group ref. */
    model_mark(s);
    for (uint32_t c = 0; c < s->ncells; c++) {
        struct cell *cl = &s->cell[c];
        if (cl->state == C_REGISTERED && s->markL[cl->reg])
            CHECK(s->markS[cl->target],
                  "collect_and_cleanup stopped early: cell of target %u is garbage", cl->target);
    }
    for (uint32_t i = 0; i < s->nlive; i++) {
        struct mobj *r = &s->o[s->live[i]];
        if (r->kind == K_GREF && r->gstate == GS_NONE && r->target && r->group &&
            s->markL[s->live[i]] && s->markL[r->group] && group_has_executor(s, r->group))
            CHECK(s->markS[r->target],
                  "collect_and_cleanup stopped early: group ref %u's target is garbage",
                  s->live[i]);
    }
    check_pending(s);
}

static void op_free_frames(struct state *s)
{
    while (s->nframes) {
        s->nframes--;
        CHECK(wgc_frame_pop(s->heap, &s->frame[s->nframes]), "wgc_frame_pop failed");
    }
}

static struct state *heap_start(struct state *s, int index, struct input *in)
{
    memset(&s->heap, 0, offsetof(struct state, o) - offsetof(struct state, heap));
    s->index = index;
    s->next_id = 1;
    uint8_t a = byte(in), b = byte(in);
    wgc_config *cfg = &s->cfg;
    wgc_config_init(cfg);
    static const size_t initial[] = {64 << 10, 256 << 10, 1 << 20, 4 << 20};
    static const size_t maxh[] = {0, 0, 0, 0, 256 << 10, 512 << 10, 1 << 20, 4 << 20};
    static const unsigned stress[] = {0, 0, 0, 0, 0, 3, 17, 101};
    cfg->auto_collect = a & 1;
    cfg->keep_during_job = a & 2;
    cfg->initial_heap_size = initial[(a >> 2) & 3];
    cfg->max_heap_size = maxh[(a >> 4) & 7];
    cfg->growth_factor = (a & 0x80) ? 1.5 : 2.0;
    cfg->stress_interval = stress[b & 7];
    s->reenter_hooks = (b >> 3) & 7;
    cfg->on_event = on_event;
    cfg->on_event_user = s;
    cfg->cleanup_pending = on_cleanup_pending;
    cfg->cleanup_pending_user = s;
    cfg->trace_roots = trace_roots;
    cfg->trace_roots_user = s;
    for (int x = 0; x < MAX_SP; x++) {
        s->regctx[x] = (struct spctx){s, x};
        s->groupctx[x] = (struct spctx){s, x};
    }
    for (int f = 0; f < MAX_FRAMES; f++)
        for (int i = 0; i < FRAME_SLOTS; i++)
            s->fslot_addr[f][i] = &s->fslot[f][i];
    wgc_config bad = *cfg;
    bad.growth_factor = 1.0;
    CHECK(!wgc_heap_new(&bad), "growth_factor 1.0 accepted");
    bad = *cfg;
    bad.max_heap_size = 32 << 10;
    CHECK(!wgc_heap_new(&bad), "max_heap_size 32 KiB accepted");
    s->heap = wgc_heap_new(cfg);
    CHECK(s->heap, "wgc_heap_new failed");
    CHECK(wgc_is_object(s->heap, s->heap) == false, "a heap is not an object");
    /* two maps, two registries, a group with an executor and one without,
     * in root slots 0..5 (a root op can drop them: dying specials) */
    new_special(s, K_MAP, 0, false);
    new_special(s, K_MAP, 1, false);
    new_special(s, K_REG, 2, false);
    new_special(s, K_REG, 3, false);
    new_special(s, K_GROUP, 4, true);
    new_special(s, K_GROUP, 5, false);
    return s;
}

static void heap_end(struct state *s)
{
    wgc_debug_fail_request(s->heap, 0, false);
    s->faults = false;
    op_free_frames(s);
    op_collect(s);
    uint32_t before = s->ndestroyed, expect = 0;
    for (uint32_t i = 0; i < s->nlive; i++)
        expect += s->o[s->live[i]].kind == K_NODE || s->o[s->live[i]].kind == K_VEC;
    if (getenv("FUZZ_VERBOSE"))
        fprintf(stderr, "fuzz_heap: heap %d: %u ops, %u objects, %u live, %llu collections\n",
                s->index, g_ops, s->next_id - 1, s->nlive, (unsigned long long)s->collections);
    s->refused = 0;
    wgc_heap_free(s->heap);
    CHECK(s->ndestroyed - before == expect, "heap free destroyed %u, %u were live",
          s->ndestroyed - before, expect);
    s->heap = NULL;
}

static void run(struct state *st, struct input *in)
{
    struct state *s = &st[0];
    while (in->n && g_ops < MAX_OPS && g_work < WORK_MAX) {
        g_ops++;
        uint8_t op = byte(in) % 36;
        switch (op) {
        case 0: /* alloc one object */
        case 1: {
            uint8_t b = byte(in);
            static const int kinds[] = {K_NODE, K_LAYOUT, K_PLAIN, K_DATA, K_VEC, K_EPH,
                                        K_LAYOUT, K_NODE};
            alloc_obj(s, kinds[b & 7], byte(in), (b & 0xf8) == 0xf8);
            break;
        }
        case 2: { /* a burst: a chain of up to 512 objects rooted by a frame */
            uint8_t b = byte(in), c = byte(in);
            static const int kinds[] = {K_NODE, K_LAYOUT, K_PLAIN, K_LAYOUT};
            int kind = kinds[b & 3];
            unsigned n = 1 + (unsigned)c * 2;
            void *prev = NULL;
            uint32_t prev_id = 0;
            WGC_FRAME(s->heap, &prev);
            int np = s->npins;
            for (unsigned i = 0; i < n; i++) {
                s->pin[np] = prev_id;
                s->npins = prev_id ? np + 1 : np;
                uint32_t id = alloc_obj(s, kind, 0, false);
                if (!id)
                    break;
                if (b & 4)
                    set_slot(s, id, 0, prev_id);
                prev = P(s, id);
                prev_id = id;
            }
            s->npins = np;
            CHECK(WGC_FRAME_POP(s->heap), "WGC_FRAME_POP failed");
            /* the chain's head goes to a root slot unless b says garbage */
            if ((b & 0x18) && prev_id)
                root_slot_hold(s, 8 + (b >> 5), prev, prev_id);
            break;
        }
        case 3: { /* link */
            uint32_t a = pick_kind(s, in, M_SLOTS);
            uint16_t f = word16(in);
            uint32_t b = pick_or_null(s, in);
            if (a && s->o[a].ns)
                set_slot(s, a, f % s->o[a].ns, b);
            break;
        }
        case 4: { /* fill a vec's slots with a stride over the live objects */
            uint32_t a = pick_kind(s, in, 1u << K_VEC);
            uint8_t start = byte(in), step = byte(in);
            if (!a)
                break;
            for (uint32_t i = 0; i < s->o[a].ns; i++)
                set_slot(s, a, i, s->live[(start + i * (1u + step)) % s->nlive]);
            break;
        }
        case 5: { /* weak link */
            uint32_t a = pick_kind(s, in, M_WEAKF), b = pick_or_null(s, in);
            if (!a)
                break;
            if (s->o[a].kind == K_NODE)
                ((struct node *)P(s, a))->w = P(s, b);
            else
                ((struct lnode *)P(s, a))->w = P(s, b);
            wgc_write_barrier(s->heap, P(s, a));
            s->o[a].weak = b;
            break;
        }
        case 6: { /* root: new handle, or set an existing one */
            uint32_t r = byte(in) % MAX_ROOTS, t = pick_or_null(s, in);
            if (s->root[r]) {
                CHECK(wgc_root_set(s->root[r], P(s, t)), "wgc_root_set failed");
            } else {
                s->root[r] = wgc_root_new(s->heap, P(s, t));
                if (!s->root[r]) {
                    CHECK_ALLOC_FAIL(s, "wgc_root_new");
                    break;
                }
            }
            s->root_target[r] = t;
            break;
        }
        case 7: { /* unroot */
            uint32_t r = byte(in) % MAX_ROOTS;
            wgc_root_free(s->root[r]);
            s->root[r] = NULL;
            s->root_target[r] = 0;
            break;
        }
        case 8: { /* weakref new (any target, holdings none / object / integer) */
            uint32_t t = pick(s, in), h = pick_or_null(s, in);
            uint8_t b = byte(in);
            if (!t)
                break;
            uint32_t r = new_ref(s, 0, t, (b & 1) ? 0 : h, (b & 2) ? 0 : (uintptr_t)b << 4 | 8);
            uint32_t slot = 6 + (b >> 2) % (MAX_ROOTS - 6);
            if (r && !(b & 0x80))
                root_slot_hold(s, (int)slot, P(s, r), r);
            break;
        }
        case 9: { /* group ref */
            uint8_t b = byte(in);
            uint32_t g = s->group_id[b & 3], t = pick(s, in), h = pick_or_null(s, in);
            if (!g || !t)
                break;
            uint32_t r = new_ref(s, g, t, (b & 4) ? 0 : h, (uintptr_t)b << 4 | 8);
            uint32_t slot = 6 + (b >> 3) % (MAX_ROOTS - 6);
            if (r && !(b & 0x80) && (b & 0x40)) {
                root_slot_hold(s, (int)slot, P(s, r), r);
            } else if (r && !(b & 0x80)) {
                /* or the ref goes into an object's field */
                uint32_t a = pick_kind(s, in, M_SLOTS);
                if (a && a != r)
                    set_slot(s, a, byte(in) % s->o[a].ns, r);
            }
            break;
        }
        case 10: { /* weakref clear */
            uint32_t r = pick_kind(s, in, M_REFS);
            if (!r)
                break;
            CHECK(wgc_weakref_clear(s->heap, P(s, r)), "wgc_weakref_clear failed");
            struct mobj *m = &s->o[r];
            m->target = 0;
            /* [W8] clearing empties the holdings, an orphan's too */
            if (m->kind == K_GREF && m->gstate != GS_DONE)
                m->gstate = GS_CLEARED;
            check_ref(s, r);
            check_pending(s);
            break;
        }
        case 11: { /* weakref deref */
            uint32_t r = pick_kind(s, in, M_REFS);
            if (r)
                check_ref(s, r);
            break;
        }
        case 12: { /* weakmap set */
            uint32_t m = s->map_id[byte(in) % MAX_SP];
            uint32_t k = pick(s, in), v = pick_or_null(s, in);
            if (!m || !k)
                break;
            if (!wgc_weakmap_set(s->heap, P(s, m), P(s, k), P(s, v))) {
                CHECK_ALLOC_FAIL(s, "wgc_weakmap_set");
                break;
            }
            s->mval[s->o[m].sidx][k] = (int32_t)v;
            break;
        }
        case 13: { /* weakmap delete */
            uint32_t m = s->map_id[byte(in) % MAX_SP];
            uint32_t k = pick(s, in);
            if (!m || !k)
                break;
            int32_t *mv = &s->mval[s->o[m].sidx][k];
            bool got = wgc_weakmap_delete(s->heap, P(s, m), P(s, k));
            CHECK(got == (*mv >= 0), "map %u delete(%u) = %d, model %d", m, k, got, *mv);
            *mv = -1;
            break;
        }
        case 14: { /* register */
            uint8_t b = byte(in);
            uint32_t reg = s->reg_id[b & 3];
            uint32_t t = pick(s, in), h = pick(s, in), other = pick(s, in);
            if (!reg || !t)
                break;
            bool hobj = b & 4;
            uint32_t token;
            switch ((b >> 3) & 3) {
            case 0: token = 0; break;
            case 1: token = t; break;
            case 2: token = hobj ? h : 0; break;
            default: token = other; break;
            }
            do_register(s, reg, t, hobj ? h : 0, ((uintptr_t)s->ncells << 4) | 8, token);
            break;
        }
        case 15: { /* unregister */
            uint32_t reg = s->reg_id[byte(in) % MAX_SP];
            uint32_t tok = pick(s, in);
            if (reg && tok)
                do_unregister(s, reg, tok);
            break;
        }
        case 16: /* collect */
        case 17:
            op_collect(s);
            break;
        case 18: { /* run cleanup: max 0..7 or all; fail at 1..3 in a quarter */
            uint8_t b = byte(in);
            drain(s, D_ALL, 0, (b & 7) == 7 ? SIZE_MAX : (b & 7),
                  (b >> 3) & 3 ? 0 : 1 + ((b >> 5) % 3), byte(in));
            break;
        }
        case 19: { /* one registry's or group's drain */
            uint8_t b = byte(in);
            uint8_t act = byte(in);
            uint32_t fail_at = (b & 0xc0) == 0xc0 ? 1 + (b & 1) : 0;
            if (b & 8) {
                uint32_t g = s->group_id[b & 3];
                if (!g)
                    break;
                if (b & 4)
                    drain(s, D_MANUAL, g, SIZE_MAX, fail_at, act);
                else
                    drain(s, D_GROUP, g, 1 + ((b >> 4) & 3), fail_at, act);
            } else {
                uint32_t r = s->reg_id[b & 3];
                if (r)
                    drain(s, D_REG, r, 1 + ((b >> 4) & 3), fail_at, act);
            }
            break;
        }
        case 20: { /* a new special in a root slot */
            uint8_t b = byte(in);
            static const int kinds[] = {K_MAP, K_REG, K_GROUP, K_GROUP};
            new_special(s, kinds[b & 3], 6 + (b >> 2) % (MAX_ROOTS - 6), (b & 3) == 2);
            break;
        }
        case 21: { /* frame push */
            uint8_t b = byte(in);
            if (s->nframes == MAX_FRAMES)
                break;
            int f = s->nframes;
            for (int i = 0; i < FRAME_SLOTS; i++) {
                s->fid[f][i] = (b >> i) & 1 ? pick(s, in) : 0;
                s->fslot[f][i] = P(s, s->fid[f][i]);
            }
            CHECK(wgc_frame_push(s->heap, &s->frame[f], s->fslot_addr[f], FRAME_SLOTS),
                  "wgc_frame_push failed");
            s->nframes++;
            break;
        }
        case 22: { /* frame pop; out of LIFO order must be refused */
            uint8_t b = byte(in);
            if (!s->nframes)
                break;
            int f = b % s->nframes;
            if (f != s->nframes - 1) {
                CHECK(!wgc_frame_pop(s->heap, &s->frame[f]) &&
                          wgc_last_error(s->heap) == WGC_ESTATE,
                      "frame popped out of LIFO order accepted");
                wgc_clear_error(s->heap);
                break;
            }
            CHECK(wgc_frame_pop(s->heap, &s->frame[f]), "wgc_frame_pop failed");
            memset(s->fid[f], 0, sizeof s->fid[f]);
            memset(s->fslot[f], 0, sizeof s->fslot[f]);
            s->nframes--;
            break;
        }
        case 23: { /* frame slot set */
            uint8_t b = byte(in);
            if (!s->nframes)
                break;
            int f = b % s->nframes, i = (b >> 4) % FRAME_SLOTS;
            s->fid[f][i] = pick_or_null(s, in);
            s->fslot[f][i] = P(s, s->fid[f][i]);
            break;
        }
        case 24: { /* trace_roots slots */
            uint8_t b = byte(in);
            uint32_t t = pick_or_null(s, in);
            if (b & 1) {
                s->vmw_id[(b >> 1) % NVMW] = t;
                s->vmw[(b >> 1) % NVMW] = P(s, t);
            } else {
                s->vm_id[(b >> 1) % NVM] = t;
                s->vm[(b >> 1) % NVM] = P(s, t);
            }
            break;
        }
        case 25: /* end job */
            CHECK(wgc_end_job(s->heap), "wgc_end_job failed");
            memset(s->kept, 0, s->next_id * sizeof *s->kept);
            break;
        case 26: /* collect and cleanup */
            op_collect_and_cleanup(s, byte(in));
            break;
        case 27: { /* fault injection */
            uint8_t b = byte(in);
            if (b < 0x40) {
                wgc_debug_fail_request(s->heap, 0, false);
                s->faults = false;
            } else {
                wgc_debug_fail_request(s->heap, 1 + (b & 15), b & 0x10);
                s->faults = true;
            }
            break;
        }
        case 28: /* switch heap */
        {
            uint8_t b = byte(in);
            struct state *o = s == &st[0] ? &st[1] : &st[0];
            if (o->heap && (b & 0xe0) == 0xe0) {
                heap_end(o); /* and start it again */
                heap_start(o, o->index, in);
            } else if (!o->heap) {
                heap_start(o, o->index, in);
            }
            s = o;
            break;
        }
        case 29: { /* another heap's object must be refused */
            struct state *o = s == &st[0] ? &st[1] : &st[0];
            if (!o->heap)
                break;
            uint32_t x = pick(o, in);
            if (!x)
                break;
            void *p = P(o, x);
            CHECK(!wgc_is_object(s->heap, p), "another heap's object is an object");
            CHECK(!wgc_root_new(s->heap, p) && wgc_last_error(s->heap) == WGC_EINVAL,
                  "wgc_root_new with another heap's object");
            CHECK(!wgc_weakref_new(s->heap, p, NULL) && wgc_last_error(s->heap) == WGC_EINVAL,
                  "wgc_weakref_new with another heap's object");
            if (s->map_id[0])
                CHECK(!wgc_weakmap_set(s->heap, P(s, s->map_id[0]), p, NULL) &&
                          wgc_last_error(s->heap) == WGC_EINVAL,
                      "wgc_weakmap_set with another heap's key");
            if (s->reg_id[0] && s->nlive)
                CHECK(!wgc_registry_register(P(s, s->reg_id[0]), p, NULL, NULL) &&
                          wgc_last_error(s->heap) == WGC_EINVAL,
                      "register with another heap's target");
            CHECK(!wgc_alloc(s->heap, &layout_type, 8) && wgc_last_error(s->heap) == WGC_EINVAL,
                  "a layout larger than the size accepted");
            wgc_clear_error(s->heap);
            break;
        }
        case 30: /* verify and check everything */
            CHECK(wgc_debug_verify(s->heap), "wgc_debug_verify failed");
            check_all(s);
            break;
        case 31: { /* alloc a burst of one kind with no frame: garbage */
            uint8_t b = byte(in), c = byte(in);
            static const int kinds[] = {K_DATA, K_VEC, K_EPH, K_LAYOUT};
            for (unsigned i = 0; i <= c; i++)
                if (!alloc_obj(s, kinds[b & 3], (b >> 2) + i, false))
                    break;
            break;
        }
        case 32: { /* mass: a vec of MASS fresh objects, so that marking needs a
                    * second mark-stack segment (or overflows under faults) */
            uint8_t b = byte(in);
            if (!room(s, MASS + MASS * NF + 1) || no_large)
                break;
            uint32_t v = 0;
            void *vp = NULL;
            WGC_FRAME(s->heap, &vp);
            int np = s->npins;
            size_t size = sizeof(struct vec) + MASS * sizeof(void *);
            vp = wgc_alloc(s->heap, &vec_type, size);
            if (vp) {
                v = new_id(s, K_VEC, vp, MASS, size);
                ((struct vec *)vp)->magic = MAGIC;
                ((struct vec *)vp)->id = v;
                ((struct vec *)vp)->st = s;
                ((struct vec *)vp)->n = MASS;
                pin_push(s, v);
                for (uint32_t i = 0; i < MASS; i++) {
                    uint32_t x = alloc_obj(s, (b & 1) ? K_PLAIN : K_LAYOUT, 0, false);
                    if (!x)
                        break;
                    set_slot(s, v, i, x);
                }
            } else {
                CHECK_ALLOC_FAIL(s, "wgc_alloc");
            }
            s->npins = np;
            CHECK(WGC_FRAME_POP(s->heap), "WGC_FRAME_POP failed");
            if (v)
                root_slot_hold(s, 8 + (b >> 5), vp, v);
            break;
        }
        case 33: { /* mass registration of fresh garbage, so that a registry's
                    * cell array fills with holes and is compacted */
            uint8_t b = byte(in);
            unsigned n = 16 + 2u * byte(in);
            uint32_t reg = s->reg_id[b & 3];
            for (unsigned i = 0; reg && i < n; i++) {
                uint32_t t = alloc_obj(s, K_LAYOUT, 0, false);
                if (!t || s->reg_id[b & 3] != reg)
                    break;
                do_register(s, reg, t, 0, ((uintptr_t)i << 4) | 8, (b & 4) ? t : 0);
            }
            break;
        }
        default: /* 34, 35: check one object */
        {
            uint32_t x = pick(s, in);
            if (x)
                check_obj(s, x);
            break;
        }
        }
    }
    (void)s;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static struct state st[2];
    static uint32_t slots[2][SLOT_POOL];
    static int32_t mval[2][MAX_SP][MAX_IDS];
    static bool kept[2][MAX_IDS], markS[2][MAX_IDS], markL[2][MAX_IDS];
    struct input in = {data, size};
    g_ops = 0;
    g_work = 0;
    no_large = getenv("FUZZ_NO_LARGE") && atoi(getenv("FUZZ_NO_LARGE"));
    for (int i = 0; i < 2; i++) {
        st[i].heap = NULL;
        st[i].index = i;
        st[i].slot = slots[i];
        st[i].kept = kept[i];
        st[i].markS = markS[i];
        st[i].markL = markL[i];
        for (int x = 0; x < MAX_SP; x++)
            st[i].mval[x] = mval[i][x];
    }
    heap_start(&st[0], 0, &in);
    run(st, &in);
    for (int i = 0; i < 2; i++)
        if (st[i].heap)
            heap_end(&st[i]);
    return 0;
}
