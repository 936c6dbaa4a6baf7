// SPDX-License-Identifier: BSD-2-Clause
/*
 * The debug-info cache (debugcache.h): its names, what it trusts, what it
 * evicts; and the inflated copies of this test's own executable, built
 * with compressed debug sections (-gz), and of python3.11's debug file
 * when python3.11-dbg is there: the same bytes as libelf inflates, none
 * compressed, DWARF libdw reads.
 */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <cmocka.h>
#include <elfutils/libdw.h>
#include <elfutils/libdwelf.h>
#include <gelf.h>
#include "debugcache.h"

static void test_names(void **state)
{
	const unsigned char id[] = {0x00, 0xab, 0x7f, 0xff};
	unsigned char big[LS_DEBUGCACHE_ID_MAX + 1] = {0};
	char out[2 * LS_DEBUGCACHE_ID_MAX + 8];

	(void)state;
	assert_int_equal(ls_debugcache_name(id, sizeof(id), out, sizeof(out)), 0);
	assert_string_equal(out, "00ab7fff.debug");
	assert_true(ls_debugcache_is_name(out));
	/* too short a buffer, no id, too long an id */
	assert_int_equal(ls_debugcache_name(id, sizeof(id), out, 14), -EINVAL);
	assert_int_equal(ls_debugcache_name(id, 0, out, sizeof(out)), -EINVAL);
	assert_int_equal(ls_debugcache_name(big, sizeof(big), out, sizeof(out)), -EINVAL);
	assert_false(ls_debugcache_is_name(".00ab7fff.debug.12.tmp"));
	assert_false(ls_debugcache_is_name("00ab7ff.debug"));  /* odd length */
	assert_false(ls_debugcache_is_name("00AB7FFF.debug")); /* not ours: lower case only */
	assert_false(ls_debugcache_is_name("00ab7fff.debugx"));
	assert_false(ls_debugcache_is_name(".debug"));
	/* a module's symbolizer store lives beside its debug file, counted with it */
	assert_int_equal(ls_debugcache_name_as(id, sizeof(id), ".funcs", out, sizeof(out)), 0);
	assert_string_equal(out, "00ab7fff.funcs");
	assert_true(ls_debugcache_is_name(out));
	assert_int_equal(ls_debugcache_name_as(id, sizeof(id), ".other", out, sizeof(out)),
			 -EINVAL);
	assert_false(ls_debugcache_is_name("00ab7fff.other"));
	assert_false(ls_debugcache_is_name(".00ab7fff.funcs.12.tmp"));
}

/* Another file of a build-id: written whole, read back, refused when others may write it. */
static void test_other_files(void **state)
{
	static char where[] = "/tmp/test_debugcache_files.XXXXXX";
	const unsigned char id[] = {0x01, 0x02, 0x03, 0x04};
	const char data[] = "what the symbolizer learned";
	struct ls_debugcache *c;
	char file[256];
	size_t size;
	void *buf;

	(void)state;
	assert_non_null(mkdtemp(where));
	snprintf(file, sizeof(file), "%s/cache", where);
	/* made on the first write, the agent's alone */
	setenv("LOOPSTALL_DEBUG_CACHE", file, 1);
	c = ls_debugcache__new();
	assert_non_null(c);
	assert_int_equal(ls_debugcache__read(c, id, sizeof(id), ".funcs", &buf, &size), -ENOENT);
	assert_int_equal(ls_debugcache__write(c, id, sizeof(id), ".funcs", data, sizeof(data)), 0);
	assert_int_equal(ls_debugcache__read(c, id, sizeof(id), ".funcs", &buf, &size), 0);
	assert_int_equal(size, sizeof(data));
	assert_memory_equal(buf, data, sizeof(data));
	free(buf);
	snprintf(file, sizeof(file), "%s/cache/01020304.funcs", where);
	assert_int_equal(chmod(file, 0666), 0);
	assert_int_equal(ls_debugcache__read(c, id, sizeof(id), ".funcs", &buf, &size), -EPERM);
	assert_null(buf);
	/* a write replaces the file (a rename): the new one is the agent's mode */
	assert_int_equal(ls_debugcache__write(c, id, sizeof(id), ".funcs", "x", 1), 0);
	assert_int_equal(ls_debugcache__read(c, id, sizeof(id), ".funcs", &buf, &size), 0);
	assert_int_equal(size, 1);
	free(buf);
	ls_debugcache__free(c);
	unlink(file);
	snprintf(file, sizeof(file), "%s/cache", where);
	rmdir(file);
	rmdir(where);
	unsetenv("LOOPSTALL_DEBUG_CACHE");
}

