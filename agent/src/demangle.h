/* SPDX-License-Identifier: BSD-2-Clause */
#ifndef LOOPSTALL_DEMANGLE_H
#define LOOPSTALL_DEMANGLE_H

#include <stdbool.h>
#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Longer symbols are left as they are: see demangle.cc. */
#define LS_DEMANGLE_MAX_IN 4096

/*
 * An Itanium C++ ABI symbol ("_ZN2v84base4Time3NowEv") as C++ spells it
 * ("v8::base::Time::Now()"), written to out (at most out_len - 1 bytes and a
 * NUL; a longer name ends in "..."). False, out untouched, when sym is no
 * C++ symbol, is malformed or longer than LS_DEMANGLE_MAX_IN.
 */
bool ls_demangle(const char *sym, char *out, size_t out_len);

#ifdef __cplusplus
}
#endif

#endif
