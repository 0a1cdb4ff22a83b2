/*
 * tests/test_debug.c -- what debug builds add, checked in the build at hand:
 * a dead cell is quarantined for one collection in debug builds and reused
 * at once otherwise; misuse is reported on stderr in debug builds.
 */
#include "common.h"

#include <criterion/redirect.h>

/* A lone object in a fresh heap sits in the first cell of its page: once
 * dead, the next allocation of its size takes that cell again, unless the
 * cell is quarantined. */
Test(debug, dead_cell_quarantined_exactly_in_debug_builds)
{
    no_stress(); /* collections at allocations would end the quarantine */
    wgc_config cfg;
    wgc_config_init(&cfg);
    cfg.auto_collect = false;
    wgc_heap *h = wgc_heap_new(&cfg);
    cr_assert_not_null(h);
    void *dead = wgc_alloc(h, &node_type, sizeof(node));
    cr_assert_not_null(dead);
    cr_assert(wgc_collect(h));
    cr_assert(!wgc_is_object(h, dead), "an unrooted object survived");
    void *next = wgc_alloc(h, &node_type, sizeof(node));
    cr_assert_not_null(next);
    if (wgc_debug_checks_enabled())
        cr_assert_neq(next, dead, "debug build reused a cell that just died");
    else
        cr_assert_eq(next, dead, "release build did not reuse the free cell first");
    wgc_heap_free(h);
}

/* Quarantine delays reuse by one collection; it must not stop it. */
Test(debug, quarantine_still_reuses_memory)
{
    no_stress();
    wgc_config cfg;
    wgc_config_init(&cfg);
    cfg.auto_collect = false;
    wgc_heap *h = wgc_heap_new(&cfg);
    cr_assert_not_null(h);
    for (int i = 0; i < 2000; i++) {
        for (int j = 0; j < 100; j++)
            cr_assert_not_null(wgc_alloc(h, &node_type, sizeof(node)));
        cr_assert(wgc_collect(h));
    }
    wgc_heap_stats s = get_stats(h);
    cr_assert_leq(s.heap_size, cfg.initial_heap_size,
                  "200,000 dead objects grew the heap to %zu bytes", s.heap_size);
    wgc_heap_free(h);
}

static wgc_heap *popped_heap;

static void pop_from_other_frame(void)
{
    void *x = NULL;
    WGC_FRAME(popped_heap, &x);
    wgc_frame other = {0};
    cr_assert(!wgc_frame_pop(popped_heap, &other));
    cr_assert_eq(wgc_last_error(popped_heap), WGC_ESTATE);
    cr_assert(WGC_FRAME_POP(popped_heap));
}

/* Misuse messages go to stderr in debug builds only; the error results are
 * the same in every build. */
Test(debug, misuse_reported_on_stderr_in_debug_builds, .init = cr_redirect_stderr)
{
    no_stress();
    popped_heap = wgc_heap_new(NULL);
    cr_assert_not_null(popped_heap);
    pop_from_other_frame();
    wgc_heap_free(popped_heap);
    fflush(stderr);
    if (wgc_debug_checks_enabled())
        cr_assert_stderr_neq_str("", "debug build printed no misuse message");
    else
        cr_assert_stderr_eq_str("", "release build printed a misuse message");
}

/* ============================================ slots that point at nothing */

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

/* A holder of one weak slot, one ephemeron (key, value) and one strong
 * slot. */
typedef struct holder {
    void *weak;
    void *key;
    void *value;
    void *strong;
} holder;

static void holder_trace(void *obj, wgc_visitor *v)
{
    holder *o = obj;
    wgc_visit_weak(v, &o->weak);
    wgc_visit_ephemeron(v, &o->key, &o->value);
    wgc_visit(v, &o->strong);
}

static const wgc_type holder_type = {.name = "holder", .trace = holder_trace};

/* Runs `plant(h, holder)` on a rooted holder in a child process, then
 * collects there.  Returns what the child wrote to stderr (static) and its
 * wait status in *status. */
static const char *run_planted(void (*plant)(wgc_heap *, holder *), int *status)
{
    static char out[4096];
    int fds[2];
    cr_assert_eq(pipe(fds), 0);
    fflush(NULL);
    pid_t pid = fork();
    cr_assert_geq(pid, 0);
    if (pid == 0) {
        dup2(fds[1], 2);
        close(fds[0]);
        wgc_config cfg;
        wgc_config_init(&cfg);
        cfg.auto_collect = false;
        cfg.stress_interval = 0;
        unsetenv("WGC_STRESS");
        static wgc_heap *h; /* static: reachable for leak checkers at abort */
        h = wgc_heap_new(&cfg);
        holder *o = wgc_alloc(h, &holder_type, sizeof *o);
        WGC_FRAME(h, &o);
        plant(h, o);
        wgc_collect(h);
        WGC_FRAME_POP(h);
        wgc_heap_free(h);
        _exit(0);
    }
    close(fds[1]);
    size_t n = 0;
    ssize_t r;
    while ((r = read(fds[0], out + n, sizeof out - 1 - n)) > 0)
        n += (size_t)r;
    out[n] = '\0';
    close(fds[0]);
    cr_assert_eq(waitpid(pid, status, 0), pid);
    return out;
}

