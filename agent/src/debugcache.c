// SPDX-License-Identifier: BSD-2-Clause
/*
 * Inflated copies of compressed debug files, by build-id (debugcache.h).
 *
 * The copy is made once, when libdwfl first asks for the file: inflated
 * by inflate.c straight into the cache file (a shared mapping of it), and
 * libdwfl is handed that file. libdw then inflates nothing, in this run or
 * the next ones.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <elfutils/libdwelf.h>
#include <gelf.h>
#include "debugcache.h"
#include "inflate.h"

#define DEFAULT_DIR "/var/cache/loopstall/debuginfo"
#define DEFAULT_MAX (512ull << 20)
/* where Debian installs debug files by build-id (in libdwfl's default debuginfo path) */
#define BUILD_ID_DIR "/usr/lib/debug/.build-id"
/* files looked at when making room: a cache of build-ids stays far below */
#define MAX_ENTRIES 4096
/* a temporary file this old is a crashed writer's */
#define STALE_TMP_NS (3600ull * 1000000000ull)

/* "HEX.debug" */
typedef char cache_name[2 * LS_DEBUGCACHE_ID_MAX + sizeof(".debug")];

struct ls_debugcache {
	char *dir;
	int dirfd; /* -1 until the directory exists */
	uint64_t max;
	bool write_off; /* a write failed for good (read-only, full, not ours) */
	struct ls_debugcache_stats stats;
};

static bool known_suffix(const char *suffix)
{
	return !strcmp(suffix, ".debug") || !strcmp(suffix, ".funcs");
}

int ls_debugcache_name_as(const unsigned char *id, size_t len, const char *suffix, char *out,
			  size_t out_len)
{
	static const char hex[] = "0123456789abcdef";
	size_t i;

	/* every suffix is as long as ".debug": one name size for all */
	if (!len || len > LS_DEBUGCACHE_ID_MAX || !known_suffix(suffix) ||
	    out_len < 2 * len + sizeof(".debug"))
		return -EINVAL;
	for (i = 0; i < len; i++) {
		out[2 * i] = hex[id[i] >> 4];
		out[2 * i + 1] = hex[id[i] & 15];
	}
	memcpy(out + 2 * len, suffix, sizeof(".debug"));
	return 0;
}

int ls_debugcache_name(const unsigned char *id, size_t len, char *out, size_t out_len)
{
	return ls_debugcache_name_as(id, len, ".debug", out, out_len);
}

bool ls_debugcache_is_name(const char *name)
{
	size_t n = strspn(name, "0123456789abcdef");

	return n >= 2 && n % 2 == 0 && n <= 2 * LS_DEBUGCACHE_ID_MAX && known_suffix(name + n);
}

/* uid's, and nobody else may write it: what every file and directory here must be. */
static bool owned(const struct stat *st, uid_t uid)
{
	return st->st_uid == uid && !(st->st_mode & (S_IWGRP | S_IWOTH));
}

bool ls_debugcache_file_ok(const struct stat *st, uid_t uid, uint64_t max)
{
	return S_ISREG(st->st_mode) && owned(st, uid) && st->st_size >= (off_t)sizeof(Elf64_Ehdr) &&
	       (uint64_t)st->st_size <= max;
}

bool ls_debugcache_dir_ok(const struct stat *st, uid_t uid)
{
	return S_ISDIR(st->st_mode) && owned(st, uid);
}

bool ls_debugcache_source_ok(const struct stat *st, const char *real_path)
{
	static const char top[] = "/usr/lib/debug/";

	return S_ISREG(st->st_mode) && owned(st, 0) && real_path &&
	       !strncmp(real_path, top, sizeof(top) - 1);
}

static int by_age(const void *a, const void *b, void *arg)
{
	const struct ls_debugcache_entry *e = arg;
	int64_t x = e[*(const size_t *)a].mtime_ns, y = e[*(const size_t *)b].mtime_ns;

	return x < y ? -1 : x > y;
}

