// SPDX-License-Identifier: BSD-2-Clause
/*
 * `loopstall demo`: record the bundled libev demo service, which blocks its
 * loop once with a sleep, once with CPU work, and once does it right (a
 * thread pool), then show what was found.
 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>
#include <cjson/cJSON.h>
#include "cli.h"
#include "commands.h"

#define DEMO_SERVICE "loopstall-demo-service"
/* Where an install puts it, relative to loopstall's own directory (CMake). */
#ifndef LOOPSTALL_DEMO_DIR
#define LOOPSTALL_DEMO_DIR "../libexec/loopstall"
#endif

/* DIR/NAME (DIR NULL: NAME), relative to the directory of the loopstall binary. */
static int relative_path(const char *dir, const char *name, char *buf, size_t len)
{
	char self[PATH_MAX];
	ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);
	char *slash;

	if (n < 0)
		return -errno;
	self[n] = '\0';
	slash = strrchr(self, '/');
	if (!slash)
		return -ENOENT;
	*slash = '\0';
	if ((size_t)snprintf(buf, len, "%s/%s%s%s", self, dir ? dir : "", dir ? "/" : "", name) >=
	    len)
		return -ENAMETOOLONG;
	return access(buf, X_OK) ? -errno : 0;
}

/* Next to loopstall in a build tree, in the libexec directory once installed. */
static int find_service(char *buf, size_t len)
{
	if (!relative_path(NULL, DEMO_SERVICE, buf, len))
		return 0;
	return relative_path(LOOPSTALL_DEMO_DIR, DEMO_SERVICE, buf, len);
}

static double num(const cJSON *o, const char *key)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);

	return cJSON_IsNumber(v) ? v->valuedouble : 0.0;
}

static const char *str(const cJSON *o, const char *key)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);

	return cJSON_IsString(v) ? v->valuestring : "?";
}

/* The first frames of a stack, one per line: where the time went. */
static void print_stack(const cJSON *stack, const char *indent)
{
	const cJSON *f;
	int shown = 0;

	cJSON_ArrayForEach(f, stack) {
		const cJSON *line = cJSON_GetObjectItemCaseSensitive(f, "line");
		const cJSON *file = cJSON_GetObjectItemCaseSensitive(f, "file");

		if (shown++ == 8) {
			printf("%s...\n", indent);
			break;
		}
		if (cJSON_IsString(file) && cJSON_IsNumber(line))
			printf("%s%s  %s:%d\n", indent, str(f, "symbol"), file->valuestring,
			       line->valueint);
		else
			printf("%s%s  (%s)\n", indent, str(f, "symbol"), str(f, "module"));
	}
}

static void print_stall(const cJSON *rec, int n)
{
	const cJSON *cpu = cJSON_GetObjectItemCaseSensitive(rec, "cpu_stacks");
	const cJSON *calls = cJSON_GetObjectItemCaseSensitive(rec, "syscalls"), *call;
	int shown = 0;

	printf("  #%d  %.1f ms  %-16s on-CPU %.1f ms, blocked %.1f ms, run queue %.1f ms\n", n,
	       num(rec, "duration_ms"), str(rec, "cause"), num(rec, "on_cpu_ms"),
	       num(rec, "off_cpu_ms"), num(rec, "runqueue_ms"));
	cJSON_ArrayForEach(call, calls) {
		const cJSON *target = cJSON_GetObjectItemCaseSensitive(call, "target");

		if (shown++ == 3)
			break;
		printf("      %s x%.0f  %.1f ms%s%s\n", str(call, "name"), num(call, "count"),
		       num(call, "total_ms"), cJSON_IsString(target) ? "  on " : "",
		       cJSON_IsString(target) ? target->valuestring : "");
		print_stack(cJSON_GetObjectItemCaseSensitive(call, "stack"), "        ");
	}
	if (!strcmp(str(rec, "cause"), "cpu") && cJSON_GetArraySize(cpu) > 0) {
		const cJSON *hot = cJSON_GetArrayItem(cpu, 0);

		printf("      hottest of %.0f CPU samples (%.0f):\n", num(rec, "cpu_samples"),
		       num(hot, "samples"));
		print_stack(cJSON_GetObjectItemCaseSensitive(hot, "stack"), "        ");
	}
	printf("      advice: %s\n", str(rec, "advice"));
}

