/* SPDX-License-Identifier: BSD-2-Clause */
#ifndef LOOPSTALL_INFLATE_H
#define LOOPSTALL_INFLATE_H

#include <stddef.h>
#include <stdint.h>
#include <elf.h>

/*
 * An ELF file with zlib-compressed sections (SHF_COMPRESSED, as Debian's
 * /usr/lib/debug files carry their DWARF) made into one with none, by
 * libdeflate (about twice zlib's speed), so that libdw inflates nothing
 * (debugcache.h writes the result in its cache or in a memfd).
 *
 * The copy is the file's Ehdr and program headers (as they are: in a
 * separate debug file they describe the stripped program, libdwfl reads
 * only their addresses), then each section in order at its alignment,
 * inflated (SHF_COMPRESSED cleared, sh_size = ch_size, sh_addralign =
 * ch_addralign), then the section headers. Sections the agent never reads
 * are left out as SHT_NOBITS, which dwarf_begin_elf ignores: variable
 * locations (.debug_loc, .debug_loclists; the agent names frames and lines,
 * it reads no DW_AT_location) and macros (.debug_macro, .debug_macinfo).
 *
 * The file is untrusted input: anything odd (a header or section outside
 * the file, a compression other than zlib, a size over max, GNU .zdebug
 * sections, a .gnu_debugaltlink that a copy elsewhere would break) is
 * refused, and the caller leaves the file to libdw.
 */
struct ls_inflate_plan {
	size_t shnum;
	Elf64_Shdr *sh;	    /* the copy's section headers */
	uint64_t *src_off;  /* where each section's bytes are in the file */
	uint64_t *src_size; /* ... how many (compressed: the stream after its Chdr) */
	unsigned char *how; /* LS_INFLATE_* */
	uint64_t src_phoff, phoff, phnum;
	uint64_t shoff; /* the copy's section headers */
	uint64_t size;	/* the copy's size */
	unsigned inflated, left_out;
};

enum { LS_INFLATE_NONE, LS_INFLATE_COPY, LS_INFLATE_ZLIB };

/* Largest copy made at all (the cache's cap may be lower: then it goes to memory). */
#define LS_INFLATE_MAX (1ull << 30)

/*
 * Lay out the inflated copy of src (the whole file, size bytes): 0;
 * -ENOTSUP when it has no compressed section or one that is not ours to
 * inflate (zstd, .zdebug, a dwz link); -EINVAL when it is malformed;
 * -EFBIG over max bytes; -ENOMEM.
 */
int ls_inflate_plan(const void *src, size_t size, uint64_t max, struct ls_inflate_plan *p);
/*
 * Write the copy into dst (p->size bytes, zeroed: the gaps stay so): 0, or
 * -EINVAL when a stream does not inflate to exactly its ch_size; -ENOMEM.
 */
int ls_inflate_write(const struct ls_inflate_plan *p, const void *src, size_t size, void *dst);
void ls_inflate_plan_free(struct ls_inflate_plan *p);

#endif
