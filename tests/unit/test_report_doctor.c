// SPDX-License-Identifier: BSD-2-Clause
/* doctor_rules.c: verdicts from evidence, remedies in the process's own language. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include "doctor_rules.h"

#define SUMMARY                                                                                    \
	"{\"type\":\"summary\",\"schema_version\":1,\"pid\":9,\"comm\":\"%s\","                   \
	"\"start_unix_ns\":1000000000,\"recorded_ms\":12300,\"threshold_ms\":50,\"stalls\":0,"    \
	"\"lost_events\":0,\"threads\":[{\"pid\":9,\"tid\":9,\"comm\":\"%s\",\"iterations\":1200,"\
	"\"busy_ms\":12.3,\"busy_ratio\":0.001,\"stalls\":0,"                                       \
	"\"heartbeat_gap_ms\":{\"p50\":0.1,\"p90\":0.3,\"p99\":0.8,\"max\":3.2}}]}"

struct diag {
	struct recording *rec;
	struct aggregate *agg;
	struct dr_verdict v;
};

/*
 * One stall of process `comm` with cause `cause`, times in ms and a first
 * syscall (NULL: none) on `target` (a JSON value); then the verdict on it.
 */
static struct diag *diagnose(const char *comm, const char *cause, double on_cpu, double off_cpu,
			     double runq, double fault, const char *syscall, const char *target,
			     const char *stack)
{
	struct diag *d = calloc(1, sizeof(*d));
	struct rf_error err;
	char *line = NULL, sys[512] = "";

	assert_non_null(d);
	if (syscall)
		snprintf(sys, sizeof(sys),
			 "{\"name\":\"%s\",\"count\":1,\"total_ms\":%g,\"max_ms\":%g,\"target\":%s,"
			 "\"stack\":[]}",
			 syscall, off_cpu - fault, off_cpu - fault, target);
	assert_true(asprintf(&line,
			     "{\"type\":\"stall\",\"schema_version\":1,\"pid\":9,\"tid\":9,"
			     "\"comm\":\"%s\",\"start_unix_ns\":2000000000,\"duration_ms\":%g,"
			     "\"threshold_ms\":50,\"cause\":\"%s\",\"on_cpu_ms\":%g,\"off_cpu_ms\":%g,"
			     "\"runqueue_ms\":%g,\"fault_blocked_ms\":%g,\"major_faults\":%d,"
			     "\"involuntary_switches\":7,\"syscalls\":[%s],"
			     "\"cpu_stacks\":[{\"samples\":5,\"stack\":[%s]}],\"callback\":null}",
			     comm, on_cpu + off_cpu + runq, cause, on_cpu, off_cpu, runq, fault,
			     fault > 0 ? 12 : 0, sys, stack ? stack : "") > 0);
	d->rec = recording__new();
	assert_int_equal(recording__add_line(d->rec, line, strlen(line), 1, &err), 0);
	free(line);
	assert_int_equal(aggregate__new(d->rec, &d->agg), 0);
	assert_int_equal(d->agg->n_culprits, 1);
	doctor_verdict(d->agg, &d->agg->culprits[0], &d->v);
	return d;
}

static void done(struct diag *d)
{
	aggregate__free(d->agg);
	recording__free(d->rec);
	free(d);
}

static void expect(struct diag *d, enum ls_wait kind, const char *in_remedy,
		   const char *in_evidence)
{
	assert_int_equal(d->v.kind, kind);
	if (!strstr(d->v.remedy, in_remedy))
		fail_msg("remedy lacks '%s': %s", in_remedy, d->v.remedy);
	if (in_evidence && !strstr(d->v.evidence, in_evidence))
		fail_msg("evidence lacks '%s': %s", in_evidence, d->v.evidence);
	done(d);
}

static void test_sleep_by_language(void **state)
{
	(void)state;
	expect(diagnose("python3", "blocking_syscall", 0.5, 300, 0, 0, "clock_nanosleep", "null",
			NULL),
	       LS_WAIT_SLEEP, "await asyncio.sleep", "Blocked in clock_nanosleep for 300.0 ms");
	expect(diagnose("node", "blocking_syscall", 0.5, 300, 0, 0, "nanosleep", "null", NULL),
	       LS_WAIT_SLEEP, "setTimeout", "Runtime: Node.js, from the process name (node)");
	expect(diagnose("svc", "blocking_syscall", 0.5, 300, 0, 0, "clock_nanosleep", "null", NULL),
	       LS_WAIT_SLEEP, "timer watcher (ev_timer_start", "Runtime: C");
	expect(diagnose("redis-server", "blocking_syscall", 0.5, 300, 0, 0, "clock_nanosleep",
			"null", NULL),
	       LS_WAIT_SLEEP, "SLOWLOG GET", NULL);
}

