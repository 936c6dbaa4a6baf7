// SPDX-License-Identifier: BSD-2-Clause
/*
 * `loopstall top -p PID`: a live view of a process's loop threads through
 * the agent library: iterations and busy share per second, heartbeat p99,
 * a stall while it lasts and the last stalls. On a terminal it redraws the
 * screen about once a second (ten times a second while a stall is in
 * progress, so its time runs on screen); otherwise it prints one line per
 * loop thread per second.
 */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>
#include "agent.h"
#include "clock.h"
#include "cli.h"
#include "commands.h"
#include "procstat.h"
#include "report_out.h"
#include "top_args.h"
#include "top_stats.h"

/* Agent poll period: keys and stall_begin are handled this soon. */
#define POLL_MS 20
#define SAMPLE_NS 1000000000ull
/* Redraw period while a stall is in progress, so its elapsed time moves. */
#define LIVE_NS 100000000ull

static volatile sig_atomic_t stop_signal;

static void on_signal(int sig)
{
	stop_signal = sig;
}

struct top {
	struct ls_agent *agent;
	struct top_stats *stats;
	pid_t pid;
	char name[16];
	uint64_t threshold_ns;
	uint64_t start_ns;
	bool tty;
	size_t printed_stalls; /* plain mode: stall lines already printed */
	uint64_t stalls_seen;
	int err; /* from a callback */
	struct out out;
};

static void usage(FILE *f)
{
	fprintf(f,
		"usage: loopstall top -p PID [--threshold DUR] [-v]\n"
		"A live view of PID's loop threads: iterations per second, busy share, heartbeat\n"
		"gap p99 and max and the stalls over the last 10 s (STALLS; TOTAL: since top\n"
		"began), a stall while it lasts and the last stalls. On a terminal the\n"
		"screen is redrawn about once a second ('q' or Ctrl-C quits); otherwise one line\n"
		"per loop thread per second. Ends when PID exits.\n"
		"  -p, --pid PID        the process to watch\n"
		"      --threshold DUR  a busy period this long is a stall (default 50ms)\n"
		"  -v, --verbose        show libbpf's messages\n");
}

/* A thread's name, "?" once it is gone. */
static void read_comm(pid_t pid, pid_t tid, char comm[16])
{
	if (ls_proc_comm("/proc", pid, tid, comm))
		snprintf(comm, 16, "?");
}

static int on_stall(void *ctx, const struct ls_stall *s)
{
	struct top *tp = ctx;

	top_stats__stall(tp->stats, s);
	tp->stalls_seen++;
	return 0;
}

static int on_stall_begin(void *ctx, const struct ls_stall_begin *b)
{
	struct top *tp = ctx;

	top_stats__stall_begin(tp->stats, b->tid, b->start_ns);
	return 0;
}

static int sample_thread(void *ctx, const struct ls_thread_stats *t)
{
	struct top *tp = ctx;
	char comm[16];

	read_comm((pid_t)t->pid, (pid_t)t->tid, comm);
	return top_stats__thread(tp->stats, t, comm);
}

static int sample(struct top *tp, uint64_t now)
{
	int err;

	top_stats__begin(tp->stats, now);
	err = ls_agent__for_each_thread(tp->agent, sample_thread, tp);
	top_stats__end(tp->stats);
	return err;
}

static const char *secs(uint64_t ns, char *buf, size_t len)
{
	snprintf(buf, len, "%.2f s", (double)ns / 1e9);
	return buf;
}

