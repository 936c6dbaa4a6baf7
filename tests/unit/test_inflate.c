// SPDX-License-Identifier: BSD-2-Clause
/*
 * inflate.h on small ELF files made here, with sections zlib compresses
 * (compress2): the copy's headers and bytes, the sections left out, and
 * every lie a file can tell (a corrupt stream, a wrong ch_size, a section
 * past the end, a compression it does not know) refused.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include <gelf.h>
#include <zlib.h>
#include "inflate.h"

enum { S_NULL, S_INFO, S_LOCLISTS, S_PLAIN, S_STRTAB, S_BSS, NSEC };

static const char names[] = "\0.debug_info\0.debug_loclists\0.plain\0.shstrtab\0.bss";
static const unsigned name_off[NSEC] = {0, 1, 13, 29, 36, 46};

struct file {
	unsigned char *buf;
	size_t size;
	unsigned char info[5000], loc[300], plain[77];
};

static Elf64_Shdr *shdr(struct file *f, unsigned i)
{
	Elf64_Ehdr *eh = (Elf64_Ehdr *)f->buf;

	return (Elf64_Shdr *)(f->buf + eh->e_shoff) + i;
}

/* Chdr + the zlib stream of data at f->buf + off: the bytes written. */
static size_t put_compressed(struct file *f, size_t off, const void *data, size_t len,
			     uint64_t align)
{
	Elf64_Chdr ch = {.ch_type = ELFCOMPRESS_ZLIB, .ch_size = len, .ch_addralign = align};
	uLongf out = compressBound(len);

	memcpy(f->buf + off, &ch, sizeof(ch));
	assert_int_equal(compress2(f->buf + off + sizeof(ch), &out, data, len, 6), Z_OK);
	return sizeof(ch) + out;
}

/* An ELF with one program header, two compressed sections, a plain one and a NOBITS one. */
static void make(struct file *f)
{
	Elf64_Ehdr eh = {0};
	Elf64_Phdr ph = {.p_type = PT_LOAD, .p_vaddr = 0x400000, .p_memsz = 0x1000};
	Elf64_Shdr sh[NSEC] = {0};
	size_t off, i;

	for (i = 0; i < sizeof(f->info); i++)
		f->info[i] = (unsigned char)(i * 7 / 3);
	for (i = 0; i < sizeof(f->loc); i++)
		f->loc[i] = (unsigned char)i;
	for (i = 0; i < sizeof(f->plain); i++)
		f->plain[i] = (unsigned char)(0xa0 + i);
	f->buf = calloc(1, 16384);
	assert_non_null(f->buf);
	off = sizeof(eh) + sizeof(ph);
	sh[S_INFO] = (Elf64_Shdr){.sh_name = name_off[S_INFO],
				  .sh_type = SHT_PROGBITS,
				  .sh_flags = SHF_COMPRESSED,
				  .sh_offset = off,
				  .sh_addralign = 8};
	sh[S_INFO].sh_size = put_compressed(f, off, f->info, sizeof(f->info), 1);
	off += sh[S_INFO].sh_size;
	off = (off + 7) & ~7ul;
	sh[S_LOCLISTS] = (Elf64_Shdr){.sh_name = name_off[S_LOCLISTS],
				      .sh_type = SHT_PROGBITS,
				      .sh_flags = SHF_COMPRESSED,
				      .sh_offset = off,
				      .sh_addralign = 8};
	sh[S_LOCLISTS].sh_size = put_compressed(f, off, f->loc, sizeof(f->loc), 1);
	off += sh[S_LOCLISTS].sh_size;
	sh[S_PLAIN] = (Elf64_Shdr){.sh_name = name_off[S_PLAIN],
				   .sh_type = SHT_PROGBITS,
				   .sh_offset = off,
				   .sh_size = sizeof(f->plain),
				   .sh_addralign = 4};
	memcpy(f->buf + off, f->plain, sizeof(f->plain));
	off += sizeof(f->plain);
	sh[S_STRTAB] = (Elf64_Shdr){.sh_name = name_off[S_STRTAB],
				    .sh_type = SHT_STRTAB,
				    .sh_offset = off,
				    .sh_size = sizeof(names),
				    .sh_addralign = 1};
	memcpy(f->buf + off, names, sizeof(names));
	off += sizeof(names);
	sh[S_BSS] = (Elf64_Shdr){.sh_name = name_off[S_BSS],
				 .sh_type = SHT_NOBITS,
				 .sh_flags = SHF_ALLOC | SHF_WRITE,
				 .sh_addr = 0x401000,
				 .sh_offset = 12345,
				 .sh_size = 1 << 20,
				 .sh_addralign = 32};
	off = (off + 7) & ~7ul;
	memcpy(eh.e_ident, ELFMAG, SELFMAG);
	eh.e_ident[EI_CLASS] = ELFCLASS64;
	eh.e_ident[EI_DATA] = ELFDATA2LSB;
	eh.e_ident[EI_VERSION] = EV_CURRENT;
	eh.e_type = ET_EXEC;
	eh.e_machine = EM_X86_64;
	eh.e_version = EV_CURRENT;
	eh.e_ehsize = sizeof(eh);
	eh.e_phoff = sizeof(eh);
	eh.e_phentsize = sizeof(ph);
	eh.e_phnum = 1;
	eh.e_shoff = off;
	eh.e_shentsize = sizeof(Elf64_Shdr);
	eh.e_shnum = NSEC;
	eh.e_shstrndx = S_STRTAB;
	memcpy(f->buf, &eh, sizeof(eh));
	memcpy(f->buf + sizeof(eh), &ph, sizeof(ph));
	memcpy(f->buf + off, sh, sizeof(sh));
	f->size = off + sizeof(sh);
	assert_true(f->size <= 16384);
}

