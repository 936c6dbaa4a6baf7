// SPDX-License-Identifier: BSD-2-Clause
/*
 * Debug files with compressed sections (inflate.c): the agent plans and
 * writes an inflated copy of a file it did not write. Anything in, a clean
 * refusal or a copy out: a plan stays inside its own size (every section,
 * the section headers), and writing it touches only the copy's p.size bytes
 * (ASan checks the buffer) and fails cleanly on a stream that lies.
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "inflate.h"

/* the copies this harness makes: small, so that the fuzzer stays fast */
#define MAX_COPY (1u << 22)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ls_inflate_plan p;
	unsigned char *out;
	size_t i;
	int err;

	err = ls_inflate_plan(data, size, MAX_COPY, &p);
	if (err) {
		if (err != -EINVAL && err != -ENOTSUP && err != -EFBIG && err != -ENOMEM)
			abort();
		return 0;
	}
	if (p.size > MAX_COPY || p.shoff + p.shnum * sizeof(Elf64_Shdr) != p.size || !p.inflated)
		abort();
	for (i = 1; i < p.shnum; i++) {
		const Elf64_Shdr *sh = &p.sh[i];

		if (sh->sh_flags & SHF_COMPRESSED)
			abort();
		if (sh->sh_type != SHT_NOBITS &&
		    (sh->sh_offset > p.shoff || sh->sh_size > p.shoff - sh->sh_offset))
			abort();
	}
	out = calloc(1, p.size);
	if (out) {
		err = ls_inflate_write(&p, data, size, out);
		if (err && err != -EINVAL && err != -ENOMEM)
			abort();
		free(out);
	}
	ls_inflate_plan_free(&p);
	return 0;
}
