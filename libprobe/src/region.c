// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>
#include "clock.h"
#include "region.h"

size_t lpi_region_layout(struct lps_header *h, const struct lpi_region_geom *g)
{
	uint64_t off, stride;

	memset(h, 0, sizeof(*h));
	h->version = g->version ? g->version : LPS_VERSION;
	h->header_size = sizeof(*h);
	h->loop_size = sizeof(struct lps_loop);
	h->event_size = sizeof(struct lps_event);
	h->stall_size = sizeof(struct lps_stall);
	h->hist_buckets = LPS_HIST_BUCKETS;
	h->threshold_ns = g->threshold_ns;
	off = sizeof(*h);
	h->syms_off = (uint32_t)off;
	h->sym_slots = g->sym_slots;
	off += (uint64_t)g->sym_slots * sizeof(struct lps_sym);
	h->strtab_off = (uint32_t)off;
	h->strtab_size = g->strtab_size;
	off += g->strtab_size;
	/* loop slots start on a cache line, as do their rings */
	off = (off + 63) & ~63ull;
	stride = sizeof(struct lps_loop) + (uint64_t)g->ring_len * sizeof(struct lps_event);
	h->loops_off = (uint32_t)off;
	h->loop_stride = (uint32_t)stride;
	h->max_loops = g->max_loops;
	h->ring_len = g->ring_len;
	off += stride * g->max_loops;
	if (off > LPS_MAX_REGION)
		return 0;
	h->region_size = off;
	return (size_t)off;
}

