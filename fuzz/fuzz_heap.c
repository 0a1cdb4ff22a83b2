/*
 * fuzz_heap.c -- libFuzzer target: the input is a small program of heap
 * operations, run against a real heap and against a reference model kept
 * here.  Every observable outcome is checked against the model; any
 * mismatch prints a message to stderr and aborts.
 *
 * Program format: a sequence of ops, each an opcode byte followed by the
 * argument bytes that op reads (reading past the end gives 0).  At most
 * MAX_OPS ops run; at most MAX_LIVE nodes are in the heap at once.
 *
 * The model: nodes (NF strong fields, one weak field, an id), root handles,
 * WeakRefs (each held by a harness-owned root handle), two weak maps and two
 * registries (all rooted for the whole run).  At each collect op the model
 * computes the live set -- roots, holdings of WeakRefs and of registered or
 * queued cells, strong fields, and ephemeron values of live keys, to a fixed
 * point -- and the harness checks: exactly the model-dead nodes are
 * destroyed (node destructor), live nodes are intact, WeakRef derefs, weak
 * fields, weak map lookups and counts, and pending cleanup counts match.
 * Cleanup deliveries must match the model's queue exactly (order: by
 * collection, then registration order), as must every unregister result.
 *
 * The heap uses auto_collect = false so collections happen only at the
 * collect op.  Dead nodes are remembered by id only: the harness never
 * touches an object the model says is dead.
 */
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "wgc.h"

#define MAX_OPS 2000
#define MAX_LIVE 256
#define MAX_IDS (MAX_OPS + 2)
#define NF 3
#define MAX_ROOTS 16
#define MAX_WREFS 64
#define NMAPS 2
#define NREGS 2
#define MAX_CELLS MAX_OPS
#define MAX_LOG 64

#define NODE_MAGIC 0x6e6f6465u
#define NODE_DEAD 0xdeadbeefu

struct node {
    uint32_t magic;
    uint32_t id;
    struct node *f[NF];
    struct node *w; /* weak */
};

static void node_trace(void *obj, wgc_visitor *v)
{
    struct node *n = obj;
    wgc_visit_array(v, n->f, NF);
    wgc_visit_weak(v, &n->w);
}

static void node_destroy(void *obj);

static const wgc_type node_type = {.name = "fuzz-node", .trace = node_trace, .destroy = node_destroy};

enum cell_state { CELL_REGISTERED, CELL_QUEUED, CELL_DONE };

struct cell {
    int reg;
    uint32_t target;   /* id; 0 once dead */
    uint32_t hnode;    /* holdings node id, 0 if integer holdings */
    uintptr_t hint;    /* integer holdings */
    uint32_t token;    /* id; 0 none or dead */
    enum cell_state state;
};

struct wref {
    wgc_root *handle;
    wgc_weakref *ref; /* valid while handle is held */
    uint32_t target;  /* 0 once dead or cleared */
    uint32_t holdings;
};

struct state {
    wgc_heap *heap;
    /* nodes by id */
    struct node *ptr[MAX_IDS]; /* NULL once collected */
    uint32_t field[MAX_IDS][NF];
    uint32_t weak[MAX_IDS];
    bool destroyed[MAX_IDS];
    uint32_t ndestroyed;
    uint32_t next_id;
    uint32_t live[MAX_LIVE]; /* ids in the heap (not yet collected) */
    uint32_t nlive;
    /* roots */
    wgc_root *root[MAX_ROOTS];
    uint32_t root_target[MAX_ROOTS];
    /* weakrefs */
    struct wref wref[MAX_WREFS];
    uint32_t nwrefs;
    /* weak maps: mval[m][key] = -1 absent, 0 NULL value, else value id */
    wgc_weakmap *map[NMAPS];
    wgc_root *map_root[NMAPS];
    int32_t mval[NMAPS][MAX_IDS];
    /* registries */
    wgc_registry *reg[NREGS];
    wgc_root *reg_root[NREGS];
    struct cell cell[MAX_CELLS];
    uint32_t ncells;
    uint32_t queue[MAX_CELLS]; /* cell indexes in delivery order */
    uint32_t qhead, qtail;
    /* deliveries seen by the callback */
    int log_reg[MAX_LOG];
    void *log_holdings[MAX_LOG];
    uint32_t nlog;
    uint32_t fail_at; /* callback number (1-based) that fails; 0 never */
    /* model marks */
    bool mark[MAX_IDS];
    uint32_t ops;
};