static void test_io_kinds(void **state)
{
	(void)state;
	expect(diagnose("python3", "blocking_syscall", 1, 250, 0, 0, "recvfrom",
			"\"socket:TCP 127.0.0.1:41000->127.0.0.1:8080\"", NULL),
	       LS_WAIT_SOCKET, "aiohttp", "on socket:TCP 127.0.0.1:41000->127.0.0.1:8080");
	/* an unresolved fd: the call itself says socket */
	expect(diagnose("svc", "blocking_syscall", 1, 250, 0, 0, "recvfrom", "null", NULL),
	       LS_WAIT_SOCKET, "O_NONBLOCK", NULL);
	expect(diagnose("python3", "blocking_syscall", 1, 250, 0, 0, "recvfrom",
			"\"socket:UDP 10.0.0.5:40000->10.0.0.1:53\"", NULL),
	       LS_WAIT_DNS, "loop.getaddrinfo", NULL);
	/* a DNS server waiting on its own port 53 is not looking a name up */
	expect(diagnose("svc", "blocking_syscall", 1, 250, 0, 0, "recvfrom",
			"\"socket:UDP 10.0.0.1:53\"", NULL),
	       LS_WAIT_SOCKET, "O_NONBLOCK", NULL);
	expect(diagnose("python3", "blocking_syscall", 1, 250, 0, 0, "read", "\"/var/log/big.log\"",
			NULL),
	       LS_WAIT_FILE, "aiofiles", NULL);
	expect(diagnose("node", "blocking_syscall", 1, 250, 0, 0, "fsync", "null", NULL), LS_WAIT_FILE,
	       "fs.promises", NULL);
	expect(diagnose("svc", "blocking_syscall", 1, 250, 0, 0, "read", "\"pipe\"", NULL), LS_WAIT_PIPE,
	       "uv_pipe_t", NULL);
	expect(diagnose("python3", "blocking_syscall", 1, 250, 0, 0, "wait4", "null", NULL),
	       LS_WAIT_CHILD, "create_subprocess_exec", NULL);
	/* the kind the agent took while the call blocked wins over the look of the path */
	expect(diagnose("python3", "blocking_syscall", 1, 250, 0, 0, "read",
			"\"/tmp/in.fifo\",\"target_kind\":\"fifo\"", NULL),
	       LS_WAIT_PIPE, "connect_read_pipe", "on the FIFO /tmp/in.fifo");
	expect(diagnose("python3", "blocking_syscall", 1, 250, 0, 0, "openat",
			"\"/tmp/in.fifo\",\"target_kind\":\"fifo\"", NULL),
	       LS_WAIT_PIPE, "connect_read_pipe", NULL);
	expect(diagnose("python3", "blocking_syscall", 1, 250, 0, 0, "recvfrom",
			"\"dns:udp 127.0.0.53:53\",\"target_kind\":\"socket\"", NULL),
	       LS_WAIT_DNS, "loop.getaddrinfo", NULL);
	expect(diagnose("svc", "blocking_syscall", 1, 250, 0, 0, "read",
			"\"/dev/ttyS0\",\"target_kind\":\"device\"", NULL),
	       LS_WAIT_DEVICE, "worker thread", NULL);
	expect(diagnose("svc", "blocking_syscall", 1, 250, 0, 0, "ioctl", "\"anon_inode:foo\"", NULL),
	       LS_WAIT_SYSCALL, "worker thread", NULL);
}

static void test_cpu_and_scheduling(void **state)
{
	struct diag *d;

	(void)state;
	expect(diagnose("python3", "cpu", 280, 0, 20, 0, NULL, NULL, NULL), LS_WAIT_CPU,
	       "asyncio.sleep(0)", "On CPU for 280.0 ms of the 300.0 ms.");
	expect(diagnose("python3", "cpu", 280, 0, 20, 0, NULL, NULL, NULL), LS_WAIT_CPU,
	       "ProcessPoolExecutor", NULL);
	expect(diagnose("node", "cpu", 280, 0, 20, 0, NULL, NULL, NULL), LS_WAIT_CPU, "setImmediate",
	       NULL);
	expect(diagnose("node", "cpu", 280, 0, 20, 0, NULL, NULL, NULL), LS_WAIT_CPU, "worker_threads",
	       NULL);
	expect(diagnose("svc", "cpu", 280, 0, 20, 0, NULL, NULL, NULL), LS_WAIT_CPU, "ev_idle", NULL);
	/* a busy machine shows in the run queue */
	expect(diagnose("svc", "cpu", 200, 0, 100, 0, NULL, NULL, NULL), LS_WAIT_CPU, "ev_idle",
	       "waiting for a CPU (the machine is busy too)");
	expect(diagnose("svc", "preempted", 30, 0, 150, 0, NULL, NULL, NULL), LS_WAIT_PREEMPTED,
	       "cpu.stat", "7 involuntary context switches");
	expect(diagnose("svc", "page_fault", 1, 200, 0, 200, NULL, NULL, NULL), LS_WAIT_PAGE_FAULT,
	       "/proc/pressure/memory", "12 major page faults");
	d = diagnose("svc", "mixed", 100, 90, 80, 0, "clock_nanosleep", "null", NULL);
	assert_true(d->v.mixed);
	expect(d, LS_WAIT_CPU, "ev_idle", "No single cause");
	expect(diagnose("svc", "unknown", 0, 0, 0, 0, NULL, NULL, NULL), LS_WAIT_UNKNOWN, "libprobe",
	       NULL);
}

