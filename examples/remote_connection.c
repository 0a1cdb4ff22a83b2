/*
 * remote_connection.c -- batching "drop" messages with a WeakRefGroup.
 *
 * A connection hands out local references to remote objects.  Each is made
 * in the connection's one WeakRefGroup (holdings: the remote id).  Instead
 * of sending one "drop" message per collected reference, send_drops asks
 * the group for every dead ref at once (wgc_group_manually_finalize) and
 * sends them all in a single message.  The group has no executor, so the
 * ordinary safe point (wgc_run_cleanup) leaves its queue to send_drops.
 *
 * A reference the remote side already released is cleared
 * (wgc_weakref_clear): it leaves the group and is never sent.
 *
 * The program checks itself as it goes: every id whose reference was
 * collected is sent exactly once, and no cleared id is ever sent.
 *
 * Input, one command per line:
 *   ref ID      make a reference to remote object ID; the program holds it
 *   release ID  the program lets go of it
 *   clear ID    the remote side released ID itself: clear the ref
 *   collect     a full collection
 *   send_drops  send the batch of dead ids (one message, or none)
 *   check       verify the bookkeeping so far
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <wgc.h>

#define MAX_IDS 1024

typedef struct remote {
    uint64_t id;
} remote;

static const wgc_type remote_type = {.name = "remote"};

enum state { UNUSED, HELD, RELEASED, CLEARED, SENT };

typedef struct connection {
    wgc_heap *heap;
    wgc_group *group;         /* a root: see trace_connection */
    wgc_weakref *refs[MAX_IDS]; /* the group's refs, kept alive by us */
    remote *held[MAX_IDS];      /* what the program holds */
    enum state state[MAX_IDS];
    unsigned sends[MAX_IDS];
    uint64_t batch[MAX_IDS];
    size_t nbatch;
    int errors;
} connection;

/* A group ref that is garbage when its target dies is never queued: the
 * connection keeps its refs alive until their ids are sent or cleared. */
static void trace_connection(wgc_visitor *v, void *user)
{
    connection *c = user;
    wgc_visit(v, &c->group);
    for (size_t i = 0; i < MAX_IDS; i++) {
        wgc_visit(v, &c->refs[i]);
        wgc_visit(v, &c->held[i]);
    }
}

static void *id_holdings(uint64_t id) { return (void *)(uintptr_t)(id << 1 | 1); }
static uint64_t holdings_id(void *h) { return (uint64_t)(uintptr_t)h >> 1; }

static int add_to_batch(wgc_heap *heap, wgc_weakref *ref, void *holdings, void *user)
{
    (void)heap;
    connection *c = user;
    uint64_t id = holdings_id(holdings);
    if (c->refs[id] != ref) {
        printf("error: ref for %" PRIu64 " delivered but not the connection's\n", id);
        c->errors++;
    }
    c->refs[id] = NULL;
    c->batch[c->nbatch++] = id;
    return 0;
}

static int compare_ids(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return (x > y) - (x < y);
}

static void send_drops(connection *c)
{
    c->nbatch = 0;
    wgc_group_manually_finalize(c->group, add_to_batch, c);
    if (c->nbatch == 0) {
        printf("send_drops: nothing to send\n");
        return;
    }
    qsort(c->batch, c->nbatch, sizeof c->batch[0], compare_ids);
    printf("send_drops: one message: DROP");
    for (size_t i = 0; i < c->nbatch; i++) {
        uint64_t id = c->batch[i];
        printf(" %" PRIu64, id);
        if (c->state[id] == CLEARED) {
            printf(" (error: %" PRIu64 " was cleared)", id);
            c->errors++;
        }
        c->sends[id]++;
        c->state[id] = SENT;
    }
    printf("\n");
}

static remote *make_ref(connection *c, uint64_t id)
{
    remote *r = wgc_alloc(c->heap, &remote_type, sizeof *r);
    if (!r)
        return NULL;
    r->id = id;
    WGC_FRAME(c->heap, &r); /* r is only in a local while the ref is made */
    wgc_weakref *ref = wgc_group_make_ref(c->group, r, id_holdings(id));
    WGC_FRAME_POP(c->heap);
    if (!ref)
        return NULL;
    c->refs[id] = ref;
    c->state[id] = HELD;
    c->sends[id] = 0;
    return r;
}

/* Every id whose remote object was released and collected has been sent
 * exactly once; no cleared id has been sent. */
static void check(connection *c)
{
    int bad = 0;
    for (uint64_t id = 0; id < MAX_IDS; id++) {
        if (c->state[id] == SENT && c->sends[id] != 1)
            printf("check: %" PRIu64 " sent %u times\n", id, c->sends[id]), bad++;
        if (c->state[id] == CLEARED && c->sends[id] != 0)
            printf("check: cleared %" PRIu64 " was sent\n", id), bad++;
        if (c->state[id] == RELEASED && !c->refs[id])
            printf("check: %" PRIu64 " lost before it was sent\n", id), bad++;
    }
    bad += c->errors;
    c->errors = 0;
    printf("check: %s\n", bad ? "FAILED" : "ok");
}

int main(void)
{
    static connection c;
    wgc_config cfg;
    wgc_config_init(&cfg);
    cfg.auto_collect = false;
    cfg.trace_roots = trace_connection;
    cfg.trace_roots_user = &c;
    c.heap = wgc_heap_new(&cfg);
    if (!c.heap)
        return 1;
    c.group = wgc_group_new(c.heap, NULL, NULL);
    if (!c.group)
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
        } else if (n == 2 && strcmp(cmd, "ref") == 0) {
            c.held[id] = make_ref(&c, id);
            if (!c.held[id])
                printf("ref %" PRIu64 ": %s\n", id, wgc_error_string(wgc_last_error(c.heap)));
        } else if (n == 2 && strcmp(cmd, "release") == 0) {
            c.held[id] = NULL;
            if (c.state[id] == HELD)
                c.state[id] = RELEASED;
        } else if (n == 2 && strcmp(cmd, "clear") == 0) {
            if (c.refs[id])
                wgc_weakref_clear(c.heap, c.refs[id]);
            c.refs[id] = NULL;
            c.state[id] = CLEARED;
        } else if (n == 1 && strcmp(cmd, "collect") == 0) {
            wgc_collect(c.heap);
            /* the group has no executor: the safe point must not touch it */
            size_t ran = wgc_run_cleanup(c.heap, SIZE_MAX);
            printf("collect: %zu in the group's queue%s\n", wgc_group_pending(c.group),
                   ran ? " (error: the safe point ran some)" : "");
            status |= ran != 0;
        } else if (n == 1 && strcmp(cmd, "send_drops") == 0) {
            send_drops(&c);
        } else if (n == 1 && strcmp(cmd, "check") == 0) {
            check(&c);
        } else {
            printf("unknown command: %s", line);
            status = 1;
        }
    }
    check(&c);
    wgc_heap_free(c.heap);
    return status;
}
