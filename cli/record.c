// SPDX-License-Identifier: BSD-2-Clause
/*
 * `loopstall record`: attach to a process (or start one), write every stall
 * as a JSON Lines record the moment it is known, and a summary at the end.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include "agent.h"
#include "bound.h"
#include "cgroup.h"
#include "clock.h"
#include "cli.h"
#include "commands.h"
#include "jsonout.h"
#include "procstat.h"
#include "record_args.h"
#include "status_line.h"
#include "waitplan.h"
#include "writer.h"

/*
 * Longest wait for the kernel's records: the agent wakes up sooner by itself
 * when a busy period can cross the threshold (stall_begin), and signals cut
 * the wait short; this bounds how late --duration and the target's exit are seen.
 */
#define POLL_MS 100

static volatile sig_atomic_t stop_signal;

static void on_signal(int sig)
{
	stop_signal = sig;
}

struct recorder {
	struct ls_writer *out;
	struct ls_bound *bound; /* --max-line; NULL: lines as long as their records */
	const char *out_name;
	uint64_t stalls; /* for the status line */
	/* where the last process a record named runs: read once, kept after it exits */
	pid_t cg_pid;
	struct ls_cgroup cg;
};

static int write_line(struct recorder *r, char *line)
{
	int err;

	struct ls_lines lines = {0};
	size_t i;

	if (!line)
		return -ENOMEM;
	if (!r->bound) {
		err = ls_writer__line(r->out, line);
		free(line);
		return err;
	}
	/* one file: each stack is written once, before the first record that refers to it */
	err = ls_bound__split(r->bound, line, &lines);
	free(line);
	if (err == -E2BIG || err == -EINVAL) {
		cli_error("a record could not be cut under --max-line: not written");
		err = 0;
	}
	for (i = 0; !err && i < lines.n; i++)
		err = ls_writer__line(r->out, lines.line[i]);
	ls_lines__clear(&lines);
	return err;
}

/* Add when (time_unix_ns) and where pid runs to line. */
static char *with_context(struct recorder *r, char *line, uint32_t pid, int64_t time_unix_ns)
{
	struct ls_json_context ctx = {.time_unix_ns = time_unix_ns};

	if (pid) {
		if (r->cg_pid != (pid_t)pid) {
			/* a process gone already, or a kernel without cgroups: no fields */
			ls_cgroup_read("/proc", (pid_t)pid, &r->cg);
			r->cg_pid = (pid_t)pid;
		}
		ctx.container_id = r->cg.container_id;
		ctx.pod_uid = r->cg.pod_uid;
		ctx.cgroup = r->cg.path;
	}
	return ls_json_add_context(line, &ctx);
}

static int on_stall(void *ctx, const struct ls_stall *s)
{
	struct recorder *r = ctx;
	int64_t start = ls_mono_to_unix_ns(s->start_ns);

	r->stalls++;
	return write_line(r, with_context(r, ls_json_stall(s, start, ls_mono_to_unix_ns(s->end_ns)),
					  s->pid, start));
}

static int on_stall_begin(void *ctx, const struct ls_stall_begin *b)
{
	int64_t start = ls_mono_to_unix_ns(b->start_ns);

	return write_line(ctx, with_context(ctx, ls_json_stall_begin(b, start), b->pid, start));
}

static double avg_us(uint64_t ns, uint64_t n)
{
	return n ? (double)ns / (double)n / 1e3 : 0.0;
}

/* -v: what stacks cost, for people tuning --stack-bytes or judging overhead */
static void print_stack_costs(struct ls_agent *agent)
{
	struct ls_stack_stats st;

	if (ls_agent__stack_stats(agent, &st))
		return;
	fprintf(
	    stderr,
	    "loopstall: stacks: %llu copied in BPF (%.1f us each), %llu unwound (%.1f us each), "
	    "%llu symbolized (%.1f us each)\n",
	    (unsigned long long)st.copies, avg_us(st.copy_ns, st.copies),
	    (unsigned long long)st.unwound, avg_us(st.unwind_ns, st.unwound),
	    (unsigned long long)st.symbolized, avg_us(st.symbolize_ns, st.symbolized));
	fprintf(
	    stderr,
	    "loopstall: debug info: %llu files from the cache, %llu stored in it, %llu inflated "
	    "by the agent\n",
	    (unsigned long long)st.debuginfo_cached, (unsigned long long)st.debuginfo_stored,
	    (unsigned long long)st.debuginfo_inflated);
	fprintf(stderr,
		"loopstall: line tables: %llu lookups read by the agent, %llu left to libdw\n",
		(unsigned long long)st.lines_read, (unsigned long long)st.lines_libdw);
}