static void test_lock(void **state)
{
	(void)state;
	expect(diagnose("python3", "lock_wait", 0.4, 300, 0, 0, "futex", "null", NULL), LS_WAIT_LOCK,
	       "asyncio.Lock", "py-spy dump --pid 9");
	expect(diagnose("svc", "lock_wait", 0.4, 300, 0, 0, "futex", "null", NULL), LS_WAIT_LOCK,
	       "pthread_mutex_trylock", "eu-stack -p 9");
}

/* write() into the page cache is CPU time, but still file I/O. */
static void test_cpu_in_file_io(void **state)
{
	const char *write_stack =
		"{\"addr\":\"0x1\",\"symbol\":\"__write\",\"module\":\"/lib/libc.so.6\","
		"\"file\":null,\"line\":null}";

	(void)state;
	expect(diagnose("python3", "cpu", 100, 40, 0, 0, "fsync", "null", write_stack), LS_WAIT_FILE,
	       "aiofiles", "in write(): the kernel copying file data");
	expect(diagnose("python3", "cpu", 100, 0, 0, 0, NULL, NULL, write_stack), LS_WAIT_CPU,
	       "asyncio.sleep(0)", NULL);
}

/* libprobe on its own: a callback, no kernel view. */
static void test_libprobe_callback(void **state)
{
	const char *line =
		"{\"type\":\"stall\",\"schema_version\":1,\"source\":\"libprobe\",\"pid\":9,"
		"\"tid\":9,\"comm\":\"svc\",\"duration_ms\":250,\"threshold_ms\":50,"
		"\"cause\":\"unknown\",\"cut_short\":false,\"callback\":{\"symbol\":\"on_read\","
		"\"watcher\":\"io\",\"started_ms_ago\":249,\"duration_ms\":248.5,"
		"\"span\":{\"name\":\"fetch_user\"},\"recent\":[]},\"advice\":\"\"}";
	struct recording *rec = recording__new();
	struct aggregate *agg;
	struct rf_error err;
	struct dr_verdict v;

	(void)state;
	assert_int_equal(recording__add_line(rec, line, strlen(line), 1, &err), 0);
	assert_string_equal(rec->stalls[0].source, "libprobe");
	assert_true(rec->stalls[0].callback->duration_ms == 248.5);
	assert_string_equal(rec->stalls[0].callback->span, "fetch_user");
	assert_int_equal(aggregate__new(rec, &agg), 0);
	doctor_verdict(agg, &agg->culprits[0], &v);
	assert_int_equal(v.kind, LS_WAIT_UNKNOWN);
	assert_string_equal(v.title, "A slow callback: on_read");
	assert_non_null(strstr(v.evidence, "libprobe alone"));
	assert_non_null(strstr(v.evidence, "ran 248.5 ms, in task segment fetch_user"));
	assert_non_null(strstr(v.remedy, "loopstall record -p 9"));
	aggregate__free(agg);
	recording__free(rec);
}

