// SPDX-License-Identifier: BSD-2-Clause
/*
 * loopstalld: attaches to every configured process (by pid, or by name as
 * they start), writes their stalls as JSON Lines to rotated files and serves
 * the totals as Prometheus metrics. One event thread drives the agent; the
 * HTTP thread only ever reads the exposition it last published.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "agent.h"
#include "bound.h"
#include "cgroup.h"
#include "clock.h"
#include "jsonout.h"
#include "loopstalld.h"
#include "rotate.h"

#ifndef LOOPSTALL_VERSION
#define LOOPSTALL_VERSION "unknown"
#endif

#define PROG "loopstalld"
/* Poll period: bounds how late a stall_begin can be (well under 10 ms). */
#define POLL_MS 5
/* How stale /metrics may be, and how soon after a stall it shows it. */
#define PUBLISH_NS 250000000ull
#define PUBLISH_SOON_NS 20000000ull
/* ...but never more often than this: a snapshot reads every thread's counters */
#define PUBLISH_MIN_GAP_NS 100000000ull
#define STALLS_FILE "stalls.jsonl"
#define LABEL_MAX 65

static volatile sig_atomic_t stop_signal, reload_signal;

static void on_signal(int sig)
{
	if (sig == SIGHUP)
		reload_signal = 1;
	else
		stop_signal = sig;
}

