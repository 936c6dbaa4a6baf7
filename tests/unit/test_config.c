// SPDX-License-Identifier: BSD-2-Clause
/* loopstalld's configuration parser (config.c) and its process matching. */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>
#include "cgroup.h"
#include "config.h"
#include "size.h"

static struct ls_config *fresh(void)
{
	struct ls_config *c;

	assert_int_equal(ls_config__new(&c), 0);
	return c;
}

static void test_defaults(void **state)
{
	struct ls_config *c = fresh();

	(void)state;
	assert_int_equal(c->threshold_ns, 50000000);
	assert_string_equal(c->metrics_addr, "127.0.0.1:9464");
	assert_null(c->metrics_file);
	assert_null(c->output_dir);
	assert_int_equal(c->output_max_bytes, 16 << 20);
	assert_int_equal(c->output_keep, 5);
	assert_int_equal(c->output_max_line, 16384);
	assert_int_equal(c->scan_interval_ns, 250000000);
	assert_int_equal(c->metrics_file_interval_ns, 10000000000ull);
	assert_true(c->drop_caps);
	assert_false(c->verbose);
	assert_int_equal(c->ring_bytes, 0);
	assert_false(c->bpf_stats);
	assert_int_equal(c->n_pids, 0);
	assert_int_equal(c->n_matches, 0);
	ls_config__free(c);
}

static void test_full_file(void **state)
{
	static const char text[] =
		"# loopstalld.conf\n"
		"\n"
		"  threshold = 20ms\r\n"
		"; ini-style comment\n"
		"match = redis-server\n"
		"match=api = node\n"
		"pid = 1234\n"
		"pid = web=42\n"
		"metrics_addr = [::1]:9100\n"
		"metrics_file = /var/lib/node_exporter/textfile/loopstall.prom\n"
		"metrics_file_interval = 30s\n"
		"output = /var/log/loopstall\n"
		"output_max_size = 8MiB\n"
		"output_keep = 0\n"
		"output_max_line = 32K\n"
		"scan_interval = 100ms\n"
		"drop_capabilities = no\n"
		"verbose = yes\n"
		"threshold = 25   \n";
	struct ls_config *c = fresh();
	char err[256] = "";

	(void)state;
	assert_int_equal(ls_config__parse(c, text, "t.conf", err, sizeof(err)), 0);
	/* a later scalar wins */
	assert_int_equal(c->threshold_ns, 25000000);
	assert_int_equal(c->n_matches, 2);
	assert_string_equal(c->matches[0].pattern, "redis-server");
	assert_null(c->matches[0].label);
	/* the first '=' ends the key, the next one the label */
	assert_string_equal(c->matches[1].label, "api");
	assert_string_equal(c->matches[1].pattern, "node");
	assert_int_equal(c->n_pids, 2);
	assert_int_equal(c->pids[0].pid, 1234);
	assert_null(c->pids[0].label);
	assert_int_equal(c->pids[1].pid, 42);
	assert_string_equal(c->pids[1].label, "web");
	assert_string_equal(c->metrics_addr, "[::1]:9100");
	assert_string_equal(c->metrics_file, "/var/lib/node_exporter/textfile/loopstall.prom");
	assert_int_equal(c->metrics_file_interval_ns, 30000000000ull);
	assert_string_equal(c->output_dir, "/var/log/loopstall");
	assert_int_equal(c->output_max_bytes, 8 << 20);
	assert_int_equal(c->output_keep, 0);
	assert_int_equal(c->output_max_line, 32768);
	assert_int_equal(c->scan_interval_ns, 100000000);
	assert_false(c->drop_caps);
	assert_true(c->verbose);
	ls_config__free(c);
}