static void usage(FILE *f)
{
	fprintf(
	    f,
	    "usage: loopstall record (-p PID | -- COMMAND [ARGS...]) [-t TID] [--threshold DUR]\n"
	    "                        [--duration DUR] [-o FILE] [--stack-bytes N] [--no-stacks]\n"
	    "                        [--ring-size SIZE] [--all-waits] [--max-line SIZE] [-v]\n"
	    "  -p, --pid PID        attach to a running process\n"
	    "  -t, --tid TID        follow only this thread of PID\n"
	    "      --threshold DUR  a busy period this long is a stall (default 50ms)\n"
	    "      --duration DUR   stop after DUR (default: when the target exits)\n"
	    "  -o, --output FILE    JSON Lines output (default stdout)\n"
	    "      --stack-bytes N  user stack copied per stack: 512..32k (default 16k)\n"
	    "      --no-stacks      no stacks: durations and causes only\n"
	    "      --ring-size SIZE kernel-to-agent ring buffer: a power of two from 4K to 1G\n"
	    "                       (K, M, G suffixes; default 1M); a larger one loses fewer\n"
	    "                       events in a stall storm (lost_events in the summary)\n"
	    "      --all-waits      hook every wait call (epoll_wait, poll, select, ...) for the\n"
	    "                       whole run, not only those the target's loops wait in\n"
	    "      --max-line SIZE  keep every line under SIZE (1K..64M, e.g. 16K): each stack\n"
	    "                       written once as a \"stack\" record, referred to by id\n"
	    "  -v, --verbose        show libbpf's messages and the wait calls hooked\n"
	    "DUR: a number with a unit (ns, us, ms, s, m); a bare number is milliseconds.\n");
}

/* -v: which wait calls are hooked, each time that changes (waitplan.h). */
static void show_hooked_waits(struct ls_agent *agent, uint32_t *shown)
{
	uint32_t now = ls_agent__hooked_waits(agent);
	char names[128];

	if (now == *shown)
		return;
	*shown = now;
	fprintf(stderr, "loopstall: wait calls hooked: %s\n",
		now ? ls_wait_names(now, names, sizeof(names)) : "none");
}

/* Checks that give a clear message before anything is loaded. */
static int preflight(const struct record_args *args)
{
	char path[64];
	int err = cli_preflight(args->pid);

	if (err)
		return err;
	if (args->tid) {
		snprintf(path, sizeof(path), "/proc/%d/task/%d", args->pid, args->tid);
		if (access(path, F_OK)) {
			cli_error("pid %d has no thread %d", args->pid, args->tid);
			return -ESRCH;
		}
	}
	return 0;
}

/*
 * Start the command stopped at a pipe read, so its pid can be traced before
 * it runs its first instruction of the new program. A second, close-on-exec
 * pipe carries exec's errno back: EOF on it means the exec succeeded.
 */
static pid_t spawn_held(char **command, int *go_fd, int *exec_fd)
{
	int go[2], ex[2];
	pid_t pid;
	char c;

	if (pipe2(go, O_CLOEXEC))
		return -errno;
	if (pipe2(ex, O_CLOEXEC)) {
		close(go[0]);
		close(go[1]);
		return -errno;
	}
	pid = fork();
	if (pid < 0) {
		pid = -errno;
		close(go[0]);
		close(go[1]);
		close(ex[0]);
		close(ex[1]);
		return pid;
	}
	if (pid == 0) {
		int e;

		close(go[1]);
		close(ex[0]);
		if (read(go[0], &c, 1) != 1)
			_exit(127); /* the recorder gave up before releasing us */
		execvp(command[0], command);
		e = errno;
		if (write(ex[1], &e, sizeof(e)) < 0)
			_exit(127);
		_exit(127);
	}
	close(go[0]);
	close(ex[1]);
	*go_fd = go[1];
	*exec_fd = ex[0];
	return pid;
}

static void end_child(pid_t child, int *status)
{
	int i;

	if (waitpid(child, status, WNOHANG) == child)
		return;
	/* recording ended first (--duration, a signal): the command was ours to start */
	kill(child, SIGTERM);
	for (i = 0; i < 100; i++) {
		if (waitpid(child, status, WNOHANG) == child)
			return;
		usleep(10000);
	}
	kill(child, SIGKILL);
	waitpid(child, status, 0);
}

static const char *base_name(const char *path)
{
	const char *slash = strrchr(path, '/');

	return slash ? slash + 1 : path;
}