static void draw_screen(struct top *tp, uint64_t now)
{
	struct out *o = &tp->out;
	size_t i, n = top_stats__n_threads(tp->stats);
	char a[32], b[32], m[32];

	out_init(o, stdout, 0, OUT_COLOR_AUTO);
	fputs("\033[H\033[2J", stdout);
	out_line(o, OUT_BOLD "loopstall top" OUT_RESET ": pid %d (%s), stall threshold %g ms, %s",
		 tp->pid, tp->name, (double)tp->threshold_ns / 1e6,
		 secs(now - tp->start_ns, a, sizeof(a)));
	out_line(o, OUT_DIM "q or Ctrl-C quits" OUT_RESET);
	out_blank(o);
	if (!n) {
		out_line(o, "waiting for a loop thread (a thread that waits in epoll_wait, poll or "
			    "select)");
	} else {
		out_line(o, OUT_BOLD "  %-8s %-16s %9s %7s %10s %10s %6s %7s  %s" OUT_RESET, "TID",
			 "COMM", "ITER/S", "BUSY", "HB P99", "HB MAX", "STALLS", "TOTAL", "NOW");
	}
	for (i = 0; i < n; i++) {
		const struct top_thread *t = top_stats__thread_at(tp->stats, i);
		uint64_t stalled = top_stats__in_progress(tp->stats, t, now);

		if (!t->rated) {
			out_line(o, "  %-8u %-16s %9s %7s %10s %10s %6s %7llu  watching", t->tid,
				 t->comm, "-", "-", "-", "-", "-", (unsigned long long)t->stalls);
			continue;
		}
		out_line(o, "  %-8u %-16s %9.1f %6.1f%% %10s %10s %6llu %7llu  %s%s%s" OUT_RESET,
			 t->tid, t->comm, t->iter_per_s, 100.0 * t->busy_ratio,
			 out_ms((double)t->p99_ns / 1e6, b, sizeof(b)),
			 out_ms((double)t->max_ns / 1e6, m, sizeof(m)),
			 (unsigned long long)t->window_stalls, (unsigned long long)t->stalls,
			 stalled ? OUT_RED OUT_BOLD : OUT_GREEN,
			 stalled ? "STALL IN PROGRESS " : "running",
			 stalled ? secs(stalled, a, sizeof(a)) : "");
	}
	out_blank(o);
	out_line(o, OUT_BOLD "Last stalls" OUT_RESET);
	if (!top_stats__n_stalls(tp->stats))
		out_line(o, "  none yet");
	for (i = 0; i < top_stats__n_stalls(tp->stats); i++) {
		const struct top_stall *s = top_stats__stall_at(tp->stats, i);

		out_line(o, "  %8s ago  %10s  %-16s tid %-7u %s%s",
			 secs(now > s->end_ns ? now - s->end_ns : 0, a, sizeof(a)),
			 out_ms(s->duration_ms, b, sizeof(b)), s->cause, s->tid, s->what,
			 s->cut_short ? " (cut short)" : "");
	}
	fflush(stdout);
}

/* Stalls that ended since the last ones printed, oldest first, a line each. */
static void print_new_stalls(struct top *tp, uint64_t now)
{
	char a[32], b[32];

	for (; tp->printed_stalls < tp->stalls_seen; tp->printed_stalls++) {
		size_t back = (size_t)(tp->stalls_seen - tp->printed_stalls - 1);
		const struct top_stall *s = top_stats__stall_at(tp->stats, back);

		if (!s)
			continue;
		printf("%s  stall %s %s on tid %u%s%s%s\n", secs(now - tp->start_ns, a, sizeof(a)),
		       out_ms(s->duration_ms, b, sizeof(b)), s->cause, s->tid,
		       s->what[0] ? ": " : "", s->what, s->cut_short ? " (cut short)" : "");
	}
}

static void print_lines(struct top *tp, uint64_t now)
{
	size_t i, n = top_stats__n_threads(tp->stats);
	char a[32], b[32], m[32];

	print_new_stalls(tp, now);
	for (i = 0; i < n; i++) {
		const struct top_thread *t = top_stats__thread_at(tp->stats, i);
		uint64_t stalled = top_stats__in_progress(tp->stats, t, now);
		char c[32];

		if (!t->rated) {
			printf("%s  tid %u (%s): watching\n",
			       secs(now - tp->start_ns, a, sizeof(a)), t->tid, t->comm);
			continue;
		}
		printf("%s  tid %u (%s): %.1f iterations/s, busy %.1f %%, heartbeat p99 %s, "
		       "max %s, stalls %llu in %d s, %llu in all%s%s\n",
		       secs(now - tp->start_ns, a, sizeof(a)), t->tid, t->comm, t->iter_per_s,
		       100.0 * t->busy_ratio, out_ms((double)t->p99_ns / 1e6, b, sizeof(b)),
		       out_ms((double)t->max_ns / 1e6, m, sizeof(m)),
		       (unsigned long long)t->window_stalls, TOP_WINDOW,
		       (unsigned long long)t->stalls, stalled ? "; STALL IN PROGRESS " : "",
		       stalled ? secs(stalled, c, sizeof(c)) : "");
	}
	if (!n)
		printf("%s  no loop thread yet (none has come back from a wait for events"
		       " since top attached)\n",
		       secs(now - tp->start_ns, a, sizeof(a)));
	fflush(stdout);
}

/* 'q' on a terminal's stdin; anything else is ignored. */
static bool quit_key(bool keys)
{
	struct pollfd p = {.fd = STDIN_FILENO, .events = POLLIN};
	char c;

	if (!keys || poll(&p, 1, 0) <= 0 || read(STDIN_FILENO, &c, 1) != 1)
		return false;
	return c == 'q' || c == 'Q';
}

