// SPDX-License-Identifier: BSD-2-Clause
/* ELF files with compressed sections inflated by libdeflate (inflate.h). */
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <libdeflate.h>
#include "inflate.h"

#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
#define HOST_DATA ELFDATA2LSB
#else
#define HOST_DATA ELFDATA2MSB
#endif

/* Is [off, off + len) inside a file of size bytes? (no overflow) */
static bool inside(uint64_t off, uint64_t len, uint64_t size)
{
	return off <= size && len <= size - off;
}

static bool pow2(uint64_t x)
{
	return x && !(x & (x - 1));
}

/* Sections the agent never reads (inflate.h): left out of the copy. */
static bool unused(const char *name)
{
	static const char *const names[] = {".debug_loc", ".debug_loclists", ".debug_macro",
					    ".debug_macinfo"};
	size_t i;

	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (!strcmp(name, names[i]))
			return true;
	return false;
}

void ls_inflate_plan_free(struct ls_inflate_plan *p)
{
	free(p->sh);
	free(p->src_off);
	free(p->src_size);
	free(p->how);
	memset(p, 0, sizeof(*p));
}

/* The name of section sh, NUL-terminated inside the string table [str, str + len), or NULL. */
static const char *name_of(const Elf64_Shdr *sh, const char *str, uint64_t len)
{
	if (sh->sh_name >= len || !memchr(str + sh->sh_name, '\0', len - sh->sh_name))
		return NULL;
	return str + sh->sh_name;
}

int ls_inflate_plan(const void *src, size_t size, uint64_t max, struct ls_inflate_plan *p)
{
	const unsigned char *file = src;
	const Elf64_Shdr *shdrs;
	const Elf64_Shdr *str;
	Elf64_Ehdr eh;
	uint64_t off;
	size_t i;
	int err = 0;

	memset(p, 0, sizeof(*p));
	if (size < sizeof(eh))
		return -EINVAL;
	memcpy(&eh, file, sizeof(eh));
	if (memcmp(eh.e_ident, ELFMAG, SELFMAG) || eh.e_ident[EI_CLASS] != ELFCLASS64 ||
	    eh.e_ident[EI_DATA] != HOST_DATA || eh.e_ident[EI_VERSION] != EV_CURRENT)
		return -EINVAL;
	/* extended numbering (counts in section 0) is refused: debug files never need it */
	if (eh.e_shentsize != sizeof(Elf64_Shdr) || eh.e_shnum < 2 || eh.e_shnum >= SHN_LORESERVE ||
	    eh.e_shstrndx == SHN_UNDEF || eh.e_shstrndx >= eh.e_shnum ||
	    !inside(eh.e_shoff, (uint64_t)eh.e_shnum * sizeof(Elf64_Shdr), size) || eh.e_shoff % 8)
		return -EINVAL;
	if (eh.e_phnum && (eh.e_phentsize != sizeof(Elf64_Phdr) || eh.e_phnum == PN_XNUM ||
			   !inside(eh.e_phoff, (uint64_t)eh.e_phnum * sizeof(Elf64_Phdr), size)))
		return -EINVAL;
	shdrs = (const Elf64_Shdr *)(file + eh.e_shoff);
	str = &shdrs[eh.e_shstrndx];
	if (str->sh_type != SHT_STRTAB || (str->sh_flags & SHF_COMPRESSED) ||
	    !inside(str->sh_offset, str->sh_size, size))
		return -EINVAL;

	p->shnum = eh.e_shnum;
	p->phnum = eh.e_phnum;
	p->sh = calloc(p->shnum, sizeof(*p->sh));
	p->src_off = calloc(p->shnum, sizeof(*p->src_off));
	p->src_size = calloc(p->shnum, sizeof(*p->src_size));
	p->how = calloc(p->shnum, sizeof(*p->how));
	if (!p->sh || !p->src_off || !p->src_size || !p->how) {
		err = -ENOMEM;
		goto fail;
	}
	p->src_phoff = eh.e_phoff;
	p->phoff = p->phnum ? sizeof(Elf64_Ehdr) : 0;
	off = sizeof(Elf64_Ehdr) + p->phnum * sizeof(Elf64_Phdr);
	p->sh[0] = shdrs[0];
	for (i = 1; i < p->shnum; i++) {
		Elf64_Shdr sh = shdrs[i];
		const char *name = name_of(&sh, (const char *)file + str->sh_offset, str->sh_size);
		uint64_t out_size = sh.sh_size, align;

		if (!name) {
			err = -EINVAL;
			goto fail;
		}
		/* GNU .zdebug keeps its name inflated; a dwz file is named relative to this one */
		if (!strncmp(name, ".zdebug", 7) || !strcmp(name, ".gnu_debugaltlink")) {
			err = -ENOTSUP;
			goto fail;
		}
		if (sh.sh_type == SHT_NOBITS) {
			if (sh.sh_flags & SHF_COMPRESSED) {
				err = -EINVAL;
				goto fail;
			}
			sh.sh_offset = off;
			p->sh[i] = sh;
			continue;
		}
		if (!inside(sh.sh_offset, sh.sh_size, size)) {
			err = -EINVAL;
			goto fail;
		}
		p->src_off[i] = sh.sh_offset;
		p->src_size[i] = sh.sh_size;
		p->how[i] = LS_INFLATE_COPY;
		if (sh.sh_flags & SHF_COMPRESSED) {
			Elf64_Chdr ch;

			if (sh.sh_size < sizeof(ch)) {
				err = -EINVAL;
				goto fail;
			}
			memcpy(&ch, file + sh.sh_offset, sizeof(ch));
			if (ch.ch_type != ELFCOMPRESS_ZLIB) {
				err = -ENOTSUP;
				goto fail;
			}
			if (ch.ch_size > max || (ch.ch_addralign && !pow2(ch.ch_addralign))) {
				err = ch.ch_size > max ? -EFBIG : -EINVAL;
				goto fail;
			}
			p->src_off[i] += sizeof(ch);
			p->src_size[i] -= sizeof(ch);
			p->how[i] = LS_INFLATE_ZLIB;
			sh.sh_flags &= ~(uint64_t)SHF_COMPRESSED;
			sh.sh_size = out_size = ch.ch_size;
			sh.sh_addralign = ch.ch_addralign;
			p->inflated++;
		}
		if (!strncmp(name, ".debug_", 7) && unused(name)) {
			sh.sh_type = SHT_NOBITS;
			sh.sh_offset = off;
			p->sh[i] = sh;
			p->how[i] = LS_INFLATE_NONE;
			p->left_out++;
			continue;
		}
		align = sh.sh_addralign > 1 && sh.sh_addralign <= 4096 && pow2(sh.sh_addralign)
			    ? sh.sh_addralign
			    : 1;
		off = (off + align - 1) & ~(align - 1);
		sh.sh_offset = off;
		if (out_size > max || off > max - out_size) {
			err = -EFBIG;
			goto fail;
		}
		off += out_size;
		p->sh[i] = sh;
	}
	if (!p->inflated) {
		err = -ENOTSUP;
		goto fail;
	}
	p->shoff = (off + 7) & ~7ull;
	p->size = p->shoff + p->shnum * sizeof(Elf64_Shdr);
	if (p->size > max) {
		err = -EFBIG;
		goto fail;
	}
	return 0;
fail:
	ls_inflate_plan_free(p);
	return err;
}

