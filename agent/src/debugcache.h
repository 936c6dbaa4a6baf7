/* SPDX-License-Identifier: BSD-2-Clause */
#ifndef LOOPSTALL_DEBUGCACHE_H
#define LOOPSTALL_DEBUGCACHE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <libelf.h>

/*
 * Separate debug info kept decompressed on disk, one file per build-id.
 *
 * Debian's /usr/lib/debug files have their .debug_* sections
 * zlib-compressed; libdw would inflate every one of them (zlib) the first
 * time a stack needs the module's DWARF (python3.11's 11 MB file is 24 MB
 * inflated: ~150 ms of CPU, most of a run's first stall). Instead, when
 * libdwfl finds such a file, the agent inflates it itself, once, with
 * libdeflate (inflate.h: twice zlib's speed, the location lists and
 * macros the agent never reads left out) into DIR/BUILDID.debug, and hands
 * libdwfl that file; later runs open it (mapped: no inflating, no copy).
 * When the cache is off, may not keep the file (see below) or cannot write
 * it, the copy goes to an anonymous memory file (memfd) for this run only.
 * A file inflate.h refuses (zstd, .zdebug, a dwz link, anything malformed)
 * is left to libdw as it is: not cached.
 *
 * DIR is $LOOPSTALL_DEBUG_CACHE, else /var/cache/loopstall/debuginfo
 * ("off": no cache). It must be the agent's own (its owner, not writable
 * by group or others), and so must each file in it, which must also carry
 * the build-id it is named by. Only debug files that are root's and under
 * /usr/lib/debug are copied there: a file an unprivileged user could
 * write would otherwise name every later run's frames of that build-id.
 * The cache holds at most $LOOPSTALL_DEBUG_CACHE_MB MiB (default 512; 0
 * keeps none); the files used least recently go first (a hit
 * touches its file's mtime). A read-only or full disk only means no new
 * files: lookups go on, nothing is printed. The symbolizer's store of
 * each module (BUILDID.funcs, funstore.h) lives here too, under the same
 * rules and cap.
 */
struct ls_debugcache;

struct ls_debugcache_stats {
	uint64_t hits;	   /* debug files opened from the cache */
	uint64_t stored;   /* files written */
	uint64_t inflated; /* debug files the agent inflated (into the cache or memory) */
	uint64_t rejected; /* cached files refused (owner, mode, size, build-id) */
	uint64_t failed;   /* writes that failed (disk full, read-only...) */
};

/* The cache the environment asks for; NULL when it is off (every call takes NULL). */
struct ls_debugcache *ls_debugcache__new(void);
void ls_debugcache__free(struct ls_debugcache *c);
/*
 * The cached debug file of build-id id: an open fd (and its path in
 * *path, malloc'd), or -1 when there is none that passes the checks.
 */
int ls_debugcache__open(struct ls_debugcache *c, const unsigned char *id, size_t len, char **path);
/*
 * The debug file of build-id id under /usr/lib/debug/.build-id, inflated
 * (inflate.h): an fd to hand libdwfl, its path in *path (malloc'd), or -1
 * (no such file, nothing compressed, or refused: libdwfl looks itself and
 * libdw inflates as it always did). The lookup is the agent's own because
 * libdwfl's (dwfl_standard_find_debuginfo) keeps the Elf it opened by
 * build-id for the module, whatever fd the callback then returns.
 */
int ls_debugcache__inflate(struct ls_debugcache *c, const unsigned char *id, size_t len,
			   char **path);
/*
 * The same for the debug file fd (at path) of build-id id: the copy is the
 * cache's when the file may be cached (root's, under /usr/lib/debug) and
 * the cache takes it (*cached: its path, malloc'd), else in memory
 * (*cached NULL). c may be NULL (no cache).
 */
int ls_debugcache__inflate_fd(struct ls_debugcache *c, const unsigned char *id, size_t len, int fd,
			      const char *path, char **cached);
/*
 * Other files of a build-id, kept beside its debug file as HEX.SUFFIX
 * (suffix ".funcs": funstore.h): the same owner and mode checks, the same
 * size cap and eviction. __read: the whole file into *buf (malloc'd;
 * its mtime touched as a hit's), 0, -ENOENT or -EPERM (refused);
 * __write replaces it at once (a rename). Both -errno otherwise.
 */
int ls_debugcache__read(struct ls_debugcache *c, const unsigned char *id, size_t len,
			const char *suffix, void **buf, size_t *size);
int ls_debugcache__write(struct ls_debugcache *c, const unsigned char *id, size_t len,
			 const char *suffix, const void *buf, size_t size);
void ls_debugcache__stats(const struct ls_debugcache *c, struct ls_debugcache_stats *stats);

/* Pure parts, for unit tests. */
#define LS_DEBUGCACHE_ID_MAX 64
/* "HEX.debug" into out: 0, or -EINVAL (empty or too long an id, out too small). */
int ls_debugcache_name(const unsigned char *id, size_t len, char *out, size_t out_len);
/* "HEX.SUFFIX", suffix ".debug" or ".funcs" (else -EINVAL) */
int ls_debugcache_name_as(const unsigned char *id, size_t len, const char *suffix, char *out,
			  size_t out_len);
/* Is name one of the cache's files ("HEX.debug", "HEX.funcs")? */
bool ls_debugcache_is_name(const char *name);
/* A cached file anyone may trust: a regular file of uid's, not writable by others, <= max bytes. */
bool ls_debugcache_file_ok(const struct stat *st, uid_t uid, uint64_t max);
/* The cache directory: a directory of uid's, not writable by group or others. */
bool ls_debugcache_dir_ok(const struct stat *st, uid_t uid);
/* A debug file the cache may copy: root's, regular, not writable by others, in /usr/lib/debug */
bool ls_debugcache_source_ok(const struct stat *st, const char *real_path);

struct ls_debugcache_entry {
	uint64_t size;
	int64_t mtime_ns;
	bool evict; /* out */
};
/*
 * Make room for `incoming` bytes under `cap`: marks the entries to delete,
 * least recently used (oldest mtime) first, and returns how many; -1 when
 * incoming alone exceeds cap (then nothing is marked: store nothing).
 */
int ls_debugcache_evict(struct ls_debugcache_entry *e, size_t n, uint64_t cap, uint64_t incoming);

#endif
