// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include "jsonl.h"
#include "lprobe_shm.h"
#include "utf8.h"

void lpi_json_init(struct lpi_json *j, char *buf, size_t cap)
{
	j->buf = buf;
	j->cap = cap;
	j->len = 0;
	j->overflow = cap == 0;
	j->comma = false;
}

static void put(struct lpi_json *j, const char *s, size_t n)
{
	/* one byte stays free for the newline */
	if (j->overflow || n >= j->cap - j->len) {
		j->overflow = true;
		return;
	}
	memcpy(j->buf + j->len, s, n);
	j->len += n;
}

static void putf(struct lpi_json *j, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void putf(struct lpi_json *j, const char *fmt, ...)
{
	char tmp[64];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(tmp, sizeof(tmp), fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= sizeof(tmp)) {
		j->overflow = true;
		return;
	}
	put(j, tmp, (size_t)n);
}

/*
 * A JSON string. Names come from the program (symbols, spans, comm) and may
 * hold any bytes: valid UTF-8 goes through as it is, each byte that is not
 * part of a valid sequence becomes U+FFFD (as the agent's records write it),
 * so the line is always valid UTF-8 and JSON.
 */
static void quoted(struct lpi_json *j, const char *s)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t n;

	put(j, "\"", 1);
	while (*p) {
		if (*p == '"' || *p == '\\') {
			char esc[2] = {'\\', (char)*p};

			put(j, esc, 2);
			p++;
		} else if (*p < 0x20 || *p == 0x7f) {
			putf(j, "\\u%04x", *p);
			p++;
		} else if (*p < 0x80) {
			put(j, (const char *)p, 1);
			p++;
		} else if ((n = utf8_seq_len(p))) {
			put(j, (const char *)p, n);
			p += n;
		} else {
			put(j, "\\ufffd", 6);
			p++;
		}
	}
	put(j, "\"", 1);
}

static void key(struct lpi_json *j, const char *k)
{
	if (j->comma)
		put(j, ",", 1);
	if (k) {
		quoted(j, k);
		put(j, ":", 1);
	}
	j->comma = true;
}

void lpi_json_object(struct lpi_json *j, const char *k)
{
	key(j, k);
	put(j, "{", 1);
	j->comma = false;
}

void lpi_json_array(struct lpi_json *j, const char *k)
{
	key(j, k);
	put(j, "[", 1);
	j->comma = false;
}

void lpi_json_close(struct lpi_json *j, char bracket)
{
	put(j, &bracket, 1);
	j->comma = true;
}

void lpi_json_str(struct lpi_json *j, const char *k, const char *s)
{
	key(j, k);
	if (s)
		quoted(j, s);
	else
		put(j, "null", 4);
}

void lpi_json_int(struct lpi_json *j, const char *k, int64_t v)
{
	key(j, k);
	putf(j, "%lld", (long long)v);
}

void lpi_json_ms(struct lpi_json *j, const char *k, uint64_t ns)
{
	key(j, k);
	/* rounded to the microsecond, as the agent writes them */
	putf(j, "%llu.%03llu", (unsigned long long)((ns + 500) / 1000000),
	     (unsigned long long)(((ns + 500) / 1000) % 1000));
}

void lpi_json_bool(struct lpi_json *j, const char *k, bool v)
{
	key(j, k);
	put(j, v ? "true" : "false", v ? 4 : 5);
}

void lpi_json_null(struct lpi_json *j, const char *k)
{
	key(j, k);
	put(j, "null", 4);
}

size_t lpi_json_finish(struct lpi_json *j)
{
	if (j->overflow || j->len >= j->cap)
		return 0;
	j->buf[j->len++] = '\n';
	return j->len;
}

static void cb_fields(struct lpi_json *j, const struct lpi_cb_report *c, uint64_t ref_ns)
{
	char addr[24];

	lpi_json_str(j, "symbol", c->symbol);
	lpi_json_str(j, "watcher", lps_watcher_name(c->watcher));
	lpi_json_ms(j, "started_ms_ago", ref_ns > c->start_ns ? ref_ns - c->start_ns : 0);
	if (c->end_ns)
		lpi_json_ms(j, "duration_ms",
			    c->end_ns > c->start_ns ? c->end_ns - c->start_ns : 0);
	else
		lpi_json_null(j, "duration_ms");
	snprintf(addr, sizeof(addr), "0x%llx", (unsigned long long)c->addr);
	lpi_json_str(j, "address", addr);
	lpi_json_str(j, "module", c->module);
	if (c->watcher == LPS_W_IO && c->arg >= 0)
		lpi_json_int(j, "fd", c->arg);
	if (c->watcher == LPS_W_SIGNAL && c->arg > 0)
		lpi_json_int(j, "signum", c->arg);
	if (c->watcher == LPS_W_CHILD && c->arg > 0)
		lpi_json_int(j, "child_pid", c->arg);
	if (c->interval_ns && c->watcher < LPS_W_COUNT)
		lpi_json_ms(j, "interval_ms", c->interval_ns);
	if (c->watcher == LPS_W_ASYNCIO_TASK || c->watcher == LPS_W_ASYNCIO_CALLBACK) {
		if (c->line > 0)
			lpi_json_int(j, "line", c->line);
		if (c->task) {
			lpi_json_str(j, "task", c->task);
			lpi_json_str(j, "coroutine", c->symbol);
			lpi_json_str(j, "resumed_at", c->resumed_at);
			lpi_json_str(j, "suspended_at", c->suspended_at);
		}
	}
}

