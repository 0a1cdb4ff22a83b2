/*
 * tests/test_embed.c -- what an interpreter needs around the core:
 * unwinding the frame stack after longjmp, references reported by value
 * (boxed values), and weak tables the embedder owns (W16).
 */
#include "common.h"

#include <setjmp.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

/* =============================================================== unwinding */

static jmp_buf unwind_env;

static void push_and_escape(wgc_heap *h, int depth);
/* Called through a pointer: gcc cannot see that the recursion ends. */
static void (*volatile escape_fn)(wgc_heap *, int) = push_and_escape;

/* Pushes a frame per level and leaves by longjmp at the bottom, as an
 * interpreter's error path does. */
static void push_and_escape(wgc_heap *h, int depth)
{
    node *local = wgc_alloc(h, &node_type, sizeof *local);
    WGC_FRAME(h, &local);
    volatile char pad[256]; /* pushes the deepest frames far down */
    pad[0] = (char)depth;
    if (pad[0] > 0)
        escape_fn(h, depth - 1);
    else
        longjmp(unwind_env, 1);
    WGC_FRAME_POP(h); /* never reached: that is the point */
}

Test(embed, frame_unwind_after_longjmp_restores_the_depth)
{
    wgc_heap *h = wgc_heap_new(NULL);
    node *kept = wgc_alloc(h, &node_type, sizeof *kept);
    WGC_FRAME(h, &kept);
    wgc_frame *depth = wgc_frame_top(h);
    cr_assert_eq(depth, &wgc_frame_);
    if (!setjmp(unwind_env))
        push_and_escape(h, 50);
    cr_assert_neq(wgc_frame_top(h), depth, "the escaped frames are still pushed");
    cr_assert(wgc_frame_unwind(h, depth));
    cr_assert_eq(wgc_frame_top(h), depth);
    cr_assert(wgc_collect(h));              /* reads no stale frame */
    cr_assert(wgc_is_object(h, kept), "the handler's own frame still roots");
    WGC_FRAME_POP(h);
    cr_assert_null(wgc_frame_top(h));
    wgc_heap_free(h);
}

/* Leaves 50 stale frames, then collects, unwound first or not.  Returns
 * the child's wait status; its stderr goes to `err`. */
static int collect_after_escape(bool unwind, char *err, size_t errlen)
{
    int pipefd[2];
    cr_assert_eq(pipe(pipefd), 0);
    fflush(NULL);
    pid_t pid = fork();
    cr_assert_geq(pid, 0);
    if (pid == 0) {
        dup2(pipefd[1], 2);
        wgc_heap *h = wgc_heap_new(NULL);
        wgc_frame *depth = wgc_frame_top(h);
        if (!setjmp(unwind_env))
            push_and_escape(h, 50);
        if (unwind)
            wgc_frame_unwind(h, depth);
        wgc_collect(h);
        wgc_heap_free(h);
        _exit(0);
    }
    close(pipefd[1]);
    size_t n = 0;
    ssize_t r;
    while (n + 1 < errlen && (r = read(pipefd[0], err + n, errlen - 1 - n)) > 0)
        n += (size_t)r;
    err[n] = '\0';
    close(pipefd[0]);
    int status;
    cr_assert_eq(waitpid(pid, &status, 0), pid);
    return status;
}

/* [R1] Debug builds catch a frame left below the stack pointer. */
Test(embed, stale_frame_reported_in_debug_builds)
{
    char err[4096];
    int status = collect_after_escape(true, err, sizeof err);
    cr_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0,
              "unwound: the collection ran clean (stderr: %s)", err);
    if (!wgc_debug_checks_enabled())
        return; /* a release build reads the stale frame: undefined */
    status = collect_after_escape(false, err, sizeof err);
    cr_assert(WIFSIGNALED(status) && WTERMSIG(status) == SIGABRT,
              "a stale frame did not abort the debug build");
    cr_assert(strstr(err, "stale") && strstr(err, "wgc_frame_unwind"),
              "the report names the problem and the cure: %s", err);
}

