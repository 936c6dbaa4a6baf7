// SPDX-License-Identifier: BSD-2-Clause
/*
 * A module's symbol table read raw (symraw.h, symraw_dw.h): on made-up
 * tables, each rule of libdwfl's valuing and of the symbols the index
 * keeps; on real modules (this test's executable, python3.11 with its
 * python3.11-dbg file, libc with libc6-dbg's), the same symbols, values,
 * sizes, names and order as dwfl_module_getsym_info symbol by symbol,
 * the index built from each answering alike, and as dwfl_module_addrinfo.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <link.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>
#include <elfutils/libdwelf.h>
#include <elfutils/libdwfl.h>
#include <gelf.h>
#include "symindex.h"
#include "symraw.h"
#include "symraw_dw.h"

#define BIAS 0x7f3a00000000ull

struct entry {
	uint64_t value, size;
	const char *name;
};

struct list {
	struct entry *v;
	size_t n, cap;
	size_t fail_at; /* add fails with -ENOMEM at this entry; 0: never */
};

static int list_add(void *ctx, uint64_t value, uint64_t size, const char *name)
{
	struct list *l = ctx;

	if (l->fail_at && l->n + 1 == l->fail_at)
		return -ENOMEM;
	if (l->n == l->cap) {
		l->cap = l->cap ? 2 * l->cap : 256;
		l->v = realloc(l->v, l->cap * sizeof(*l->v));
		assert_non_null(l->v);
	}
	l->v[l->n++] = (struct entry){value, size, name};
	return 0;
}

/* sections: 0 (none), 1 .text (alloc), 2 .comment (not), 3 .data (alloc) */
static const uint8_t alloc[] = {0, 1, 0, 1};
static const char strtab[] = "\0func\0sect\0file\0tls\0undef\0abs\0common\0note\0"
			     "xtext\0xnote\0xnone\0far\0proc\0past\0alias\0";

static size_t at(const char *name)
{
	const char *p = strtab + 1;

	while (strcmp(p, name))
		p += strlen(p) + 1;
	return (size_t)(p - strtab);
}

#define SYM(n, type, shndx, value, size)                                                           \
	(Elf64_Sym)                                                                                \
	{                                                                                          \
		.st_name = (n), .st_info = ELF64_ST_INFO(STB_GLOBAL, type), .st_shndx = (shndx),   \
		.st_value = (value), .st_size = (size)                                             \
	}