static void test_trust(void **state)
{
	struct stat st = {0};

	(void)state;
	st.st_mode = S_IFREG | 0644;
	st.st_uid = 0;
	st.st_size = 4096;
	assert_true(ls_debugcache_file_ok(&st, 0, 1 << 20));
	assert_false(ls_debugcache_file_ok(&st, 1000, 1 << 20)); /* someone else's */
	assert_false(ls_debugcache_file_ok(&st, 0, 1024));	 /* over the cap */
	st.st_mode = S_IFREG | 0664;
	assert_false(ls_debugcache_file_ok(&st, 0, 1 << 20));
	st.st_mode = S_IFREG | 0646;
	assert_false(ls_debugcache_file_ok(&st, 0, 1 << 20));
	st.st_mode = S_IFLNK | 0644;
	assert_false(ls_debugcache_file_ok(&st, 0, 1 << 20));
	st.st_mode = S_IFREG | 0644;
	st.st_size = 10; /* not even an ELF header */
	assert_false(ls_debugcache_file_ok(&st, 0, 1 << 20));

	st.st_mode = S_IFDIR | 0700;
	assert_true(ls_debugcache_dir_ok(&st, 0));
	assert_false(ls_debugcache_dir_ok(&st, 1000));
	st.st_mode = S_IFDIR | 01777; /* /tmp-like: anyone could swap files in */
	assert_false(ls_debugcache_dir_ok(&st, 0));
	st.st_mode = S_IFREG | 0700;
	assert_false(ls_debugcache_dir_ok(&st, 0));

	st.st_mode = S_IFREG | 0644;
	st.st_uid = 0;
	assert_true(ls_debugcache_source_ok(&st, "/usr/lib/debug/.build-id/c5/61.debug"));
	assert_false(ls_debugcache_source_ok(&st, "/home/u/app/.debug/app.debug"));
	assert_false(ls_debugcache_source_ok(&st, "/usr/lib/debugx/a.debug"));
	assert_false(ls_debugcache_source_ok(&st, NULL));
	st.st_uid = 1000;
	assert_false(ls_debugcache_source_ok(&st, "/usr/lib/debug/a.debug"));
	st.st_uid = 0;
	st.st_mode = S_IFREG | 0666;
	assert_false(ls_debugcache_source_ok(&st, "/usr/lib/debug/a.debug"));
}

static void test_evict(void **state)
{
	struct ls_debugcache_entry e[3] = {
	    {.size = 10, .mtime_ns = 3}, {.size = 20, .mtime_ns = 1}, {.size = 30, .mtime_ns = 2}};

	(void)state;
	/* fits: nothing goes */
	assert_int_equal(ls_debugcache_evict(e, 3, 60, 0), 0);
	assert_false(e[0].evict || e[1].evict || e[2].evict);
	/* 15 more: the least recently used one goes, and it is enough */
	assert_int_equal(ls_debugcache_evict(e, 3, 60, 15), 1);
	assert_true(e[1].evict);
	assert_false(e[0].evict || e[2].evict);
	/* 50 more: oldest first until it fits, the newest stays */
	assert_int_equal(ls_debugcache_evict(e, 3, 60, 50), 2);
	assert_true(e[1].evict && e[2].evict);
	assert_false(e[0].evict);
	/* a file bigger than the whole cache: stored never, nothing evicted for it */
	assert_int_equal(ls_debugcache_evict(e, 3, 60, 61), -1);
	assert_int_equal(ls_debugcache_evict(NULL, 0, 60, 60), 0);
}

static char dir[] = "/tmp/test_debugcache.XXXXXX";

/* The section named name in elf, and its data (libdw's: inflated). */
static Elf_Data *section(Elf *elf, const char *name, GElf_Shdr *shdr)
{
	Elf_Scn *scn = NULL;
	size_t shstrndx;

	assert_int_equal(elf_getshdrstrndx(elf, &shstrndx), 0);
	while ((scn = elf_nextscn(elf, scn))) {
		gelf_getshdr(scn, shdr);
		if (!strcmp(elf_strptr(elf, shstrndx, shdr->sh_name), name))
			return elf_getdata(scn, NULL);
	}
	return NULL;
}