int cmd_record(int argc, char **argv)
{
	struct ls_agent_ops ops = {.stall = on_stall, .stall_begin = on_stall_begin};
	struct ls_agent_opts opts = {0};
	struct recorder rec = {0};
	const struct ls_run_summary *sum;
	struct ls_agent *agent = NULL;
	struct status_line *sl;
	struct record_args args;
	struct sigaction sa;
	uint64_t start;
	uint32_t hooked = 0;
	pid_t pid, child = 0;
	int go_fd = -1, exec_fd = -1, exec_errno = 0, status = 0, err, ret = 2;
	char msg[256], name[16];

	if (record_args_parse(argc, argv, &args, msg, sizeof(msg)))
		return cli_usage_error("record", msg);
	if (args.help) {
		usage(stdout);
		return 0;
	}
	if (preflight(&args))
		return 2;

	rec.out_name = args.output ? args.output : "stdout";
	if (args.max_line && ls_bound__new(args.max_line, &rec.bound)) {
		cli_error("out of memory");
		return 2;
	}
	err = ls_writer__open(args.output, &rec.out);
	if (err) {
		cli_error("cannot create %s: %s", rec.out_name, strerror(-err));
		return 2;
	}

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);

	opts.threshold_ns = args.threshold_ns;
	opts.verbose = args.verbose;
	opts.stack_bytes = args.stack_bytes;
	opts.no_stacks = args.no_stacks;
	opts.all_waits = args.all_waits;
	opts.ring_bytes = args.ring_bytes;
	err = ls_agent__new(&opts, &ops, &rec, &agent);
	if (err) {
		cli_error("cannot load the BPF programs: %s%s", strerror(-err),
			  args.verbose ? "" : " (run with -v for libbpf's messages)");
		goto cleanup;
	}

	if (args.command) {
		child = spawn_held(args.command, &go_fd, &exec_fd);
		if (child < 0) {
			cli_error("cannot start '%s': %s", args.command[0], strerror((int)-child));
			child = 0;
			goto cleanup;
		}
		pid = child;
		snprintf(name, sizeof(name), "%s", base_name(args.command[0]));
	} else {
		pid = args.pid;
		if (ls_proc_comm("/proc", pid, 0, name))
			snprintf(name, sizeof(name), "?");
	}
	err = ls_agent__add_target(agent, pid, args.tid, args.command != NULL,
				   args.command ? name : NULL);
	/* now, while it runs: its last records may come after it exited */
	if (!err && !ls_cgroup_read("/proc", pid, &rec.cg))
		rec.cg_pid = pid;
	if (err) {
		if (err == -ESRCH)
			cli_error("pid %d: no such process", pid);
		else
			cli_error("cannot trace pid %d: %s", pid, strerror(-err));
		goto cleanup;
	}
	if (go_fd >= 0) {
		if (write(go_fd, "g", 1) != 1) {
			cli_error("cannot start '%s': %s", args.command[0], strerror(errno));
			goto cleanup;
		}
		close(go_fd);
		go_fd = -1;
		/* blocks until the exec happened (EOF) or failed (its errno) */
		if (read(exec_fd, &exec_errno, sizeof(exec_errno)) == sizeof(exec_errno)) {
			cli_error("cannot run '%s': %s", args.command[0], strerror(exec_errno));
			goto cleanup;
		}
	}
	fprintf(stderr, "loopstall: recording pid %d (%s), threshold %.1f ms; Ctrl-C to stop\n",
		pid, name, (double)args.threshold_ns / 1e6);

	ret = 1;
	start = ls_now_ns();
	sl = status_line__new(stderr, start); /* NULL unless stderr is a terminal */
	while (!stop_signal) {
		err = ls_agent__poll(agent, POLL_MS);
		if (err)
			break;
		if (args.verbose)
			show_hooked_waits(agent, &hooked);
		/* lost events are a BPF map read: only for a status line to draw */
		if (sl)
			status_line__update(sl, ls_now_ns(), rec.stalls,
					    ls_agent__lost_events(agent));
		if (!ls_agent__alive(agent))
			break;
		if (args.duration_ns && ls_now_ns() - start >= args.duration_ns)
			break;
	}
	status_line__free(sl);
	if (!err)
		err = ls_agent__finish(agent, &sum);
	if (!err)
		err = write_line(
		    &rec, with_context(&rec,
				       ls_json_summary(sum, ls_mono_to_unix_ns(sum->start_ns),
						       ls_mono_to_unix_ns(sum->end_ns)),
				       0, ls_mono_to_unix_ns(sum->end_ns)));
	if (err) {
		cli_error("writing %s: %s", rec.out_name, strerror(-err));
		goto cleanup;
	}
	if (args.verbose)
		print_stack_costs(agent);
	ret = 0;
cleanup:
	if (go_fd >= 0)
		close(go_fd); /* a held child sees EOF and exits */
	if (exec_fd >= 0)
		close(exec_fd);
	ls_agent__free(agent);
	if (child > 0)
		end_child(child, &status);
	err = ls_writer__close(rec.out);
	ls_bound__free(rec.bound);
	if (err && ret == 0) {
		cli_error("writing %s: %s", rec.out_name, strerror(-err));
		ret = 1;
	}
	return ret;
}