static void values_and_filters(void **state)
{
	Elf64_Sym syms[20] = {{0}};
	uint32_t xndx[20] = {0};
	struct ls_symraw_table t = {.syms = syms,
				    .xndx = xndx,
				    .strtab = strtab,
				    .strtab_size = sizeof(strtab),
				    .alloc = alloc,
				    .n_sections = 4,
				    .bias = BIAS};
	struct list l = {0};
	size_t n = 1, i;
	static const struct entry want[] = {
	    {BIAS + 0x1000, 0x40, "func"},  /* in .text: biased */
	    {0x1234, 0, "abs"},		    /* absolute: as is */
	    {0x10, 8, "common"},	    /* common: as is */
	    {0x20, 4, "note"},		    /* in a non-allocated section: as is */
	    {BIAS + 0x2000, 0x10, "xtext"}, /* SHN_XINDEX to .text */
	    {0x30, 0, "xnote"},		    /* SHN_XINDEX to .comment */
	    {BIAS + 0x3000, 0, "far"},	    /* a section past the headers: allocated */
	    {BIAS + 0x4000, 0, "proc"},	    /* a processor-reserved index: allocated */
	    {BIAS + 0x1000, 0x40, "alias"}, /* an equal value keeps its place after func */
	};

	(void)state;
	syms[n++] = SYM(at("func"), STT_FUNC, 1, 0x1000, 0x40);
	syms[n++] = SYM(at("sect"), STT_SECTION, 1, 0x1000, 0);
	syms[n++] = SYM(at("file"), STT_FILE, SHN_ABS, 0, 0);
	syms[n++] = SYM(at("tls"), STT_TLS, 3, 0x8, 8);
	syms[n++] = SYM(at("undef"), STT_FUNC, SHN_UNDEF, 0, 0);
	syms[n++] = SYM(0, STT_FUNC, 1, 0x1100, 4);		 /* no name */
	syms[n++] = SYM(sizeof(strtab), STT_FUNC, 1, 0x1200, 4); /* name past the table */
	syms[n++] = SYM(at("abs"), STT_OBJECT, SHN_ABS, 0x1234, 0);
	syms[n++] = SYM(at("common"), STT_OBJECT, SHN_COMMON, 0x10, 8);
	syms[n++] = SYM(at("note"), STT_OBJECT, 2, 0x20, 4);
	xndx[n] = 1;
	syms[n++] = SYM(at("xtext"), STT_FUNC, SHN_XINDEX, 0x2000, 0x10);
	xndx[n] = 2;
	syms[n++] = SYM(at("xnote"), STT_OBJECT, SHN_XINDEX, 0x30, 0);
	syms[n++] = SYM(at("far"), STT_NOTYPE, 9, 0x3000, 0);
	syms[n++] = SYM(at("proc"), STT_NOTYPE, SHN_LOPROC, 0x4000, 0);
	syms[n++] = SYM(at("alias"), STT_FUNC, 1, 0x1000, 0x40);
	t.n = n;
	t.n_xndx = n;
	assert_int_equal(ls_symraw__walk(&t, list_add, &l), 0);
	assert_int_equal(l.n, sizeof(want) / sizeof(want[0]));
	for (i = 0; i < l.n; i++) {
		assert_string_equal(l.v[i].name, want[i].name);
		assert_int_equal(l.v[i].value, want[i].value);
		assert_int_equal(l.v[i].size, want[i].size);
	}

	/* an entry the index table does not reach: libelf refuses it */
	l.n = 0;
	t.n_xndx = 2;
	assert_int_equal(ls_symraw__walk(&t, list_add, &l), 0);
	assert_int_equal(l.n, 1);
	assert_string_equal(l.v[0].name, "func");

	/* SHN_XINDEX with no index table: section 0, not allocated */
	syms[1] = SYM(at("xnone"), STT_FUNC, SHN_XINDEX, 0x50, 4);
	t.xndx = NULL;
	t.n = 2;
	l.n = 0;
	assert_int_equal(ls_symraw__walk(&t, list_add, &l), 0);
	assert_int_equal(l.n, 1);
	assert_int_equal(l.v[0].value, 0x50);
	free(l.v);
}

static void errors(void **state)
{
	static const char unterminated[] = {0, 'f', 'u', 'n', 'c'};
	Elf64_Sym syms[4] = {{0},
			     SYM(1, STT_FUNC, 1, 0x10, 1),
			     SYM(1, STT_FUNC, 1, 0x20, 1),
			     SYM(1, STT_FUNC, 1, 0x30, 1)};
	struct ls_symraw_table t = {.syms = syms,
				    .n = 4,
				    .strtab = unterminated,
				    .strtab_size = sizeof(unterminated),
				    .alloc = alloc,
				    .n_sections = 4};
	struct list l = {0};

	(void)state;
	/* a name that may run past the table */
	assert_int_equal(ls_symraw__walk(&t, list_add, &l), -EINVAL);
	assert_int_equal(ls_symraw__walk(NULL, list_add, &l), -EINVAL);
	t.strtab = strtab;
	t.strtab_size = sizeof(strtab);
	/* add's error ends the walk */
	l.fail_at = 2;
	assert_int_equal(ls_symraw__walk(&t, list_add, &l), -ENOMEM);
	assert_int_equal(l.n, 1);
	free(l.v);
}

static const Dwfl_Callbacks with_debug = {.find_elf = dwfl_build_id_find_elf,
					  .find_debuginfo = dwfl_standard_find_debuginfo,
					  .section_address = dwfl_offline_section_address};
static char *nowhere = "/nonexistent-debug";
static const Dwfl_Callbacks without_debug = {.find_elf = dwfl_build_id_find_elf,
					     .find_debuginfo = dwfl_standard_find_debuginfo,
					     .section_address = dwfl_offline_section_address,
					     .debuginfo_path = &nowhere};

