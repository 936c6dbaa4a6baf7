// SPDX-License-Identifier: BSD-2-Clause
/*
 * The agent's reader of libprobe regions (agent/src/probe_shm.c) against
 * regions a hostile or broken target could leave: wrong owner or mode, not
 * a file, a symlink, bad magic or version, geometry that points outside the
 * file, forged entries and symbols, a file truncated under the mapping.
 * Each must give an error or drop the bad part, never a crash or a read
 * outside the mapping. No root needed: the files are this process's own.
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
#include <unistd.h>
#include <cmocka.h>
#include "lprobe_shm.h"
#include "probe_shm.h"
#include "region.h"
#include "symtab.h"

#define TID 777u

struct image {
	unsigned char *p;
	size_t size;
	struct lps_header *h;
};

static char path[64];

/* A valid region with one loop of thread TID and one named callback, 0x1000 at [100, 200). */
static struct image make_image(void)
{
	struct lpi_region_geom g = {
	    .max_loops = 2,
	    .ring_len = 16,
	    .sym_slots = 16,
	    .strtab_size = 256,
	    .threshold_ns = 50000000,
	};
	struct lps_header h;
	struct image im;
	struct lps_loop *s;
	struct lps_event *e;
	struct lps_sym *sym;

	im.size = lpi_region_layout(&h, &g);
	assert_true(im.size > 0);
	im.p = calloc(1, im.size);
	assert_non_null(im.p);
	h.magic = LPS_MAGIC;
	memcpy(im.p, &h, sizeof(h));
	im.h = (struct lps_header *)im.p;
	s = (struct lps_loop *)(im.p + h.loops_off);
	s->state = LPS_LOOP_LIVE;
	s->tid = TID;
	s->ring_head = 1;
	s->iterations = 5;
	s->heartbeat_samples = 1;
	s->heartbeat_late[lps_hist_bucket(2000000)] = 1;
	s->heartbeat_max_ns = 2000000;
	e = (struct lps_event *)(s + 1);
	e->seq = 4;
	e->key = 0x1000;
	e->start_ns = 100;
	e->end_ns = 200;
	e->kind = LPS_K_CALLBACK;
	e->watcher = LPS_W_IO;
	e->arg = 5;
	sym = (struct lps_sym *)(im.p + h.syms_off) + lps_sym_hash(0x1000, h.sym_slots);
	sym->key = 0x1000;
	sym->name_off = 0;
	sym->name_len = 7;
	memcpy(im.p + h.strtab_off, "on_read", 7);
	im.h->strtab_used = 7;
	return im;
}

static struct lps_loop *loop0(struct image *im)
{
	return (struct lps_loop *)(im->p + im->h->loops_off);
}