Test(embed, frame_unwind_null_pops_every_frame)
{
    wgc_heap *h = wgc_heap_new(NULL);
    node *a = NULL;
    WGC_FRAME(h, &a);
    cr_assert(wgc_frame_unwind(h, NULL), "NULL pops every frame");
    cr_assert_null(wgc_frame_top(h));
    cr_assert_not(wgc_frame_unwind(NULL, NULL));
    cr_assert_null(wgc_frame_top(NULL));
    wgc_heap_free(h);
}

/* ============================================================ boxed values */

/* A NaN-boxing VM's value: a double, or a pointer in the low 48 bits of a
 * quiet NaN. */
typedef uint64_t boxed;
#define BOX_TAG 0xfffc000000000000ull
static boxed box_ptr(void *p) { return BOX_TAG | (uint64_t)(uintptr_t)p; }
static void *unbox(boxed b)
{
    return (b & BOX_TAG) == BOX_TAG ? (void *)(uintptr_t)(b & ~BOX_TAG) : NULL;
}

typedef struct cell {
    boxed car, cdr;
} cell;

static void cell_trace(void *obj, wgc_visitor *v)
{
    cell *c = obj;
    wgc_visit_value(v, unbox(c->car));
    wgc_visit_value(v, unbox(c->cdr));
}
static const wgc_type cell_type = {.name = "boxed-cell", .trace = cell_trace};

static boxed *vm_stack;
static size_t vm_depth;
static void vm_roots(wgc_visitor *v, void *user)
{
    (void)user;
    for (size_t i = 0; i < vm_depth; i++)
        wgc_visit_value(v, unbox(vm_stack[i]));
}

Test(embed, boxed_values_keep_their_objects_alive)
{
    boxed stack[1] = {0};
    vm_stack = stack;
    vm_depth = 1;
    wgc_config cfg;
    wgc_config_init(&cfg);
    cfg.trace_roots = vm_roots;
    wgc_heap *h = wgc_heap_new(&cfg);
    /* A list of 1000 cells linked through boxed cdrs, with doubles in car. */
    for (int i = 0; i < 1000; i++) {
        cell *c = wgc_alloc(h, &cell_type, sizeof *c);
        cr_assert(c);
        double d = i;
        memcpy(&c->car, &d, sizeof d);
        c->cdr = stack[0];
        stack[0] = box_ptr(c);
    }
    cell *garbage = wgc_alloc(h, &cell_type, sizeof *garbage);
    wgc_weakref *w = NULL;
    WGC_FRAME(h, &w);
    w = wgc_weakref_new(h, garbage, NULL);
    garbage = NULL;
    cr_assert(wgc_collect(h));
    int n = 0;
    for (cell *c = unbox(stack[0]); c; c = unbox(c->cdr), n++) {
        cr_assert(wgc_is_object(h, c));
        double d;
        memcpy(&d, &c->car, sizeof d);
        cr_assert_eq(d, 999 - n);
    }
    cr_assert_eq(n, 1000);
    cr_assert_null(wgc_weakref_deref(h, w), "unreferenced cell collected");
    WGC_FRAME_POP(h);
    wgc_heap_free(h);
}

/* ============================================== weak tables the embedder owns */

/* An interning table by content, open addressing with linear probing, where
 * 0 is "empty" and TOMB a removed entry: exactly the table a raw NULL
 * written by wgc_visit_weak would break.  Values are NaN-boxed. */
#define TABLE_SIZE 256
#define TOMB 1
typedef struct str {
    size_t len;
    char chars[24];
} str;
static const wgc_type str_type = {.name = "str"};

static struct intern_table {
    boxed slot[TABLE_SIZE];
    int created, swept, calls;
} table;

static unsigned hash_chars(const char *s)
{
    unsigned h = 2166136261u;
    for (; *s; s++)
        h = (h ^ (unsigned char)*s) * 16777619u;
    return h;
}