static struct state *cur;

static void fail(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "fuzz_heap: MISMATCH at op %u: ", cur ? cur->ops : 0);
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

static void node_destroy(void *obj)
{
    struct node *n = obj;
    struct state *s = cur;
    CHECK(n->magic == NODE_MAGIC, "destructor on a non-node or twice (magic %#x)",
          n->magic);
    uint32_t id = n->id;
    CHECK(id > 0 && id < s->next_id, "destructor: bad id %u", id);
    CHECK(!s->destroyed[id], "node %u destroyed twice", id);
    s->destroyed[id] = true;
    s->ndestroyed++;
    n->magic = NODE_DEAD;
}

static int cleanup_cb(wgc_heap *heap, void *holdings, void *user)
{
    struct state *s = cur;
    CHECK(heap == s->heap, "cleanup callback: wrong heap");
    CHECK(s->nlog < MAX_LOG, "cleanup callback: too many deliveries");
    s->log_reg[s->nlog] = (int)(intptr_t)user;
    s->log_holdings[s->nlog] = holdings;
    s->nlog++;
    return s->fail_at && s->nlog == s->fail_at ? 1 : 0;
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

/* A live node id chosen by the next byte, or 0 when none is live. */
static uint32_t pick(struct state *s, struct input *in)
{
    uint8_t b = byte(in);
    return s->nlive ? s->live[b % s->nlive] : 0;
}

/* Like pick, but byte values >= 0xf0 mean NULL. */
static uint32_t pick_or_null(struct state *s, struct input *in)
{
    uint8_t b = byte(in);
    if (b >= 0xf0 || !s->nlive)
        return 0;
    return s->live[b % s->nlive];
}

static struct node *P(struct state *s, uint32_t id)
{
    return id ? s->ptr[id] : NULL;
}

/* --------------------------------------------------------------- model */

static void mark_from(struct state *s, uint32_t id)
{
    static uint32_t stack[MAX_IDS];
    size_t sp = 0;
    if (!id || s->mark[id])
        return;
    s->mark[id] = true;
    stack[sp++] = id;
    while (sp) {
        uint32_t x = stack[--sp];
        for (int i = 0; i < NF; i++) {
            uint32_t y = s->field[x][i];
            if (y && !s->mark[y]) {
                s->mark[y] = true;
                stack[sp++] = y;
            }
        }
    }
}

static void model_mark(struct state *s)
{
    memset(s->mark, 0, sizeof s->mark);
    for (int r = 0; r < MAX_ROOTS; r++)
        if (s->root[r])
            mark_from(s, s->root_target[r]);
    for (uint32_t i = 0; i < s->nwrefs; i++)
        mark_from(s, s->wref[i].holdings);
    for (uint32_t c = 0; c < s->ncells; c++)
        if (s->cell[c].state != CELL_DONE)
            mark_from(s, s->cell[c].hnode);
    bool changed = true;
    while (changed) {
        changed = false;
        for (uint32_t i = 0; i < s->nlive; i++) {
            uint32_t k = s->live[i];
            if (!s->mark[k])
                continue;
            for (int m = 0; m < NMAPS; m++) {
                int32_t v = s->mval[m][k];
                if (v > 0 && !s->mark[v]) {
                    mark_from(s, (uint32_t)v);
                    changed = true;
                }
            }
        }
    }
}

/* ---------------------------------------------------------------- checks */

static void check_wref(struct state *s, uint32_t i)
{
    struct wref *w = &s->wref[i];
    void *got = wgc_weakref_deref(s->heap, w->ref);
    CHECK(got == (void *)P(s, w->target), "weakref %u deref %p, model target %u (%p)",
          i, got, w->target, (void *)P(s, w->target));
    void *h = wgc_weakref_holdings(s->heap, w->ref);
    CHECK(h == (void *)P(s, w->holdings), "weakref %u holdings %p, model %u", i, h,
          w->holdings);
}

static size_t model_pending(struct state *s, int reg)
{
    size_t n = 0;
    for (uint32_t q = s->qhead; q < s->qtail; q++) {
        struct cell *c = &s->cell[s->queue[q]];
        if (c->state == CELL_QUEUED && (reg < 0 || c->reg == reg))
            n++;
    }
    return n;
}

static void check_all(struct state *s)
{
    for (uint32_t i = 0; i < s->nlive; i++) {
        uint32_t id = s->live[i];
        struct node *n = s->ptr[id];
        CHECK(wgc_is_object(s->heap, n), "node %u not an object", id);
        CHECK(wgc_type_of(n) == &node_type, "node %u wrong type", id);
        CHECK(n->magic == NODE_MAGIC && n->id == id, "node %u corrupt (magic %#x id %u)",
              id, n->magic, n->id);
        for (int f = 0; f < NF; f++)
            CHECK(n->f[f] == P(s, s->field[id][f]), "node %u field %d: %p, model %u", id,
                  f, (void *)n->f[f], s->field[id][f]);
        CHECK(n->w == P(s, s->weak[id]), "node %u weak field: %p, model %u", id,
              (void *)n->w, s->weak[id]);
    }
    for (uint32_t i = 0; i < s->nwrefs; i++)
        check_wref(s, i);
    for (int r = 0; r < MAX_ROOTS; r++)
        if (s->root[r])
            CHECK(wgc_root_get(s->root[r]) == (void *)P(s, s->root_target[r]),
                  "root %d holds the wrong object", r);
    for (int m = 0; m < NMAPS; m++) {
        size_t count = 0;
        for (uint32_t i = 0; i < s->nlive; i++) {
            uint32_t k = s->live[i];
            int32_t v = s->mval[m][k];
            struct node *kp = s->ptr[k];
            bool has = wgc_weakmap_has(s->heap, s->map[m], kp);
            void *got = wgc_weakmap_get(s->heap, s->map[m], kp);
            CHECK(has == (v >= 0), "map %d has(%u) = %d, model %d", m, k, has, v);
            CHECK(got == (void *)(v > 0 ? s->ptr[v] : NULL),
                  "map %d get(%u) = %p, model %d", m, k, got, v);
            count += v >= 0;
        }
        size_t c = wgc_weakmap_count(s->heap, s->map[m]);
        CHECK(c == count, "map %d count %zu, model %zu", m, c, count);
    }
    CHECK(wgc_cleanup_pending(s->heap) == model_pending(s, -1),
          "cleanup pending %zu, model %zu", wgc_cleanup_pending(s->heap),
          model_pending(s, -1));
    for (int r = 0; r < NREGS; r++)
        CHECK(wgc_registry_pending(s->reg[r]) == model_pending(s, r),
              "registry %d pending %zu, model %zu", r, wgc_registry_pending(s->reg[r]),
              model_pending(s, r));
}

/* ------------------------------------------------------------------- ops */

static void op_collect(struct state *s)
{
    model_mark(s);
    uint32_t before = s->ndestroyed;
    CHECK(wgc_collect(s->heap), "wgc_collect failed");
    uint32_t expect_dead = 0;
    uint32_t j = 0;
    for (uint32_t i = 0; i < s->nlive; i++) {
        uint32_t id = s->live[i];
        if (s->mark[id]) {
            CHECK(!s->destroyed[id], "live node %u was destroyed", id);
            s->live[j++] = id;
        } else {
            CHECK(s->destroyed[id], "dead node %u was not destroyed", id);
            s->ptr[id] = NULL;
            expect_dead++;
        }
    }
    s->nlive = j;
    CHECK(s->ndestroyed - before == expect_dead, "%u destroyed, model %u",
          s->ndestroyed - before, expect_dead);
    /* weak things referring to dead nodes are emptied */
    for (uint32_t i = 0; i < s->nlive; i++) {
        uint32_t id = s->live[i];
        if (s->weak[id] && !s->ptr[s->weak[id]])
            s->weak[id] = 0;
    }
    for (uint32_t i = 0; i < s->nwrefs; i++)
        if (s->wref[i].target && !s->ptr[s->wref[i].target])
            s->wref[i].target = 0;
    for (int m = 0; m < NMAPS; m++)
        for (uint32_t id = 1; id < s->next_id; id++)
            if (s->mval[m][id] >= 0 && !s->ptr[id])
                s->mval[m][id] = -1;
    for (uint32_t c = 0; c < s->ncells; c++) {
        struct cell *cl = &s->cell[c];
        if (cl->token && !s->ptr[cl->token])
            cl->token = 0;
        if (cl->state == CELL_REGISTERED && !s->ptr[cl->target]) {
            cl->target = 0;
            cl->state = CELL_QUEUED;
            s->queue[s->qtail++] = c;
        }
    }
    CHECK(wgc_debug_verify(s->heap), "wgc_debug_verify failed");
    check_all(s);
}

static uintptr_t cell_holdings(struct state *s, const struct cell *c)
{
    return c->hnode ? (uintptr_t)s->ptr[c->hnode] : c->hint;
}

/* Runs a drain (reg < 0: wgc_run_cleanup) and checks it against the queue. */
static void op_cleanup(struct state *s, int reg, size_t max, uint32_t fail_at)
{
    s->nlog = 0;
    s->fail_at = fail_at;
    size_t ran = reg < 0 ? wgc_run_cleanup(s->heap, max)
                         : wgc_registry_cleanup_some(s->reg[reg], max);
    s->fail_at = 0;
    size_t expect = 0;
    for (uint32_t q = s->qhead; q < s->qtail && expect < max; q++) {
        struct cell *c = &s->cell[s->queue[q]];
        if (c->state != CELL_QUEUED || (reg >= 0 && c->reg != reg))
            continue;
        CHECK(expect < s->nlog, "delivery %zu missing (ran %zu)", expect, ran);
        CHECK(s->log_reg[expect] == c->reg &&
                  (uintptr_t)s->log_holdings[expect] == cell_holdings(s, c),
              "delivery %zu: registry %d holdings %p, model cell %u registry %d holdings %p",
              expect, s->log_reg[expect], s->log_holdings[expect], s->queue[q], c->reg,
              (void *)cell_holdings(s, c));
        c->state = CELL_DONE;
        expect++;
        if (fail_at && expect == fail_at)
            break;
    }
    CHECK(ran == expect && s->nlog == expect, "cleanup ran %zu (logged %u), model %zu",
          ran, s->nlog, expect);
    while (s->qhead < s->qtail && s->cell[s->queue[s->qhead]].state != CELL_QUEUED)
        s->qhead++;
    CHECK(wgc_cleanup_pending(s->heap) == model_pending(s, -1),
          "cleanup pending %zu after drain, model %zu", wgc_cleanup_pending(s->heap),
          model_pending(s, -1));
}

static void run(struct state *s, struct input *in)
{
    while (in->n && s->ops < MAX_OPS) {
        s->ops++;
        uint8_t op = byte(in) % 19;
        switch (op) {
        case 0: /* alloc */
        case 1: {
            if (s->nlive >= MAX_LIVE || s->next_id >= MAX_IDS)
                break;
            struct node *n = wgc_alloc(s->heap, &node_type, sizeof *n);
            CHECK(n, "alloc failed: %s", wgc_error_string(wgc_last_error(s->heap)));
            uint32_t id = s->next_id++;
            n->magic = NODE_MAGIC;
            n->id = id;
            s->ptr[id] = n;
            s->live[s->nlive++] = id;
            break;
        }
        case 2: { /* link */
            uint32_t a = pick(s, in), f = byte(in) % NF, b = pick(s, in);
            if (!a)
                break;
            s->ptr[a]->f[f] = P(s, b);
            s->field[a][f] = b;
            break;
        }
        case 3: { /* unlink */
            uint32_t a = pick(s, in), f = byte(in) % NF;
            if (!a)
                break;
            s->ptr[a]->f[f] = NULL;
            s->field[a][f] = 0;
            break;
        }
        case 4: { /* weak link */
            uint32_t a = pick(s, in), b = pick_or_null(s, in);
            if (!a)
                break;
            s->ptr[a]->w = P(s, b);
            s->weak[a] = b;
            break;
        }
        case 5: { /* root: new handle, or set an existing one */
            uint32_t r = byte(in) % MAX_ROOTS, t = pick_or_null(s, in);
            if (s->root[r]) {
                CHECK(wgc_root_set(s->root[r], P(s, t)), "wgc_root_set failed");
            } else {
                s->root[r] = wgc_root_new(s->heap, P(s, t));
                CHECK(s->root[r], "wgc_root_new failed");
            }
            s->root_target[r] = t;
            break;
        }
        case 6: { /* unroot */
            uint32_t r = byte(in) % MAX_ROOTS;
            wgc_root_free(s->root[r]);
            s->root[r] = NULL;
            s->root_target[r] = 0;
            break;
        }
        case 7: { /* weakref new */
            uint32_t t = pick(s, in), h = pick_or_null(s, in);
            if (!t || s->nwrefs >= MAX_WREFS)
                break;
            wgc_weakref *ref = wgc_weakref_new(s->heap, P(s, t), P(s, h));
            if (t == h) {
                CHECK(!ref && wgc_last_error(s->heap) == WGC_EINVAL,
                      "weakref with target == holdings accepted");
                wgc_clear_error(s->heap);
                break;
            }
            CHECK(ref, "wgc_weakref_new failed");
            wgc_root *handle = wgc_root_new(s->heap, ref);
            CHECK(handle, "wgc_root_new (weakref) failed");
            s->wref[s->nwrefs++] = (struct wref){handle, ref, t, h};
            break;
        }
        case 8: { /* weakref drop (unroot it) */
            if (!s->nwrefs)
                break;
            uint32_t i = byte(in) % s->nwrefs;
            wgc_root_free(s->wref[i].handle);
            s->wref[i] = s->wref[--s->nwrefs];
            break;
        }
        case 9: { /* weakref clear */
            if (!s->nwrefs)
                break;
            uint32_t i = byte(in) % s->nwrefs;
            CHECK(wgc_weakref_clear(s->heap, s->wref[i].ref), "wgc_weakref_clear failed");
            s->wref[i].target = 0;
            check_wref(s, i);
            break;
        }
        case 10: { /* weakref deref */
            if (!s->nwrefs)
                break;
            check_wref(s, byte(in) % s->nwrefs);
            break;
        }
        case 11: { /* weakmap set */
            int m = byte(in) % NMAPS;
            uint32_t k = pick(s, in), v = pick_or_null(s, in);
            if (!k)
                break;
            CHECK(wgc_weakmap_set(s->heap, s->map[m], P(s, k), P(s, v)),
                  "wgc_weakmap_set failed");
            s->mval[m][k] = (int32_t)v;
            break;
        }
        case 12: { /* weakmap delete */
            int m = byte(in) % NMAPS;
            uint32_t k = pick(s, in);
            if (!k)
                break;
            bool got = wgc_weakmap_delete(s->heap, s->map[m], P(s, k));
            CHECK(got == (s->mval[m][k] >= 0), "map %d delete(%u) = %d, model %d", m, k,
                  got, s->mval[m][k]);
            s->mval[m][k] = -1;
            break;
        }
        case 13: { /* register */
            uint8_t b = byte(in);
            int r = b % NREGS;
            uint32_t t = pick(s, in), h = pick(s, in), other = pick(s, in);
            if (!t || s->ncells >= MAX_CELLS)
                break;
            bool hnode = b & 2;
            uint32_t token;
            switch ((b >> 2) & 3) {
            case 0: token = 0; break;
            case 1: token = t; break;
            case 2: token = hnode ? h : 0; break;
            default: token = other; break;
            }
            struct cell c = {r, t, hnode ? h : 0, 0, token, CELL_REGISTERED};
            if (!hnode)
                c.hint = ((uintptr_t)s->ncells << 4) | 8;
            bool ok = wgc_registry_register(s->reg[r], P(s, t), (void *)cell_holdings(s, &c),
                                            P(s, token));
            if (hnode && h == t) {
                CHECK(!ok && wgc_last_error(s->heap) == WGC_EINVAL,
                      "register with target == holdings accepted");
                wgc_clear_error(s->heap);
                break;
            }
            CHECK(ok, "wgc_registry_register failed");
            s->cell[s->ncells++] = c;
            break;
        }
        case 14: { /* unregister */
            int r = byte(in) % NREGS;
            uint32_t tok = pick(s, in);
            if (!tok)
                break;
            bool expect = false;
            for (uint32_t c = 0; c < s->ncells; c++) {
                struct cell *cl = &s->cell[c];
                if (cl->reg == r && cl->token == tok && cl->state != CELL_DONE) {
                    cl->state = CELL_DONE;
                    expect = true;
                }
            }
            bool got = wgc_registry_unregister(s->reg[r], P(s, tok));
            CHECK(got == expect, "unregister(reg %d, token %u) = %d, model %d", r, tok, got,
                  expect);
            while (s->qhead < s->qtail && s->cell[s->queue[s->qhead]].state != CELL_QUEUED)
                s->qhead++;
            break;
        }
        case 15: /* collect */
        case 16:
            op_collect(s);
            break;
        case 17: { /* run cleanup: max 0..7; fail at 1..3 in a quarter of cases */
            uint8_t b = byte(in);
            op_cleanup(s, -1, b & 7, (b >> 3) & 3 ? 0 : 1 + ((b >> 5) % 3));
            break;
        }
        case 18: { /* one registry's cleanup */
            uint8_t b = byte(in);
            op_cleanup(s, b & 1, (b >> 1) & 7, 0);
            break;
        }
        }
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static struct state st;
    struct state *s = &st;
    /* The model needs collections only at collect ops: the stress switch
     * (read by wgc_heap_new) would collect at allocations. */
    unsetenv("WGC_STRESS");
    memset(s, 0, sizeof *s);
    memset(s->mval, 0xff, sizeof s->mval);
    s->next_id = 1;
    cur = s;

    wgc_config cfg;
    wgc_config_init(&cfg);
    cfg.auto_collect = false;
    cfg.initial_heap_size = 256 << 10;
    s->heap = wgc_heap_new(&cfg);
    CHECK(s->heap, "wgc_heap_new failed");
    for (int m = 0; m < NMAPS; m++) {
        s->map[m] = wgc_weakmap_new(s->heap);
        CHECK(s->map[m], "wgc_weakmap_new failed");
        s->map_root[m] = wgc_root_new(s->heap, s->map[m]);
        CHECK(s->map_root[m], "wgc_root_new failed");
    }
    for (int r = 0; r < NREGS; r++) {
        s->reg[r] = wgc_registry_new(s->heap, cleanup_cb, (void *)(intptr_t)r);
        CHECK(s->reg[r], "wgc_registry_new failed");
        s->reg_root[r] = wgc_root_new(s->heap, s->reg[r]);
        CHECK(s->reg_root[r], "wgc_root_new failed");
    }

    struct input in = {data, size};
    run(s, &in);
    op_collect(s);

    /* wgc_heap_free runs the destructor of every node still in the heap. */
    uint32_t before = s->ndestroyed;
    wgc_heap_free(s->heap);
    CHECK(s->ndestroyed - before == s->nlive, "heap free destroyed %u, %u were live",
          s->ndestroyed - before, s->nlive);
    CHECK(s->ndestroyed == s->next_id - 1, "%u destroyed in all, %u allocated",
          s->ndestroyed, s->next_id - 1);
    cur = NULL;
    return 0;
}
