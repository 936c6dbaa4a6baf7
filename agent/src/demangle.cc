// SPDX-License-Identifier: BSD-2-Clause
/*
 * libstdc++'s demangler behind a C function: the agent is C, the names it
 * reads (Node.js, V8, any C++ service) are C++.
 *
 * Symbols come from the traced process's ELF files, so they are untrusted:
 * __cxa_demangle allocates and recurses in proportion to its input, hence
 * the input bound; what it returns is copied into the caller's buffer, cut
 * to fit.
 */
#include <cxxabi.h>
#include <cstdlib>
#include <cstring>
#include "demangle.h"

extern "C" bool ls_demangle(const char *sym, char *out, size_t out_len)
{
	int status = 0;
	size_t len;
	char *name;

	if (!sym || !out || !out_len || std::strncmp(sym, "_Z", 2) ||
	    strnlen(sym, LS_DEMANGLE_MAX_IN + 1) > LS_DEMANGLE_MAX_IN)
		return false;
	name = abi::__cxa_demangle(sym, nullptr, nullptr, &status);
	if (status || !name) {
		std::free(name);
		return false;
	}
	len = std::strlen(name);
	if (len < out_len) {
		std::memcpy(out, name, len + 1);
	} else if (out_len > 3) {
		std::memcpy(out, name, out_len - 4);
		std::memcpy(out + out_len - 4, "...", 4);
	} else {
		std::free(name);
		return false;
	}
	std::free(name);
	return true;
}
