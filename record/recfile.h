/* SPDX-License-Identifier: BSD-2-Clause */
#ifndef LOOPSTALL_RECFILE_H
#define LOOPSTALL_RECFILE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

/*
 * A JSON Lines recording (schema_version 1, see docs/records.md) read back into
 * memory: its stall records and its summary, typed. Records of unknown type
 * and fields this version does not know are skipped, so files written by a
 * newer loopstall still read. Strings are never NULL unless said so.
 */

/* A frame's "kind": what runs in it (records without one are native). */
enum rf_kind {
	RF_KIND_NATIVE = 0,
	RF_KIND_PYTHON, /* symbol: the qualified function name, file: the .py */
	RF_KIND_JS,
};

struct rf_frame {
	char *addr;
	char *symbol; /* NULL when unknown (also file, module) */
	char *module;
	char *file;
	long line; /* -1 when unknown */
	enum rf_kind kind;
};

/* Innermost frame first. */
struct rf_stack {
	size_t n;
	struct rf_frame *frames;
	uint64_t frames_cut; /* outermost frames a bounded writer left out */
};

/* The stack records read so far ("type":"stack"), by id. */
struct rf_stacks;

struct rf_syscall {
	char *name;
	uint64_t count;
	double total_ms;
	double max_ms;
	char *target; /* NULL when the call had no fd, or it was not resolved */
	char *target_kind; /* "file", "fifo", "socket"...; NULL when not said */
	struct rf_stack stack;
};

struct rf_cpu_stack {
	uint64_t samples;
	struct rf_stack stack;
};

struct rf_callback {
	char *symbol; /* may be NULL */
	char *watcher;
	double started_ms_ago;
	double duration_ms; /* -1: still running at the stall's end, or not said */
	char *span;	    /* the task segment libprobe named, or NULL */
	/* an asyncio Task step (loopstall_probe); NULL when not one or not known */
	char *task;
	char *resumed_at;
	char *suspended_at;
};

struct rf_stall {
	unsigned line; /* where the record was in the file */
	size_t order;  /* its place among the stalls read, for a stable sort */
	uint32_t pid;
	uint32_t tid;
	char *comm;
	int64_t start_unix_ns;
	int64_t end_unix_ns;
	double duration_ms;
	double threshold_ms;
	char *cause;
	double on_cpu_ms;
	double off_cpu_ms;
	double runqueue_ms;
	double fault_blocked_ms;
	uint64_t major_faults;
	uint64_t voluntary_switches;
	uint64_t involuntary_switches;
	bool cut_short;
	size_t n_syscalls; /* largest total_ms first */
	struct rf_syscall *syscalls;
	size_t n_cpu_stacks;
	struct rf_cpu_stack *cpu_stacks;
	struct rf_callback *callback; /* NULL without libprobe */
	/* the asyncio task's coroutine (NULL when not named) and where it is */
	char *task_coroutine;
	char *task_name; /* the Task's name (Task-1, or create_task's name=), NULL when not read */
	char *task_file;
	long task_line; /* -1 when unknown */
	char *source;		      /* who wrote it: NULL (the agent) or "libprobe" */
	char *advice;
};

struct rf_thread {
	uint32_t pid;
	uint32_t tid;
	char *comm;
	uint64_t iterations;
	double busy_ms;
	double busy_ratio;
	uint64_t stalls;
	double max_busy_ms;
	double gap_p50_ms;
	double gap_p90_ms;
	double gap_p99_ms;
	double gap_max_ms;
};

struct rf_summary {
	uint32_t pid;
	char *comm;
	int64_t start_unix_ns;
	int64_t end_unix_ns;
	double recorded_ms;
	double threshold_ms;
	uint64_t stalls;
	uint64_t lost_events;
	size_t n_threads;
	struct rf_thread *threads;
};

/*
 * Which records a reader keeps (report --since/--until/--pid/--target).
 * Zero fields match everything.
 */
struct rf_filter {
	int64_t since_unix_ns; /* stalls that began at or after */
	int64_t until_unix_ns; /* ... and before */
	uint32_t pid;
	const char *target; /* the record's "target" (loopstalld's name), else its comm */
};

struct recording {
	size_t n_stalls; /* in file order */
	size_t cap_stalls;
	struct rf_stall *stalls;
	size_t n_stall_begins;
	/* busy periods marked "phase":"exit": the process's exit, kept out of `stalls` */
	size_t n_exit_periods;
	double exit_periods_ms;
	/*
	 * The summary; several (files appended to one another) are merged:
	 * times and counts add up, threads are listed one after the other.
	 */
	size_t n_summaries;
	struct rf_summary summary;
	unsigned records;	/* lines that held a record */
	unsigned unknown_types; /* records skipped for their type */
	/*
	 * With a filter, records that do not match are counted here and
	 * skipped; summaries are kept whole for the processes that match, but
	 * their recorded time is cut to the window.
	 */
	struct rf_filter filter;
	unsigned filtered_out;
	/*
	 * Bounded records (loopstalld's max_line) write each stack once per
	 * file and refer to it by id: a "stack_ref" is resolved from these.
	 */
	struct rf_stacks *stacks;
	unsigned unresolved_stack_refs; /* referred to, never read: left empty */
};

/*
 * Why a file could not be read: the line (0: the file as a whole) and what
 * was wrong with it, e.g. "malformed JSON".
 */
struct rf_error {
	unsigned line;
	char msg[160];
};

struct recording *recording__new(void);
/*
 * Add one line (len bytes, no newline needed; blank lines are ignored).
 * Returns 0, -EINVAL (err filled) or -ENOMEM.
 */
int recording__add_line(struct recording *rec, const char *line, size_t len, unsigned lineno,
			struct rf_error *err);
/*
 * Read a whole file. A last line without its newline that does not parse
 * is what a killed recorder leaves: reported like any malformed line.
 * Returns 0, -EINVAL (err filled: bad content or no records), -ENOMEM or
 * another -errno from reading.
 */
int recording__read(FILE *f, struct recording **out, struct rf_error *err);
/*
 * Add a file's lines to rec, line numbers from 1 again (rotated files,
 * several recordings read as one history). Returns 0, -EINVAL (err filled;
 * an empty file is no error here), -ENOMEM or another -errno from reading.
 */
int recording__read_more(struct recording *rec, FILE *f, struct rf_error *err);
/* Stalls in order of their start (stable): several files read as one history. */
void recording__sort_stalls(struct recording *rec);
/* The distinct pids of its stalls and loop threads, ascending; returns how many (<= max). */
size_t recording__pids(const struct recording *rec, uint32_t *pids, size_t max);
/* A filter field is set: the reader keeps only some records. */
bool rf_filter__active(const struct rf_filter *f);
void recording__free(struct recording *rec);

/* The time the recording covers: the summary's, else the span of its stalls. */
double recording__recorded_ms(const struct recording *rec);
/* Its threshold: the summary's, else the first stall's, else 0. */
double recording__threshold_ms(const struct recording *rec);

#endif