__attribute__((format(printf, 1, 2))) static void say(const char *fmt, ...)
{
	va_list ap;

	fputs(PROG ": ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

/* A command-line option, applied as a configuration line after the file. */
struct setting {
	const char *key;
	const char *value;
	const char *option;
};

struct attached {
	pid_t pid;
	char label[LABEL_MAX];
	uint64_t threshold_ns; /* its rule's, or the configuration's; a reload changes it in place */
	bool stacks;	       /* its records carry stacks */
	bool exited;	       /* detached after the records still queued are read */
	struct ls_cgroup cg;   /* where it ran when attached */
};

/* A process the scan looked at and did not attach, until its comm changes. */
struct seen {
	pid_t pid;
	char comm[16];
};

struct daemon {
	const char *config_path;
	struct setting *settings;
	size_t n_settings;
	struct ls_config *cfg;
	struct ls_agent *agent;
	struct lsd_stats *stats;
	struct lsd_http *http;
	struct ls_rotate *out;
	struct ls_bound *bound; /* NULL: lines as long as their records */
	char *out_dir; /* what out was opened with */
	uint64_t out_max;
	unsigned out_keep;
	struct attached *att;
	size_t n_att, cap_att;
	struct seen *seen, *seen_next;
	size_t n_seen, n_seen_next, cap_seen, cap_seen_next;
	bool exits_pending;
	bool write_failed;
	/* what the agent was loaded with: a reload cannot change them */
	uint32_t ring_bytes;
	bool bpf_stats;
	bool no_stacks;
	uint64_t next_scan, next_publish, next_file, last_publish;
	pid_t self;
	char host[256];
};

static struct attached *find_att(struct daemon *d, pid_t pid)
{
	size_t i;

	for (i = 0; i < d->n_att; i++)
		if (d->att[i].pid == pid)
			return &d->att[i];
	return NULL;
}

static struct lsd_key key_of(const struct attached *a, const char *comm)
{
	struct lsd_key k = { .target = comm };

	if (a) {
		k.target = a->label;
		k.container_id = a->cg.container_id;
		k.pod_uid = a->cg.pod_uid;
	}
	return k;
}

/* The daemon's context on a record: when, which target on which host, where it runs. */
static char *with_context(struct daemon *d, char *line, const struct attached *a,
			  int64_t time_unix_ns)
{
	struct ls_json_context ctx = {
		.time_unix_ns = time_unix_ns,
		.host = d->host,
	};

	if (a) {
		ctx.target = a->label;
		ctx.container_id = a->cg.container_id;
		ctx.pod_uid = a->cg.pod_uid;
		ctx.cgroup = a->cg.path;
	}
	return ls_json_add_context(line, &ctx);
}

/* A record under max_line, in the same file as the stack records it refers to. */
static int write_bounded(struct daemon *d, const char *line)
{
	int err = ls_rotate__bounded(d->out, d->bound, line);

	if (err == -E2BIG || err == -EINVAL) {
		say("a record could not be cut under output_max_line (%zu bytes): not written",
		    ls_bound__max_line(d->bound));
		err = 0;
	}
	return err;
}

static void write_record(struct daemon *d, char *line)
{
	int err;

	if (!line) {
		say("out of memory writing a record");
		return;
	}
	if (d->out) {
		err = d->bound ? write_bounded(d, line) : ls_rotate__line(d->out, line);
		/* keep running without the files: metrics still work; say it once */
		if (err && !d->write_failed) {
			say("writing %s/%s: %s; no more records will be written", d->out_dir,
			    STALLS_FILE, strerror(-err));
			d->write_failed = true;
		}
	}
	free(line);
}

/* Something /metrics shows changed: publish soon, within the rate limit. */
static void publish_soon(struct daemon *d, uint64_t delay_ns)
{
	uint64_t at = ls_now_ns() + delay_ns;

	if (at < d->last_publish + PUBLISH_MIN_GAP_NS)
		at = d->last_publish + PUBLISH_MIN_GAP_NS;
	if (at < d->next_publish)
		d->next_publish = at;
}

static int on_stall(void *ctx, const struct ls_stall *s)
{
	struct daemon *d = ctx;
	struct attached *a = find_att(d, (pid_t)s->pid);
	struct lsd_key key = key_of(a, s->comm);
	struct ls_stall st = *s;
	int64_t start;
	unsigned i;
	int err;

	if (a) {
		/* the target's own threshold reaches BPF just after attach: one may slip in */
		if (st.end_ns - st.start_ns < a->threshold_ns)
			return 0;
		st.threshold_ns = a->threshold_ns;
		/* stacks are copied for every target (a load-time setting): drop them here */
		if (!a->stacks) {
			for (i = 0; i < st.n_syscalls && i < LS_STALL_SYSCALLS; i++)
				st.syscalls[i].stack.n = 0;
			st.n_cpu_stacks = 0;
		}
	}
	/* the process's exit after its loop returned is written, not counted as a stall */
	err = st.loop_gone ? 0 : lsd_stats__stall(d->stats, &key, &st);
	if (err)
		say("counting a stall: %s", strerror(-err));
	start = ls_mono_to_unix_ns(st.start_ns);
	if (d->out)
		write_record(d, with_context(d, ls_json_stall(&st, start,
							      ls_mono_to_unix_ns(st.end_ns)),
					     a, start));
	publish_soon(d, PUBLISH_SOON_NS);
	return 0;
}

static int on_stall_begin(void *ctx, const struct ls_stall_begin *b)
{
	struct daemon *d = ctx;
	struct attached *a = find_att(d, (pid_t)b->pid);
	struct ls_stall_begin own = *b;

	if (a) {
		if (b->elapsed_ns < a->threshold_ns)
			return 0;
		own.threshold_ns = a->threshold_ns;
	}
	if (d->out)
		write_record(d, with_context(d,
					     ls_json_stall_begin(&own, ls_mono_to_unix_ns(b->start_ns)),
					     a, ls_mono_to_unix_ns(b->start_ns)));
	return 0;
}

static void on_target_exit(void *ctx, pid_t pid)
{
	struct daemon *d = ctx;
	struct attached *a = find_att(d, pid);

	if (a) {
		a->exited = true;
		d->exits_pending = true;
	}
}

static void on_thread_exit(void *ctx, const struct ls_thread_stats *t, const char *comm)
{
	struct daemon *d = ctx;
	struct attached *a = find_att(d, (pid_t)t->pid);
	struct lsd_key key = key_of(a, comm);
	int err;

	err = lsd_stats__thread_exit(d->stats, &key, t);
	if (err)
		say("counting an exited thread: %s", strerror(-err));
}

/* Attach pid as spec says; comm_now and cg when the scan read them already. */
static int attach(struct daemon *d, pid_t pid, const struct ls_target_spec *spec,
		  const char *comm_now, const struct ls_cgroup *cg)
{
	const char *label = spec->label;
	struct attached *a;
	struct lsd_key key;
	char comm[16];
	int err;

	if (comm_now) {
		snprintf(comm, sizeof(comm), "%s", comm_now);
	} else {
		lsd_proc_comm("/proc", pid, comm);
		if (!comm[0])
			return -ESRCH;
	}
	if (!label)
		label = comm;
	if (d->n_att == d->cap_att) {
		size_t cap = d->cap_att ? 2 * d->cap_att : 8;
		void *grown = realloc(d->att, cap * sizeof(*d->att));

		if (!grown)
			return -ENOMEM;
		d->att = grown;
		d->cap_att = cap;
	}
	a = &d->att[d->n_att];
	memset(a, 0, sizeof(*a));
	a->pid = pid;
	snprintf(a->label, sizeof(a->label), "%s", label);
	a->threshold_ns = ls_config__threshold(d->cfg, spec);
	a->stacks = ls_config__stacks(d->cfg, spec);
	if (cg)
		a->cg = *cg;
	else
		ls_cgroup_read("/proc", pid, &a->cg); /* none: the fields stay empty */
	err = ls_agent__add_target(d->agent, pid, 0, false, label);
	if (!err)
		err = ls_agent__set_target_threshold(d->agent, pid, a->threshold_ns);
	if (err) {
		/* a half-done add (pidfd taken, map not updated) must not linger */
		ls_agent__remove_target(d->agent, pid);
		return err;
	}
	key = key_of(a, comm);
	err = lsd_stats__target(d->stats, &key);
	if (err) {
		ls_agent__remove_target(d->agent, pid);
		return err;
	}
	d->n_att++;
	say("attached to pid %d (%s) as target \"%s\", threshold %.1f ms%s%s%s%s", (int)pid, comm,
	    a->label, (double)a->threshold_ns / 1e6, a->stacks ? "" : ", no stacks",
	    a->cg.container_id[0] ? ", container " : "", a->cg.container_id,
	    a->cg.pod_uid[0] ? ", in a pod" : "");
	publish_soon(d, 0);
	return 0;
}

/* Counters of the live threads into the totals, before BPF forgets them. */
static int snapshot_thread(void *ctx, const struct ls_thread_stats *t)
{
	struct daemon *d = ctx;
	struct attached *a = find_att(d, (pid_t)t->pid);

	struct lsd_key key;

	if (!a)
		return 0;
	key = key_of(a, NULL);
	return lsd_stats__thread(d->stats, &key, t, a->threshold_ns);
}

static int snapshot(struct daemon *d)
{
	int err;

	lsd_stats__begin(d->stats, ls_now_ns());
	err = ls_agent__for_each_thread(d->agent, snapshot_thread, d);
	if (err)
		return err;
	return lsd_stats__end(d->stats);
}

static void detach(struct daemon *d, size_t i, const char *why)
{
	pid_t pid = d->att[i].pid;
	int err;

	say("detached from pid %d (target \"%s\"): %s", (int)pid, d->att[i].label, why);
	ls_agent__remove_target(d->agent, pid);
	/* records already queued still find their target's name */
	err = ls_agent__poll(d->agent, 0);
	if (err)
		say("reading events: %s", strerror(-err));
	/* the poll can end other targets' lives but removes no entry: i is still pid's */
	d->att[i] = d->att[--d->n_att];
	publish_soon(d, 0);
}

static void drop_exited(struct daemon *d)
{
	size_t i;
	int err;

	d->exits_pending = false;
	/* the exit records of its threads were queued before the exit was seen: read them */
	err = ls_agent__poll(d->agent, 0);
	if (err)
		say("reading events: %s", strerror(-err));
	for (i = 0; i < d->n_att;) {
		if (d->att[i].exited)
			detach(d, i, "it exited");
		else
			i++;
	}
}

static struct seen *find_seen(struct daemon *d, pid_t pid)
{
	size_t lo = 0, hi = d->n_seen;

	/* /proc lists pids in increasing order, so the previous scan's list is sorted */
	while (lo < hi) {
		size_t mid = (lo + hi) / 2;

		if (d->seen[mid].pid == pid)
			return &d->seen[mid];
		if (d->seen[mid].pid < pid)
			lo = mid + 1;
		else
			hi = mid;
	}
	return NULL;
}

static bool decided(struct daemon *d, const struct lsd_proc *p)
{
	struct seen *s;

	if (find_att(d, p->pid))
		return true;
	s = find_seen(d, p->pid);
	return s && !strcmp(s->comm, p->comm);
}

static bool need_exe(void *ctx, const struct lsd_proc *p)
{
	return !decided(ctx, p);
}

static void remember(struct daemon *d, const struct lsd_proc *p)
{
	if (d->n_seen_next == d->cap_seen_next) {
		size_t cap = d->cap_seen_next ? 2 * d->cap_seen_next : 256;
		void *grown = realloc(d->seen_next, cap * sizeof(*d->seen_next));

		/* without memory the process is only looked at again next time */
		if (!grown)
			return;
		d->seen_next = grown;
		d->cap_seen_next = cap;
	}
	d->seen_next[d->n_seen_next].pid = p->pid;
	memcpy(d->seen_next[d->n_seen_next].comm, p->comm, sizeof(p->comm));
	d->n_seen_next++;
}

static int on_proc(void *ctx, const struct lsd_proc *p)
{
	struct daemon *d = ctx;
	const struct ls_target_spec *spec;
	int err;

	if (find_att(d, p->pid))
		return 0;
	if (decided(d, p)) {
		remember(d, p);
		return 0;
	}
	spec = ls_config__match_proc(d->cfg, p->comm, p->exe[0] ? p->exe : NULL, p->cg);
	/* never a kernel thread, whatever its name: it has no user space to trace */
	if (spec && !p->kthread && !lsd_proc_traceable("/proc", p->pid)) {
		err = attach(d, p->pid, spec, p->comm, p->cg);
		if (!err)
			return 0;
		if (err != -ESRCH)
			say("cannot attach to pid %d (%s): %s", (int)p->pid, p->comm,
			    strerror(-err));
	}
	remember(d, p);
	return 0;
}

static void scan(struct daemon *d)
{
	struct seen *swap;
	size_t cap;
	int err;

	if (!d->cfg->n_matches)
		return;
	d->n_seen_next = 0;
	err = lsd_scan("/proc", d->self, need_exe, ls_config__needs_cgroup(d->cfg), on_proc, d);
	if (err) {
		say("scanning /proc: %s", strerror(-err));
		return;
	}
	swap = d->seen;
	d->seen = d->seen_next;
	d->seen_next = swap;
	d->n_seen = d->n_seen_next;
	cap = d->cap_seen;
	d->cap_seen = d->cap_seen_next;
	d->cap_seen_next = cap;
}

/* A configured pid that is a kernel thread: said, and -EPERM. */
static int refuse_kthread(pid_t pid)
{
	char comm[16];

	if (lsd_proc_traceable("/proc", pid) != -EPERM)
		return 0;
	lsd_proc_comm("/proc", pid, comm);
	say("pid %d is a kernel thread (%s); only user-space processes can be traced", (int)pid,
	    comm);
	return -EPERM;
}

/* Attach to the configured pids not attached yet; at start-up a missing one is fatal. */
static int attach_pids(struct daemon *d, bool startup)
{
	size_t i;
	int err;

	for (i = 0; i < d->cfg->n_pids; i++) {
		const struct ls_target_spec *spec = &d->cfg->pids[i];

		if (find_att(d, spec->pid))
			continue;
		err = refuse_kthread(spec->pid);
		if (err) {
			if (startup)
				return err;
			continue;
		}
		err = attach(d, spec->pid, spec, NULL, NULL);
		if (!err)
			continue;
		if (err == -ESRCH)
			say("pid %d: no such process", (int)spec->pid);
		else
			say("cannot attach to pid %d: %s", (int)spec->pid, strerror(-err));
		if (startup)
			return err;
	}
	return 0;
}

static int render(struct daemon *d, char **text, size_t *len)
{
	struct lsd_self self = { .version = LOOPSTALL_VERSION };
	struct ls_bpf_stats bpf;
	struct ls_metrics *m = NULL;
	size_t i;
	int err;

	err = snapshot(d);
	if (err)
		return err;
	for (i = 0; i < d->n_att; i++)
		self.targets += !d->att[i].exited;
	self.lost_events = ls_agent__lost_events(d->agent);
	/* off, the kernel may still count for someone else (kernel.bpf_stats_enabled): say 0 */
	if (d->bpf_stats && !ls_agent__bpf_stats(d->agent, &bpf)) {
		self.bpf_run_ns = bpf.run_time_ns;
		self.bpf_runs = bpf.run_count;
	}
	err = ls_metrics__new(&m);
	if (!err)
		err = lsd_stats__export(d->stats, &self, m);
	if (!err)
		err = ls_metrics__render(m, text, len);
	ls_metrics__free(m);
	return err;
}

/* Replace the file at once, so the textfile collector never reads half of it. */
static int write_metrics_file(const char *path, const char *text, size_t len)
{
	char tmp[4096];
	ssize_t n;
	size_t done = 0;
	int fd, err = 0;

	if ((size_t)snprintf(tmp, sizeof(tmp), "%s.%d.tmp", path, (int)getpid()) >= sizeof(tmp))
		return -ENAMETOOLONG;
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, 0644);
	if (fd < 0)
		return -errno;
	/* node_exporter reads it as its own user, whatever umask the unit sets */
	if (fchmod(fd, 0644))
		err = -errno;
	while (!err && done < len) {
		n = write(fd, text + done, len - done);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			err = n < 0 ? -errno : -EIO;
			break;
		}
		done += (size_t)n;
	}
	if (close(fd) && !err)
		err = -errno;
	if (!err && rename(tmp, path))
		err = -errno;
	if (err)
		unlink(tmp);
	return err;
}

