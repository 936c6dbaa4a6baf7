// SPDX-License-Identifier: BSD-2-Clause
/*
 * Inflated copies of compressed debug files, by build-id (debugcache.h).
 *
 * The copy is written from the Elf libdw already inflated, not from the
 * file again: storing costs the write, not a second inflate. Its section
 * headers and contents are libdw's view of the file (a compressed section
 * inflated, its SHF_COMPRESSED flag gone); the program headers are kept as
 * they are, as in any separate debug file, whose PT_LOAD segments describe
 * the stripped program and not this file (libdwfl reads only their
 * addresses).
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <elfutils/libdwelf.h>
#include <gelf.h>
#include "debugcache.h"

#define DEFAULT_DIR "/var/cache/loopstall/debuginfo"
#define DEFAULT_MAX (512ull << 20)
/* build-ids noted and not stored yet (some only for their symbols: they wait for a stall) */
#define MAX_PENDING 256
/* files looked at when making room: a cache of build-ids stays far below */
#define MAX_ENTRIES 4096
/* a temporary file this old is a crashed writer's */
#define STALE_TMP_NS (3600ull * 1000000000ull)

#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
#define HOST_DATA ELFDATA2LSB
#else
#define HOST_DATA ELFDATA2MSB
#endif

/* "HEX.debug" */
typedef char cache_name[2 * LS_DEBUGCACHE_ID_MAX + sizeof(".debug")];

struct pending {
	unsigned char id[LS_DEBUGCACHE_ID_MAX];
	size_t len;
};

struct ls_debugcache {
	char *dir;
	int dirfd; /* -1 until the directory exists */
	uint64_t max;
	bool write_off; /* a write failed for good (read-only, full, not ours) */
	struct pending pending[MAX_PENDING];
	unsigned n_pending;
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

static struct pending *pending_find(struct ls_debugcache *c, const unsigned char *id, size_t len)
{
	unsigned i;

