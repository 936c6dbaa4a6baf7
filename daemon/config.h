/* SPDX-License-Identifier: BSD-2-Clause */
#ifndef LOOPSTALL_CONFIG_H
#define LOOPSTALL_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>
#include <sys/types.h>

/*
 * loopstalld's configuration: `key = value` lines (docs/loopstalld.md lists
 * the keys). Command-line options are the same settings, applied after the
 * file, so a reload (SIGHUP) is: defaults, then the file, then the options.
 * Functions return 0 or -errno and describe a failure in err.
 */

struct ls_cgroup;

/*
 * What loopstalld attaches to: one process, or every process matching a
 * rule, and the settings of what it attaches. A match rule holds at least
 * one selector; a process matches when every selector it has does.
 */
struct ls_target_spec {
	char *label;	       /* the `target` label; NULL: the process's comm */
	char *pattern;	       /* match: glob on comm or on the executable's basename; NULL: any */
	char *cgroup;	       /* match: glob on the cgroup path (cgroup:GLOB); NULL: any */
	char *container;       /* match: container id prefix (container:HEX); NULL: any */
	char *pod;	       /* match: pod uid prefix (pod:UID); NULL: any */
	pid_t pid;	       /* pid: this process */
	uint64_t threshold_ns; /* threshold=DUR; 0: the global threshold */
	int stacks;	       /* stacks=on|off: 1 or 0; -1: the global setting */
};

struct ls_config {
	uint64_t threshold_ns;
	bool stacks;	      /* stacks of stalls in records; a rule's stacks= overrides it */
	uint32_t stack_bytes; /* user stack copied per stack: taken at start only */
	char *metrics_addr;   /* "IP:PORT"; NULL: no HTTP endpoint */
	char *metrics_file;   /* also write the exposition here (textfile collector) */
	uint64_t metrics_file_interval_ns;
	char *output_dir;	   /* JSON Lines stall records; NULL: none */
	uint64_t output_max_bytes; /* rotate stalls.jsonl at this size */
	unsigned output_keep;	   /* rotated files kept */
	uint64_t output_max_line;  /* longest record line, newline counted; 0: unbounded */
	uint64_t scan_interval_ns; /* how often /proc is searched for matches */
	bool drop_caps;		   /* give up capabilities once BPF is loaded */
	bool verbose;
	uint32_t ring_bytes; /* the agent's ring buffer; 0: its default (taken at start only) */
	bool bpf_stats;	     /* count BPF run time: costs every BPF program on the machine */
	bool all_waits;	     /* hook every wait call, not only those the targets' loops use */
	struct ls_target_spec *pids;
	size_t n_pids;
	struct ls_target_spec *matches;
	size_t n_matches;
};

#define LS_CONFIG_DEFAULT_ADDR "127.0.0.1:9464"

/* A configuration with every default set. */
int ls_config__new(struct ls_config **out);
void ls_config__free(struct ls_config *c);
/* Apply one setting (a later value replaces a scalar; pid and match add up). */
int ls_config__set(struct ls_config *c, const char *key, const char *value, char *err,
		   size_t err_len);
/* Apply the lines of a configuration file; where names it in messages. */
int ls_config__parse(struct ls_config *c, const char *text, const char *where, char *err,
		     size_t err_len);
int ls_config__load(struct ls_config *c, const char *path, char *err, size_t err_len);
/*
 * The first match spec whose pattern matches comm or exe (the basename of
 * the process's executable; NULL when unknown), or NULL.
 */
const struct ls_target_spec *ls_config__match(const struct ls_config *c, const char *comm,
					      const char *exe);
/*
 * The same with where the process runs (NULL when unknown: then rules that
 * select by cgroup, container or pod do not match).
 */
const struct ls_target_spec *ls_config__match_proc(const struct ls_config *c, const char *comm,
						   const char *exe, const struct ls_cgroup *cg);
/* Whether any match rule needs the processes' cgroups. */
bool ls_config__needs_cgroup(const struct ls_config *c);
/* A target's settings: its rule's, else the configuration's (spec may be NULL). */
uint64_t ls_config__threshold(const struct ls_config *c, const struct ls_target_spec *spec);
bool ls_config__stacks(const struct ls_config *c, const struct ls_target_spec *spec);

/* "IPv4:PORT" or "[IPv6]:PORT" into a socket address. */
int ls_parse_listen_addr(const char *text, struct sockaddr_storage *addr, socklen_t *addr_len);

#endif