static void publish(struct daemon *d, bool file_now)
{
	uint64_t now = ls_now_ns();
	char *text;
	size_t len;
	int err;

	d->next_publish = now + PUBLISH_NS;
	d->last_publish = now;
	err = render(d, &text, &len);
	if (err) {
		say("building the metrics: %s", strerror(-err));
		return;
	}
	if (d->cfg->metrics_file && (file_now || now >= d->next_file)) {
		d->next_file = now + d->cfg->metrics_file_interval_ns;
		err = write_metrics_file(d->cfg->metrics_file, text, len);
		if (err)
			say("writing %s: %s", d->cfg->metrics_file, strerror(-err));
	}
	if (d->http)
		lsd_http__publish(d->http, text, len);
	else
		free(text);
}

/* Defaults, then the file, then the command line. */
static int build_config(struct daemon *d, struct ls_config **out)
{
	struct ls_config *c;
	char msg[512];
	const char *detail;
	size_t i;
	int err;

	err = ls_config__new(&c);
	if (err)
		return err;
	if (d->config_path) {
		err = ls_config__load(c, d->config_path, msg, sizeof(msg));
		if (err) {
			say("%s", msg);
			goto cleanup;
		}
	}
	for (i = 0; i < d->n_settings; i++) {
		const struct setting *s = &d->settings[i];

		err = ls_config__set(c, s->key, s->value, msg, sizeof(msg));
		if (err) {
			/* "key: detail" from the parser: name the option instead */
			detail = strncmp(msg, s->key, strlen(s->key)) ? msg : msg + strlen(s->key) + 2;
			say("%s: %s", s->option, detail);
			goto cleanup;
		}
	}
	*out = c;
	return 0;
cleanup:
	ls_config__free(c);
	return err;
}

