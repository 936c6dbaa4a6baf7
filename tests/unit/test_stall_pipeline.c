// SPDX-License-Identifier: BSD-2-Clause
/*
 * stall_pipeline.c: a decoded stall leaves the pipeline complete (targets,
 * callback, advice that speaks of them), whether the finisher's thread
 * runs the last stages or they run at once.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>
#include <cmocka.h>
#include "finisher.h"
#include "stall_pipeline.h"

#define MS 1000000ull

/* A stall of this process blocked 240 ms reading fd, as stage 1 decodes it. */
static void decoded(struct ls_stall *s, int fd)
{
	struct ls_syscall_use *u;

	memset(s, 0, sizeof(*s));
	s->pid = s->tid = (uint32_t)getpid();
	s->start_ns = 1000 * MS;
	s->end_ns = s->start_ns + 250 * MS;
	s->threshold_ns = 50 * MS;
	s->off_cpu_ns = 240 * MS;
	s->on_cpu_ns = 10 * MS;
	u = &s->syscalls[s->n_syscalls++];
	u->nr = SYS_read;
	u->name = "read";
	u->fd = fd;
	u->count = 1;
	u->total_ns = u->max_ns = 240 * MS;
	s->cause = ls_classify(s);
	/* what a stall's memory held before: nothing of it may show */
	snprintf(s->advice, sizeof(s->advice), "stale");
	s->callback.present = true;
}

static void assert_complete(const struct ls_stall *s)
{
	assert_string_equal(s->syscalls[0].target, "pipe");
	assert_int_equal(s->syscalls[0].target_kind, LS_TK_PIPE);
	/* libprobe is not in this process: no callback */
	assert_false(s->callback.present);
	/* concluded after the targets were gathered: the advice speaks of the pipe */
	assert_int_equal(s->wait, LS_WAIT_PIPE);
	if (!strstr(s->advice, "blocked 240.0 ms in read on a pipe") ||
	    !strstr(s->advice, "the process at the other end"))
		fail_msg("advice: %s", s->advice);
}

static void test_at_once(void **state)
{
	const struct ls_stall_sources src = {0};
	struct ls_stall s;
	int p[2];

	(void)state;
	assert_int_equal(pipe(p), 0);
	decoded(&s, p[0]);
	assert_int_equal(ls_stall_pipeline(&src, &s), 1);
	assert_complete(&s);
	ls_stall_free_stacks(&s);
	close(p[0]);
	close(p[1]);
}

static void test_on_the_finisher(void **state)
{
	struct ls_unwinder *u = ls_unwinder__new();
	struct ls_finisher *f;
	struct ls_stall s, out;
	int p[2];

	(void)state;
	assert_non_null(u);
	f = ls_finisher__new(u);
	assert_non_null(f);
	assert_int_equal(pipe(p), 0);
	{
		const struct ls_stall_sources src = {.finisher = f};

		decoded(&s, p[0]);
		assert_int_equal(ls_stall_pipeline(&src, &s), 0);
	}
	assert_true(ls_finisher__next(f, &out, true));
	assert_complete(&out);
	ls_stall_free_stacks(&out);
	ls_finisher__release(f);
	assert_false(ls_finisher__next(f, &out, false));
	ls_finisher__free(f);
	ls_unwinder__free(u);
	close(p[0]);
	close(p[1]);
}

/* Stage 3 names what libprobe could not: C++ callbacks come mangled. */
static void test_resolve_names_callbacks(void **state)
{
	struct ls_unwinder *u = ls_unwinder__new();
	struct ls_stall s;

	(void)state;
	assert_non_null(u);
	memset(&s, 0, sizeof(s));
	s.pid = s.tid = (uint32_t)getpid();
	s.callback.present = true;
	snprintf(s.callback.cb.symbol, sizeof(s.callback.cb.symbol), "_ZN3app4tickEv");
	s.callback.n_recent = 1;
	snprintf(s.callback.recent[0].symbol, sizeof(s.callback.recent[0].symbol),
		 "_ZN3app5flushEi");
	ls_stall_resolve(u, NULL, &s);
	assert_string_equal(s.callback.cb.symbol, "app::tick()");
	assert_string_equal(s.callback.recent[0].symbol, "app::flush(int)");
	ls_unwinder__free(u);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_at_once),
	    cmocka_unit_test(test_on_the_finisher),
	    cmocka_unit_test(test_resolve_names_callbacks),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