/* path reported at BIAS (an ET_EXEC file stays where it links) */
static Dwfl_Module *report(Dwfl **dwfl, const Dwfl_Callbacks *cb, const char *path)
{
	Dwfl_Module *mod;

	*dwfl = dwfl_begin(cb);
	assert_non_null(*dwfl);
	mod = dwfl_report_elf(*dwfl, path, path, -1, BIAS, false);
	assert_non_null(mod);
	assert_int_equal(dwfl_report_end(*dwfl, NULL, NULL), 0);
	return mod;
}

static struct ls_symindex *index_of(const struct list *l)
{
	struct ls_symindex *x = ls_symindex__new();
	size_t i;

	assert_non_null(x);
	for (i = 0; i < l->n; i++)
		assert_int_equal(ls_symindex__add(x, l->v[i].value, l->v[i].size, l->v[i].name), 0);
	assert_int_equal(ls_symindex__seal(x), 0);
	return x;
}

/* Two indexes name the same symbol (or none) at each symbol's address and the byte past it. */
static void answer_alike(const struct ls_symindex *xs, const struct ls_symindex *xf,
			 const struct list *l)
{
	size_t i;

	for (i = 0; i < l->n; i++) {
		uint64_t probe[2] = {l->v[i].value, l->v[i].value + l->v[i].size};
		unsigned j;

		for (j = 0; j < 2; j++) {
			struct ls_symindex_hit a = {0}, b = {0};
			bool fa = ls_symindex__find(xs, probe[j], &a);

			assert_int_equal(ls_symindex__find(xf, probe[j], &b), fa);
			assert_ptr_equal(a.name, b.name);
			assert_int_equal(a.value, b.value);
			assert_int_equal(a.size, b.size);
		}
	}
}

/*
 * Both ways on mod: the same entries, the very same name pointers (both
 * into libelf's string table), and the indexes answering every symbol's
 * address and the byte past it alike. raw: the raw read is expected.
 */
static void same_both_ways(Dwfl_Module *mod, bool raw, size_t at_least)
{
	struct list slow = {0}, fast = {0};
	struct ls_symindex *xs, *xf;
	size_t i, sampled = 0, answered = 0;

	assert_int_equal(ls_symraw__module_each(mod, list_add, &slow), 0);
	assert_int_equal(ls_symraw__module(mod, list_add, &fast), raw ? 0 : -ENOTSUP);
	if (slow.n < at_least)
		fail_msg("%zu symbols, fewer than %zu", slow.n, at_least);
	if (!raw) {
		/* nothing added; the index then takes the loop's symbols */
		assert_int_equal(fast.n, 0);
		xs = index_of(&slow);
		xf = ls_symindex__new();
		assert_non_null(xf);
		assert_int_equal(ls_symraw__index(mod, xf), 0);
		assert_int_equal(ls_symindex__seal(xf), 0);
		answer_alike(xs, xf, &slow);
		ls_symindex__free(xs);
		ls_symindex__free(xf);
		free(slow.v);
		return;
	}
	assert_int_equal(fast.n, slow.n);
	for (i = 0; i < slow.n; i++) {
		if (fast.v[i].value != slow.v[i].value || fast.v[i].size != slow.v[i].size ||
		    fast.v[i].name != slow.v[i].name)
			fail_msg("entry %zu: raw %s 0x%llx+%llu, libdwfl %s 0x%llx+%llu", i,
				 fast.v[i].name, (unsigned long long)fast.v[i].value,
				 (unsigned long long)fast.v[i].size, slow.v[i].name,
				 (unsigned long long)slow.v[i].value,
				 (unsigned long long)slow.v[i].size);
	}
	xs = index_of(&slow);
	xf = index_of(&fast);
	answer_alike(xs, xf, &slow);
	/* and where the index answers, libdwfl's own look-up agrees (~200 of them: it scans the
	 * table) */
	for (i = 0; i < slow.n; i += slow.n / 200 + 1) {
		struct ls_symindex_hit hit;
		GElf_Off off;
		GElf_Sym sym;

		sampled++;
		if (!ls_symindex__find(xf, slow.v[i].value, &hit))
			continue;
		answered++;
		assert_ptr_equal(
		    dwfl_module_addrinfo(mod, slow.v[i].value, &off, &sym, NULL, NULL, NULL),
		    hit.name);
		assert_int_equal(off, slow.v[i].value - hit.value);
		assert_int_equal(sym.st_size, hit.size);
	}
	/* many symbols are one function's alone (a third of libc's: aliases): a missorted index
	 * misses them */
	print_message(
	    "%zu symbols alike both ways; the index answers %zu of %zu sampled as libdwfl\n",
	    slow.n, answered, sampled);
	if (!answered || answered * 5 < sampled)
		fail_msg("the index answers %zu of %zu symbols", answered, sampled);
	ls_symindex__free(xs);
	ls_symindex__free(xf);
	free(slow.v);
	free(fast.v);
}