int ls_inflate_write(const struct ls_inflate_plan *p, const void *src, size_t size, void *dst)
{
	const unsigned char *file = src;
	unsigned char *out = dst;
	struct libdeflate_decompressor *d;
	Elf64_Ehdr eh;
	size_t i;
	int err = 0;

	if (size < sizeof(eh))
		return -EINVAL;
	d = libdeflate_alloc_decompressor();
	if (!d)
		return -ENOMEM;
	memcpy(&eh, file, sizeof(eh));
	eh.e_phoff = p->phoff;
	eh.e_shoff = p->shoff;
	memcpy(out, &eh, sizeof(eh));
	if (p->phnum)
		memcpy(out + p->phoff, file + p->src_phoff, p->phnum * sizeof(Elf64_Phdr));
	for (i = 1; i < p->shnum && !err; i++) {
		size_t got = 0;

		switch (p->how[i]) {
		case LS_INFLATE_COPY:
			memcpy(out + p->sh[i].sh_offset, file + p->src_off[i], p->src_size[i]);
			break;
		case LS_INFLATE_ZLIB:
			/* exactly ch_size bytes, or the stream lies about its size */
			if (libdeflate_zlib_decompress(d, file + p->src_off[i], p->src_size[i],
						       out + p->sh[i].sh_offset, p->sh[i].sh_size,
						       &got) != LIBDEFLATE_SUCCESS ||
			    got != p->sh[i].sh_size)
				err = -EINVAL;
			break;
		}
	}
	libdeflate_free_decompressor(d);
	if (!err)
		memcpy(out + p->shoff, p->sh, p->shnum * sizeof(Elf64_Shdr));
	return err;
}