/* The asyncio task the stall ran: its name when the record has one, then its coroutine. */
static void test_asyncio_task(void **state)
{
	static const char *const tasks[][2] = {
	    {"{\"name\":\"fetch-7\",\"coroutine\":\"handler\",\"file\":\"/srv/app.py\","
	     "\"line\":24}",
	     " In asyncio task fetch-7: handler() at app.py:24."},
	    {"{\"coroutine\":\"handler\",\"file\":\"/srv/app.py\",\"line\":24}",
	     " In asyncio task handler() at app.py:24."},
	    {"{\"name\":\"Task-3\",\"coroutine\":\"main\",\"file\":null,\"line\":null}",
	     " In asyncio task Task-3: main()."},
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(tasks) / sizeof(tasks[0]); i++) {
		struct recording *rec = recording__new();
		struct aggregate *agg;
		struct dr_verdict v;
		struct rf_error err;
		char *line = NULL;

		assert_true(asprintf(&line,
				     "{\"type\":\"stall\",\"schema_version\":1,\"pid\":9,\"tid\":9,"
				     "\"comm\":\"python3\",\"start_unix_ns\":2000000000,"
				     "\"duration_ms\":300,\"threshold_ms\":50,\"cause\":\"blocking_syscall\","
				     "\"on_cpu_ms\":0.1,\"off_cpu_ms\":299.9,\"runqueue_ms\":0,"
				     "\"syscalls\":[],\"cpu_stacks\":[],\"callback\":null,\"task\":%s}",
				     tasks[i][0]) > 0);
		assert_int_equal(recording__add_line(rec, line, strlen(line), 1, &err), 0);
		free(line);
		assert_int_equal(aggregate__new(rec, &agg), 0);
		assert_int_equal(agg->n_culprits, 1);
		doctor_verdict(agg, &agg->culprits[0], &v);
		if (!strstr(v.evidence, tasks[i][1]))
			fail_msg("expected \"%s\" in: %s", tasks[i][1], v.evidence);
		aggregate__free(agg);
		recording__free(rec);
	}
}

static void test_overview(void **state)
{
	struct recording *rec = recording__new();
	struct aggregate *agg;
	struct rf_error err;
	char *line, buf[512];

	(void)state;
	assert_true(asprintf(&line, SUMMARY, "svc", "svc") > 0);
	assert_int_equal(recording__add_line(rec, line, strlen(line), 1, &err), 0);
	free(line);
	assert_int_equal(aggregate__new(rec, &agg), 0);
	doctor_overview(agg, buf, sizeof(buf));
	assert_string_equal(buf, "Nothing wrong: no stall over 50 ms in 12.3 s; heartbeat p99 0.80 "
				 "ms (max 3.2 ms), 1200 loop iterations.");
	assert_false(doctor_note(agg, 0, buf, sizeof(buf)));
	aggregate__free(agg);
	recording__free(rec);
}

static void test_notes(void **state)
{
	struct recording *rec = recording__new();
	struct aggregate *agg;
	struct rf_error err;
	const char *sum = "{\"type\":\"summary\",\"schema_version\":1,\"recorded_ms\":1000,"
			  "\"threshold_ms\":50,\"lost_events\":3,\"threads\":[{\"pid\":1,\"tid\":1,"
			  "\"comm\":\"svc\",\"busy_ms\":900,\"busy_ratio\":0.9}]}";
	char buf[512];

	(void)state;
	assert_int_equal(recording__add_line(rec, sum, strlen(sum), 1, &err), 0);
	assert_int_equal(aggregate__new(rec, &agg), 0);
	assert_true(doctor_note(agg, 0, buf, sizeof(buf)));
	assert_non_null(strstr(buf, "3 events were lost"));
	assert_true(doctor_note(agg, 1, buf, sizeof(buf)));
	assert_non_null(strstr(buf, "busy 90 % of the time outside its stalls"));
	assert_false(doctor_note(agg, 2, buf, sizeof(buf)));
	aggregate__free(agg);
	recording__free(rec);
}

/* A bounded file read without the head that held a stack record: said, not silently lost. */
static void test_note_unresolved_stack(void **state)
{
	struct recording *rec = recording__new();
	struct aggregate *agg;
	struct rf_error err;
	const char *stall = "{\"type\":\"stall\",\"schema_version\":1,\"pid\":1,\"tid\":1,"
			    "\"duration_ms\":80,\"threshold_ms\":50,\"cause\":\"cpu\","
			    "\"cpu_stacks\":[{\"samples\":8,\"stack\":[],"
			    "\"stack_ref\":\"0123456789abcdef\"}]}";
	char buf[512];

	(void)state;
	assert_int_equal(recording__add_line(rec, stall, strlen(stall), 1, &err), 0);
	assert_int_equal(aggregate__new(rec, &agg), 0);
	assert_true(doctor_note(agg, 1, buf, sizeof(buf)));
	assert_non_null(strstr(buf, "1 stack reference found no stack record before it"));
	aggregate__free(agg);
	recording__free(rec);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_sleep_by_language),
		cmocka_unit_test(test_io_kinds),
		cmocka_unit_test(test_cpu_and_scheduling),
		cmocka_unit_test(test_lock),
		cmocka_unit_test(test_cpu_in_file_io),
		cmocka_unit_test(test_libprobe_callback),
		cmocka_unit_test(test_asyncio_task),
		cmocka_unit_test(test_overview),
		cmocka_unit_test(test_notes),
		cmocka_unit_test(test_note_unresolved_stack),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