int ls_debugcache_evict(struct ls_debugcache_entry *e, size_t n, uint64_t cap, uint64_t incoming)
{
	uint64_t total = 0;
	size_t *order, i;
	int marked = 0;

	if (incoming > cap)
		return -1;
	for (i = 0; i < n; i++) {
		e[i].evict = false;
		total += e[i].size;
	}
	if (total <= cap - incoming)
		return 0;
	order = malloc(n * sizeof(*order));
	if (!order) {
		/* no memory to sort: everything goes, which always makes room */
		for (i = 0; i < n; i++)
			e[i].evict = true;
		return (int)n;
	}
	for (i = 0; i < n; i++)
		order[i] = i;
	qsort_r(order, n, sizeof(*order), by_age, e);
	for (i = 0; i < n && total > cap - incoming; i++) {
		e[order[i]].evict = true;
		total -= e[order[i]].size;
		marked++;
	}
	free(order);
	return marked;
}

/* The directory, opened (and made, with make) when it is the agent's own. */
static int dir_open(struct ls_debugcache *c, bool make)
{
	struct stat st;
	int fd;

	if (c->dirfd >= 0)
		return 0;
	fd = open(c->dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0 && errno == ENOENT && make) {
		char *p, *path = strdup(c->dir);

		if (!path)
			return -ENOMEM;
		/* the parents as mkdir -p makes them; the cache itself the agent's alone */
		for (p = strchr(path + 1, '/'); p; p = strchr(p + 1, '/')) {
			*p = '\0';
			mkdir(path, 0755);
			*p = '/';
		}
		free(path);
		mkdir(c->dir, 0700);
		fd = open(c->dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	}
	if (fd < 0)
		return -errno;
	if (fstat(fd, &st) || !ls_debugcache_dir_ok(&st, geteuid())) {
		close(fd);
		return -EPERM;
	}
	c->dirfd = fd;
	return 0;
}

struct ls_debugcache *ls_debugcache__new(void)
{
	const char *dir = getenv("LOOPSTALL_DEBUG_CACHE");
	const char *mb = getenv("LOOPSTALL_DEBUG_CACHE_MB");
	struct ls_debugcache *c;

	if (dir && (!*dir || !strcmp(dir, "off")))
		return NULL;
	/* a relative directory would follow the agent's working directory */
	if (dir && dir[0] != '/') {
		fprintf(stderr,
			"loopstall: LOOPSTALL_DEBUG_CACHE=%s: not an absolute path; "
			"debug info is not cached\n",
			dir);
		return NULL;
	}
	c = calloc(1, sizeof(*c));
	if (!c)
		return NULL;
	c->dir = strdup(dir ? dir : DEFAULT_DIR);
	c->dirfd = -1;
	c->max = DEFAULT_MAX;
	if (mb && *mb) {
		char *end;
		unsigned long long n;

		errno = 0;
		n = strtoull(mb, &end, 10);
		/* a typo keeps the default rather than a cache of 0 bytes */
		if (!errno && !*end && mb[0] != '-' && n <= (UINT64_MAX >> 20))
			c->max = (uint64_t)n << 20;
		else
			fprintf(stderr,
				"loopstall: LOOPSTALL_DEBUG_CACHE_MB=%s: not a number of MiB; "
				"the cache keeps %llu\n",
				mb, DEFAULT_MAX >> 20);
	}
	if (!c->dir) {
		free(c);
		return NULL;
	}
	/* lookups only need it to exist; it is made when the first file is stored */
	dir_open(c, false);
	return c;
}

void ls_debugcache__free(struct ls_debugcache *c)
{
	if (!c)
		return;
	if (c->dirfd >= 0)
		close(c->dirfd);
	free(c->dir);
	free(c);
}

/* Does elf carry build-id id? */
static bool has_id(Elf *elf, const unsigned char *id, size_t len)
{
	const void *bits = NULL;
	ssize_t n = dwelf_elf_gnu_build_id(elf, &bits);

	return n > 0 && (size_t)n == len && !memcmp(bits, id, len);
}

int ls_debugcache__open(struct ls_debugcache *c, const unsigned char *id, size_t len, char **path)
{
	cache_name name;
	struct stat st;
	Elf *elf;
	bool ok;
	int fd;

	*path = NULL;
	if (!c || ls_debugcache_name(id, len, name, sizeof(name)) || dir_open(c, false))
		return -1;
	fd = openat(c->dirfd, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return -1;
	ok = !fstat(fd, &st) && ls_debugcache_file_ok(&st, geteuid(), c->max);
	if (ok) {
		elf = elf_begin(fd, ELF_C_READ_MMAP, NULL);
		ok = elf && elf_kind(elf) == ELF_K_ELF && has_id(elf, id, len);
		elf_end(elf);
	}
	if (!ok || asprintf(path, "%s/%s", c->dir, name) < 0) {
		c->stats.rejected += !ok;
		*path = NULL;
		close(fd);
		return -1;
	}
	/* used now: the last to be evicted (a read-only disk keeps the old time) */
	futimens(fd, NULL);
	c->stats.hits++;
	return fd;
}

static int64_t mtime_ns(const struct stat *st)
{
	return (int64_t)st->st_mtim.tv_sec * 1000000000ll + st->st_mtim.tv_nsec;
}

/* Room for `incoming` bytes: the least recently used files go, and crashed writers' leftovers. */
static int make_room(struct ls_debugcache *c, uint64_t incoming)
{
	struct ls_debugcache_entry *e = NULL;
	struct timespec now;
	cache_name *names = NULL;
	struct dirent *d;
	size_t n = 0, i;
	int fd, err = 0;
	DIR *dir;

	fd = dup(c->dirfd);
	if (fd < 0)
		return -errno;
	dir = fdopendir(fd);
	if (!dir) {
		close(fd);
		return -errno;
	}
	rewinddir(dir);
	e = calloc(MAX_ENTRIES, sizeof(*e));
	names = calloc(MAX_ENTRIES, sizeof(*names));
	if (!e || !names) {
		err = -ENOMEM;
		goto cleanup;
	}
	clock_gettime(CLOCK_REALTIME, &now);
	while ((d = readdir(dir)) && n < MAX_ENTRIES) {
		size_t len = strlen(d->d_name);
		struct stat st;

		if (fstatat(c->dirfd, d->d_name, &st, AT_SYMLINK_NOFOLLOW) || !S_ISREG(st.st_mode))
			continue;
		if (d->d_name[0] == '.' && len > 4 && !strcmp(d->d_name + len - 4, ".tmp")) {
			if ((int64_t)now.tv_sec * 1000000000ll + now.tv_nsec - mtime_ns(&st) >
			    (int64_t)STALE_TMP_NS)
				unlinkat(c->dirfd, d->d_name, 0);
			continue;
		}
		if (!ls_debugcache_is_name(d->d_name) || len >= sizeof(names[0]))
			continue;
		memcpy(names[n], d->d_name, len + 1);
		e[n].size = (uint64_t)st.st_size;
		e[n].mtime_ns = mtime_ns(&st);
		n++;
	}
	if (ls_debugcache_evict(e, n, c->max, incoming) < 0) {
		err = -EFBIG;
		goto cleanup;
	}
	for (i = 0; i < n; i++)
		if (e[i].evict)
			unlinkat(c->dirfd, names[i], 0);
cleanup:
	free(names);
	free(e);
	closedir(dir);
	return err;
}

static int write_all(int fd, const void *buf, size_t len, uint64_t off)
{
	const char *p = buf;

	while (len) {
		ssize_t n = pwrite(fd, p, len, (off_t)off);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return n < 0 ? -errno : -EIO;
		p += n;
		len -= (size_t)n;
		off += (uint64_t)n;
	}
	return 0;
}

/*
 * Write `name` in the cache, `size` bytes that fill() writes to fd: room made
 * first (least recently used out), then a temporary file renamed over it,
 * so that readers see the whole file or none. With keep, the file stays
 * open (read-write) in *keep for the caller.
 */
static int write_atomically(struct ls_debugcache *c, const char *name, uint64_t size,
			    int (*fill)(int fd, void *arg), void *arg, int *keep)
{
	char tmp[sizeof(cache_name) + 32];
	int fd, err;

	err = dir_open(c, true);
	if (!err)
		err = make_room(c, size);
	if (err)
		return err;
	/* the thread's id: loopstalld's unwinders may write the same name at once */
	snprintf(tmp, sizeof(tmp), ".%s.%d.tmp", name, (int)gettid());
	fd = openat(c->dirfd, tmp, O_RDWR | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, 0644);
	if (fd < 0)
		return -errno;
	err = fill(fd, arg);
	if (!err && renameat(c->dirfd, tmp, c->dirfd, name))
		err = -errno;
	if (err)
		unlinkat(c->dirfd, tmp, 0);
	if (!err && keep) {
		*keep = fd;
		return 0;
	}
	if (close(fd) && !err)
		err = -errno;
	return err;
}

struct inflate_arg {
	const struct ls_inflate_plan *plan;
	const void *src;
	size_t size;
};

/*
 * The inflated copy written into fd through a shared mapping: no buffer,
 * no second copy. The blocks are reserved first (fallocate) so that a full
 * disk is an error here and not a SIGBUS on a page of the mapping.
 */
static int fill_inflated(int fd, void *arg)
{
	const struct inflate_arg *a = arg;
	void *dst;
	int err;

	if (fallocate(fd, 0, 0, (off_t)a->plan->size))
		return -errno;
	dst = mmap(NULL, a->plan->size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (dst == MAP_FAILED)
		return -errno;
	err = ls_inflate_write(a->plan, a->src, a->size, dst);
	munmap(dst, a->plan->size);
	return err;
}

/* The copy in an anonymous memory file, when the cache is off, may not take it or cannot. */
static int inflate_to_memory(struct inflate_arg *a)
{
	int fd = memfd_create("loopstall-debuginfo", MFD_CLOEXEC), err;

	if (fd < 0)
		return -1;
	err = fill_inflated(fd, a);
	if (err) {
		close(fd);
		return -1;
	}
	return fd;
}

/* Is fd (at path) a file the cache may keep a copy of (root's, under /usr/lib/debug)? */
static bool cacheable(const struct stat *st, const char *path)
{
	char real[PATH_MAX];

	return path && realpath(path, real) && ls_debugcache_source_ok(st, real);
}

/* Does the file fd carry build-id id? */
static bool fd_has_id(int fd, const unsigned char *id, size_t len)
{
	Elf *elf = elf_begin(fd, ELF_C_READ_MMAP, NULL);
	bool ok = elf && elf_kind(elf) == ELF_K_ELF && has_id(elf, id, len);

	elf_end(elf);
	return ok;
}

int ls_debugcache__inflate_fd(struct ls_debugcache *c, const unsigned char *id, size_t len, int fd,
			      const char *path, char **cached)
{
	struct ls_inflate_plan plan;
	struct inflate_arg arg = {.plan = &plan};
	cache_name name;
	struct stat st;
	void *src;
	int out = -1, err = 0;

	*cached = NULL;
	if (fd < 0 || fstat(fd, &st) || !S_ISREG(st.st_mode) ||
	    st.st_size < (off_t)sizeof(Elf64_Ehdr) || (uint64_t)st.st_size > LS_INFLATE_MAX ||
	    !fd_has_id(fd, id, len))
		return -1;
	src = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
	if (src == MAP_FAILED)
		return -1;
	arg.src = src;
	arg.size = (size_t)st.st_size;
	if (ls_inflate_plan(src, arg.size, LS_INFLATE_MAX, &plan)) {
		munmap(src, arg.size);
		return -1;
	}
	if (c && !c->write_off && plan.size <= c->max &&
	    !ls_debugcache_name(id, len, name, sizeof(name)) && cacheable(&st, path)) {
		err = write_atomically(c, name, plan.size, fill_inflated, &arg, &out);
		if (!err && asprintf(cached, "%s/%s", c->dir, name) < 0)
			*cached = NULL;
		if (!err) {
			c->stats.stored++;
		} else {
			c->stats.failed++;
			out = -1;
			/*
			 * the disk or the directory says no: no more tries this run (a
			 * file system with no fallocate still takes the .funcs stores)
			 */
			if (err != -EFBIG && err != -EINVAL && err != -ENOMEM && err != -EOPNOTSUPP)
				c->write_off = true;
		}
	}
	/* a stream that does not inflate fails in memory too: left to libdw */
	if (out < 0 && err != -EINVAL)
		out = inflate_to_memory(&arg);
	if (out >= 0 && c)
		c->stats.inflated++;
	ls_inflate_plan_free(&plan);
	munmap(src, arg.size);
	return out;
}

int ls_debugcache__read(struct ls_debugcache *c, const unsigned char *id, size_t len,
			const char *suffix, void **buf, size_t *size)
{
	cache_name name;
	struct stat st;
	size_t got = 0;
	char *data;
	int fd, err = 0;

	*buf = NULL;
	*size = 0;
	if (!c || ls_debugcache_name_as(id, len, suffix, name, sizeof(name)) || dir_open(c, false))
		return -ENOENT;
	fd = openat(c->dirfd, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return -ENOENT;
	if (fstat(fd, &st) || !S_ISREG(st.st_mode) || !owned(&st, geteuid()) ||
	    (uint64_t)st.st_size > c->max) {
		close(fd);
		return -EPERM;
	}
	data = malloc(st.st_size ? (size_t)st.st_size : 1);
	if (!data) {
		close(fd);
		return -ENOMEM;
	}
	while (got < (size_t)st.st_size) {
		ssize_t n = read(fd, data + got, (size_t)st.st_size - got);

		if (n <= 0) {
			err = n < 0 ? -errno : -EIO;
			break;
		}
		got += (size_t)n;
	}
	if (!err)
		futimens(fd, NULL);
	close(fd);
	if (err) {
		free(data);
		return err;
	}
	*buf = data;
	*size = got;
	return 0;
}

struct buf_arg {
	const void *buf;
	size_t size;
};

static int fill_buf(int fd, void *arg)
{
	const struct buf_arg *a = arg;

	return write_all(fd, a->buf, a->size, 0);
}

int ls_debugcache__write(struct ls_debugcache *c, const unsigned char *id, size_t len,
			 const char *suffix, const void *buf, size_t size)
{
	struct buf_arg arg = {.buf = buf, .size = size};
	cache_name name;
	int err;

	if (!c)
		return -EINVAL;
	if (c->write_off)
		return -EROFS;
	if (ls_debugcache_name_as(id, len, suffix, name, sizeof(name)))
		return -EINVAL;
	err = write_atomically(c, name, size, fill_buf, &arg, NULL);
	if (err) {
		c->stats.failed++;
		/* as __inflate: the disk or the directory says no, no more tries this run */
		if (err != -EFBIG && err != -ENOMEM)
			c->write_off = true;
	}
	return err;
}

void ls_debugcache__stats(const struct ls_debugcache *c, struct ls_debugcache_stats *stats)
{
	if (c)
		*stats = c->stats;
	else
		memset(stats, 0, sizeof(*stats));
}

int ls_debugcache__inflate(struct ls_debugcache *c, const unsigned char *id, size_t len,
			   char **path)
{
	char where[sizeof(BUILD_ID_DIR) + sizeof(cache_name) + 8], *cached = NULL;
	cache_name hex;
	int fd, copy;

	*path = NULL;
	/* BUILD_ID_DIR/ab/cdef....debug, as libdwfl's own lookup by build-id names it */
	if (len < 2 || ls_debugcache_name(id, len, hex, sizeof(hex)))
		return -1;
	snprintf(where, sizeof(where), "%s/%.2s/%s", BUILD_ID_DIR, hex, hex + 2);
	fd = open(where, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	copy = ls_debugcache__inflate_fd(c, id, len, fd, where, &cached);
	close(fd);
	if (copy < 0)
		return -1;
	*path = cached ? cached : strdup(where);
	return copy;
}