static int open_output(struct daemon *d)
{
	const struct ls_config *c = d->cfg;
	int err;

	if (c->output_max_line != (d->bound ? ls_bound__max_line(d->bound) : 0)) {
		ls_bound__free(d->bound);
		d->bound = NULL;
		if (c->output_max_line) {
			err = ls_bound__new(c->output_max_line, &d->bound);
			if (err)
				return err;
		}
	}
	if (d->out && c->output_dir && !strcmp(c->output_dir, d->out_dir) &&
	    c->output_max_bytes == d->out_max && c->output_keep == d->out_keep)
		return 0;
	err = ls_rotate__close(d->out);
	if (err)
		say("closing %s/%s: %s", d->out_dir, STALLS_FILE, strerror(-err));
	d->out = NULL;
	free(d->out_dir);
	d->out_dir = NULL;
	d->write_failed = false;
	/* a new file: its records need their stacks again */
	if (d->bound)
		ls_bound__forget(d->bound);
	if (!c->output_dir)
		return 0;
	err = ls_rotate__open(c->output_dir, STALLS_FILE, c->output_max_bytes, c->output_keep,
			      &d->out);
	if (err) {
		say("cannot write records to %s/%s: %s", c->output_dir, STALLS_FILE,
		    strerror(-err));
		return err;
	}
	d->out_dir = strdup(c->output_dir);
	d->out_max = c->output_max_bytes;
	d->out_keep = c->output_keep;
	if (!d->out_dir)
		return -ENOMEM;
	return 0;
}

