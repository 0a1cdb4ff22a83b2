/*
 * tests/test_version.c -- the version macros of wgc/version.h and the
 * library's wgc_version() agree (meson.build checks the macros against the
 * project version; the consumer test checks pkg-config's and CMake's).
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>
#include <wgc.h>

Test(version, runtime_version_is_the_headers)
{
    char expect[32];
    snprintf(expect, sizeof expect, "%d.%d.%d", WGC_VERSION_MAJOR, WGC_VERSION_MINOR,
             WGC_VERSION_PATCH);
    cr_assert_str_eq(wgc_version(), expect);
    cr_assert_str_eq(WGC_VERSION_STRING, expect);
    cr_assert_eq(wgc_version_number(), (unsigned)WGC_VERSION_NUMBER);
    cr_assert_eq(WGC_VERSION_NUMBER,
                 WGC_VERSION_MAJOR * 10000 + WGC_VERSION_MINOR * 100 + WGC_VERSION_PATCH);
}

/* The number packs minor and patch into two digits each. */
Test(version, parts_fit_the_number)
{
    cr_assert(WGC_VERSION_MINOR >= 0 && WGC_VERSION_MINOR < 100);
    cr_assert(WGC_VERSION_PATCH >= 0 && WGC_VERSION_PATCH < 100);
}