/* The copy of f made by plan + write: 0 and *out (calloc'd), or the first error. */
static int inflate_file(struct file *f, uint64_t max, unsigned char **out,
			struct ls_inflate_plan *p)
{
	int err = ls_inflate_plan(f->buf, f->size, max, p);

	*out = NULL;
	if (err)
		return err;
	*out = calloc(1, p->size);
	assert_non_null(*out);
	err = ls_inflate_write(p, f->buf, f->size, *out);
	if (err) {
		free(*out);
		*out = NULL;
		ls_inflate_plan_free(p);
	}
	return err;
}

static void test_copy(void **state)
{
	struct ls_inflate_plan p;
	struct file f;
	unsigned char *out;
	GElf_Shdr sh;
	Elf_Data *d;
	Elf *elf;
	size_t n;

	(void)state;
	elf_version(EV_CURRENT);
	make(&f);
	assert_int_equal(inflate_file(&f, 1 << 20, &out, &p), 0);
	assert_int_equal(p.inflated, 2);
	assert_int_equal(p.left_out, 1);
	/* libelf reads the copy as a well-formed ELF */
	elf = elf_memory((char *)out, p.size);
	assert_non_null(elf);
	assert_int_equal(elf_getshdrnum(elf, &n), 0);
	assert_int_equal(n, NSEC);
	assert_int_equal(elf_getphdrnum(elf, &n), 0);
	assert_int_equal(n, 1);
	{
		GElf_Phdr ph;

		assert_non_null(gelf_getphdr(elf, 0, &ph));
		assert_int_equal(ph.p_vaddr, 0x400000);
	}
	/* inflated: flag gone, its inflated size and alignment, its bytes */
	gelf_getshdr(elf_getscn(elf, S_INFO), &sh);
	assert_int_equal(sh.sh_type, SHT_PROGBITS);
	assert_false(sh.sh_flags & SHF_COMPRESSED);
	assert_int_equal(sh.sh_size, sizeof(f.info));
	assert_int_equal(sh.sh_addralign, 1);
	d = elf_getdata(elf_getscn(elf, S_INFO), NULL);
	assert_non_null(d);
	assert_int_equal(d->d_size, sizeof(f.info));
	assert_memory_equal(d->d_buf, f.info, sizeof(f.info));
	/* location lists: left out, as NOBITS (dwarf_begin_elf ignores them) */
	gelf_getshdr(elf_getscn(elf, S_LOCLISTS), &sh);
	assert_int_equal(sh.sh_type, SHT_NOBITS);
	assert_false(sh.sh_flags & SHF_COMPRESSED);
	/* a plain section: the same bytes, at its alignment */
	gelf_getshdr(elf_getscn(elf, S_PLAIN), &sh);
	assert_int_equal(sh.sh_offset % 4, 0);
	d = elf_getdata(elf_getscn(elf, S_PLAIN), NULL);
	assert_int_equal(d->d_size, sizeof(f.plain));
	assert_memory_equal(d->d_buf, f.plain, sizeof(f.plain));
	/* NOBITS as it was, but inside the copy */
	gelf_getshdr(elf_getscn(elf, S_BSS), &sh);
	assert_int_equal(sh.sh_type, SHT_NOBITS);
	assert_int_equal(sh.sh_size, 1 << 20);
	assert_true(sh.sh_offset <= p.size);
	{
		size_t shstrndx;

		assert_int_equal(elf_getshdrstrndx(elf, &shstrndx), 0);
		assert_string_equal(elf_strptr(elf, shstrndx, name_off[S_INFO]), ".debug_info");
	}
	elf_end(elf);
	free(out);
	ls_inflate_plan_free(&p);
	free(f.buf);
}

