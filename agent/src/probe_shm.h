/* SPDX-License-Identifier: BSD-2-Clause */
#ifndef LOOPSTALL_PROBE_SHM_H
#define LOOPSTALL_PROBE_SHM_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>
#include "probe_info.h"

/*
 * libprobe's shared-memory region of a traced process, read by the agent
 * (the layout is libprobe/shm/lprobe_shm.h). The traced program writes it,
 * so to the agent, which runs as root, it is hostile input: the file must
 * be a regular file owned by the target's user with mode 0600, is mapped
 * read-only, its header is copied once and checked, and every index,
 * offset, length and string read afterwards is checked again against that
 * copy. A file truncated under the mapping would raise SIGBUS: reads are
 * guarded and the region is dropped instead. Functions return 0 or -errno.
 */

struct ls_probe_shm;

/* What the region must say about the process it belongs to. */
struct ls_probe_expect {
	uid_t uid;	     /* owner of the file */
	uint32_t pid;	     /* the pid as the process sees itself; 0: do not check */
	uint64_t start_time; /* /proc/PID/stat field 22; 0: do not check */
};

/* Map process pid's region; -ENOENT when it has none (no libprobe). */
int ls_probe_shm__open(pid_t pid, struct ls_probe_shm **out);
/* Map an open region file (the checks of __open, on any fd); fd stays the caller's. */
int ls_probe_shm__map_fd(int fd, const struct ls_probe_expect *expect, struct ls_probe_shm **out);
/*
 * The callback that ran longest on thread tid during [start_ns, end_ns),
 * with the flight-recorder tail up to end_ns. -ENOENT when libprobe saw none.
 */
int ls_probe_shm__callback(struct ls_probe_shm *p, uint32_t tid, uint64_t start_ns, uint64_t end_ns,
			   struct ls_stall_callback *out);
/* The callback running on tid at time t. */
int ls_probe_shm__callback_at(struct ls_probe_shm *p, uint32_t tid, uint64_t t,
			      struct ls_stall_callback *out);
int ls_probe_shm__thread(struct ls_probe_shm *p, uint32_t tid, struct ls_probe_thread *out);
void ls_probe_shm__free(struct ls_probe_shm *p);

/* "io", "timer", ... for a watcher number; "unknown" for anything else. */
const char *ls_probe_watcher_name(uint32_t watcher);
/* What cb->arg is for its watcher ("fd", "signum", "child_pid"), or NULL when it means nothing. */
const char *ls_probe_arg_name(const struct ls_probe_cb *cb);
/*
 * Read the NUL-terminated string at addr from a target's /proc/PID/mem
 * (memfd; -1: none) into buf, made printable; returns its length, 0 when
 * nothing could be read. libprobe's await and yield names are pointers into
 * the program, named in the region only while its reporter thread runs.
 */
size_t ls_probe_read_name(int memfd, uint64_t addr, char *buf, size_t size);
/* Quantile q of a libprobe histogram (bucket midpoints, never above max_ns). */
uint64_t ls_probe_hist_quantile(const uint64_t *counts, unsigned n, double q, uint64_t max_ns);

/* The agent's regions, one per traced process, opened on first need. */
struct ls_probe_set;
struct ls_stall;
struct ls_thread_summary;

struct ls_probe_set *ls_probe_set__new(void);
/* A process to look for a region in (opened now if it is there, else retried by __poll). */
void ls_probe_set__watch(struct ls_probe_set *set, pid_t pid);
/* Retry processes whose region was not there yet (libprobe creates it at the first loop). */
void ls_probe_set__poll(struct ls_probe_set *set, uint64_t now_ns);
/* Fill s->callback from the process's region, if it has one. */
void ls_probe_set__fill_stall(struct ls_probe_set *set, struct ls_stall *s);
/* Fill ts->probe likewise. */
void ls_probe_set__fill_thread(struct ls_probe_set *set, struct ls_thread_summary *ts);
void ls_probe_set__free(struct ls_probe_set *set);

#endif