size_t lpi_json_stall(char *buf, size_t cap, const struct lpi_stall_report *r)
{
	struct lpi_json j;
	char advice[512];
	unsigned i;

	lpi_json_init(&j, buf, cap);
	lpi_json_object(&j, NULL);
	lpi_json_str(&j, "type", "stall");
	lpi_json_int(&j, "schema_version", 1);
	lpi_json_str(&j, "source", "libprobe");
	lpi_json_int(&j, "pid", r->pid);
	lpi_json_int(&j, "tid", r->tid);
	lpi_json_str(&j, "comm", r->comm ? r->comm : "");
	lpi_json_int(&j, "start_unix_ns", r->start_unix_ns);
	lpi_json_int(&j, "end_unix_ns", r->end_unix_ns);
	lpi_json_ms(&j, "duration_ms", r->end_ns - r->start_ns);
	lpi_json_ms(&j, "threshold_ms", r->threshold_ns);
	/* libprobe sees callbacks, not the kernel: why it blocked is for the agent */
	lpi_json_str(&j, "cause", "unknown");
	lpi_json_bool(&j, "cut_short", false);
	lpi_json_int(&j, "callbacks", r->callbacks);
	if (r->has_cb) {
		lpi_json_object(&j, "callback");
		cb_fields(&j, &r->cb, r->end_ns);
		lpi_json_bool(&j, "running", false);
		if (r->span) {
			lpi_json_object(&j, "span");
			lpi_json_str(&j, "name", r->span);
			lpi_json_close(&j, '}');
		}
		lpi_json_array(&j, "recent");
		for (i = 0; i < r->n_recent; i++) {
			lpi_json_object(&j, NULL);
			cb_fields(&j, &r->recent[i], r->end_ns);
			lpi_json_close(&j, '}');
		}
		lpi_json_close(&j, ']');
		lpi_json_close(&j, '}');
		snprintf(
		    advice, sizeof(advice),
		    "The loop was busy for %.1f ms; %s (%s watcher) ran for %.1f ms of it. "
		    "libprobe alone cannot see why: `loopstall record -p %u` shows the "
		    "syscalls, CPU and locks behind it.",
		    (double)(r->end_ns - r->start_ns) / 1e6,
		    r->cb.symbol ? r->cb.symbol : "an unnamed callback",
		    lps_watcher_name(r->cb.watcher),
		    (double)(r->cb.end_ns > r->cb.start_ns ? r->cb.end_ns - r->cb.start_ns : 0) /
			1e6,
		    r->pid);
	} else {
		lpi_json_null(&j, "callback");
		snprintf(advice, sizeof(advice),
			 "The loop was busy for %.1f ms outside any callback libprobe could name. "
			 "`loopstall record -p %u` shows the syscalls, CPU and locks behind it.",
			 (double)(r->end_ns - r->start_ns) / 1e6, r->pid);
	}
	lpi_json_str(&j, "advice", advice);
	lpi_json_close(&j, '}');
	return lpi_json_finish(&j);
}

size_t lpi_json_stall_begin(char *buf, size_t cap, uint32_t pid, uint32_t tid, const char *comm,
			    int64_t start_unix_ns, uint64_t elapsed_ns, uint64_t threshold_ns)
{
	struct lpi_json j;

	lpi_json_init(&j, buf, cap);
	lpi_json_object(&j, NULL);
	lpi_json_str(&j, "type", "stall_begin");
	lpi_json_int(&j, "schema_version", 1);
	lpi_json_str(&j, "source", "libprobe");
	lpi_json_int(&j, "pid", pid);
	lpi_json_int(&j, "tid", tid);
	lpi_json_str(&j, "comm", comm ? comm : "");
	lpi_json_int(&j, "start_unix_ns", start_unix_ns);
	lpi_json_ms(&j, "elapsed_ms", elapsed_ns);
	lpi_json_ms(&j, "threshold_ms", threshold_ns);
	lpi_json_close(&j, '}');
	return lpi_json_finish(&j);
}