/* Each bad line is refused with its file name and line number. */
static void test_errors(void **state)
{
	static const struct {
		const char *text;
		const char *msg;
	} cases[] = {
		{ "threshold 20ms\n", "t.conf:1: expected 'key = value'" },
		{ "\n# x\ntreshold = 20ms\n", "t.conf:3: unknown key 'treshold'" },
		{ "threshold = fast\n", "t.conf:1: threshold: 'fast' is not a duration" },
		{ "threshold = 0\n", "t.conf:1: threshold: '0'" },
		{ "scan_interval = 1ms\n", "t.conf:1: scan_interval: '1ms'" },
		{ "pid = abc\n", "t.conf:1: pid: 'abc' is not [NAME=]PID" },
		{ "pid = 0\n", "t.conf:1: pid: '0'" },
		{ "pid = 99999999999\n", "t.conf:1: pid: '99999999999'" },
		{ "pid = =5\n", "t.conf:1: pid: '=5': the name" },
		{ "match =\n", "t.conf:1: match: '': empty pattern" },
		{ "match = a=\n", "t.conf:1: match: 'a=': empty pattern" },
		{ "metrics_addr = localhost:9464\n", "t.conf:1: metrics_addr: 'localhost:9464'" },
		{ "metrics_addr = 127.0.0.1\n", "t.conf:1: metrics_addr" },
		{ "metrics_addr = 127.0.0.1:70000\n", "t.conf:1: metrics_addr" },
		{ "output_max_size = 10\n", "t.conf:1: output_max_size: '10'" },
		{ "output_max_size = 10T\n", "t.conf:1: output_max_size" },
		{ "output_keep = -1\n", "t.conf:1: output_keep" },
		{ "output_max_line = 1023\n", "t.conf:1: output_max_line: '1023' is not a size from 1K" },
		{ "output_max_line = 65M\n", "t.conf:1: output_max_line: '65M'" },
		{ "output_max_line = none\n", "t.conf:1: output_max_line: 'none'" },
		{ "verbose = maybe\n", "t.conf:1: verbose: 'maybe' is not yes or no" },
		{ "= 3\n", "t.conf:1: unknown key ''" },
		{ "match = container:XYZ\n", "t.conf:1: match: container:'XYZ': expected 1 to 64" },
		{ "match = container:\n", "t.conf:1: match: container:'': expected" },
		{ "match = pod:12_34\n", "t.conf:1: match: pod:'12_34'" },
		{ "match = cgroup:\n", "t.conf:1: match: cgroup:'': empty pattern" },
		{ "match = cgroup:/a cgroup:/b\n", "t.conf:1: match: two cgroup selectors" },
		{ "match = threshold=20ms\n", "t.conf:1: match: 'threshold=20ms': empty pattern" },
		{ "match = node threshold=fast\n", "t.conf:1: match: 'threshold=fast' is not" },
		{ "match = node threshold=0\n", "t.conf:1: match: 'threshold=0' is not" },
		{ "match = node stacks=maybe\n", "t.conf:1: match: 'stacks=maybe' is not" },
		{ "pid = 5 stacks=1x\n", "t.conf:1: pid: 'stacks=1x' is not" },
		{ "match = node treshold=1\n", "t.conf:1: match: 'node treshold=1': a name has no spaces" },
		{ "match = api=node stack=off\n", "t.conf:1: match: 'stack=off': unknown setting" },
		{ "stack_bytes = 1000\n", "t.conf:1: stack_bytes: '1000' is not a multiple of 512" },
		{ "stack_bytes = 64K\n", "t.conf:1: stack_bytes: '64K'" },
		{ "stacks = few\n", "t.conf:1: stacks: 'few' is not on or off" },
	};
	char err[256];
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct ls_config *c = fresh();

		err[0] = '\0';
		if (ls_config__parse(c, cases[i].text, "t.conf", err, sizeof(err)) != -EINVAL)
			fail_msg("accepted: %s", cases[i].text);
		if (strncmp(err, cases[i].msg, strlen(cases[i].msg)))
			fail_msg("'%s': message '%s', expected it to start with '%s'",
				 cases[i].text, err, cases[i].msg);
		ls_config__free(c);
	}
}

/* The command line reuses ls_config__set: optional paths can be turned off. */
static void test_set_and_off(void **state)
{
	struct ls_config *c = fresh();
	char err[256];

	(void)state;
	assert_int_equal(ls_config__set(c, "metrics_addr", "off", err, sizeof(err)), 0);
	assert_null(c->metrics_addr);
	assert_int_equal(ls_config__set(c, "metrics_addr", "127.0.0.1:0", err, sizeof(err)), 0);
	assert_string_equal(c->metrics_addr, "127.0.0.1:0");
	assert_int_equal(ls_config__set(c, "output", "/tmp/x", err, sizeof(err)), 0);
	assert_int_equal(ls_config__set(c, "output", "", err, sizeof(err)), 0);
	assert_null(c->output_dir);
	assert_int_equal(ls_config__set(c, "output_max_line", "off", err, sizeof(err)), 0);
	assert_int_equal(c->output_max_line, 0);
	assert_int_equal(ls_config__set(c, "match", "py=python3*", err, sizeof(err)), 0);
	assert_int_equal(ls_config__set(c, "match", "node", err, sizeof(err)), 0);
	assert_int_equal(c->n_matches, 2);
	ls_config__free(c);
}

