// SPDX-License-Identifier: BSD-2-Clause
/*
 * From a culprit's evidence to a verdict: the cause the agent named, refined
 * by the syscall and what it waited on (a sleep, a socket, a file, a pipe, a
 * child), then a remedy in the idiom of the runtime (Python asyncio, Node.js,
 * or a C loop library such as libev/libuv).
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include "doctor_rules.h"
#include "report_describe.h"
#include "report_out.h"

/* A loop busier than this outside its stalls is close to saturation. */
#define SATURATED_BUSY 0.7
/* Run-queue wait worth a word inside CPU stalls. */
#define NOTABLE_RUNQ 0.2

static bool name_in(const char *name, const char *const *names)
{
	for (; *names; names++)
		if (!strcmp(name, *names))
			return true;
	return false;
}

static bool starts(const char *s, const char *prefix)
{
	return s && !strncmp(s, prefix, strlen(prefix));
}

/* A record's target_kind: a word this build does not know is still a kind, none of ours. */
static enum ls_target_kind record_target_kind(const struct rf_syscall *u)
{
	enum ls_target_kind kind;

	if (!u->target_kind)
		return LS_TK_NONE;
	kind = ls_target_kind_parse(u->target_kind);
	return kind == LS_TK_NONE ? LS_TK_OTHER : kind;
}

static enum ls_wait syscall_kind(const struct rf_syscall *u)
{
	if (!u)
		return LS_WAIT_SYSCALL;
	return ls_wait_of_call(u->name, record_target_kind(u), u->target);
}

/* "the FIFO " before a target whose kind its text does not show; "" otherwise */
static const char *target_noun(const struct rf_syscall *u)
{
	static const struct {
		const char *kind, *noun;
	} nouns[] = {
	    {"fifo", "the FIFO "},
	    {"file", "the file "},
	    {"dir", "the directory "},
	    {"device", "the device "},
	};
	size_t i;

	if (!u->target_kind || !u->target || u->target[0] != '/')
		return "";
	for (i = 0; i < sizeof(nouns) / sizeof(nouns[0]); i++)
		if (!strcmp(u->target_kind, nouns[i].kind))
			return nouns[i].noun;
	return "";
}

/* The biggest share of the stalls' time, for causes that do not name one. */
static enum ls_wait largest_part(const struct agg_culprit *c)
{
	double blocked = c->off_cpu_ms - c->fault_ms, best = c->on_cpu_ms;
	enum ls_wait kind = LS_WAIT_CPU;

	if (blocked > best) {
		best = blocked;
		kind = c->syscall ? syscall_kind(c->syscall) : LS_WAIT_UNKNOWN;
	}
	if (c->runqueue_ms > best) {
		best = c->runqueue_ms;
		kind = LS_WAIT_PREEMPTED;
	}
	if (c->fault_ms > best) {
		best = c->fault_ms;
		kind = LS_WAIT_PAGE_FAULT;
	}
	return best > 0 ? kind : LS_WAIT_UNKNOWN;
}

/* A libc wrapper's name without its decorations: "__libc_write" -> "write". */
static const char *wrapped_call(const char *symbol)
{
	if (!symbol)
		return "";
	while (*symbol == '_')
		symbol++;
	return starts(symbol, "libc_") ? symbol + 5 : symbol;
}

/*
 * On-CPU time can be file I/O too: write() into the page cache copies in
 * the kernel without blocking. Such a CPU stall is file I/O when its busiest
 * stack ends in a read/write wrapper and the stall touched the file system.
 */
static bool cpu_in_file_io(const struct agg_culprit *c)
{
	static const char *const io[] = {
	    "write", "read",  "pwrite64",  "pread64",  "pwrite",	  "pread", "writev",
	    "readv", "fsync", "fdatasync", "sendfile", "copy_file_range", NULL};
	const struct rf_stall *s = c->worst;
	size_t i;

	if (!c->stack || !c->stack->n || !name_in(wrapped_call(c->stack->frames[0].symbol), io))
		return false;
	for (i = 0; i < s->n_syscalls; i++)
		if (syscall_kind(&s->syscalls[i]) == LS_WAIT_FILE)
			return true;
	return false;
}

enum ls_wait doctor_kind(const struct agg_culprit *c, bool *mixed)
{
	*mixed = false;
	if (!strcmp(c->cause, "cpu"))
		return cpu_in_file_io(c) ? LS_WAIT_FILE : LS_WAIT_CPU;
	if (!strcmp(c->cause, "lock_wait"))
		return LS_WAIT_LOCK;
	if (!strcmp(c->cause, "preempted"))
		return LS_WAIT_PREEMPTED;
	if (!strcmp(c->cause, "page_fault"))
		return LS_WAIT_PAGE_FAULT;
	if (!strcmp(c->cause, "blocking_syscall"))
		return syscall_kind(c->syscall);
	if (!strcmp(c->cause, "mixed")) {
		*mixed = true;
		return largest_part(c);
	}
	return LS_WAIT_UNKNOWN;
}

