/*
 * gc/version.c -- the library's own version, compiled from the headers it
 * was built with (meson.build checks they agree with the project version).
 */
#include <wgc/version.h>

const char *wgc_version(void)
{
    return WGC_VERSION_STRING;
}

unsigned wgc_version_number(void)
{
    return WGC_VERSION_NUMBER;
}