/*
 * The target exited: the stalls it had before are still on their way (the
 * finisher symbolizes each one's stacks on its own thread, which can take
 * longer than the rest of a short-lived process's life): take them all, cut
 * short any still running, and show them once more before ending.
 */
static int last_look(struct top *tp)
{
	const struct ls_run_summary *sum;
	int err = ls_agent__finish(tp->agent, &sum);

	if (err)
		return err;
	if (!tp->tty)
		print_new_stalls(tp, ls_now_ns());
	return 1;
}

static int watch(struct top *tp, bool keys)
{
	uint64_t now, next_sample = 0, last_draw = 0;
	int err;

	tp->start_ns = ls_now_ns();
	while (!stop_signal) {
		err = ls_agent__poll(tp->agent, POLL_MS);
		if (err)
			return err;
		if (quit_key(keys))
			return 0;
		if (!ls_agent__alive(tp->agent))
			return last_look(tp);
		now = ls_now_ns();
		if (now >= next_sample) {
			err = sample(tp, now);
			if (err)
				return err;
			next_sample = now + SAMPLE_NS;
			if (tp->tty)
				draw_screen(tp, now);
			else
				print_lines(tp, now);
			last_draw = now;
		} else if (tp->tty && now >= last_draw + LIVE_NS &&
			   top_stats__stalled(tp->stats, now)) {
			draw_screen(tp, now);
			last_draw = now;
		}
	}
	return 0;
}

int cmd_top(int argc, char **argv)
{
	struct ls_agent_ops ops = {.stall = on_stall, .stall_begin = on_stall_begin};
	struct ls_agent_opts opts = {0};
	struct termios saved, raw;
	struct top tp = {0};
	struct top_args args;
	struct sigaction sa;
	bool keys = false, screen = false;
	char msg[256];
	int err, ret = 2;

	if (top_args_parse(argc, argv, &args, msg, sizeof(msg)))
		return cli_usage_error("top", msg);
	if (args.help) {
		usage(stdout);
		return 0;
	}
	if (cli_preflight(args.pid))
		return 2;
	tp.pid = args.pid;
	tp.threshold_ns = args.threshold_ns;
	tp.tty = isatty(STDOUT_FILENO);
	read_comm(tp.pid, tp.pid, tp.name);
	tp.stats = top_stats__new(args.threshold_ns);
	if (!tp.stats) {
		cli_error("top: out of memory");
		return 1;
	}

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);

	opts.threshold_ns = args.threshold_ns;
	opts.verbose = args.verbose;
	err = ls_agent__new(&opts, &ops, &tp, &tp.agent);
	if (err) {
		cli_error("cannot load the BPF programs: %s%s", strerror(-err),
			  args.verbose ? "" : " (run with -v for libbpf's messages)");
		goto cleanup;
	}
	err = ls_agent__add_target(tp.agent, tp.pid, 0, false, NULL);
	if (err) {
		if (err == -ESRCH)
			cli_error("pid %d: no such process", tp.pid);
		else
			cli_error("cannot trace pid %d: %s", tp.pid, strerror(-err));
		goto cleanup;
	}

	/* keys without Enter and without echo, restored on the way out */
	if (tp.tty && isatty(STDIN_FILENO) && !tcgetattr(STDIN_FILENO, &saved)) {
		raw = saved;
		raw.c_lflag &= ~(tcflag_t)(ICANON | ECHO);
		raw.c_cc[VMIN] = 0;
		raw.c_cc[VTIME] = 0;
		keys = !tcsetattr(STDIN_FILENO, TCSANOW, &raw);
	}
	if (tp.tty) {
		/* the alternate screen, as top(1): the shell's screen comes back at the end */
		fputs("\033[?1049h\033[?25l", stdout);
		screen = true;
	}
	ret = 1;
	err = watch(&tp, keys);
	if (err < 0) {
		cli_error("top: %s", strerror(-err));
		goto cleanup;
	}
	ret = 0;
cleanup:
	if (screen) {
		fputs("\033[?25h\033[?1049l", stdout);
		/* what the alternate screen showed is gone with it: the stalls stay */
		print_new_stalls(&tp, ls_now_ns());
		fflush(stdout);
	}
	if (keys)
		tcsetattr(STDIN_FILENO, TCSANOW, &saved);
	if (ret == 0 && err == 1)
		fprintf(stderr, "loopstall: pid %d exited\n", tp.pid);
	ls_agent__free(tp.agent);
	top_stats__free(tp.stats);
	return ret;
}