static bool same_string(const char *a, const char *b)
{
	return (!a && !b) || (a && b && !strcmp(a, b));
}

/* A new name for an attached process means attaching it again under that name. */
static bool label_fits(const struct ls_target_spec *spec, const struct attached *a)
{
	return spec && (!spec->label || !strcmp(spec->label, a->label));
}

/*
 * Is an attached process still one the configuration asks for, under the
 * same name? Its rule in *spec (NULL when it is exiting: keep it as it is).
 */
static bool still_wanted(struct daemon *d, const struct attached *a,
			 const struct ls_target_spec **spec)
{
	struct lsd_proc p;
	size_t i;

	*spec = NULL;
	for (i = 0; i < d->cfg->n_pids; i++)
		if (d->cfg->pids[i].pid == a->pid) {
			*spec = &d->cfg->pids[i];
			return label_fits(*spec, a);
		}
	if (lsd_proc_read("/proc", a->pid, &p))
		return true; /* exiting: target_exit detaches it */
	*spec = ls_config__match_proc(d->cfg, p.comm, p.exe[0] ? p.exe : NULL, &a->cg);
	return label_fits(*spec, a);
}

/* A reload's settings for a process that stays attached, applied in place. */
static void resettle(struct daemon *d, struct attached *a, const struct ls_target_spec *spec)
{
	uint64_t thr = ls_config__threshold(d->cfg, spec);
	bool stacks = ls_config__stacks(d->cfg, spec);
	int err;

	if (!spec)
		return;
	if (thr != a->threshold_ns) {
		err = ls_agent__set_target_threshold(d->agent, a->pid, thr);
		if (err) {
			say("pid %d (target \"%s\"): cannot change its threshold: %s", (int)a->pid,
			    a->label, strerror(-err));
			return;
		}
		say("pid %d (target \"%s\"): threshold %.1f ms, was %.1f ms (in place)", (int)a->pid,
		    a->label, (double)thr / 1e6, (double)a->threshold_ns / 1e6);
		a->threshold_ns = thr;
	}
	if (stacks != a->stacks)
		say("pid %d (target \"%s\"): stacks %s", (int)a->pid, a->label,
		    stacks ? "on" : "off");
	a->stacks = stacks;
}

/* Whether any target is configured with stacks. */
static bool any_stacks(const struct ls_config *c)
{
	size_t i;

	if (c->stacks)
		return true;
	for (i = 0; i < c->n_pids; i++)
		if (c->pids[i].stacks == 1)
			return true;
	for (i = 0; i < c->n_matches; i++)
		if (c->matches[i].stacks == 1)
			return true;
	return false;
}