/* The agent's own settings: ring_size and bpf_stats, in a file and as options. */
static void test_agent_settings(void **state)
{
	static const struct {
		const char *text;
		const char *msg;
	} bad[] = {
	    {"bpf_stats = maybe\n", "t.conf:1: bpf_stats: 'maybe' is not on or off"},
	    {"bpf_stats =\n", "t.conf:1: bpf_stats: '' is not on or off"},
	    {"ring_size = 3M\n", "t.conf:1: ring_size: '3M' is not a power of two from 4K to 1G"},
	    {"ring_size = 2K\n", "t.conf:1: ring_size: '2K'"},
	    {"ring_size = 2G\n", "t.conf:1: ring_size: '2G'"},
	    {"ring_size = 0\n", "t.conf:1: ring_size: '0'"},
	    {"ring_size =\n", "t.conf:1: ring_size: ''"},
	    {"ring_size = 4MX\n", "t.conf:1: ring_size: '4MX'"},
	};
	struct ls_config *c = fresh();
	char err[256] = "";
	size_t i;

	(void)state;
	assert_int_equal(
	    ls_config__parse(c, "ring_size = 8M\nbpf_stats = on\n", "t.conf", err, sizeof(err)), 0);
	assert_int_equal(c->ring_bytes, 8 << 20);
	assert_true(c->bpf_stats);
	/* loopstalld's --ring-size and --bpf-stats; a refused value changes nothing */
	assert_int_equal(ls_config__set(c, "ring_size", "256K", err, sizeof(err)), 0);
	assert_int_equal(c->ring_bytes, 256 << 10);
	assert_int_equal(ls_config__set(c, "bpf_stats", "off", err, sizeof(err)), 0);
	assert_false(c->bpf_stats);
	assert_false(c->all_waits);
	assert_int_equal(ls_config__set(c, "all_waits", "yes", err, sizeof(err)), 0);
	assert_true(c->all_waits);
	assert_int_equal(ls_config__set(c, "all_waits", "maybe", err, sizeof(err)), -EINVAL);
	assert_string_equal(err, "all_waits: 'maybe' is not yes or no");
	assert_true(c->all_waits);
	assert_int_equal(ls_config__set(c, "ring_size", "5K", err, sizeof(err)), -EINVAL);
	assert_string_equal(err,
			    "ring_size: '5K' is not a power of two from 4K to 1G (e.g. 256K, 4M)");
	assert_int_equal(c->ring_bytes, 256 << 10);
	ls_config__free(c);

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		c = fresh();
		err[0] = '\0';
		if (ls_config__parse(c, bad[i].text, "t.conf", err, sizeof(err)) != -EINVAL)
			fail_msg("accepted: %s", bad[i].text);
		if (strncmp(err, bad[i].msg, strlen(bad[i].msg)))
			fail_msg("'%s': message '%s', expected it to start with '%s'", bad[i].text,
				 err, bad[i].msg);
		ls_config__free(c);
	}
}

static void test_ring_size(void **state)
{
	uint32_t n;

	(void)state;
	assert_int_equal(ls_parse_ring_size("4K", &n), 0);
	assert_int_equal(n, 4096);
	assert_int_equal(ls_parse_ring_size("4096", &n), 0);
	assert_int_equal(n, 4096);
	assert_int_equal(ls_parse_ring_size("1m", &n), 0);
	assert_int_equal(n, 1 << 20);
	assert_int_equal(ls_parse_ring_size("512MiB", &n), 0);
	assert_int_equal(n, 512 << 20);
	assert_int_equal(ls_parse_ring_size("1G", &n), 0);
	assert_int_equal(n, 1u << 30);
	n = 7;
	assert_int_equal(ls_parse_ring_size("2K", &n), -EINVAL);
	assert_int_equal(ls_parse_ring_size("2G", &n), -EINVAL);
	assert_int_equal(ls_parse_ring_size("4294967296", &n), -EINVAL);
	assert_int_equal(ls_parse_ring_size("6K", &n), -EINVAL);
	assert_int_equal(ls_parse_ring_size("1000000", &n), -EINVAL);
	assert_int_equal(ls_parse_ring_size("0", &n), -EINVAL);
	assert_int_equal(ls_parse_ring_size("", &n), -EINVAL);
	assert_int_equal(ls_parse_ring_size("-4K", &n), -EINVAL);
	assert_int_equal(ls_parse_ring_size("17179869184G", &n), -EINVAL);
	assert_int_equal(n, 7); /* untouched on error */
}

