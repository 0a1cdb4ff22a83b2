/*
 * wgc/version.h -- the version of these headers and of the library, and
 * the export macro of the public functions.
 *
 * Versions follow the policy of README.md ("Versions and ABI"): the major
 * number changes with every break of the ABI, including any change of the
 * inline heap prefix in wgc/heap.h, and the shared library's soname is
 * libwgc.so.<major>.  meson.build refuses to configure when these macros
 * disagree with the project's version.
 */
#ifndef WGC_VERSION_H
#define WGC_VERSION_H

#define WGC_VERSION_MAJOR 0
#define WGC_VERSION_MINOR 1
#define WGC_VERSION_PATCH 0

#define WGC_VERSION_STR_(x) #x
#define WGC_VERSION_XSTR_(x) WGC_VERSION_STR_(x)
/* "MAJOR.MINOR.PATCH" of these headers. */
#define WGC_VERSION_STRING                                                    \
    WGC_VERSION_XSTR_(WGC_VERSION_MAJOR) "." WGC_VERSION_XSTR_(WGC_VERSION_MINOR) "." \
    WGC_VERSION_XSTR_(WGC_VERSION_PATCH)
/* One number that grows with every release: MAJOR * 10000 + MINOR * 100 +
 * PATCH, for #if tests such as WGC_VERSION_NUMBER >= 100 (0.1.0). */
#define WGC_VERSION_NUMBER                                                    \
    (WGC_VERSION_MAJOR * 10000 + WGC_VERSION_MINOR * 100 + WGC_VERSION_PATCH)

/* Marks a function of the public API.  The library is compiled with
 * -fvisibility=hidden, so only what carries this mark is exported from
 * libwgc.so: the wgc_* functions, never the internal wgc__* ones. */
#if defined(__GNUC__) && __GNUC__ >= 4
#define WGC_API __attribute__((visibility("default")))
#else
#define WGC_API
#endif

#ifdef __cplusplus
extern "C" {
#endif

/* The version of the library this program runs with, as "MAJOR.MINOR.PATCH"
 * (a static string).  It is later than WGC_VERSION_STRING, the version of
 * the headers the program was compiled with, when a later release of the
 * same major version was installed since; the soname keeps the major
 * numbers equal. */
WGC_API const char *wgc_version(void);

/* The same as one number, in the form of WGC_VERSION_NUMBER. */
WGC_API unsigned wgc_version_number(void);

#ifdef __cplusplus
}
#endif
#endif