/* [issue 13.8] Debug builds report a weak slot or an ephemeron key that
 * points at no live object exactly as they report a strong slot: a misuse
 * message, then abort.  (Release builds do not check: such a slot is
 * undefined behaviour there.) */
static void expect_reported(void (*plant)(wgc_heap *, holder *), const char *kind)
{
    if (!wgc_debug_checks_enabled())
        cr_skip_test("release builds do not check slots");
    int status;
    const char *err = run_planted(plant, &status);
    cr_assert(WIFSIGNALED(status) && WTERMSIG(status) == SIGABRT,
              "a bad %s slot did not abort (status %#x, stderr \"%s\")", kind, status, err);
    cr_assert(strstr(err, kind) && strstr(err, "not a live object"),
              "no report naming the %s slot: \"%s\"", kind, err);
}

static void weak_interior(wgc_heap *h, holder *o)
{
    (void)h;
    o->weak = (char *)o + 8; /* inside the holder itself */
}

static void weak_other_heap(wgc_heap *h, holder *o)
{
    (void)h;
    /* static and volatile: reachable for leak checkers at the abort (a
     * store never read again would be dropped) */
    static wgc_heap *volatile other;
    other = wgc_heap_new(NULL);
    o->weak = wgc_alloc(other, &node_type, sizeof(node));
}

static void weak_dead(wgc_heap *h, holder *o)
{
    void *dead = wgc_alloc(h, &node_type, sizeof(node));
    wgc_collect(h); /* nothing roots it */
    o->weak = dead;
}

static void weak_junk(wgc_heap *h, holder *o)
{
    (void)h;
    o->weak = (void *)(uintptr_t)0x1234560;
}

static void key_interior(wgc_heap *h, holder *o)
{
    o->value = wgc_alloc(h, &node_type, sizeof(node));
    o->key = (char *)o + 16;
}

static void key_junk(wgc_heap *h, holder *o)
{
    (void)h;
    o->key = (void *)(uintptr_t)0x7654320;
}

Test(debug, weak_slot_interior_pointer_reported) { expect_reported(weak_interior, "weak slot"); }
Test(debug, weak_slot_other_heaps_object_reported) { expect_reported(weak_other_heap, "weak slot"); }
Test(debug, weak_slot_dead_object_reported) { expect_reported(weak_dead, "weak slot"); }
Test(debug, weak_slot_junk_reported) { expect_reported(weak_junk, "weak slot"); }
Test(debug, ephemeron_key_interior_pointer_reported) { expect_reported(key_interior, "ephemeron key slot"); }
Test(debug, ephemeron_key_junk_reported) { expect_reported(key_junk, "ephemeron key slot"); }

/* The same holder with good slots: no report, a clean exit, the check is
 * not a false alarm. */
static void all_good(wgc_heap *h, holder *o)
{
    o->weak = wgc_alloc(h, &node_type, sizeof(node));
    o->key = wgc_alloc(h, &node_type, sizeof(node));
    o->value = wgc_alloc(h, &node_type, sizeof(node));
}

Test(debug, good_weak_slots_not_reported)
{
    int status;
    const char *err = run_planted(all_good, &status);
    cr_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0,
              "status %#x, stderr \"%s\"", status, err);
    cr_assert_str_empty(err);
}

/* [issue 12.17] A strong slot holding an object the last collection freed
 * (what a missing root leaves behind) is reported with the holder's type
 * and the slot's offset, the dead object's former type, and the likely
 * cause. */
static void strong_dead(wgc_heap *h, holder *o)
{
    void *dead = wgc_alloc(h, &node_type, sizeof(node));
    wgc_collect(h); /* nothing roots it: a missing root */
    o->strong = dead;
}

Test(debug, missing_root_report_names_holder_offset_and_former_type)
{
    if (!wgc_debug_checks_enabled())
        cr_skip_test("release builds do not check slots");
    int status;
    const char *err = run_planted(strong_dead, &status);
    cr_assert(WIFSIGNALED(status) && WTERMSIG(status) == SIGABRT,
              "a dead strong slot did not abort (stderr \"%s\")", err);
    cr_assert(strstr(err, "field at byte offset 24 of an object of type holder"),
              "no holder and offset: \"%s\"", err);
    cr_assert(strstr(err, "a dead object of type node, freed by the last collection"),
              "no former type: \"%s\"", err);
    cr_assert(strstr(err, "likely a missing root"), "no cause: \"%s\"", err);
}