static void print_summary(const cJSON *rec)
{
	const cJSON *threads = cJSON_GetObjectItemCaseSensitive(rec, "threads"), *t;

	printf("recorded %.2f s, threshold %.0f ms, %.0f stall(s), %.0f event(s) lost\n",
	       num(rec, "recorded_ms") / 1e3, num(rec, "threshold_ms"), num(rec, "stalls"),
	       num(rec, "lost_events"));
	cJSON_ArrayForEach(t, threads) {
		const cJSON *gap = cJSON_GetObjectItemCaseSensitive(t, "heartbeat_gap_ms");

		printf("loop thread %.0f (%s): %.0f iterations, busy %.1f %%, heartbeat gap "
		       "p50 %.2f ms, p99 %.1f ms, max %.1f ms\n",
		       num(t, "tid"), str(t, "comm"), num(t, "iterations"),
		       100.0 * num(t, "busy_ratio"), num(gap, "p50"), num(gap, "p99"),
		       num(gap, "max"));
	}
}

static int show(const char *path)
{
	char *line = NULL;
	size_t cap = 0;
	int n = 0, lineno = 0;
	FILE *f = fopen(path, "re");

	if (!f) {
		cli_error("demo: cannot read %s: %s", path, strerror(errno));
		return 1;
	}
	printf("\nstalls found:\n");
	while (getline(&line, &cap, f) > 0) {
		cJSON *rec = cJSON_Parse(line);
		const char *type;

		lineno++;
		if (!rec) {
			cli_error("demo: %s:%d: not JSON", path, lineno);
			continue;
		}
		type = str(rec, "type");
		if (!strcmp(type, "stall"))
			print_stall(rec, ++n);
		else if (!strcmp(type, "summary"))
			print_summary(rec);
		cJSON_Delete(rec);
	}
	if (!n)
		printf("  none\n");
	free(line);
	fclose(f);
	printf("JSON records: %s\n", path);
	printf("Next: loopstall report %s    (or: loopstall doctor %s)\n", path, path);
	return 0;
}

int cmd_demo(int argc, char **argv)
{
	char service[PATH_MAX], self[PATH_MAX], out[] = "/tmp/loopstall-demo-XXXXXX.jsonl";
	int fd, status;
	ssize_t n;
	pid_t pid;

	if (argc > 1 && (!strcmp(argv[1], "-h") || !strcmp(argv[1], "--help"))) {
		printf("usage: loopstall demo\n"
		       "Runs " DEMO_SERVICE " under 'loopstall record' and prints its stalls.\n");
		return 0;
	}
	if (argc > 1) {
		cli_error("demo: unexpected argument '%s'", argv[1]);
		return 2;
	}
	if (find_service(service, sizeof(service))) {
		cli_error("demo: cannot find %s next to the loopstall binary or in its "
			  "directory's " LOOPSTALL_DEMO_DIR,
			  DEMO_SERVICE);
		return 2;
	}
	n = readlink("/proc/self/exe", self, sizeof(self) - 1);
	if (n < 0) {
		cli_error("demo: cannot find the loopstall binary: %s", strerror(errno));
		return 2;
	}
	self[n] = '\0';
	fd = mkstemps(out, 6);
	if (fd < 0) {
		cli_error("demo: cannot create a temporary file: %s", strerror(errno));
		return 1;
	}
	close(fd);

	printf(
	    "Recording the libev demo service: a callback that sleeps 300 ms, one that "
	    "computes for 200 ms,\nand a 300 ms sleep handed to a thread pool (the right way).\n");
	fflush(stdout);
	pid = fork();
	if (pid < 0) {
		cli_error("demo: fork: %s", strerror(errno));
		return 1;
	}
	if (pid == 0) {
		execl(self, self, "record", "-o", out, "--", service, (char *)NULL);
		_exit(127);
	}
	if (waitpid(pid, &status, 0) < 0 || !WIFEXITED(status) || WEXITSTATUS(status)) {
		cli_error("demo: recording failed");
		return WIFEXITED(status) && WEXITSTATUS(status) == 2 ? 2 : 1;
	}
	return show(out);
}