	for (i = 0; i < c->n_pending; i++)
		if (c->pending[i].len == len && !memcmp(c->pending[i].id, id, len))
			return &c->pending[i];
	return NULL;
}

/*
 * Compressed sections libdw inflates, and nothing a copy elsewhere would
 * break: GNU-style .zdebug sections keep their name when inflated (libdw
 * would inflate the copy again), and a dwz file named relative to the
 * debug file would not be found from the cache.
 */
static bool worth_copying(int fd)
{
	bool compressed = false, breaks = false;
	Elf *elf = elf_begin(fd, ELF_C_READ_MMAP, NULL);
	Elf_Scn *scn = NULL;
	size_t shstrndx;

	if (!elf || elf_kind(elf) != ELF_K_ELF || gelf_getclass(elf) != ELFCLASS64 ||
	    elf_getshdrstrndx(elf, &shstrndx)) {
		elf_end(elf);
		return false;
	}
	while (!breaks && (scn = elf_nextscn(elf, scn))) {
		GElf_Shdr mem, *sh = gelf_getshdr(scn, &mem);
		const char *name = sh ? elf_strptr(elf, shstrndx, sh->sh_name) : NULL;

		if (!name) {
			breaks = true;
			break;
		}
		compressed |= (sh->sh_flags & SHF_COMPRESSED) != 0;
		breaks = !strncmp(name, ".zdebug", 7) || !strcmp(name, ".gnu_debugaltlink");
	}
	elf_end(elf);
	return compressed && !breaks;
}

void ls_debugcache__note(struct ls_debugcache *c, const unsigned char *id, size_t len, int fd,
			 const char *path)
{
	char real[PATH_MAX];
	struct stat st;

	if (!c || c->write_off || !len || len > LS_DEBUGCACHE_ID_MAX || fd < 0 || !path ||
	    c->n_pending == MAX_PENDING || pending_find(c, id, len))
		return;
	if (fstat(fd, &st) || !realpath(path, real) || !ls_debugcache_source_ok(&st, real) ||
	    !worth_copying(fd))
		return;
	memcpy(c->pending[c->n_pending].id, id, len);
	c->pending[c->n_pending].len = len;
	c->n_pending++;
}

size_t ls_debugcache__pending(struct ls_debugcache *c, unsigned i, unsigned char *id)
{
	if (!c || i >= c->n_pending)
		return 0;
	memcpy(id, c->pending[i].id, c->pending[i].len);
	return c->pending[i].len;
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

struct layout {
	size_t shnum, phnum;
	Elf64_Shdr *sh;	 /* the copy's section headers */
	Elf_Data **data; /* each section's contents (NULL: none in the file) */
	uint64_t shoff, size;
};

/* Where each section goes in the copy: in order, each at its alignment; the headers last. */
static int layout(Elf *elf, struct layout *l, uint64_t max)
{
	Elf64_Ehdr *eh = elf64_getehdr(elf);
	uint64_t off = sizeof(Elf64_Ehdr);
	size_t i;

	if (!eh || eh->e_ident[EI_DATA] != HOST_DATA || elf_getshdrnum(elf, &l->shnum) ||
	    elf_getphdrnum(elf, &l->phnum) || l->shnum < 2)
		return -ENOTSUP;
	off += l->phnum * sizeof(Elf64_Phdr);
	l->sh = calloc(l->shnum, sizeof(*l->sh));
	l->data = calloc(l->shnum, sizeof(*l->data));
	if (!l->sh || !l->data)
		return -ENOMEM;
	for (i = 0; i < l->shnum; i++) {
		Elf_Scn *scn = elf_getscn(elf, i);
		Elf64_Shdr *sh = scn ? elf64_getshdr(scn) : NULL;
		uint64_t align;
		Elf_Data *d;

		if (!sh)
			return -EINVAL;
		l->sh[i] = *sh;
		if (i == 0 || sh->sh_type == SHT_NOBITS) {
			if (i)
				l->sh[i].sh_offset = off;
			continue;
		}
		/* the data as libdw sees it: inflated where it inflated it, in one piece */
		d = elf_getdata(scn, NULL);
		if (!d || d->d_size != sh->sh_size || (d->d_size && !d->d_buf) ||
		    elf_getdata(scn, d))
			return -EINVAL;
		align = sh->sh_addralign > 1 && sh->sh_addralign <= 4096 ? sh->sh_addralign : 1;
		off = (off + align - 1) & ~(align - 1);
		l->sh[i].sh_offset = off;
		l->data[i] = d;
		off += d->d_size;
		if (off > max)
			return -EFBIG;
	}
	l->shoff = (off + 7) & ~7ull;
	l->size = l->shoff + l->shnum * sizeof(Elf64_Shdr);
	return l->size > max ? -EFBIG : 0;
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

static int write_copy(int fd, Elf *elf, const struct layout *l)
{
	Elf64_Ehdr eh = *elf64_getehdr(elf);
	Elf64_Phdr *ph = l->phnum ? elf64_getphdr(elf) : NULL;
	size_t i;
	int err;

	if (l->phnum && !ph)
		return -EINVAL;
	eh.e_phoff = l->phnum ? sizeof(Elf64_Ehdr) : 0;
	eh.e_shoff = l->shoff;
	if ((err = write_all(fd, &eh, sizeof(eh), 0)) ||
	    (l->phnum && (err = write_all(fd, ph, l->phnum * sizeof(*ph), eh.e_phoff))))
		return err;
	for (i = 1; i < l->shnum; i++)
		if (l->data[i] && (err = write_all(fd, l->data[i]->d_buf, l->data[i]->d_size,
						   l->sh[i].sh_offset)))
			return err;
	return write_all(fd, l->sh, l->shnum * sizeof(*l->sh), l->shoff);
}

static void pending_drop(struct ls_debugcache *c, const unsigned char *id, size_t len)
{
	struct pending *p = pending_find(c, id, len);

	if (p)
		*p = c->pending[--c->n_pending];
}

/*
 * Write `name` in the cache, `size` bytes that fill() writes to fd: room made
 * first (least recently used out), then a temporary file renamed over it,
 * so that readers see the whole file or none.
 */
static int write_atomically(struct ls_debugcache *c, const char *name, uint64_t size,
			    int (*fill)(int fd, void *arg), void *arg)
{
	char tmp[sizeof(cache_name) + 32];
	int fd, err;

	err = dir_open(c, true);
	if (!err)
		err = make_room(c, size);
	if (err)
		return err;
	snprintf(tmp, sizeof(tmp), ".%s.%d.tmp", name, (int)getpid());
	fd = openat(c->dirfd, tmp, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, 0644);
	if (fd < 0)
		return -errno;
	err = fill(fd, arg);
	if (close(fd) && !err)
		err = -errno;
	if (!err && renameat(c->dirfd, tmp, c->dirfd, name))
		err = -errno;
	if (err)
		unlinkat(c->dirfd, tmp, 0);
	return err;
}

struct copy_arg {
	Elf *elf;
	const struct layout *l;
};

static int fill_copy(int fd, void *arg)
{
	const struct copy_arg *a = arg;

	return write_copy(fd, a->elf, a->l);
}

int ls_debugcache__store(struct ls_debugcache *c, const unsigned char *id, size_t len, Elf *elf)
{
	cache_name name;
	struct layout l = {0};
	struct copy_arg arg = {.elf = elf, .l = &l};
	int err;

	if (!c)
		return -EINVAL;
	pending_drop(c, id, len);
	if (!elf || c->write_off)
		return -ENOENT;
	if (ls_debugcache_name(id, len, name, sizeof(name)) || gelf_getclass(elf) != ELFCLASS64 ||
	    !has_id(elf, id, len))
		return -EINVAL;
	err = layout(elf, &l, c->max);
	if (!err)
		err = write_atomically(c, name, l.size, fill_copy, &arg);
	free(l.sh);
	free(l.data);
	if (err) {
		c->stats.failed++;
		/* the disk or the directory says no: no more tries this run (too big is no reason)
		 */
		if (err != -EFBIG && err != -ENOTSUP && err != -EINVAL && err != -ENOMEM)
			c->write_off = true;
		return err;
	}
	c->stats.stored++;
	return 0;
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
	err = write_atomically(c, name, size, fill_buf, &arg);
	if (err) {
		c->stats.failed++;
		/* as __store: the disk or the directory says no, no more tries this run */
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