static bool ci(void)
{
	const char *v = getenv("CI");

	return v && !strcmp(v, "true");
}

/* path's debug file by its build-id, as the -dbg packages install it; false if absent */
static bool debug_file(const char *path, char *out, size_t size)
{
	const void *id;
	ssize_t n, i;
	int fd = open(path, O_RDONLY | O_CLOEXEC), len;
	Elf *elf;
	bool ok = false;

	if (fd < 0)
		return false;
	elf = elf_begin(fd, ELF_C_READ, NULL);
	n = elf ? dwelf_elf_gnu_build_id(elf, &id) : -1;
	if (n > 1) {
		len =
		    snprintf(out, size, "/usr/lib/debug/.build-id/%02x/", ((const uint8_t *)id)[0]);
		for (i = 1; i < n && len > 0 && (size_t)len + 3 < size; i++)
			len += snprintf(out + len, size - len, "%02x", ((const uint8_t *)id)[i]);
		ok = i == n && (size_t)len + 7 < size;
		if (ok)
			strcat(out, ".debug");
	}
	elf_end(elf);
	close(fd);
	return ok && access(out, R_OK) == 0;
}

static void needs(const char *what, bool there)
{
	if (there)
		return;
	if (ci())
		fail_msg("%s missing (.ci/install-deps installs it)", what);
	skip();
}

static void own_executable(void **state)
{
	Dwfl *dwfl;
	Dwfl_Module *mod = report(&dwfl, &with_debug, "/proc/self/exe");
	GElf_Addr main_bias;
	Elf *elf = NULL;
	GElf_Sym sym;
	GElf_Addr value;

	(void)state;
	/* its own .symtab, in the main file, at a bias */
	assert_non_null(dwfl_module_getsym_info(mod, 0, &sym, &value, NULL, &elf, NULL));
	assert_ptr_equal(elf, dwfl_module_getelf(mod, &main_bias));
	assert_int_not_equal(main_bias, 0);
	same_both_ways(mod, true, 20);
	dwfl_end(dwfl);
}

enum craft { UNTERMINATED_STRTAB, TWO_SYMTABS, NAMES_IN_DYNSTR };

static int section(const Elf64_Shdr *sh, unsigned n, const char *shstr, size_t shstr_size,
		   const char *name)
{
	unsigned i;

	for (i = 0; i < n; i++)
		if (sh[i].sh_name < shstr_size && !strcmp(shstr + sh[i].sh_name, name))
			return (int)i;
	fail_msg("no section %s in this test's executable", name);
	return -1;
}

/* A copy of this test's executable, its section headers or string table altered so. */
static void craft(char *path, enum craft how)
{
	static Elf64_Shdr sh[256];
	static char shstr[4096];
	Elf64_Ehdr eh;
	int in = open("/proc/self/exe", O_RDONLY | O_CLOEXEC), out = mkstemp(path), sym, str;
	char buf[65536];
	ssize_t got;
	size_t shstr_size;

	assert_true(in >= 0 && out >= 0);
	while ((got = read(in, buf, sizeof(buf))) > 0)
		assert_int_equal(write(out, buf, (size_t)got), got);
	close(in);
	assert_int_equal(pread(out, &eh, sizeof(eh), 0), sizeof(eh));
	assert_true(eh.e_shnum <= 256 && eh.e_shstrndx < eh.e_shnum);
	assert_int_equal(pread(out, sh, eh.e_shnum * sizeof(*sh), (off_t)eh.e_shoff),
			 eh.e_shnum * sizeof(*sh));
	shstr_size =
	    sh[eh.e_shstrndx].sh_size < sizeof(shstr) ? sh[eh.e_shstrndx].sh_size : sizeof(shstr);
	assert_int_equal(pread(out, shstr, shstr_size, (off_t)sh[eh.e_shstrndx].sh_offset),
			 shstr_size);
	sym = section(sh, eh.e_shnum, shstr, shstr_size, ".symtab");
	str = (int)sh[sym].sh_link;
	switch (how) {
	case UNTERMINATED_STRTAB:
		assert_int_equal(
		    pwrite(out, "x", 1, (off_t)(sh[str].sh_offset + sh[str].sh_size - 1)), 1);
		break;
	case TWO_SYMTABS: {
		/* .comment made a second table: which one pairs with what is libdwfl's order */
		int c = section(sh, eh.e_shnum, shstr, shstr_size, ".comment");

		sh[c].sh_type = SHT_SYMTAB;
		sh[c].sh_entsize = sizeof(Elf64_Sym);
		sh[c].sh_link = (uint32_t)str;
		break;
	}
	case NAMES_IN_DYNSTR:
		sh[sym].sh_link = (uint32_t)section(sh, eh.e_shnum, shstr, shstr_size, ".dynstr");
		break;
	}
	assert_int_equal(pwrite(out, sh, eh.e_shnum * sizeof(*sh), (off_t)eh.e_shoff),
			 eh.e_shnum * sizeof(*sh));
	close(out);
}