/*
 * Every section of the copy against libelf's own inflating of the
 * original (elf_compress, as dwarf_begin_elf does): the same bytes, none
 * compressed; location lists left out. Returns how many it inflated.
 */
static unsigned same_as_libelf(Elf *orig, Elf *copy)
{
	size_t n, n2, i, shstrndx;
	unsigned inflated = 0;

	assert_int_equal(elf_getshdrnum(orig, &n), 0);
	assert_int_equal(elf_getshdrnum(copy, &n2), 0);
	assert_int_equal(n, n2);
	assert_int_equal(elf_getshdrstrndx(orig, &shstrndx), 0);
	for (i = 1; i < n; i++) {
		Elf_Scn *a = elf_getscn(orig, i), *b = elf_getscn(copy, i);
		GElf_Shdr sa, sb;
		Elf_Data *da, *db;
		const char *name;

		gelf_getshdr(a, &sa);
		gelf_getshdr(b, &sb);
		name = elf_strptr(orig, shstrndx, sa.sh_name);
		assert_false(sb.sh_flags & SHF_COMPRESSED);
		if (sa.sh_type == SHT_NOBITS)
			continue;
		if (sa.sh_flags & SHF_COMPRESSED) {
			assert_int_equal(elf_compress(a, 0, 0), 1);
			gelf_getshdr(a, &sa);
			inflated++;
		}
		if (!strcmp(name, ".debug_loclists") || !strcmp(name, ".debug_loc")) {
			assert_int_equal(sb.sh_type, SHT_NOBITS);
			continue;
		}
		da = elf_getdata(a, NULL);
		db = elf_getdata(b, NULL);
		assert_non_null(da);
		assert_non_null(db);
		assert_int_equal(sa.sh_size, sb.sh_size);
		assert_int_equal(da->d_size, db->d_size);
		if (da->d_size)
			assert_memory_equal(da->d_buf, db->d_buf, da->d_size);
	}
	return inflated;
}

/* The first CU of the copy's DWARF, read by libdw: it is DWARF libdw takes. */
static void reads_dwarf(Elf *copy)
{
	Dwarf *dw = dwarf_begin_elf(copy, DWARF_C_READ, NULL);
	Dwarf_Off next;
	size_t hsize;

	assert_non_null(dw);
	assert_int_equal(dwarf_nextcu(dw, 0, &next, &hsize, NULL, NULL, NULL), 0);
	dwarf_end(dw);
}

/*
 * This test's own executable, built with compressed debug sections (-gz):
 * not under /usr/lib/debug, so its copy is made in memory; then the
 * cache's checks on a file named by a build-id.
 */