static void test_match(void **state)
{
	struct ls_config *c = fresh();
	const struct ls_target_spec *m;
	char err[256];

	(void)state;
	assert_int_equal(ls_config__parse(c,
					  "match = py=python3*\n"
					  "match = loopstall-demo-service\n"
					  "match = redis-server\n",
					  "t", err, sizeof(err)),
			 0);
	m = ls_config__match(c, "python3", "python3.11");
	assert_non_null(m);
	assert_string_equal(m->label, "py");
	/* comm is cut at 15 characters: the executable's name still matches */
	m = ls_config__match(c, "loopstall-demo-", "loopstall-demo-service");
	assert_non_null(m);
	assert_string_equal(m->pattern, "loopstall-demo-service");
	assert_null(ls_config__match(c, "loopstall-demo-", NULL));
	/* a renamed thread (comm) still matches by its executable */
	assert_non_null(ls_config__match(c, "io-thread", "redis-server"));
	assert_null(ls_config__match(c, "bash", "bash"));
	assert_null(ls_config__match(c, "redis-server2", NULL));
	/* glob, not substring */
	assert_null(ls_config__match(c, "xpython3", "xpython3"));
	ls_config__free(c);
}

/* Rules by cgroup, container and pod, and each rule's own settings. */
static void test_match_where(void **state)
{
	static const struct ls_cgroup docker = {
		.path = "/system.slice/docker-3f2a1b0c9d8e7f6a5b4c3d2e1f0a9b8c7d6e5f4a3b2c1d0e9f8a7b6c5d4e3f2a.scope",
		.container_id = "3f2a1b0c9d8e7f6a5b4c3d2e1f0a9b8c7d6e5f4a3b2c1d0e9f8a7b6c5d4e3f2a",
	};
	static const struct ls_cgroup pod = {
		.path = "/kubepods/burstable/pod1b2c3d4e-5f60-4718-8a9b-0c1d2e3f4a5b/ab",
		.pod_uid = "1b2c3d4e-5f60-4718-8a9b-0c1d2e3f4a5b",
	};
	static const struct ls_cgroup host = { .path = "/user.slice" };
	struct ls_config *c = fresh();
	const struct ls_target_spec *m;
	char err[256];

	(void)state;
	assert_false(ls_config__needs_cgroup(c));
	assert_int_equal(ls_config__parse(c,
					  "threshold = 100ms\n"
					  "stacks = off\n"
					  "stack_bytes = 8K\n"
					  "match = web=python3* container:3f2a threshold=20ms stacks=on\n"
					  "match = k8s=pod:1b2c3d4e-5f60\n"
					  "match = dock=cgroup:*docker-*.scope\n"
					  "match = tmux: server threshold=1s\n"
					  "pid = one=4321 threshold=2ms\n",
					  "t", err, sizeof(err)),
			 0);
	assert_true(ls_config__needs_cgroup(c));
	assert_int_equal(c->stack_bytes, 8192);
	assert_false(c->stacks);
	/* every selector of a rule must hold: the python in the container */
	m = ls_config__match_proc(c, "python3", NULL, &docker);
	assert_non_null(m);
	assert_string_equal(m->label, "web");
	assert_string_equal(m->pattern, "python3*");
	assert_string_equal(m->container, "3f2a");
	assert_int_equal(ls_config__threshold(c, m), 20000000);
	assert_true(ls_config__stacks(c, m));
	/* another program in it falls to the cgroup rule */
	m = ls_config__match_proc(c, "node", NULL, &docker);
	assert_non_null(m);
	assert_string_equal(m->label, "dock");
	assert_int_equal(ls_config__threshold(c, m), 100000000);
	assert_false(ls_config__stacks(c, m));
	m = ls_config__match_proc(c, "anything", NULL, &pod);
	assert_non_null(m);
	assert_string_equal(m->label, "k8s");
	/* where it runs unknown, or on the host: only name rules */
	assert_null(ls_config__match_proc(c, "python3", NULL, NULL));
	assert_null(ls_config__match_proc(c, "python3", NULL, &host));
	assert_null(ls_config__match(c, "node", "node"));
	/* spaces inside a name glob still work; the settings come off the end */
	m = ls_config__match(c, "tmux: server", NULL);
	assert_non_null(m);
	assert_string_equal(m->pattern, "tmux: server");
	assert_int_equal(ls_config__threshold(c, m), 1000000000);
	assert_int_equal(c->pids[0].pid, 4321);
	assert_string_equal(c->pids[0].label, "one");
	assert_int_equal(ls_config__threshold(c, &c->pids[0]), 2000000);
	assert_int_equal(ls_config__threshold(c, NULL), 100000000);
	ls_config__free(c);
}