static str *intern(wgc_heap *h, const char *s)
{
    unsigned i = hash_chars(s) % TABLE_SIZE;
    for (;; i = (i + 1) % TABLE_SIZE) {
        if (table.slot[i] == 0)
            break;
        if (table.slot[i] != TOMB && strcmp(((str *)unbox(table.slot[i]))->chars, s) == 0)
            return unbox(table.slot[i]);
    }
    str *o = wgc_alloc(h, &str_type, sizeof *o);
    table.created++;
    o->len = strlen(s);
    strcpy(o->chars, s);
    table.slot[i] = box_ptr(o); /* (a real table would reuse tombstones) */
    return o;
}

static void sweep_table(wgc_heap *h, void *user)
{
    cr_assert_eq(user, &table);
    table.calls++;
    /* No allocation here: refused like in a trace callback. */
    cr_assert_null(wgc_alloc(h, &str_type, 8));
    cr_assert_eq(wgc_last_error(h), WGC_EREENTRY);
    for (int i = 0; i < TABLE_SIZE; i++) {
        str *o = table.slot[i] > TOMB ? unbox(table.slot[i]) : NULL;
        if (o && !wgc_survives(h, o)) {
            cr_assert_gt(o->len, 0, "a dead object is intact during the hook");
            table.slot[i] = TOMB;
            table.swept++;
        }
    }
}

Test(embed, sweep_weak_tables_runs_before_weak_clearing)
{
    memset(&table, 0, sizeof table);
    wgc_config cfg;
    wgc_config_init(&cfg);
    cfg.sweep_weak_tables = sweep_table;
    cfg.sweep_weak_tables_user = &table;
    wgc_heap *h = wgc_heap_new(&cfg);
    char name[24];
    str *keep[50] = {0};
    wgc_root *roots[50];
    for (int i = 0; i < 100; i++) {
        snprintf(name, sizeof name, "s%d", i);
        str *s = intern(h, name);
        if (i % 2 == 0)
            roots[i / 2] = wgc_root_new(h, keep[i / 2] = s);
    }
    /* The same content interns to the same object. */
    cr_assert_eq(intern(h, "s10"), keep[5]);
    cr_assert_not(wgc_survives(h, keep[0]), "false outside the hook");
    /* A WeakRef to a dead interned string is cleared in the same
     * collection its table entry is removed in. */
    wgc_weakref *w = NULL;
    WGC_FRAME(h, &w);
    w = wgc_weakref_new(h, intern(h, "s1"), NULL);
    int calls = table.calls;
    cr_assert(wgc_collect(h));
    cr_assert_eq(table.calls, calls + 1, "once per collection");
    /* Every string but the 50 rooted ones is gone from the table (some
     * already at collections inside allocations, in stress mode). */
    cr_assert_eq(table.swept, table.created - 50, "%d swept of %d", table.swept,
                 table.created);
    cr_assert_null(wgc_weakref_deref(h, w));
    for (int i = 0; i < 50; i++) {
        snprintf(name, sizeof name, "s%d", 2 * i);
        cr_assert_eq(intern(h, name), keep[i], "survivor %d still interned", i);
    }
    /* Probing passes the tombstones: s1 interns again, as a new object. */
    str *again = intern(h, "s1");
    cr_assert(wgc_is_object(h, again));
    for (int i = 0; i < 50; i++)
        wgc_root_free(roots[i]);
    cr_assert(wgc_collect(h));
    cr_assert_eq(table.swept, table.created, "nothing rooted: all swept");
    WGC_FRAME_POP(h);
    wgc_heap_free(h);
}

/* ======================================================= log and pause clocks */

static struct {
    int collection_lines, misuse_lines;
    char last[512];
} logged;

static void log_hook(wgc_heap *h, wgc_log_kind kind, const char *message, void *user)
{
    (void)h;
    cr_assert_eq(user, &logged);
    cr_assert_null(strchr(message, '\n'), "one line, no newline");
    if (kind == WGC_LOG_COLLECTION)
        logged.collection_lines++;
    else if (kind == WGC_LOG_MISUSE)
        logged.misuse_lines++;
    snprintf(logged.last, sizeof logged.last, "%s", message);
}

