/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * libprobe's own JSON Lines records (standalone mode), written into a
 * caller's buffer without allocating: the reporter builds a record, then
 * writes it with one write(2). Pure; the shape follows
 * record/records.schema.json ("source":"libprobe").
 */
#ifndef LPROBE_JSONL_H
#define LPROBE_JSONL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct lpi_json {
	char *buf;
	size_t cap;
	size_t len;
	bool overflow; /* the record did not fit: drop it */
	bool comma;    /* a value came before: the next needs a comma */
};

void lpi_json_init(struct lpi_json *j, char *buf, size_t cap);
/* key is NULL inside arrays */
void lpi_json_object(struct lpi_json *j, const char *key);
void lpi_json_array(struct lpi_json *j, const char *key);
void lpi_json_close(struct lpi_json *j, char bracket);
void lpi_json_str(struct lpi_json *j, const char *key, const char *s); /* NULL: null */
void lpi_json_int(struct lpi_json *j, const char *key, int64_t v);
void lpi_json_ms(struct lpi_json *j, const char *key, uint64_t ns); /* ns as ms, to the us */
void lpi_json_bool(struct lpi_json *j, const char *key, bool v);
void lpi_json_null(struct lpi_json *j, const char *key);
/* Terminate the line; the length written, or 0 when it overflowed. */
size_t lpi_json_finish(struct lpi_json *j);

/* A callback as a record names it. */
struct lpi_cb_report {
	uint64_t addr;
	const char *symbol; /* NULL: unknown */
	const char *module; /* NULL: unknown */
	uint32_t watcher;   /* enum lps_watcher */
	int32_t arg;
	uint64_t interval_ns;
	uint64_t start_ns;
	uint64_t end_ns; /* 0: still running */
	/* asyncio callbacks (CPython probe); NULL: unknown or not one */
	int32_t line;		  /* where symbol is defined; 0: unknown */
	const char *task;	  /* the Task's name */
	const char *resumed_at;	  /* "file:line" */
	const char *suspended_at; /* "file:line"; NULL: finished, or still running */
};

struct lpi_stall_report {
	uint32_t pid;
	uint32_t tid;
	const char *comm;
	int64_t start_unix_ns;
	int64_t end_unix_ns;
	uint64_t start_ns; /* CLOCK_MONOTONIC */
	uint64_t end_ns;
	uint64_t threshold_ns;
	uint32_t callbacks;
	bool has_cb;
	struct lpi_cb_report cb;
	const char *span; /* task segment that ran longest; NULL: none */
	unsigned n_recent;
	const struct lpi_cb_report *recent; /* oldest first */
};

/* A "stall" record, one line with its newline; 0 when buf is too small. */
size_t lpi_json_stall(char *buf, size_t cap, const struct lpi_stall_report *r);
size_t lpi_json_stall_begin(char *buf, size_t cap, uint32_t pid, uint32_t tid, const char *comm,
			    int64_t start_unix_ns, uint64_t elapsed_ns, uint64_t threshold_ns);

#endif
