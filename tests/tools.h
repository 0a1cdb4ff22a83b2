/*
 * tests/tools.h -- what the tests know of the tools watching them (valgrind,
 * ASan) and of the WGC_STRESS switch, to scale their workloads.
 */
#ifndef WGC_TESTS_TOOLS_H
#define WGC_TESTS_TOOLS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdlib.h>

#if defined(__has_include)
#if __has_include(<valgrind/valgrind.h>)
#include <valgrind/valgrind.h>
#endif
#endif
#ifndef RUNNING_ON_VALGRIND
#define RUNNING_ON_VALGRIND 0
#endif

#if defined(__SANITIZE_ADDRESS__)
#define TEST_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define TEST_ASAN 1
#endif
#endif
#ifndef TEST_ASAN
#define TEST_ASAN 0
#endif

/* =============================================================== runtime */

static inline bool under_valgrind(void)
{
    return RUNNING_ON_VALGRIND != 0;
}

/* The stress interval from the environment (WGC_STRESS=N), 0 if none. */
static inline unsigned stress_interval(void)
{
    const char *s = getenv("WGC_STRESS");
    return s && *s ? (unsigned)strtoul(s, NULL, 10) : 0;
}

/* Under valgrind, or when every N-th allocation collects, big workloads
 * are scaled down: `full` normally, `small` under a tool or stress. */
static inline size_t scaled(size_t full, size_t small)
{
    return (under_valgrind() || stress_interval()) ? small : full;
}

/* Tests of the collection *policy* (when collections happen, how often)
 * cannot hold when the stress switch collects at every N-th allocation:
 * they switch it off for their own process (each test is a process). */
static inline void no_stress(void)
{
    unsetenv("WGC_STRESS");
}

#endif