static wgc_heap *logging_heap(bool print_stats)
{
    memset(&logged, 0, sizeof logged);
    wgc_config cfg;
    wgc_config_init(&cfg);
    cfg.auto_collect = false;
    cfg.log = log_hook;
    cfg.log_user = &logged;
    cfg.print_stats = print_stats;
    return wgc_heap_new(&cfg);
}

Test(embed, print_stats_logs_one_line_per_collection)
{
    unsetenv("WGC_PRINT_STATS");
    wgc_heap *h = logging_heap(true);
    for (int i = 1; i <= 3; i++) {
        cr_assert(wgc_collect(h));
        char want[32];
        snprintf(want, sizeof want, "gc %d: pause ", i);
        cr_assert_eq(strncmp(logged.last, want, strlen(want)), 0, "%s", logged.last);
    }
    cr_assert_eq(logged.collection_lines, 3);
    wgc_heap_free(h);

    h = logging_heap(false);
    cr_assert(wgc_collect(h));
    cr_assert_eq(logged.collection_lines, 0, "off by default");
    wgc_heap_free(h);
}

Test(embed, print_stats_environment_overrides_the_config)
{
    setenv("WGC_PRINT_STATS", "1", 1);
    wgc_heap *h = logging_heap(false);
    cr_assert(wgc_collect(h));
    cr_assert_eq(logged.collection_lines, 1);
    wgc_heap_free(h);
    setenv("WGC_PRINT_STATS", "0", 1);
    h = logging_heap(true);
    cr_assert(wgc_collect(h));
    cr_assert_eq(logged.collection_lines, 0);
    wgc_heap_free(h);
    unsetenv("WGC_PRINT_STATS");
}

Test(embed, misuse_goes_to_the_log_hook_in_debug_builds)
{
    wgc_heap *h = logging_heap(false);
    wgc_frame other = {0};
    cr_assert_not(wgc_frame_pop(h, &other)); /* not on top: misuse */
    cr_assert_eq(wgc_last_error(h), WGC_ESTATE);
    if (wgc_debug_checks_enabled()) {
        cr_assert_eq(logged.misuse_lines, 1);
        cr_assert(strstr(logged.last, "LIFO"), "%s", logged.last);
    } else {
        cr_assert_eq(logged.misuse_lines, 0);
    }
    wgc_heap_free(h);
}

Test(embed, pauses_are_timed_in_wall_and_cpu_time)
{
    no_stress(); /* a collection per allocation of a growing list: quadratic */
    wgc_heap *h = wgc_heap_new(NULL);
    node *list = NULL;
    WGC_FRAME(h, &list);
    for (int i = 0; i < 200000; i++) {
        node *n = wgc_alloc(h, &node_type, sizeof *n);
        n->next = list;
        list = n;
    }
    for (int i = 0; i < 5; i++)
        cr_assert(wgc_collect(h));
    wgc_heap_stats s;
    cr_assert(wgc_stats(h, &s));
    cr_assert_gt(s.pause_cpu_total_ns, 0);
    cr_assert_gt(s.pause_cpu_last_ns, 0);
    cr_assert_leq(s.pause_cpu_last_ns, s.pause_cpu_total_ns);
    /* CPU time cannot run ahead of the wall clock (1 ms for clock grain). */
    cr_assert_leq(s.pause_cpu_total_ns, s.pause_total_ns + 1000000,
                  "cpu %llu > wall %llu", (unsigned long long)s.pause_cpu_total_ns,
                  (unsigned long long)s.pause_total_ns);
    WGC_FRAME_POP(h);
    wgc_heap_free(h);
}

/* ========================================================= external memory */

/* A small object owning a big malloc'd buffer, freed by its destructor,
 * which reports it gone. */
typedef struct owner {
    char *buffer;
    size_t size;
} owner;
static wgc_heap *owner_heap;
static size_t outstanding, outstanding_max;
static void owner_destroy(void *obj)
{
    owner *o = obj;
    cr_assert(wgc_external_free(owner_heap, o->size));
    outstanding -= o->size;
    free(o->buffer);
}
static const wgc_type owner_type = {.name = "owner", .destroy = owner_destroy};