static void test_round_trip(void **state)
{
	struct ls_debugcache_stats stats;
	struct ls_debugcache *c;
	unsigned char id[LS_DEBUGCACHE_ID_MAX], other[LS_DEBUGCACHE_ID_MAX];
	const void *bits;
	GElf_Shdr sh;
	char *path = NULL, name[256], file[512];
	int exe, fd;
	ssize_t len;
	Elf *elf, *copy;
	struct stat st;
	void *img;

	(void)state;
	elf_version(EV_CURRENT);
	assert_non_null(mkdtemp(dir));
	setenv("LOOPSTALL_DEBUG_CACHE", dir, 1);
	c = ls_debugcache__new();
	assert_non_null(c);

	exe = open("/proc/self/exe", O_RDONLY | O_CLOEXEC);
	assert_true(exe >= 0);
	elf = elf_begin(exe, ELF_C_READ, NULL);
	assert_non_null(elf);
	len = dwelf_elf_gnu_build_id(elf, &bits);
	assert_true(len > 0 && len <= LS_DEBUGCACHE_ID_MAX);
	memcpy(id, bits, (size_t)len);
	/* built with -gz: the test is about inflated sections */
	assert_non_null(section(elf, ".debug_info", &sh));
	assert_true(sh.sh_flags & SHF_COMPRESSED);

	/* not the build-id's file: refused */
	memcpy(other, id, (size_t)len);
	other[0] ^= 1;
	assert_int_equal(
	    ls_debugcache__inflate_fd(c, other, (size_t)len, exe, "/proc/self/exe", &path), -1);
	/* not under /usr/lib/debug: inflated in memory, nothing in the cache */
	fd = ls_debugcache__inflate_fd(c, id, (size_t)len, exe, "/proc/self/exe", &path);
	assert_true(fd >= 0);
	assert_null(path);
	assert_int_equal(ls_debugcache_name(id, (size_t)len, name, sizeof(name)), 0);
	snprintf(file, sizeof(file), "%s/%s", dir, name);
	assert_int_equal(access(file, F_OK), -1);
	copy = elf_begin(fd, ELF_C_READ_MMAP, NULL);
	assert_non_null(copy);
	assert_true(same_as_libelf(elf, copy) >= 3);
	reads_dwarf(copy);
	elf_end(copy);
	close(fd);
	/* no cache at all: the same, in memory */
	fd = ls_debugcache__inflate_fd(NULL, id, (size_t)len, exe, "/proc/self/exe", &path);
	assert_true(fd >= 0);
	close(fd);
	ls_debugcache__stats(c, &stats);
	assert_int_equal(stats.inflated, 1);
	assert_int_equal(stats.stored, 0);

	/* a file named by the build-id, the agent's own: opened */
	assert_int_equal(fstat(exe, &st), 0);
	img = malloc((size_t)st.st_size);
	assert_int_equal(pread(exe, img, (size_t)st.st_size, 0), st.st_size);
	assert_int_equal(
	    ls_debugcache__write(c, id, (size_t)len, ".debug", img, (size_t)st.st_size), 0);
	free(img);
	fd = ls_debugcache__open(c, id, (size_t)len, &path);
	assert_true(fd >= 0);
	assert_string_equal(path, file);
	close(fd);
	free(path);
	/* another build-id's name on this file: refused */
	assert_int_equal(ls_debugcache_name(other, (size_t)len, name, sizeof(name)), 0);
	snprintf(path = malloc(512), 512, "%s/%s", dir, name);
	assert_int_equal(link(file, path), 0);
	free(path);
	assert_int_equal(ls_debugcache__open(c, other, (size_t)len, &path), -1);
	assert_null(path);
	/* writable by others: refused */
	assert_int_equal(chmod(file, 0666), 0);
	assert_int_equal(ls_debugcache__open(c, id, (size_t)len, &path), -1);
	assert_int_equal(chmod(file, 0644), 0);
	/* cut short: refused */
	assert_int_equal(truncate(file, 200), 0);
	assert_int_equal(ls_debugcache__open(c, id, (size_t)len, &path), -1);
	ls_debugcache__stats(c, &stats);
	assert_int_equal(stats.hits, 1);
	assert_true(stats.rejected >= 3);
	ls_debugcache__free(c);

	/* a full cache (1 MiB): the least recently used file goes, and a crashed writer's leftover
	 */
	{
		uint64_t cap = 1 << 20, x = cap / 4, s1, s2;
		struct timespec times[2] = {{.tv_sec = 1000}, {.tv_sec = 1000}};
		char old[600], young[600], stale[600], fresh[600];
		void *buf = calloc(1, x);

		unlink(file);
		/* the young one and the new file fit; with the old one too they would not */
		s2 = (cap - x) / 2;
		s1 = cap - x - s2 + 1;
		snprintf(old, sizeof(old), "%s/aaaa.debug", dir);
		snprintf(young, sizeof(young), "%s/bbbb.debug", dir);
		snprintf(stale, sizeof(stale), "%s/.aaaa.debug.1.tmp", dir);
		snprintf(fresh, sizeof(fresh), "%s/.bbbb.debug.2.tmp", dir);
		fd = open(old, O_WRONLY | O_CREAT | O_TRUNC, 0644);
		assert_int_equal(ftruncate(fd, (off_t)s1), 0);
		assert_int_equal(futimens(fd, times), 0);
		close(fd);
		fd = open(young, O_WRONLY | O_CREAT | O_TRUNC, 0644);
		assert_int_equal(ftruncate(fd, (off_t)s2), 0);
		close(fd);
		fd = open(stale, O_WRONLY | O_CREAT | O_TRUNC, 0644);
		assert_int_equal(futimens(fd, times), 0);
		close(fd);
		close(open(fresh, O_WRONLY | O_CREAT | O_TRUNC, 0644));
		setenv("LOOPSTALL_DEBUG_CACHE_MB", "1", 1);
		c = ls_debugcache__new();
		assert_int_equal(ls_debugcache__write(c, id, (size_t)len, ".debug", buf, x), 0);
		assert_int_equal(access(file, F_OK), 0);
		assert_int_equal(access(young, F_OK), 0);
		assert_int_equal(access(old, F_OK), -1);
		assert_int_equal(access(stale, F_OK), -1);
		assert_int_equal(access(fresh, F_OK), 0); /* maybe another agent's write going on */
		unlink(young);
		unlink(fresh);
		ls_debugcache__free(c);
		unsetenv("LOOPSTALL_DEBUG_CACHE_MB");
		free(buf);
	}

	/* "off": no cache at all, and every call takes it */
	setenv("LOOPSTALL_DEBUG_CACHE", "off", 1);
	assert_null(ls_debugcache__new());
	assert_int_equal(ls_debugcache__open(NULL, id, (size_t)len, &path), -1);

	elf_end(elf);
	close(exe);
	unlink(file);
	snprintf(file, sizeof(file), "%s/%s", dir, name);
	unlink(file);
	rmdir(dir);
	unsetenv("LOOPSTALL_DEBUG_CACHE");
}

