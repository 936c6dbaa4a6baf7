// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * A libev loop whose timer callback reads a memory-mapped file that is not
 * in the page cache: every page touched is a major fault, and the loop
 * thread blocks on the disk outside any syscall. loopstall must count the
 * faults and the time blocked in them (fault_blocked_ms), and name the
 * cause page_fault when that time dominates the stall.
 *
 * Before `ready` it writes a --mib MiB file to $TMPDIR (else /var/tmp: a
 * disk, not tmpfs), fsyncs it, drops it from the page cache
 * (POSIX_FADV_DONTNEED) and maps it with MADV_RANDOM, so that each fault
 * reads one page, with no readahead or read-around. The scenario (on
 * SIGUSR2 with --wait-signal, else after --delay-ms) touches one byte per
 * page. It prints `resident N of M pages` (mincore) just before, then
 * `touched pages=N wall_ms=X major_faults=N on_cpu_ms=X runqueue_ms=X
 * blocked_ms=X`: the kernel's own account of the touching, from getrusage
 * and /proc/thread-self/schedstat.
 *
 * On a VM whose disk answers from the host's cache, a one-page read costs
 * the faulting thread more CPU time (the virtio notification) than time
 * blocked: the test slows the disk down for this process with a blkio/io
 * cgroup limit.
 *
 * usage: page_fault [--mib N] [--wait-signal] [--delay-ms N] [--linger-ms N]
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/vfs.h>
#include <time.h>
#include <unistd.h>
#include <linux/magic.h>

#include <ev.h>

#include "victim.h"

#define PROG "page_fault"
#define MAX_MIB 4096

static unsigned long opt_mib = 64, opt_delay_ms = 200, opt_linger_ms = 300;
static bool opt_wait_signal;

static unsigned char *map;
static size_t map_len, page_size;
static volatile unsigned long sink;

static struct victim_start start;
static ev_timer touch_timer, finish_timer;

static double mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

static long major_faults(void)
{
	struct rusage ru;

	getrusage(RUSAGE_THREAD, &ru);
	return ru.ru_majflt;
}

/* The kernel's view of this thread: nanoseconds on the CPU and waiting for one. */
static void schedstat(unsigned long long *on_cpu, unsigned long long *runq)
{
	FILE *f = fopen("/proc/thread-self/schedstat", "re");

	*on_cpu = *runq = 0;
	if (f) {
		if (fscanf(f, "%llu %llu", on_cpu, runq) != 2)
			*on_cpu = *runq = 0;
		fclose(f);
	}
}

static size_t resident_pages(void)
{
	size_t n = map_len / page_size, resident = 0;
	unsigned char *vec = malloc(n);

	if (!vec || mincore(map, map_len, vec)) {
		free(vec);
		return (size_t)-1;
	}
	for (size_t i = 0; i < n; i++)
		resident += vec[i] & 1;
	free(vec);
	return resident;
}

/* One byte per page: each read of a page that is not there is a major fault. */
__attribute__((noinline, noclone)) static unsigned long touch_pages(void)
{
	unsigned long sum = 0;

	for (size_t off = 0; off < map_len; off += page_size)
		sum += *(volatile unsigned char *)(map + off);
	return sum;
}

static void on_finish(struct ev_loop *loop, ev_timer *w, int revents)
{
	(void)w;
	(void)revents;
	victim_say("done");
	ev_break(loop, EVBREAK_ALL);
}

static void on_touch(struct ev_loop *loop, ev_timer *w, int revents)
{
	size_t resident = resident_pages();
	unsigned long long on0, rq0, on1, rq1;
	double t0, wall, on_ms, rq_ms;
	long flt0, flt;

	(void)w;
	(void)revents;
	victim_say("resident %zu of %zu pages", resident, map_len / page_size);
	victim_say("scenario fault begin");
	flt0 = major_faults();
	schedstat(&on0, &rq0);
	t0 = mono_ms();
	sink = touch_pages();
	wall = mono_ms() - t0;
	schedstat(&on1, &rq1);
	flt = major_faults() - flt0;
	on_ms = (double)(on1 - on0) / 1e6;
	rq_ms = (double)(rq1 - rq0) / 1e6;
	victim_say("touched pages=%zu wall_ms=%.1f major_faults=%ld on_cpu_ms=%.1f"
		   " runqueue_ms=%.1f blocked_ms=%.1f",
		   map_len / page_size, wall, flt, on_ms, rq_ms, wall - on_ms - rq_ms);
	victim_say("scenario fault end");
	victim_linger(loop, &finish_timer, opt_linger_ms);
}

