// SPDX-License-Identifier: BSD-2-Clause
/*
 * C++ symbols (demangle.cc) come from the traced process's ELF files. Any
 * bytes in, into buffers of every small size: the output is a string that
 * fits, or the buffer is left as it was.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "demangle.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const size_t sizes[] = {1, 3, 4, 5, 16, 256, 1024};
	char *sym = malloc(size + 1), out[1024 + 16];
	size_t i;

	if (!sym)
		return 0;
	memcpy(sym, data, size);
	sym[size] = '\0';
	for (i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		memset(out, 0x5a, sizeof(out));
		out[0] = '\0';
		if (ls_demangle(sym, out, sizes[i])) {
			if (strnlen(out, sizes[i]) >= sizes[i])
				abort(); /* not terminated inside the buffer */
		} else if (out[0] != '\0' || out[1] != 0x5a) {
			abort(); /* refused, yet written */
		}
		if (out[sizes[i]] != 0x5a)
			abort(); /* past the buffer */
	}
	free(sym);
	return 0;
}