static uint32_t ring_size(uint32_t configured)
{
	return configured ? configured : LS_RING_BYTES_DEFAULT;
}

static void reload(struct daemon *d)
{
	struct ls_config *c, *old = d->cfg;
	size_t i;
	int err;

	reload_signal = 0;
	err = build_config(d, &c);
	if (err) {
		say("reload failed; keeping the configuration in use");
		return;
	}
	if (!same_string(c->metrics_addr, old->metrics_addr))
		say("metrics_addr changed: that takes a restart; still serving the old address");
	if (ring_size(c->ring_bytes) != ring_size(d->ring_bytes))
		say("ring_size changed: that takes a restart; the ring buffer keeps its size");
	if (c->bpf_stats != d->bpf_stats)
		say("bpf_stats changed: that takes a restart; BPF run time is still %s",
		    d->bpf_stats ? "counted" : "not counted");
	if (d->no_stacks && any_stacks(c))
		say("stacks turned on: that takes a restart (none were configured at start)");
	if (c->stack_bytes != old->stack_bytes)
		say("stack_bytes changed: that takes a restart; stacks keep their size");
	d->cfg = c;
	if (c->threshold_ns != old->threshold_ns)
		ls_agent__set_threshold(d->agent, c->threshold_ns);
	ls_agent__set_all_waits(d->agent, c->all_waits);
	open_output(d);
	/* counters of processes about to be detached go to the totals first */
	err = snapshot(d);
	if (err)
		say("reading loop counters: %s", strerror(-err));
	for (i = 0; i < d->n_att;) {
		const struct ls_target_spec *spec;

		if (still_wanted(d, &d->att[i], &spec)) {
			resettle(d, &d->att[i], spec);
			i++;
		} else {
			detach(d, i, "no longer in the configuration");
		}
	}
	ls_config__free(old);
	d->n_seen = 0;
	attach_pids(d, false);
	d->next_scan = 0;
	say("configuration reloaded: %zu pid(s), %zu match(es), threshold %.1f ms", c->n_pids,
	    c->n_matches, (double)c->threshold_ns / 1e6);
}

static void usage(FILE *f)
{
	fprintf(f,
		"usage: " PROG " [--config FILE] [-p [NAME=]PID ...] [--match [NAME=]PATTERN ...]\n"
		"                  [--metrics-addr IP:PORT] [--output DIR] [--metrics-file PATH]\n"
		"                  [--threshold DUR] [--ring-size SIZE] [--bpf-stats]\n"
		"                  [--keep-capabilities] [-v]\n"
		"  -c, --config FILE        read settings from FILE (SIGHUP reads it again)\n"
		"  -p, --pid [NAME=]PID     attach to this process\n"
		"  -m, --match [NAME=]PAT   attach to every process whose comm or executable name\n"
		"                           matches the glob PAT, now and as they start; PAT may\n"
		"                           also be or hold cgroup:GLOB, container:ID, pod:UID and\n"
		"                           end with threshold=DUR, stacks=on|off\n"
		"      --metrics-addr ADDR  serve /metrics on ADDR (default " LS_CONFIG_DEFAULT_ADDR
		"; off: none)\n"
		"  -o, --output DIR         write stall records to DIR/" STALLS_FILE ", rotated\n"
		"      --metrics-file PATH  also write the metrics to PATH (node_exporter textfile)\n"
		"      --threshold DUR      a busy period this long is a stall (default 50ms)\n"
		"      --ring-size SIZE     kernel-to-agent ring buffer, a power of two from 4K\n"
		"                           to 1G (K, M, G suffixes; default 1M)\n"
		"      --bpf-stats          count the BPF programs' run time for the self-metrics\n"
		"                           (costs every BPF program on the machine; default off)\n"
		"      --keep-capabilities  do not drop capabilities after start-up\n"
		"  -v, --verbose            show libbpf's messages\n"
		"NAME is the `target` label (default: the process's comm). DUR: a number with a\n"
		"unit (ns, us, ms, s, m); a bare number is milliseconds. See docs/loopstalld.md.\n");
}

static int add_setting(struct daemon *d, const char *key, const char *value, const char *option)
{
	void *grown = realloc(d->settings, (d->n_settings + 1) * sizeof(*d->settings));

	if (!grown)
		return -ENOMEM;
	d->settings = grown;
	d->settings[d->n_settings].key = key;
	d->settings[d->n_settings].value = value;
	d->settings[d->n_settings].option = option;
	d->n_settings++;
	return 0;
}