static void test_size(void **state)
{
	uint64_t n;

	(void)state;
	assert_int_equal(ls_parse_size("4096", &n), 0);
	assert_int_equal(n, 4096);
	assert_int_equal(ls_parse_size("16K", &n), 0);
	assert_int_equal(n, 16384);
	assert_int_equal(ls_parse_size("16mb", &n), 0);
	assert_int_equal(n, 16 << 20);
	assert_int_equal(ls_parse_size("2GiB", &n), 0);
	assert_int_equal(n, 2ull << 30);
	assert_int_equal(ls_parse_size("", &n), -EINVAL);
	assert_int_equal(ls_parse_size("-1", &n), -EINVAL);
	assert_int_equal(ls_parse_size("1X", &n), -EINVAL);
	assert_int_equal(ls_parse_size("1KBB", &n), -EINVAL);
	assert_int_equal(ls_parse_size("99999999999999999999", &n), -ERANGE);
	assert_int_equal(ls_parse_size("17179869184G", &n), -ERANGE);
}

static void test_listen_addr(void **state)
{
	struct sockaddr_storage ss;
	struct sockaddr_in *in = (struct sockaddr_in *)&ss;
	struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)&ss;
	socklen_t len;

	(void)state;
	assert_int_equal(ls_parse_listen_addr("127.0.0.1:9464", &ss, &len), 0);
	assert_int_equal(in->sin_family, AF_INET);
	assert_int_equal(ntohs(in->sin_port), 9464);
	assert_int_equal(ntohl(in->sin_addr.s_addr), 0x7f000001);
	assert_int_equal(len, sizeof(*in));
	assert_int_equal(ls_parse_listen_addr("0.0.0.0:0", &ss, &len), 0);
	assert_int_equal(ls_parse_listen_addr("[::1]:9464", &ss, &len), 0);
	assert_int_equal(in6->sin6_family, AF_INET6);
	assert_int_equal(ntohs(in6->sin6_port), 9464);
	assert_int_equal(len, sizeof(*in6));
	assert_int_equal(ls_parse_listen_addr("::1:9464", &ss, &len), -EINVAL);
	assert_int_equal(ls_parse_listen_addr(":9464", &ss, &len), -EINVAL);
	assert_int_equal(ls_parse_listen_addr("127.0.0.1:", &ss, &len), -EINVAL);
	assert_int_equal(ls_parse_listen_addr("127.0.0.1:x", &ss, &len), -EINVAL);
	assert_int_equal(ls_parse_listen_addr("[::1:9464", &ss, &len), -EINVAL);
	assert_int_equal(ls_parse_listen_addr("host:9464", &ss, &len), -EINVAL);
}

static void test_load_file(void **state)
{
	char path[] = "/tmp/loopstall-config-XXXXXX", err[256];
	static const char text[] = "threshold = 1s\nmatch = x\n";
	struct ls_config *c = fresh();
	int fd;

	(void)state;
	fd = mkstemp(path);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, text, sizeof(text) - 1), sizeof(text) - 1);
	close(fd);
	assert_int_equal(ls_config__load(c, path, err, sizeof(err)), 0);
	assert_int_equal(c->threshold_ns, 1000000000ull);
	assert_int_equal(c->n_matches, 1);
	unlink(path);
	assert_int_equal(ls_config__load(c, path, err, sizeof(err)), -ENOENT);
	assert_non_null(strstr(err, "No such file"));
	ls_config__free(c);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_defaults),    cmocka_unit_test(test_full_file),
		cmocka_unit_test(test_errors),	    cmocka_unit_test(test_set_and_off),
		cmocka_unit_test(test_match),	    cmocka_unit_test(test_size),
		cmocka_unit_test(test_match_where),
		cmocka_unit_test(test_ring_size),   cmocka_unit_test(test_agent_settings),
		cmocka_unit_test(test_listen_addr), cmocka_unit_test(test_load_file),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