/*
 * Odd tables: refused where the raw read cannot know libdwfl's choice
 * (a name running past the string table, two tables), read alike where
 * the file is odd but the choice is plain (names taken from .dynstr).
 */
static void odd_tables(void **state)
{
	static const struct {
		enum craft how;
		bool raw;
	} cases[] = {{UNTERMINATED_STRTAB, false}, {TWO_SYMTABS, false}, {NAMES_IN_DYNSTR, true}};
	unsigned i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char path[] = "/tmp/test_symraw.XXXXXX";
		Dwfl *dwfl;
		Dwfl_Module *mod;

		craft(path, cases[i].how);
		mod = report(&dwfl, &without_debug, path);
		same_both_ways(mod, cases[i].raw, 1);
		dwfl_end(dwfl);
		unlink(path);
	}
}

static int find_libc(struct dl_phdr_info *info, size_t size, void *out)
{
	const char *slash = strrchr(info->dlpi_name, '/');

	(void)size;
	if (!slash || strcmp(slash, "/libc.so.6"))
		return 0;
	snprintf(out, PATH_MAX, "%s", info->dlpi_name);
	return 1;
}

/* path's module with its -dbg debug file: symbols from it, not .dynsym; and without it */
static void with_dbg_file(const char *path, const char *package, size_t at_least)
{
	char dbg[PATH_MAX], what[PATH_MAX + 64];
	Dwfl *dwfl;
	Dwfl_Module *mod;
	GElf_Addr main_bias;
	Elf *elf = NULL;
	GElf_Sym sym;
	GElf_Addr value;

	snprintf(what, sizeof(what), "%s's debug file (%s)", path, package);
	needs(what, debug_file(path, dbg, sizeof(dbg)));
	mod = report(&dwfl, &with_debug, path);
	assert_non_null(dwfl_module_getsym_info(mod, 0, &sym, &value, NULL, &elf, NULL));
	assert_ptr_not_equal(elf, dwfl_module_getelf(mod, &main_bias));
	same_both_ways(mod, true, at_least);
	dwfl_end(dwfl);

	/* stripped, no debug file: libdwfl's .dynsym, left to the loop */
	mod = report(&dwfl, &without_debug, path);
	same_both_ways(mod, false, 100);
	dwfl_end(dwfl);
}

static void python_dbg(void **state)
{
	(void)state;
	with_dbg_file("/usr/bin/python3.11", "python3.11-dbg", 15000);
}

static void libc_dbg(void **state)
{
	char libc[PATH_MAX] = "";

	(void)state;
	assert_int_equal(dl_iterate_phdr(find_libc, libc), 1);
	with_dbg_file(libc, "libc6-dbg", 5000);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(values_and_filters), cmocka_unit_test(errors),
	    cmocka_unit_test(own_executable),	  cmocka_unit_test(python_dbg),
	    cmocka_unit_test(libc_dbg),		  cmocka_unit_test(odd_tables),
	};

	/* no network look-up of debug files: what is installed decides */
	unsetenv("DEBUGINFOD_URLS");
	elf_version(EV_CURRENT);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