/* 0 to run, 1 when done (help, version), -EINVAL on bad usage. */
static int parse_args(struct daemon *d, int argc, char **argv)
{
	enum {
		OPT_METRICS_ADDR = 256,
		OPT_METRICS_FILE,
		OPT_THRESHOLD,
		OPT_RING_SIZE,
		OPT_BPF_STATS,
		OPT_KEEP_CAPS,
		OPT_VERSION
	};
	static const struct option opts[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "pid", required_argument, NULL, 'p' },
		{ "match", required_argument, NULL, 'm' },
		{ "metrics-addr", required_argument, NULL, OPT_METRICS_ADDR },
		{ "output", required_argument, NULL, 'o' },
		{ "metrics-file", required_argument, NULL, OPT_METRICS_FILE },
		{ "threshold", required_argument, NULL, OPT_THRESHOLD },
		{ "ring-size", required_argument, NULL, OPT_RING_SIZE },
		{ "bpf-stats", no_argument, NULL, OPT_BPF_STATS },
		{ "keep-capabilities", no_argument, NULL, OPT_KEEP_CAPS },
		{ "verbose", no_argument, NULL, 'v' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, OPT_VERSION },
		{ 0 },
	};
	/* the options that set what loopstalld.conf sets: a value of their own, or the one given */
	static const struct {
		int opt;
		const char *key, *value, *option;
	} settings[] = {
	    {'p', "pid", NULL, "-p"},
	    {'m', "match", NULL, "--match"},
	    {OPT_METRICS_ADDR, "metrics_addr", NULL, "--metrics-addr"},
	    {'o', "output", NULL, "--output"},
	    {OPT_METRICS_FILE, "metrics_file", NULL, "--metrics-file"},
	    {OPT_THRESHOLD, "threshold", NULL, "--threshold"},
	    {OPT_RING_SIZE, "ring_size", NULL, "--ring-size"},
	    {OPT_BPF_STATS, "bpf_stats", "on", "--bpf-stats"},
	    {OPT_KEEP_CAPS, "drop_capabilities", "no", "--keep-capabilities"},
	    {'v', "verbose", "yes", "-v"},
	};
	size_t i;
	int c, err;

	opterr = 0;
	while ((c = getopt_long(argc, argv, ":c:p:m:o:vh", opts, NULL)) != -1) {
		switch (c) {
		case 'c':
			d->config_path = optarg;
			break;
		case 'h':
			usage(stdout);
			return 1;
		case OPT_VERSION:
			printf(PROG " %s\n", LOOPSTALL_VERSION);
			return 1;
		case ':':
			say("%s: missing value (see '" PROG " --help')", argv[optind - 1]);
			return -EINVAL;
		default:
			for (i = 0; i < sizeof(settings) / sizeof(settings[0]); i++)
				if (settings[i].opt == c)
					break;
			if (i == sizeof(settings) / sizeof(settings[0])) {
				say("unknown option '%s' (see '" PROG " --help')",
				    argv[optind - 1]);
				return -EINVAL;
			}
			err = add_setting(d, settings[i].key,
					  settings[i].value ? settings[i].value : optarg,
					  settings[i].option);
			if (err)
				return err;
		}
	}
	if (optind < argc) {
		say("unexpected argument '%s' (see '" PROG " --help')", argv[optind]);
		return -EINVAL;
	}
	return 0;
}

/* Checks that give a clear message before anything is loaded. */
static int preflight(void)
{
	if (geteuid() != 0) {
		say("must run as root (loading BPF programs needs CAP_BPF and CAP_PERFMON)");
		return -EPERM;
	}
	if (access("/sys/kernel/btf/vmlinux", R_OK)) {
		say("this kernel has no BTF (/sys/kernel/btf/vmlinux is missing); "
		    "loopstall needs CONFIG_DEBUG_INFO_BTF=y");
		return -ENOTSUP;
	}
	return 0;
}

static int start_http(struct daemon *d)
{
	struct sockaddr_storage addr;
	socklen_t addr_len;
	int err;

	if (!d->cfg->metrics_addr)
		return 0;
	err = ls_parse_listen_addr(d->cfg->metrics_addr, &addr, &addr_len);
	if (!err)
		err = lsd_http__start((struct sockaddr *)&addr, addr_len, &d->http);
	if (err) {
		say("cannot serve metrics on %s: %s", d->cfg->metrics_addr, strerror(-err));
		return err;
	}
	return 0;
}

static void free_daemon(struct daemon *d)
{
	lsd_http__stop(d->http);
	ls_agent__free(d->agent);
	lsd_stats__free(d->stats);
	ls_config__free(d->cfg);
	ls_bound__free(d->bound);
	free(d->out_dir);
	free(d->att);
	free(d->seen);
	free(d->seen_next);
	free(d->settings);
}