static uint64_t churn_owners(bool report)
{
    no_stress();
    outstanding = outstanding_max = 0;
    wgc_config cfg;
    wgc_config_init(&cfg);
    cfg.initial_heap_size = 1 << 20;
    owner_heap = wgc_heap_new(&cfg);
    for (int i = 0; i < 2000; i++) {
        owner *o = wgc_alloc(owner_heap, &owner_type, sizeof *o);
        cr_assert(o);
        o->size = 64 * 1024;
        o->buffer = malloc(o->size);
        if (report)
            cr_assert(wgc_external_alloc(owner_heap, o->size));
        else
            o->size = 0; /* nothing to report back either */
        outstanding += report ? o->size : 64 * 1024;
        if (outstanding > outstanding_max)
            outstanding_max = outstanding;
    }
    wgc_heap_stats s;
    cr_assert(wgc_stats(owner_heap, &s));
    wgc_heap_free(owner_heap);
    return s.collections;
}

Test(embed, external_memory_brings_collections_forward)
{
    /* 2000 garbage objects of 16 bytes, each owning 64 KiB: 125 MiB. */
    cr_assert_eq(churn_owners(false), 0, "unreported: nothing triggers a collection");
    uint64_t n = churn_owners(true);
    cr_assert_geq(n, 100, "only %llu collections for 125 MiB of buffers",
                  (unsigned long long)n);
    /* Collected every 1 MiB of budget: at most a budget and one buffer
     * outstanding at any time. */
    cr_assert_leq(outstanding_max, (1 << 20) + 64 * 1024, "%zu bytes outstanding",
                  outstanding_max);
}

Test(embed, external_memory_is_counted_exactly)
{
    no_stress();
    wgc_config cfg;
    wgc_config_init(&cfg);
    cfg.initial_heap_size = 1 << 20;
    wgc_heap *h = wgc_heap_new(&cfg);
    node *keep = wgc_alloc(h, &node_type, sizeof *keep);
    WGC_FRAME(h, &keep);
    wgc_heap_stats s;
    cr_assert(wgc_external_alloc(h, 1000));
    cr_assert(wgc_external_alloc(h, 24));
    cr_assert(wgc_stats(h, &s));
    cr_assert_eq(s.external_bytes, 1024);
    cr_assert_eq(s.collections, 0);
    /* The budget is spent by external bytes alone: no collection until an
     * allocation, which then collects first. */
    cr_assert(wgc_external_alloc(h, 1 << 20));
    cr_assert(wgc_stats(h, &s));
    cr_assert_eq(s.collections, 0, "wgc_external_alloc never collects");
    cr_assert(wgc_alloc(h, &node_type, sizeof(node)));
    cr_assert(wgc_stats(h, &s));
    cr_assert_eq(s.collections, 1, "the next allocation collected");
    cr_assert_eq(s.external_bytes, 1024 + (1 << 20), "not in live bytes: %zu", s.live_bytes);
    cr_assert_lt(s.live_bytes, 1024);
    /* Freeing more than is reported changes nothing. */
    cr_assert_not(wgc_external_free(h, (1 << 20) + 1025));
    cr_assert_eq(wgc_last_error(h), WGC_EINVAL);
    cr_assert(wgc_external_free(h, (1 << 20) + 1024));
    cr_assert(wgc_stats(h, &s));
    cr_assert_eq(s.external_bytes, 0);
    cr_assert_not(wgc_external_alloc(NULL, 1));
    cr_assert_not(wgc_external_free(NULL, 1));
    cr_assert(wgc_external_alloc(h, SIZE_MAX / 2));
    cr_assert_not(wgc_external_alloc(h, SIZE_MAX));
    cr_assert_eq(wgc_last_error(h), WGC_EOVERFLOW);
    WGC_FRAME_POP(h);
    wgc_heap_free(h);
}