static uint64_t proc_start_time(void)
{
	char buf[1024], *p;
	unsigned long long v = 0;
	ssize_t n;
	int fd, field;

	fd = open("/proc/self/stat", O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return 0;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return 0;
	buf[n] = '\0';
	/* comm may hold spaces and parentheses: fields count from the last ')' */
	p = strrchr(buf, ')');
	if (!p)
		return 0;
	for (field = 2; *p && field < 22; p++)
		if (*p == ' ')
			field++;
	sscanf(p, "%llu", &v);
	return v;
}

/* Regions of our own processes that died without unlinking (killed, or exec'd after fork). */
static void remove_stale(void)
{
	char path[sizeof(LPS_DIR) + 260];
	struct dirent *de;
	struct stat st;
	DIR *d;
	int pid;

	d = opendir(LPS_DIR);
	if (!d)
		return;
	while ((de = readdir(d))) {
		if (sscanf(de->d_name, LPS_NAME_FMT, &pid) != 1 || pid <= 0)
			continue;
		if (kill(pid, 0) == 0 || errno != ESRCH)
			continue;
		snprintf(path, sizeof(path), LPS_DIR "/%s", de->d_name);
		if (!lstat(path, &st) && S_ISREG(st.st_mode) && st.st_uid == geteuid())
			unlink(path);
	}
	closedir(d);
}

static int open_file(struct lpi_region *r)
{
	struct stat st;
	int fd, tries;

	snprintf(r->path, sizeof(r->path), LPS_DIR "/" LPS_NAME_FMT, (int)getpid());
	for (tries = 0; tries < 2; tries++) {
		fd = open(r->path, O_RDWR | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
		if (fd >= 0)
			return fd;
		if (errno != EEXIST)
			return -errno;
		/* left by an earlier process with our pid: ours to replace, nobody else's */
		if (lstat(r->path, &st) || !S_ISREG(st.st_mode) || st.st_uid != geteuid())
			return -EEXIST;
		unlink(r->path);
	}
	return -EEXIST;
}

int lpi_region_create(struct lpi_region *r, const struct lpi_region_geom *g, bool want_shared)
{
	struct lps_header h;
	size_t size = lpi_region_layout(&h, g);
	void *base = MAP_FAILED;
	int fd = -1;

	memset(r, 0, sizeof(*r));
	if (!size)
		return -E2BIG;
	if (want_shared) {
		remove_stale();
		fd = open_file(r);
		/* the mode must not depend on the umask: the agent checks it is 0600 */
		if (fd >= 0 && (fchmod(fd, 0600) || ftruncate(fd, (off_t)size))) {
			close(fd);
			unlink(r->path);
			fd = -1;
		}
		if (fd >= 0) {
			base = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
			close(fd);
			if (base == MAP_FAILED)
				unlink(r->path);
		}
	}
	r->shared = base != MAP_FAILED;
	if (!r->shared) {
		r->path[0] = '\0';
		base = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		if (base == MAP_FAILED)
			return -ENOMEM;
	}
	r->base = base;
	r->size = size;
	r->owner = getpid();
	r->hdr = base;
	h.pid = (uint32_t)r->owner;
	h.uid = (uint32_t)geteuid();
	h.start_time = proc_start_time();
	h.created_ns = lpi_now();
	memcpy(r->hdr, &h, sizeof(h));
	/* a reader that sees the magic sees everything before it */
	__atomic_store_n(&r->hdr->magic, LPS_MAGIC, __ATOMIC_RELEASE);
	return 0;
}

int lpi_region_publish(const struct lpi_region *r, struct lpi_region *out)
{
	struct lps_header *h;
	void *base;
	int fd;

	*out = *r;
	fd = open_file(out);
	if (fd < 0)
		return fd;
	if (fchmod(fd, 0600) || ftruncate(fd, (off_t)r->size)) {
		close(fd);
		unlink(out->path);
		return -EIO;
	}
	base = mmap(NULL, r->size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	close(fd);
	if (base == MAP_FAILED) {
		unlink(out->path);
		return -ENOMEM;
	}
	/* everything but the magic, then the magic: readers see it complete */
	memcpy((char *)base + sizeof(h->magic), (const char *)r->base + sizeof(h->magic),
	       r->size - sizeof(h->magic));
	h = base;
	__atomic_store_n(&h->magic, LPS_MAGIC, __ATOMIC_RELEASE);
	out->base = base;
	out->hdr = h;
	out->shared = true;
	out->owner = getpid();
	return 0;
}

void lpi_region_abandon(struct lpi_region *r)
{
	if (r->base)
		munmap(r->base, r->size);
	memset(r, 0, sizeof(*r));
}

void lpi_region_unlink(struct lpi_region *r)
{
	if (r->shared && r->owner == getpid() && r->path[0]) {
		unlink(r->path);
		r->path[0] = '\0';
	}
}

int lpi_region_claim(struct lpi_region *r, uint64_t loop_id, uint64_t now_ns)
{
	uint32_t i, pick = UINT32_MAX;

	if (!r->base)
		return -ENOSPC;
	/* a free slot first; else the oldest destroyed loop's */
	for (i = 0; i < r->hdr->max_loops; i++) {
		struct lps_loop *s = lpi_region_loop(r, i);

		if (s->state == LPS_LOOP_FREE) {
			pick = i;
			break;
		}
		if (s->state == LPS_LOOP_GONE && pick == UINT32_MAX)
			pick = i;
	}
	if (pick == UINT32_MAX)
		return -ENOSPC;
	{
		struct lps_loop *s = lpi_region_loop(r, pick);

		/* readers skip a FREE slot, so clear it before it goes live */
		__atomic_store_n(&s->state, LPS_LOOP_FREE, __ATOMIC_RELEASE);
		memset((char *)s + sizeof(s->state), 0, r->hdr->loop_stride - sizeof(s->state));
		s->loop_id = loop_id;
		s->attached_ns = now_ns;
		__atomic_store_n(&s->state, LPS_LOOP_LIVE, __ATOMIC_RELEASE);
	}
	return (int)pick;
}

struct lps_loop *lpi_region_bind(struct lpi_region *r, uint64_t loop_id, uint64_t now_ns,
				 int *index, void **private_slot)
{
	int i = lpi_region_claim(r, loop_id, now_ns);
	struct lps_loop *s;

	*index = i < 0 ? -1 : i;
	*private_slot = NULL;
	if (i >= 0)
		return lpi_region_loop(r, (uint32_t)i);
	/* more loops than slots: timed all the same, in memory no reader sees */
	s = calloc(1, r->hdr->loop_stride);
	if (!s)
		return NULL;
	s->state = LPS_LOOP_LIVE;
	s->loop_id = loop_id;
	s->attached_ns = now_ns;
	*private_slot = s;
	return s;
}