/* End of the run: stalls in progress, the summary, and the last metrics. */
static int finish(struct daemon *d)
{
	const struct ls_run_summary *sum;
	int err;

	err = ls_agent__finish(d->agent, &sum);
	if (err) {
		say("reading the last events: %s", strerror(-err));
		return err;
	}
	if (d->out)
		write_record(d, with_context(d,
					     ls_json_summary(sum, ls_mono_to_unix_ns(sum->start_ns),
							     ls_mono_to_unix_ns(sum->end_ns)),
					     NULL, ls_mono_to_unix_ns(sum->end_ns)));
	publish(d, true);
	err = ls_rotate__close(d->out);
	d->out = NULL;
	if (err && !d->write_failed) {
		say("writing %s/%s: %s", d->out_dir, STALLS_FILE, strerror(-err));
		return err;
	}
	return d->write_failed ? -EIO : 0;
}

int main(int argc, char **argv)
{
	struct ls_agent_ops ops = {
		.stall = on_stall,
		.stall_begin = on_stall_begin,
		.target_exit = on_target_exit,
		.thread_exit = on_thread_exit,
	};
	struct ls_agent_opts opts = { 0 };
	struct daemon d = { .self = getpid() };
	struct sigaction sa;
	char caps[256];
	uint64_t now;
	size_t i;
	int err, ret = 2;

	err = parse_args(&d, argc, argv);
	if (err) {
		free(d.settings);
		return err > 0 ? 0 : 2;
	}
	if (build_config(&d, &d.cfg) || preflight())
		goto cleanup;
	/* refused before anything is loaded */
	for (i = 0; i < d.cfg->n_pids; i++)
		if (refuse_kthread(d.cfg->pids[i].pid))
			goto cleanup;
	if (!d.cfg->n_pids && !d.cfg->n_matches)
		say("no targets yet (no -p, no --match): waiting for a configuration (SIGHUP)");

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);

	err = lsd_stats__new(&d.stats);
	if (err)
		goto cleanup;
	if (open_output(&d) || start_http(&d))
		goto cleanup;
	opts.threshold_ns = d.cfg->threshold_ns;
	/* CPU sampling starts at a fifth of it, for every target: the lowest one sets it */
	for (i = 0; i < d.cfg->n_pids + d.cfg->n_matches; i++) {
		const struct ls_target_spec *spec = i < d.cfg->n_pids
							? &d.cfg->pids[i]
							: &d.cfg->matches[i - d.cfg->n_pids];

		if (spec->threshold_ns && spec->threshold_ns < opts.threshold_ns)
			opts.threshold_ns = spec->threshold_ns;
	}
	opts.stack_bytes = d.cfg->stack_bytes;
	/* the same for every target: without them anywhere, none are copied at all */
	opts.no_stacks = !any_stacks(d.cfg);
	if (gethostname(d.host, sizeof(d.host) - 1))
		d.host[0] = '\0';
	opts.verbose = d.cfg->verbose;
	opts.ring_bytes = d.cfg->ring_bytes;
	opts.bpf_stats = d.cfg->bpf_stats;
	opts.all_waits = d.cfg->all_waits;
	d.ring_bytes = d.cfg->ring_bytes;
	d.no_stacks = opts.no_stacks;
	d.bpf_stats = d.cfg->bpf_stats;
	err = ls_agent__new(&opts, &ops, &d, &d.agent);
	if (err) {
		say("cannot load the BPF programs: %s%s", strerror(-err),
		    d.cfg->verbose ? "" : " (run with -v for libbpf's messages)");
		goto cleanup;
	}
	if (attach_pids(&d, true))
		goto cleanup;
	if (d.cfg->drop_caps) {
		err = lsd_drop_caps(caps, sizeof(caps));
		if (err)
			say("cannot drop capabilities: %s; running with all of them", strerror(-err));
		else
			say("capabilities kept: %s", caps);
	}
	if (d.http) {
		const char *addr = d.cfg->metrics_addr;

		/* the port actually bound: port 0 asks for any free one */
		say("serving metrics on http://%.*s:%u/metrics", (int)(strrchr(addr, ':') - addr),
		    addr, lsd_http__port(d.http));
	}
	/* /metrics has something to say from the first scrape on */
	publish(&d, true);
	say("running: %zu pid(s), %zu match(es), threshold %.1f ms", d.cfg->n_pids,
	    d.cfg->n_matches, (double)d.cfg->threshold_ns / 1e6);

	ret = 1;
	while (!stop_signal) {
		err = ls_agent__poll(d.agent, POLL_MS);
		if (err) {
			say("reading events: %s", strerror(-err));
			goto cleanup;
		}
		if (d.exits_pending)
			drop_exited(&d);
		if (reload_signal)
			reload(&d);
		now = ls_now_ns();
		if (now >= d.next_scan) {
			d.next_scan = now + d.cfg->scan_interval_ns;
			scan(&d);
		}
		if (now >= d.next_publish)
			publish(&d, false);
	}
	say("stopping (%s)", strsignal(stop_signal));
	if (!finish(&d))
		ret = 0;
cleanup:
	free_daemon(&d);
	return ret;
}