/* One lie told by the file: what plan + write say. */
static int lie(void (*tell)(struct file *f), uint64_t max)
{
	struct ls_inflate_plan p;
	struct file f;
	unsigned char *out;
	int err;

	make(&f);
	tell(&f);
	err = inflate_file(&f, max, &out, &p);
	if (!err) {
		free(out);
		ls_inflate_plan_free(&p);
	}
	free(f.buf);
	return err;
}

static void corrupt_stream(struct file *f)
{
	/* the middle of .debug_info's deflate stream */
	f->buf[shdr(f, S_INFO)->sh_offset + sizeof(Elf64_Chdr) + 40] ^= 0x55;
	f->buf[shdr(f, S_INFO)->sh_offset + sizeof(Elf64_Chdr) + 41] ^= 0xff;
}

static void size_too_big(struct file *f)
{
	((Elf64_Chdr *)(f->buf + shdr(f, S_INFO)->sh_offset))->ch_size += 1;
}

static void size_too_small(struct file *f)
{
	((Elf64_Chdr *)(f->buf + shdr(f, S_INFO)->sh_offset))->ch_size -= 1;
}

static void past_eof(struct file *f)
{
	shdr(f, S_PLAIN)->sh_size = f->size;
}

static void offset_wraps(struct file *f)
{
	shdr(f, S_INFO)->sh_offset = UINT64_MAX - 8;
}

static void zstd(struct file *f)
{
	((Elf64_Chdr *)(f->buf + shdr(f, S_INFO)->sh_offset))->ch_type = 2; /* ELFCOMPRESS_ZSTD */
}

static void huge(struct file *f)
{
	((Elf64_Chdr *)(f->buf + shdr(f, S_INFO)->sh_offset))->ch_size = 1ull << 40;
}

static void odd_align(struct file *f)
{
	((Elf64_Chdr *)(f->buf + shdr(f, S_INFO)->sh_offset))->ch_addralign = 3;
}

static void no_chdr(struct file *f)
{
	shdr(f, S_INFO)->sh_size = sizeof(Elf64_Chdr) - 1;
}

static void bad_name(struct file *f)
{
	shdr(f, S_PLAIN)->sh_name = sizeof(names);
}

static void zdebug(struct file *f)
{
	/* a GNU-style name (".zdebug_inf"): its inflated copy would keep it, libdw would inflate
	 * again */
	memcpy(f->buf + shdr(f, S_STRTAB)->sh_offset + name_off[S_INFO], ".zdebug_inf", 11);
}

static void plain_only(struct file *f)
{
	shdr(f, S_INFO)->sh_flags = 0;
	shdr(f, S_LOCLISTS)->sh_flags = 0;
}

static void headers_cut(struct file *f)
{
	f->size -= 1;
}

static void many_sections(struct file *f)
{
	((Elf64_Ehdr *)f->buf)->e_shnum = 0xffff;
}

static void compressed_nobits(struct file *f)
{
	shdr(f, S_BSS)->sh_flags |= SHF_COMPRESSED;
}

static void nothing(struct file *f)
{
	(void)f;
}

static void test_lies(void **state)
{
	(void)state;
	assert_int_equal(lie(nothing, 1 << 20), 0);
	/* the stream itself: libdeflate says no, or the size is not ch_size */
	assert_int_equal(lie(corrupt_stream, 1 << 20), -EINVAL);
	assert_int_equal(lie(size_too_big, 1 << 20), -EINVAL);
	assert_int_equal(lie(size_too_small, 1 << 20), -EINVAL);
	/* headers */
	assert_int_equal(lie(past_eof, 1 << 20), -EINVAL);
	assert_int_equal(lie(offset_wraps, 1 << 20), -EINVAL);
	assert_int_equal(lie(no_chdr, 1 << 20), -EINVAL);
	assert_int_equal(lie(odd_align, 1 << 20), -EINVAL);
	assert_int_equal(lie(bad_name, 1 << 20), -EINVAL);
	assert_int_equal(lie(headers_cut, 1 << 20), -EINVAL);
	assert_int_equal(lie(many_sections, 1 << 20), -EINVAL);
	assert_int_equal(lie(compressed_nobits, 1 << 20), -EINVAL);
	/* not ours to inflate: left to libdw */
	assert_int_equal(lie(zstd, 1 << 20), -ENOTSUP);
	assert_int_equal(lie(zdebug, 1 << 20), -ENOTSUP);
	assert_int_equal(lie(plain_only, 1 << 20), -ENOTSUP);
	/* sizes over the bound: one section, or the whole copy */
	assert_int_equal(lie(huge, 1 << 20), -EFBIG);
	assert_int_equal(lie(nothing, 4096), -EFBIG);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_copy),
	    cmocka_unit_test(test_lies),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