/* Appends to a fixed buffer; the text is cut, never overflowed. */
struct text {
	char *buf;
	size_t len;
	size_t used;
};

static void add(struct text *t, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void add(struct text *t, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (t->used + 1 >= t->len)
		return;
	va_start(ap, fmt);
	n = vsnprintf(t->buf + t->used, t->len - t->used, fmt, ap);
	va_end(ap);
	if (n > 0)
		t->used = t->used + (size_t)n < t->len ? t->used + (size_t)n : t->len - 1;
}

static const char *title(enum ls_wait kind, const struct agg_culprit *c, char *buf, size_t len)
{
	switch (kind) {
	case LS_WAIT_SLEEP:
		return "A blocking sleep on the loop thread";
	case LS_WAIT_SOCKET:
		return "Blocking socket I/O on the loop thread";
	case LS_WAIT_DNS:
		return "A blocking DNS lookup on the loop thread";
	case LS_WAIT_FILE:
		return "Regular-file I/O on the loop thread";
	case LS_WAIT_PIPE:
		return "Blocking pipe or FIFO I/O on the loop thread: it waits for another process";
	case LS_WAIT_CHILD:
		return "Waiting for a child process on the loop thread";
	/* no words of its own yet for what a device or an event fd waits for */
	case LS_WAIT_DEVICE:
	case LS_WAIT_EVENT:
	case LS_WAIT_SYSCALL:
		snprintf(buf, len, "A blocking %s call on the loop thread",
			 c->syscall ? c->syscall->name : "system");
		return buf;
	case LS_WAIT_CPU:
		return "A CPU-bound callback: the loop thread computes without yielding";
	case LS_WAIT_LOCK:
		return "Lock wait: the loop thread waits for a lock another thread holds";
	case LS_WAIT_PREEMPTED:
		return "CPU starvation: the loop thread is runnable but gets no CPU";
	case LS_WAIT_PAGE_FAULT:
		return "Memory pressure: the loop thread waits for page faults";
	default:
		return "Stalls without a clear cause";
	}
}

static const char *remedy(enum ls_wait kind, enum agg_lang lang)
{
	if (lang == AGG_LANG_PYTHON)
		return ls_wait_remedy(kind, LS_RUNTIME_PYTHON);
	if (lang == AGG_LANG_NODE)
		return ls_wait_remedy(kind, LS_RUNTIME_NODE);
	return ls_wait_remedy(kind, LS_RUNTIME_NATIVE);
}

static bool has_frames(const struct rf_stall *s)
{
	size_t i;

	for (i = 0; i < s->n_syscalls; i++)
		if (s->syscalls[i].stack.n)
			return true;
	for (i = 0; i < s->n_cpu_stacks; i++)
		if (s->cpu_stacks[i].stack.n)
			return true;
	return false;
}

/* What the time went to, in the culprit's own numbers. */
static void detail(struct text *t, enum ls_wait kind, bool mixed, const struct agg_culprit *c)
{
	const struct rf_syscall *u = c->syscall;
	char a[32], b[32], d[32], e[32];

	if (mixed)
		add(t,
		    "No single cause: %s on CPU, %s blocked, %s waiting for a CPU%s%s; the "
		    "largest part decides. ",
		    out_ms(c->on_cpu_ms, a, sizeof(a)), out_ms(c->off_cpu_ms, b, sizeof(b)),
		    out_ms(c->runqueue_ms, d, sizeof(d)),
		    c->fault_ms > 0 ? ", in page faults " : "",
		    c->fault_ms > 0 ? out_ms(c->fault_ms, e, sizeof(e)) : "");
	switch (kind) {
	case LS_WAIT_CPU:
		add(t, "On CPU for %s of the %s", out_ms(c->on_cpu_ms, a, sizeof(a)),
		    out_ms(c->total_ms, b, sizeof(b)));
		if (c->runqueue_ms > NOTABLE_RUNQ * c->total_ms)
			add(t,
			    ", and %s more runnable but waiting for a CPU (the machine is busy "
			    "too)",
			    out_ms(c->runqueue_ms, d, sizeof(d)));
		add(t, ".");
		break;
	case LS_WAIT_PREEMPTED:
		add(t,
		    "Runnable but waiting for a CPU for %s of the %s, %llu involuntary context "
		    "switches.",
		    out_ms(c->runqueue_ms, a, sizeof(a)), out_ms(c->total_ms, b, sizeof(b)),
		    (unsigned long long)c->involuntary_switches);
		break;
	case LS_WAIT_PAGE_FAULT:
		add(t, "Blocked for %s outside any syscall, with %llu major page faults.",
		    out_ms(c->fault_ms, a, sizeof(a)), (unsigned long long)c->major_faults);
		break;
	case LS_WAIT_UNKNOWN:
		if (c->worst->source && !strcmp(c->worst->source, "libprobe"))
			add(t, "Recorded by libprobe alone, which times callbacks but does not see "
			       "the kernel: no CPU or blocking times.");
		else
			add(t, "%s on CPU, %s blocked, %s waiting for a CPU.",
			    out_ms(c->on_cpu_ms, a, sizeof(a)), out_ms(c->off_cpu_ms, b, sizeof(b)),
			    out_ms(c->runqueue_ms, d, sizeof(d)));
		break;
	default:
		if (kind == LS_WAIT_FILE && !strcmp(c->cause, "cpu")) {
			add(t, "On CPU for %s of the %s in %s(): the kernel copying file data. ",
			    out_ms(c->on_cpu_ms, a, sizeof(a)), out_ms(c->total_ms, b, sizeof(b)),
			    wrapped_call(c->stack->frames[0].symbol));
			if (u)
				add(t, "Also blocked in %s for %s.", u->name,
				    out_ms(c->syscall_ms, d, sizeof(d)));
			break;
		}
		if (!u)
			break;
		add(t, "Blocked in %s for %s of the %s", u->name,
		    out_ms(c->syscall_ms, a, sizeof(a)), out_ms(c->total_ms, b, sizeof(b)));
		if (u->target)
			add(t, ", on %s%s", target_noun(u), u->target);
		if (kind == LS_WAIT_LOCK)
			add(t,
			    ": a lock (mutex, condition variable, semaphore) that another thread "
			    "held. The recording does not name that thread; `%s %u` during a stall "
			    "shows what every thread is doing",
			    c->lang == AGG_LANG_PYTHON ? "py-spy dump --pid" : "eu-stack -p",
			    c->worst->pid);
		add(t, ".");
		break;
	}
}

/* Programs whose own tools name the slow operation. */
static const char *program_hint(const char *comm)
{
	if (!strcmp(comm, "redis-server"))
		return " Redis runs every command on this thread: SLOWLOG GET and LATENCY DOCTOR "
		       "name the slow ones (DEBUG SLEEP, long Lua scripts, KEYS, a large DEL: use "
		       "SCAN and UNLINK).";
	return "";
}

void doctor_verdict(const struct aggregate *agg, const struct agg_culprit *c, struct dr_verdict *v)
{
	struct text t = {.buf = v->evidence, .len = sizeof(v->evidence)};
	const struct rf_callback *cb = c->worst->callback;
	char a[32], b[32], at[32], frame[512], name[160];

	memset(v, 0, sizeof(*v));
	v->kind = doctor_kind(c, &v->mixed);
	snprintf(v->title, sizeof(v->title), "%s", title(v->kind, c, name, sizeof(name)));
	if (c->stalls == 1)
		add(&t, "1 stall of %s at %s", out_ms(c->total_ms, a, sizeof(a)),
		    report_offset(agg, c->worst, at, sizeof(at)));
	else
		add(&t, "%u stalls, %s in all, the worst %s at %s", c->stalls,
		    out_ms(c->total_ms, a, sizeof(a)), out_ms(c->max_ms, b, sizeof(b)),
		    report_offset(agg, c->worst, at, sizeof(at)));
	if (c->cut_short)
		add(&t, " (%u cut short)", c->cut_short);
	add(&t, ". ");
	detail(&t, v->kind, v->mixed, c);
	if (c->site)
		add(&t, " Where: %s.", report_where(c, frame, sizeof(frame)));
	else
		add(&t, " No stack was recorded.");
	if (cb)
		add(&t, " In callback %s.", report_callback(cb, frame, sizeof(frame)));
	if (c->worst->task_coroutine) {
		/* as asyncio's repr of a Task: its name, then its coroutine */
		add(&t, " In asyncio task ");
		if (c->worst->task_name)
			add(&t, "%s: ", c->worst->task_name);
		if (c->worst->task_file && c->worst->task_line > 0)
			add(&t, "%s() at %s:%ld.", c->worst->task_coroutine,
			    agg_basename(c->worst->task_file), c->worst->task_line);
		else
			add(&t, "%s().", c->worst->task_coroutine);
	}
	if (has_frames(c->worst))
		add(&t, " Runtime: %s, from the stack.", agg_lang_name(c->lang));
	else
		add(&t, " Runtime: %s, from the process name (%s).", agg_lang_name(c->lang),
		    c->comm);
	snprintf(v->remedy, sizeof(v->remedy), "%s%s", remedy(v->kind, c->lang),
		 program_hint(c->comm));
	/* a named callback is the lead to follow when the kernel side is missing */
	if (v->kind == LS_WAIT_UNKNOWN && cb && cb->symbol) {
		snprintf(v->title, sizeof(v->title), "A slow callback: %s", cb->symbol);
		snprintf(
		    v->remedy, sizeof(v->remedy),
		    "Record it with `loopstall record -p %u` (as root) to learn whether %s "
		    "computed, slept or waited in a syscall, and where. Until then, look in %s "
		    "for blocking calls and long loops.",
		    c->worst->pid, cb->symbol, cb->symbol);
	}
}

void doctor_overview(const struct aggregate *agg, char *buf, size_t len)
{
	struct text t = {.buf = buf, .len = len};
	const struct rf_summary *sum = &agg->rec->summary;
	char a[32], b[32], c[32];
	double gap_max = 0;
	size_t i;

	buf[0] = '\0';
	for (i = 0; i < sum->n_threads; i++)
		if (sum->threads[i].gap_max_ms > gap_max)
			gap_max = sum->threads[i].gap_max_ms;
	if (!agg->stalls)
		add(&t, "Nothing wrong: no stall over %g ms in %s", agg->threshold_ms,
		    out_secs(agg->recorded_ms, a, sizeof(a)));
	else
		add(&t, "%u stall%s over %g ms in %s: %s in all (%.1f %% of the time)", agg->stalls,
		    agg->stalls == 1 ? "" : "s", agg->threshold_ms,
		    out_secs(agg->recorded_ms, a, sizeof(a)), out_ms(agg->stalled_ms, b, sizeof(b)),
		    agg->recorded_ms > 0 ? 100.0 * agg->stalled_ms / agg->recorded_ms : 0.0);
	if (sum->n_threads)
		add(&t, "; heartbeat p99 %s (max %s)", out_ms(report_max_p99(agg), b, sizeof(b)),
		    out_ms(gap_max, c, sizeof(c)));
	if (!agg->stalls && sum->n_threads)
		add(&t, ", %llu loop iterations", (unsigned long long)sum->threads[0].iterations);
	add(&t, ".");
}

/* A loop thread's busy share outside its stalls: how close to saturation it runs. */
static double busy_outside_stalls(const struct aggregate *agg, const struct rf_thread *th)
{
	double life, stalled = 0;
	size_t i;

	if (th->busy_ratio <= 0)
		return 0;
	life = th->busy_ms / th->busy_ratio;
	for (i = 0; i < agg->rec->n_stalls; i++)
		if (agg->rec->stalls[i].tid == th->tid && agg->rec->stalls[i].pid == th->pid)
			stalled += agg->rec->stalls[i].duration_ms;
	return life > 0 && th->busy_ms > stalled ? (th->busy_ms - stalled) / life : 0;
}

bool doctor_note(const struct aggregate *agg, unsigned idx, char *buf, size_t len)
{
	const struct recording *rec = agg->rec;
	unsigned n = 0;
	size_t i;

	if (rec->summary.lost_events && n++ == idx) {
		snprintf(buf, len,
			 "%llu events were lost (the ring buffer was full): some stalls may be "
			 "missing from this diagnosis.",
			 (unsigned long long)rec->summary.lost_events);
		return true;
	}
	if (!rec->n_summaries && n++ == idx) {
		snprintf(buf, len,
			 "The recording has no summary (the recorder was killed?): loop iterations "
			 "and heartbeat gaps are unknown.");
		return true;
	}
	if (rec->unresolved_stack_refs && n++ == idx) {
		snprintf(buf, len,
			 "%u stack reference%s found no stack record before %s (a bounded file cut "
			 "at its head?): those stacks are missing from this diagnosis.",
			 rec->unresolved_stack_refs, rec->unresolved_stack_refs == 1 ? "" : "s",
			 rec->unresolved_stack_refs == 1 ? "it" : "them");
		return true;
	}
	if (agg->cut_short && n++ == idx) {
		snprintf(buf, len,
			 "%u stall%s cut short: the thread exited or the recording ended while it "
			 "lasted, so it may have been longer.",
			 agg->cut_short, agg->cut_short == 1 ? " was" : "s were");
		return true;
	}
	for (i = 0; i < rec->summary.n_threads; i++) {
		const struct rf_thread *th = &rec->summary.threads[i];
		double busy = busy_outside_stalls(agg, th);

		if (busy > SATURATED_BUSY && n++ == idx) {
			snprintf(
			    buf, len,
			    "Loop thread %u (%s) was busy %.0f %% of the time outside its stalls: "
			    "it is close to saturation, and latency grows quickly with more load. "
			    "Spread the work over more loops (processes or threads).",
			    th->tid, th->comm, 100.0 * busy);
			return true;
		}
	}
	return false;
}