/* An unlinked file of map_len bytes, written to disk and dropped from the page cache. */
static int cold_file(void)
{
	const char *dir = getenv("TMPDIR");
	char path[4096];
	struct statfs fs;
	char *buf = NULL;
	size_t chunk = 1 << 20;
	int fd, err;

	snprintf(path, sizeof(path), "%s/loopstall-page-fault-XXXXXX",
		 dir && *dir ? dir : "/var/tmp");
	fd = mkstemp(path);
	if (fd < 0) {
		fprintf(stderr, PROG ": %s: %s\n", path, strerror(errno));
		return -1;
	}
	unlink(path);
	if (!fstatfs(fd, &fs) && fs.f_type == TMPFS_MAGIC) {
		fprintf(stderr, PROG ": %s is on tmpfs: no disk to fault from; set TMPDIR\n", path);
		goto fail;
	}
	buf = malloc(chunk);
	if (!buf)
		goto fail;
	memset(buf, 0x5a, chunk);
	for (size_t done = 0; done < map_len; done += chunk) {
		if (write(fd, buf, chunk) != (ssize_t)chunk) {
			fprintf(stderr, PROG ": write: %s\n", strerror(errno));
			goto fail;
		}
	}
	/* only clean pages can be dropped: write them back first */
	if (fsync(fd)) {
		fprintf(stderr, PROG ": fsync: %s\n", strerror(errno));
		goto fail;
	}
	err = posix_fadvise(fd, 0, (off_t)map_len, POSIX_FADV_DONTNEED);
	if (err) {
		fprintf(stderr, PROG ": posix_fadvise: %s\n", strerror(err));
		goto fail;
	}
	free(buf);
	return fd;
fail:
	free(buf);
	close(fd);
	return -1;
}

static int map_file(void)
{
	int fd = cold_file();

	if (fd < 0)
		return -1;
	map = mmap(NULL, map_len, PROT_READ, MAP_SHARED, fd, 0);
	close(fd);
	if (map == MAP_FAILED) {
		fprintf(stderr, PROG ": mmap: %s\n", strerror(errno));
		return -1;
	}
	/* no readahead, no read-around: one read per page touched */
	if (madvise(map, map_len, MADV_RANDOM)) {
		fprintf(stderr, PROG ": madvise: %s\n", strerror(errno));
		return -1;
	}
	return 0;
}

int main(int argc, char **argv)
{
	const struct victim_opt opts[] = {
	    {"--mib", .value = &opt_mib},
	    {"--wait-signal", .flag = &opt_wait_signal},
	    {"--delay-ms", .value = &opt_delay_ms},
	    {"--linger-ms", .value = &opt_linger_ms},
	    {0},
	};
	struct ev_loop *loop;

	if (victim_args(PROG, PROG " [--mib N] [--wait-signal] [--delay-ms N] [--linger-ms N]",
			argc, argv, opts))
		return 2;
	if (!opt_mib || opt_mib > MAX_MIB) {
		fprintf(stderr, PROG ": --mib must be from 1 to %d\n", MAX_MIB);
		return 2;
	}
	/* Tests read stdout through a pipe: every line must arrive when written. */
	setvbuf(stdout, NULL, _IOLBF, 0);

	page_size = (size_t)sysconf(_SC_PAGESIZE);
	map_len = opt_mib << 20;
	if (map_file())
		return 1;

	loop = ev_default_loop(EVFLAG_AUTO);
	if (!loop) {
		fprintf(stderr, PROG ": cannot initialize libev\n");
		return 1;
	}
	ev_init(&touch_timer, on_touch);
	ev_init(&finish_timer, on_finish);
	victim_start(loop, &start, &touch_timer, 0., opt_wait_signal, opt_delay_ms);
	victim_say("ready pages=%zu resident=%zu", map_len / page_size, resident_pages());
	ev_run(loop, 0);
	ev_loop_destroy(loop);
	munmap(map, map_len);
	return 0;
}