/*
 * python3.11's debug file (python3.11-dbg), Debian's compressed one, root's
 * under /usr/lib/debug: inflated once, into the cache, where the next
 * lookup finds it; over the cache's cap it goes to memory instead.
 */
static void test_cache_copy(void **state)
{
	static char where[] = "/tmp/test_debugcache_py.XXXXXX";
	unsigned char id[LS_DEBUGCACHE_ID_MAX];
	struct ls_debugcache_stats stats;
	struct ls_debugcache *c;
	char *path, name[256], file[512], src[512];
	const void *bits;
	ssize_t len;
	int py, fd, orig;
	Elf *elf, *copy;

	(void)state;
	elf_version(EV_CURRENT);
	py = open("/usr/bin/python3.11", O_RDONLY | O_CLOEXEC);
	if (py < 0)
		skip();
	elf = elf_begin(py, ELF_C_READ_MMAP, NULL);
	len = elf ? dwelf_elf_gnu_build_id(elf, &bits) : -1;
	assert_true(len > 1 && len <= LS_DEBUGCACHE_ID_MAX);
	memcpy(id, bits, (size_t)len);
	elf_end(elf);
	close(py);
	assert_int_equal(ls_debugcache_name(id, (size_t)len, name, sizeof(name)), 0);
	snprintf(src, sizeof(src), "/usr/lib/debug/.build-id/%.2s/%s", name, name + 2);
	orig = open(src, O_RDONLY | O_CLOEXEC);
	if (orig < 0)
		skip(); /* no python3.11-dbg */

	assert_non_null(mkdtemp(where));
	setenv("LOOPSTALL_DEBUG_CACHE", where, 1);
	c = ls_debugcache__new();
	fd = ls_debugcache__inflate(c, id, (size_t)len, &path);
	assert_true(fd >= 0);
	snprintf(file, sizeof(file), "%s/%s", where, name);
	assert_string_equal(path, file);
	free(path);
	elf = elf_begin(orig, ELF_C_READ, NULL);
	copy = elf_begin(fd, ELF_C_READ_MMAP, NULL);
	assert_true(same_as_libelf(elf, copy) >= 5);
	reads_dwarf(copy);
	elf_end(copy);
	elf_end(elf);
	close(fd);
	ls_debugcache__stats(c, &stats);
	assert_int_equal(stats.stored, 1);
	/* the next run's lookup: the copy */
	fd = ls_debugcache__open(c, id, (size_t)len, &path);
	assert_true(fd >= 0);
	close(fd);
	free(path);
	ls_debugcache__free(c);
	unlink(file);

	/* a cache of 1 MiB cannot take it: in memory, this run only */
	setenv("LOOPSTALL_DEBUG_CACHE_MB", "1", 1);
	c = ls_debugcache__new();
	fd = ls_debugcache__inflate(c, id, (size_t)len, &path);
	assert_true(fd >= 0);
	assert_string_equal(path, src);
	assert_int_equal(access(file, F_OK), -1);
	close(fd);
	free(path);
	ls_debugcache__free(c);
	unsetenv("LOOPSTALL_DEBUG_CACHE_MB");
	unsetenv("LOOPSTALL_DEBUG_CACHE");
	close(orig);
	rmdir(where);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_names),      cmocka_unit_test(test_other_files),
	    cmocka_unit_test(test_trust),      cmocka_unit_test(test_evict),
	    cmocka_unit_test(test_round_trip), cmocka_unit_test(test_cache_copy),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