static int write_file(const struct image *im, mode_t mode)
{
	int fd;

	unlink(path);
	fd = open(path, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	assert_true(fd >= 0);
	assert_int_equal(fchmod(fd, mode), 0);
	assert_int_equal(write(fd, im->p, im->size), (ssize_t)im->size);
	return fd;
}

static int map(const struct image *im, mode_t mode, struct ls_probe_shm **p)
{
	struct ls_probe_expect ex = {.uid = geteuid()};
	int fd = write_file(im, mode), err;

	err = ls_probe_shm__map_fd(fd, &ex, p);
	close(fd);
	return err;
}

static int map_err(const struct image *im)
{
	struct ls_probe_shm *p = NULL;
	int err = map(im, 0600, &p);

	ls_probe_shm__free(p);
	return err;
}

static int setup(void **state)
{
	(void)state;
	snprintf(path, sizeof(path), "/tmp/lprobe-test-%d", (int)getpid());
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	unlink(path);
	return 0;
}

static void valid_region(void **state)
{
	struct image im = make_image();
	struct ls_probe_shm *p;
	struct ls_stall_callback cb;
	struct ls_probe_thread th;

	(void)state;
	assert_int_equal(map(&im, 0600, &p), 0);
	assert_int_equal(ls_probe_shm__callback_at(p, TID, 150, &cb), 0);
	assert_true(cb.present);
	assert_string_equal(cb.cb.symbol, "on_read");
	assert_int_equal(cb.cb.arg, 5);
	assert_int_equal(ls_probe_shm__thread(p, TID, &th), 0);
	assert_int_equal(th.iterations, 5);
	/* within 1 % of the one sample */
	assert_true(th.heartbeat_p50_ns >= 1980000 && th.heartbeat_p50_ns <= 2020000);
	assert_int_equal(ls_probe_shm__thread(p, TID + 1, &th), -ENOENT);
	ls_probe_shm__free(p);
	free(im.p);
}

static void owner_mode_and_type(void **state)
{
	struct image im = make_image();
	struct ls_probe_expect other = {.uid = geteuid() + 1};
	struct ls_probe_shm *p = NULL;
	int fd;

	(void)state;
	/* readable or writable by anyone else: not libprobe's */
	assert_int_equal(map(&im, 0644, &p), -EPERM);
	assert_int_equal(map(&im, 0660, &p), -EPERM);
	assert_int_equal(map(&im, 0400, &p), -EPERM);
	/* owned by someone other than the target */
	fd = write_file(&im, 0600);
	assert_int_equal(ls_probe_shm__map_fd(fd, &other, &p), -EPERM);
	close(fd);
	/* not a regular file */
	fd = open("/tmp", O_RDONLY | O_DIRECTORY);
	assert_int_equal(ls_probe_shm__map_fd(fd, NULL, &p), -EPERM);
	close(fd);
	free(im.p);
}

static void symlink_or_fifo_in_place(void **state)
{
	char name[64];
	struct ls_probe_shm *p = NULL;

	(void)state;
	/* this process has no libprobe: its name under /dev/shm is free to plant things at */
	snprintf(name, sizeof(name), "/dev/shm/" LPS_NAME_FMT, (int)getpid());
	unlink(name);
	assert_int_equal(ls_probe_shm__open(getpid(), &p), -ENOENT);
	assert_int_equal(symlink("/etc/passwd", name), 0);
	assert_int_equal(ls_probe_shm__open(getpid(), &p), -ELOOP);
	unlink(name);
	/* a FIFO must not block the agent */
	assert_int_equal(mkfifo(name, 0600), 0);
	assert_int_equal(ls_probe_shm__open(getpid(), &p), -EPERM);
	unlink(name);
}

static void bad_headers(void **state)
{
	struct image im = make_image();
	struct lps_header good = *im.h;

	(void)state;
#define BAD(field, value, err)                                                                     \
	do {                                                                                       \
		*im.h = good;                                                                      \
		im.h->field = value;                                                               \
		assert_int_equal(map_err(&im), err);                                               \
	} while (0)
	BAD(magic, 0, -EAGAIN); /* still being created */
	BAD(magic, 0x4141414141414141ull, -EAGAIN);
	BAD(version, 3, -EPROTONOSUPPORT);
	BAD(version, 0, -EPROTONOSUPPORT);
	BAD(loop_size, good.loop_size + 8, -EPROTONOSUPPORT);
	BAD(event_size, 32, -EPROTONOSUPPORT);
	BAD(hist_buckets, 100, -EPROTONOSUPPORT);
	BAD(header_size, 64, -EPROTONOSUPPORT);
	BAD(region_size, good.region_size * 2, -EPROTO);
	BAD(sym_slots, 12, -EPROTO);
	BAD(sym_slots, 1u << 31, -EPROTO);
	BAD(syms_off, 0xfffffff0u, -EPROTO);
	BAD(syms_off, 8, -EPROTO); /* inside the header */
	BAD(strtab_off, (uint32_t)good.region_size - 10, -EPROTO);
	BAD(strtab_size, 0xffffffffu, -EPROTO);
	BAD(ring_len, 24, -EPROTO);
	BAD(ring_len, 1u << 20, -EPROTO);
	BAD(max_loops, 0, -EPROTO);
	BAD(max_loops, 3, -EPROTO); /* slots past the end of the file */
	BAD(max_loops, 1000, -EPROTO);
	BAD(loop_stride, good.loop_stride - 64, -EPROTO);
	BAD(loops_off, good.loops_off + 8, -EPROTO);
	BAD(loops_off, 0xffffffc0u, -EPROTO);
#undef BAD
	free(im.p);
}

static void stale_region(void **state)
{
	struct image im = make_image();
	struct ls_probe_expect ex = {.uid = geteuid(), .pid = 1234, .start_time = 99};
	struct ls_probe_shm *p = NULL;
	int fd;

	(void)state;
	/* left by an earlier process that had the same pid */
	im.h->pid = 1234;
	im.h->start_time = 98;
	fd = write_file(&im, 0600);
	assert_int_equal(ls_probe_shm__map_fd(fd, &ex, &p), -ESTALE);
	close(fd);
	free(im.p);
}

static void forged_entries(void **state)
{
	struct image im = make_image();
	struct lps_loop *s = loop0(&im);
	struct lps_event *e = (struct lps_event *)(s + 1);
	struct lps_sym *tab = (struct lps_sym *)(im.p + im.h->syms_off);
	struct ls_probe_shm *p;
	struct ls_stall_callback cb;
	unsigned i;

	(void)state;
	/* an entry whose sequence number says it is another index */
	e[1] = e[0];
	e[1].seq = 4 * 17 + 4;
	e[1].start_ns = 300;
	e[1].end_ns = 400;
	/* one that ends before it starts, one mid-write, one with a watcher out of range */
	e[2] = e[0];
	e[2].seq = 4 * 2 + 4;
	e[2].start_ns = 600;
	e[2].end_ns = 500;
	e[3] = e[0];
	e[3].seq = 4 * 3 + 3;
	e[3].start_ns = 700;
	e[3].end_ns = 800;
	e[4] = e[0];
	e[4].seq = 4 * 4 + 4;
	e[4].key = 0x2000;
	e[4].start_ns = 900;
	e[4].end_ns = 1000;
	e[4].watcher = 999;
	/* a symbol pointing outside the string table, and a huge one */
	tab[lps_sym_hash(0x2000, im.h->sym_slots)].key = 0x2000;
	tab[lps_sym_hash(0x2000, im.h->sym_slots)].name_off = 250;
	tab[lps_sym_hash(0x2000, im.h->sym_slots)].name_len = 60;
	s->ring_head = 5;
	assert_int_equal(map(&im, 0600, &p), 0);
	assert_int_equal(ls_probe_shm__callback_at(p, TID, 350, &cb), -ENOENT);
	assert_int_equal(ls_probe_shm__callback_at(p, TID, 550, &cb), -ENOENT);
	assert_int_equal(ls_probe_shm__callback_at(p, TID, 750, &cb), -ENOENT);
	assert_int_equal(ls_probe_shm__callback_at(p, TID, 950, &cb), 0);
	assert_string_equal(ls_probe_watcher_name(cb.cb.watcher), "unknown");
	assert_string_equal(cb.cb.symbol, "");
	ls_probe_shm__free(p);

	/* a head far past anything written, a full symbol table without the key */
	s->ring_head = UINT64_MAX;
	s->stall_head = UINT64_MAX - 3;
	for (i = 0; i < im.h->sym_slots; i++)
		tab[i].key = 0x5000 + i;
	assert_int_equal(map(&im, 0600, &p), 0);
	assert_int_equal(ls_probe_shm__callback_at(p, TID, 150, &cb), -ENOENT);
	ls_probe_shm__free(p);

	/* the right entry, but the symbol table has no empty slot and no match */
	s->ring_head = 1;
	assert_int_equal(map(&im, 0600, &p), 0);
	assert_int_equal(ls_probe_shm__callback_at(p, TID, 150, &cb), 0);
	assert_string_equal(cb.cb.symbol, "");
	ls_probe_shm__free(p);
	free(im.p);
}

/* Version 2 (the CPython probe): an asyncio Task step named by symbol table keys. */
static void asyncio_entries(void **state)
{
	struct image im = make_image();
	struct lpi_region r = {.base = im.p, .size = im.size, .hdr = im.h};
	struct lps_event *e = (struct lps_event *)(loop0(&im) + 1);
	struct ls_probe_shm *p;
	struct ls_stall_callback cb;

	(void)state;
	im.h->version = LPS_VERSION_PY;
	assert_non_null(
	    lpi_symtab_add(&r, LPS_PY_KEY(LPS_PY_CODE, 1), "Handler.run", "/srv/app.py:10", 0));
	assert_non_null(lpi_symtab_add(&r, LPS_PY_KEY(LPS_PY_LOC, 1), "/srv/app.py:12", "run", 0));
	assert_non_null(lpi_symtab_add(&r, LPS_PY_KEY(LPS_PY_LOC, 2), "/srv/app.py:14", "run", 0));
	assert_non_null(lpi_symtab_add(&r, LPS_PY_KEY(LPS_PY_NAME, 1), "conn-7", NULL, 0));
	e->key = LPS_PY_KEY(LPS_PY_CODE, 1);
	e->watcher = LPS_W_ASYNCIO_TASK;
	e->arg = 5; /* forged: an asyncio entry has no fd */
	e->interval_ns = LPS_PY_TASK_NUM | 42;
	e->reserved = 1 | 2ull << 32;
	assert_int_equal(map(&im, 0600, &p), 0);
	assert_int_equal(ls_probe_shm__callback_at(p, TID, 150, &cb), 0);
	assert_string_equal(ls_probe_watcher_name(cb.cb.watcher), "asyncio_task");
	assert_true(cb.cb.is_task);
	assert_string_equal(cb.cb.symbol, "Handler.run");
	assert_string_equal(cb.cb.module, "/srv/app.py");
	assert_int_equal(cb.cb.line, 10);
	assert_string_equal(cb.cb.task, "Task-42");
	assert_string_equal(cb.cb.resumed_at, "/srv/app.py:12");
	assert_string_equal(cb.cb.suspended_at, "/srv/app.py:14");
	assert_int_equal(cb.cb.interval_ns, 0);
	assert_null(ls_probe_arg_name(&cb.cb));
	ls_probe_shm__free(p);

	/* a named task; a step that finished (no suspension); ids nobody published */
	e->interval_ns = LPS_PY_KEY(LPS_PY_NAME, 1);
	e->reserved = 77;
	assert_int_equal(map(&im, 0600, &p), 0);
	assert_int_equal(ls_probe_shm__callback_at(p, TID, 150, &cb), 0);
	assert_string_equal(cb.cb.task, "conn-7");
	assert_string_equal(cb.cb.resumed_at, "");
	assert_string_equal(cb.cb.suspended_at, "");
	ls_probe_shm__free(p);

	/* a task key that is no name key: no lookup, no name */
	e->interval_ns = 0x1000;
	assert_int_equal(map(&im, 0600, &p), 0);
	assert_int_equal(ls_probe_shm__callback_at(p, TID, 150, &cb), 0);
	assert_string_equal(cb.cb.task, "");
	ls_probe_shm__free(p);

	/* a plain callback: named, no task */
	e->watcher = LPS_W_ASYNCIO_CALLBACK;
	assert_int_equal(map(&im, 0600, &p), 0);
	assert_int_equal(ls_probe_shm__callback_at(p, TID, 150, &cb), 0);
	assert_false(cb.cb.is_task);
	assert_string_equal(cb.cb.symbol, "Handler.run");
	assert_int_equal(cb.cb.line, 10);
	ls_probe_shm__free(p);

	/* the same entry in a version 1 region: a watcher libev does not have */
	im.h->version = LPS_VERSION;
	assert_int_equal(map(&im, 0600, &p), 0);
	assert_int_equal(ls_probe_shm__callback_at(p, TID, 150, &cb), 0);
	assert_string_equal(ls_probe_watcher_name(cb.cb.watcher), "unknown");
	assert_false(cb.cb.is_task);
	assert_string_equal(cb.cb.module, "/srv/app.py:10");
	ls_probe_shm__free(p);
	free(im.p);
}

static void truncated_under_the_mapping(void **state)
{
	struct image im = make_image();
	struct ls_probe_expect ex = {.uid = geteuid()};
	struct ls_probe_shm *p = NULL;
	struct ls_stall_callback cb;
	struct ls_probe_thread th;
	int fd;

	(void)state;
	fd = write_file(&im, 0600);
	assert_int_equal(ls_probe_shm__map_fd(fd, &ex, &p), 0);
	assert_int_equal(ls_probe_shm__callback_at(p, TID, 150, &cb), 0);
	/* the target shrinks its file: the loop slots are now past its end */
	assert_int_equal(ftruncate(fd, 4096), 0);
	assert_int_equal(ls_probe_shm__callback_at(p, TID, 150, &cb), -EFAULT);
	assert_false(cb.present);
	/* dropped for good, no second fault */
	assert_int_equal(ls_probe_shm__thread(p, TID, &th), -EFAULT);
	ls_probe_shm__free(p);
	close(fd);
	/* truncated before it was mapped: refused up front */
	im.size = 100;
	assert_int_equal(map_err(&im), -EPROTO);
	free(im.p);
}

/* Await names the region lacks are read from the target's memory, made printable. */
static void names_from_memory(void **state)
{
	static const char name[] = "fetch_profile";
	static const char bad[] = "a\001b\177\303";
	char buf[LS_PROBE_SYMBOL_MAX], small[5];
	int fd = open("/proc/self/mem", O_RDONLY | O_CLOEXEC);

	(void)state;
	assert_true(fd >= 0);
	assert_int_equal(ls_probe_read_name(fd, (uintptr_t)name, buf, sizeof(buf)), 13);
	assert_string_equal(buf, "fetch_profile");
	assert_int_equal(ls_probe_read_name(fd, (uintptr_t)bad, buf, sizeof(buf)), 5);
	assert_string_equal(buf, "a?b??");
	/* cut to the buffer */
	assert_int_equal(ls_probe_read_name(fd, (uintptr_t)name, small, sizeof(small)), 4);
	assert_string_equal(small, "fetc");
	/* nothing mapped there, no address, no file */
	assert_int_equal(ls_probe_read_name(fd, 8, buf, sizeof(buf)), 0);
	assert_string_equal(buf, "");
	assert_int_equal(ls_probe_read_name(fd, 0, buf, sizeof(buf)), 0);
	assert_int_equal(ls_probe_read_name(-1, (uintptr_t)name, buf, sizeof(buf)), 0);
	close(fd);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(valid_region),
	    cmocka_unit_test(owner_mode_and_type),
	    cmocka_unit_test(symlink_or_fifo_in_place),
	    cmocka_unit_test(bad_headers),
	    cmocka_unit_test(stale_region),
	    cmocka_unit_test(forged_entries),
	    cmocka_unit_test(asyncio_entries),
	    cmocka_unit_test(truncated_under_the_mapping),
	    cmocka_unit_test(names_from_memory),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
