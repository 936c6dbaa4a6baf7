// SPDX-License-Identifier: BSD-2-Clause
#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <fnmatch.h>
#include <limits.h>
#include <stdarg.h>
#include <netinet/in.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "agent.h"
#include "bound.h"
#include "cgroup.h"
#include "config.h"
#include "duration.h"
#include "size.h"

/* Longest `target` label: label values are bounded, and shown in legends. */
#define LABEL_MAX 64
/* A config file is a few lines; anything this large is a wrong path. */
#define FILE_MAX (1 << 20)

int ls_config__new(struct ls_config **out)
{
	struct ls_config *c = calloc(1, sizeof(*c));

	if (!c)
		return -ENOMEM;
	c->threshold_ns = 50000000ull;
	c->stacks = true;
	c->metrics_addr = strdup(LS_CONFIG_DEFAULT_ADDR);
	if (!c->metrics_addr) {
		free(c);
		return -ENOMEM;
	}
	c->metrics_file_interval_ns = 10000000000ull;
	c->output_max_bytes = 16ull << 20;
	c->output_keep = 5;
	c->output_max_line = LS_BOUND_DEFAULT;
	c->scan_interval_ns = 250000000ull;
	c->drop_caps = true;
	*out = c;
	return 0;
}

static void specs_free(struct ls_target_spec *specs, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		free(specs[i].label);
		free(specs[i].pattern);
		free(specs[i].cgroup);
		free(specs[i].container);
		free(specs[i].pod);
	}
	free(specs);
}

void ls_config__free(struct ls_config *c)
{
	if (!c)
		return;
	free(c->metrics_addr);
	free(c->metrics_file);
	free(c->output_dir);
	specs_free(c->pids, c->n_pids);
	specs_free(c->matches, c->n_matches);
	free(c);
}

__attribute__((format(printf, 4, 5))) static int fail(char *err, size_t len, int code,
						      const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(err, len, fmt, ap);
	va_end(ap);
	return code;
}

static int set_string(char **slot, const char *value)
{
	char *copy = NULL;

	/* an empty value turns an optional path off */
	if (*value) {
		copy = strdup(value);
		if (!copy)
			return -ENOMEM;
	}
	free(*slot);
	*slot = copy;
	return 0;
}

static int parse_bool(const char *v, bool *out)
{
	static const char *const yes[] = {"yes", "true", "on", "1"};
	static const char *const no[] = {"no", "false", "off", "0"};
	size_t i;

	for (i = 0; i < 4; i++) {
		if (!strcasecmp(v, yes[i])) {
			*out = true;
			return 0;
		}
		if (!strcasecmp(v, no[i])) {
			*out = false;
			return 0;
		}
	}
	return -EINVAL;
}

static int parse_uint(const char *v, unsigned long long max, unsigned long long *out)
{
	unsigned long long n;
	char *end;

	if (!isdigit((unsigned char)*v))
		return -EINVAL;
	errno = 0;
	n = strtoull(v, &end, 10);
	if (*end)
		return -EINVAL;
	if (errno || n > max)
		return -ERANGE;
	*out = n;
	return 0;
}

int ls_parse_listen_addr(const char *text, struct sockaddr_storage *addr, socklen_t *addr_len)
{
	char host[INET6_ADDRSTRLEN + 2];
	const char *colon;
	unsigned long long port;
	size_t n;

	memset(addr, 0, sizeof(*addr));
	colon = strrchr(text, ':');
	if (!colon || colon == text)
		return -EINVAL;
	n = (size_t)(colon - text);
	if (n >= sizeof(host))
		return -EINVAL;
	memcpy(host, text, n);
	host[n] = '\0';
	if (parse_uint(colon + 1, 65535, &port))
		return -EINVAL;
	if (host[0] == '[') {
		struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)addr;

		if (n < 3 || host[n - 1] != ']')
			return -EINVAL;
		host[n - 1] = '\0';
		if (inet_pton(AF_INET6, host + 1, &in6->sin6_addr) != 1)
			return -EINVAL;
		in6->sin6_family = AF_INET6;
		in6->sin6_port = htons((uint16_t)port);
		*addr_len = sizeof(*in6);
	} else {
		struct sockaddr_in *in = (struct sockaddr_in *)addr;

		if (inet_pton(AF_INET, host, &in->sin_addr) != 1)
			return -EINVAL;
		in->sin_family = AF_INET;
		in->sin_port = htons((uint16_t)port);
		*addr_len = sizeof(*in);
	}
	return 0;
}

static bool valid_label(const char *s, size_t n)
{
	size_t i;

	if (!n || n > LABEL_MAX)
		return false;
	for (i = 0; i < n; i++)
		if (iscntrl((unsigned char)s[i]))
			return false;
	return true;
}

/* "[LABEL=]REST": the label (NULL when absent) and what follows it, both trimmed. */
static int split_label(const char *value, char **label, const char **rest)
{
	const char *eq = strchr(value, '='), *end;

	*label = NULL;
	*rest = value;
	if (!eq)
		return 0;
	for (end = eq; end > value && isspace((unsigned char)end[-1]); end--)
		;
	if (!valid_label(value, (size_t)(end - value)))
		return -EINVAL;
	*label = strndup(value, (size_t)(end - value));
	if (!*label)
		return -ENOMEM;
	for (*rest = eq + 1; isspace((unsigned char)**rest); (*rest)++)
		;
	return 0;
}

static int add_spec(struct ls_target_spec **specs, size_t *n, const struct ls_target_spec *spec)
{
	void *grown = realloc(*specs, (*n + 1) * sizeof(**specs));

	if (!grown)
		return -ENOMEM;
	*specs = grown;
	(*specs)[(*n)++] = *spec;
	return 0;
}

static void spec_clear(struct ls_target_spec *spec)
{
	free(spec->label);
	free(spec->pattern);
	free(spec->cgroup);
	free(spec->container);
	free(spec->pod);
	memset(spec, 0, sizeof(*spec));
}

static bool all_of(const char *s, const char *set, size_t max)
{
	size_t n = strlen(s);

	return n && n <= max && strspn(s, set) == n;
}

/* A rule's own settings, after the selectors: threshold=DUR, stacks=on|off. */
static int rule_option(struct ls_target_spec *spec, const char *tok, size_t n, char *err,
		       size_t len)
{
	char text[64];
	bool on;

	if (n >= sizeof(text))
		return fail(err, len, -EINVAL, "'%.*s' is too long", (int)n, tok);
	memcpy(text, tok, n);
	text[n] = '\0';
	if (!strncmp(text, "threshold=", 10)) {
		if (ls_parse_duration(text + 10, &spec->threshold_ns) ||
		    spec->threshold_ns < 1000 || spec->threshold_ns > 3600000000000ull)
			return fail(err, len, -EINVAL,
				    "'%s' is not threshold=DUR (a number with ns, us, ms, s or m)",
				    text);
		return 0;
	}
	if (parse_bool(text + 7, &on))
		return fail(err, len, -EINVAL, "'%s' is not stacks=on or stacks=off", text);
	spec->stacks = on;
	return 0;
}

static bool is_option(const char *tok, size_t n)
{
	return (n > 10 && !strncmp(tok, "threshold=", 10)) ||
	       (n > 7 && !strncmp(tok, "stacks=", 7));
}

/* One selector word: prefix:VALUE into slot, checked. */
static int selector(char **slot, const char *what, const char *value, const char *allowed,
		    size_t max, char *err, size_t len)
{
	if (*slot)
		return fail(err, len, -EINVAL, "two %s selectors in one rule", what);
	if (!*value || (allowed && !all_of(value, allowed, max)))
		return fail(err, len, -EINVAL, "%s:'%s': %s", what, value,
			    allowed ? "expected 1 to 64 lowercase hex digits (an id or its prefix)"
				    : "empty pattern");
	*slot = strdup(value);
	return *slot ? 0 : -ENOMEM;
}

/*
 * "[NAME=]SELECTOR... [threshold=DUR] [stacks=on|off]": words with a known
 * prefix (cgroup:, container:, pod:, comm:) select by it; the other words,
 * joined by one space, are the comm/executable glob.
 */
static int parse_rule(struct ls_target_spec *spec, const char *value, bool is_pid, char *err,
		      size_t len)
{
	char *body = NULL, *glob = NULL, *tok, *save;
	const char *rest, *end = value + strlen(value), *word;
	size_t n, glob_len = 0;
	int ret;

	spec->stacks = -1;
	/* the settings are the last words: peel them off from the end */
	for (;;) {
		while (end > value && isspace((unsigned char)end[-1]))
			end--;
		for (word = end; word > value && !isspace((unsigned char)word[-1]); word--)
			;
		if (word == end || !is_option(word, (size_t)(end - word)))
			break;
		ret = rule_option(spec, word, (size_t)(end - word), err, len);
		if (ret)
			return ret;
		end = word;
	}
	body = strndup(value, (size_t)(end - value));
	if (!body)
		return -ENOMEM;
	ret = split_label(body, &spec->label, &rest);
	if (ret == -ENOMEM)
		goto cleanup;
	if (ret) {
		ret = fail(err, len, ret,
			   "'%s': the name before '=' must be 1 to 64 printable characters", value);
		goto cleanup;
	}
	/* "node treshold=1" is a misspelt setting, not a name "node treshold" */
	if (spec->label && spec->label[strcspn(spec->label, " \t")]) {
		ret =
		    fail(err, len, -EINVAL,
			 "'%s': a name has no spaces; a rule's settings are threshold= and stacks=",
			 value);
		goto cleanup;
	}
	if (is_pid) {
		unsigned long long pid;

		if (parse_uint(rest, INT_MAX, &pid) || !pid) {
			ret = fail(err, len, -EINVAL, "'%s' is not [NAME=]PID", value);
			goto cleanup;
		}
		spec->pid = (pid_t)pid;
		goto cleanup;
	}
	glob = malloc(strlen(rest) + 1);
	if (!glob) {
		ret = -ENOMEM;
		goto cleanup;
	}
	/* rest points into body, which strtok_r may cut: rest is not used after this */
	for (tok = strtok_r((char *)rest, " \t", &save); tok && !ret;
	     tok = strtok_r(NULL, " \t", &save)) {
		if (!strncmp(tok, "cgroup:", 7))
			ret = selector(&spec->cgroup, "cgroup", tok + 7, NULL, 0, err, len);
		else if (!strncmp(tok, "container:", 10))
			ret = selector(&spec->container, "container", tok + 10, "0123456789abcdef",
				       LS_CONTAINER_ID_LEN, err, len);
		else if (!strncmp(tok, "pod:", 4))
			ret = selector(&spec->pod, "pod", tok + 4, "0123456789abcdef-",
				       LS_POD_UID_LEN, err, len);
		else if (tok[strspn(tok, "abcdefghijklmnopqrstuvwxyz_")] == '=' && tok[0] != '=')
			/* a glob word shaped like a setting is a misspelt one */
			ret = fail(err, len, -EINVAL,
				   "'%s': unknown setting (a rule's settings are threshold= and "
				   "stacks=)",
				   tok);
		else {
			if (!strncmp(tok, "comm:", 5))
				tok += 5;
			n = strlen(tok);
			if (glob_len)
				glob[glob_len++] = ' ';
			memcpy(glob + glob_len, tok, n);
			glob_len += n;
		}
	}
	if (ret)
		goto cleanup;
	if (glob_len) {
		glob[glob_len] = '\0';
		spec->pattern = glob;
		glob = NULL;
	}
	if (!spec->pattern && !spec->cgroup && !spec->container && !spec->pod)
		ret = fail(err, len, -EINVAL, "'%s': empty pattern", value);
cleanup:
	free(glob);
	free(body);
	return ret;
}

static int set_target(struct ls_config *c, const char *key, const char *value, char *err,
		      size_t len)
{
	struct ls_target_spec spec = {0};
	char msg[192];
	int ret;

	ret = parse_rule(&spec, value, !strcmp(key, "pid"), msg, sizeof(msg));
	if (!ret) {
		if (!strcmp(key, "pid"))
			ret = add_spec(&c->pids, &c->n_pids, &spec);
		else
			ret = add_spec(&c->matches, &c->n_matches, &spec);
		if (!ret)
			return 0;
	}
	spec_clear(&spec);
	if (ret == -ENOMEM)
		return ret;
	return fail(err, len, ret, "%s: %s", key, msg);
}

static int set_duration(uint64_t *slot, const char *key, const char *value, uint64_t min,
			uint64_t max, char *err, size_t len)
{
	uint64_t ns;

	if (ls_parse_duration(value, &ns) || ns < min || ns > max)
		return fail(err, len, -EINVAL,
			    "%s: '%s' is not a duration in range "
			    "(a number with ns, us, ms, s or m)",
			    key, value);
	*slot = ns;
	return 0;
}

/* The yes/no keys, and how their values are spelled in messages. */
static const struct {
	const char *key;
	size_t offset;
	const char *words;
} bools[] = {
    {"drop_capabilities", offsetof(struct ls_config, drop_caps), "yes or no"},
    {"verbose", offsetof(struct ls_config, verbose), "yes or no"},
    {"bpf_stats", offsetof(struct ls_config, bpf_stats), "on or off"},
    {"all_waits", offsetof(struct ls_config, all_waits), "yes or no"},
    {"stacks", offsetof(struct ls_config, stacks), "on or off"},
};

int ls_config__set(struct ls_config *c, const char *key, const char *value, char *err,
		   size_t err_len)
{
	unsigned long long n;
	struct sockaddr_storage addr;
	socklen_t addr_len;
	size_t i;

	if (!strcmp(key, "pid") || !strcmp(key, "match"))
		return set_target(c, key, value, err, err_len);
	if (!strcmp(key, "threshold"))
		return set_duration(&c->threshold_ns, key, value, 1000, 3600000000000ull, err,
				    err_len);
	if (!strcmp(key, "scan_interval"))
		return set_duration(&c->scan_interval_ns, key, value, 10000000ull, 60000000000ull,
				    err, err_len);
	if (!strcmp(key, "metrics_file_interval"))
		return set_duration(&c->metrics_file_interval_ns, key, value, 100000000ull,
				    3600000000000ull, err, err_len);
	if (!strcmp(key, "metrics_addr")) {
		if (!strcmp(value, "off") || !*value)
			return set_string(&c->metrics_addr, "");
		if (ls_parse_listen_addr(value, &addr, &addr_len))
			return fail(err, err_len, -EINVAL,
				    "%s: '%s' is not IP:PORT ([IPv6]:PORT), or off", key, value);
		return set_string(&c->metrics_addr, value);
	}
	if (!strcmp(key, "metrics_file"))
		return set_string(&c->metrics_file, value);
	if (!strcmp(key, "output"))
		return set_string(&c->output_dir, value);
	if (!strcmp(key, "output_max_size")) {
		/* a file must have room for at least a few records */
		if (ls_parse_size(value, &c->output_max_bytes) || c->output_max_bytes < 1024)
			return fail(err, err_len, -EINVAL,
				    "%s: '%s' is not a size of at least 1K (K, M or G suffix)", key,
				    value);
		return 0;
	}
	if (!strcmp(key, "output_keep")) {
		if (parse_uint(value, 1000, &n))
			return fail(err, err_len, -EINVAL,
				    "%s: '%s' is not a number from 0 to 1000", key, value);
		c->output_keep = (unsigned)n;
		return 0;
	}
	if (!strcmp(key, "output_max_line")) {
		if (!strcmp(value, "off")) {
			c->output_max_line = 0;
			return 0;
		}
		if (ls_parse_size(value, &c->output_max_line) ||
		    c->output_max_line < LS_BOUND_MIN || c->output_max_line > (64ull << 20))
			return fail(err, err_len, -EINVAL,
				    "%s: '%s' is not a size from 1K to 64M (K or M suffix), or off",
				    key, value);
		return 0;
	}
	if (!strcmp(key, "stack_bytes")) {
		uint64_t bytes;

		/* BPF copies the stack in LT_STACK_CHUNK pieces, at most LT_STACK_MAX */
		if (ls_parse_size(value, &bytes) || bytes < LT_STACK_CHUNK ||
		    bytes > LT_STACK_MAX || bytes % LT_STACK_CHUNK)
			return fail(err, err_len, -EINVAL,
				    "%s: '%s' is not a multiple of 512 from 512 to 32K", key,
				    value);
		c->stack_bytes = (uint32_t)bytes;
		return 0;
	}
	if (!strcmp(key, "ring_size")) {
		if (ls_parse_ring_size(value, &c->ring_bytes))
			return fail(err, err_len, -EINVAL,
				    "%s: '%s' is not a power of two from 4K to 1G (e.g. 256K, 4M)",
				    key, value);
		return 0;
	}
	for (i = 0; i < sizeof(bools) / sizeof(bools[0]); i++) {
		bool *slot = (bool *)((char *)c + bools[i].offset);

		if (strcmp(key, bools[i].key))
			continue;
		if (parse_bool(value, slot))
			return fail(err, err_len, -EINVAL, "%s: '%s' is not %s", key, value,
				    bools[i].words);
		return 0;
	}
	return fail(err, err_len, -EINVAL, "unknown key '%s'", key);
}

static char *trim(char *s)
{
	char *end;

	while (isspace((unsigned char)*s))
		s++;
	end = s + strlen(s);
	while (end > s && isspace((unsigned char)end[-1]))
		*--end = '\0';
	return s;
}

int ls_config__parse(struct ls_config *c, const char *text, const char *where, char *err,
		     size_t err_len)
{
	char *copy, *line, *next, *key, *value, *eq, msg[256];
	unsigned lineno = 0;
	int ret = 0;

	copy = strdup(text);
	if (!copy)
		return -ENOMEM;
	for (line = copy; line; line = next) {
		next = strchr(line, '\n');
		if (next)
			*next++ = '\0';
		lineno++;
		key = trim(line);
		if (!*key || *key == '#' || *key == ';')
			continue;
		eq = strchr(key, '=');
		if (!eq) {
			snprintf(err, err_len, "%s:%u: expected 'key = value'", where, lineno);
			ret = -EINVAL;
			break;
		}
		*eq = '\0';
		key = trim(key);
		value = trim(eq + 1);
		ret = ls_config__set(c, key, value, msg, sizeof(msg));
		if (ret) {
			snprintf(err, err_len, "%s:%u: %s", where, lineno, msg);
			break;
		}
	}
	free(copy);
	return ret;
}

int ls_config__load(struct ls_config *c, const char *path, char *err, size_t err_len)
{
	char *text = NULL;
	size_t n;
	FILE *f;
	int ret;

	f = fopen(path, "re");
	if (!f) {
		ret = -errno;
		snprintf(err, err_len, "%s: %s", path, strerror(-ret));
		return ret;
	}
	text = malloc(FILE_MAX + 1);
	if (!text) {
		ret = -ENOMEM;
		goto cleanup;
	}
	n = fread(text, 1, FILE_MAX + 1, f);
	if (ferror(f) || n > FILE_MAX) {
		ret = ferror(f) ? -EIO : -EFBIG;
		snprintf(err, err_len, "%s: %s", path,
			 ret == -EIO ? "cannot read" : "too large for a configuration file");
		goto cleanup;
	}
	text[n] = '\0';
	if (strlen(text) != n) {
		ret = -EINVAL;
		snprintf(err, err_len, "%s: not a text file", path);
		goto cleanup;
	}
	ret = ls_config__parse(c, text, path, err, err_len);
cleanup:
	free(text);
	fclose(f);
	return ret;
}

static bool prefix_of(const char *prefix, const char *s)
{
	return prefix && *s && !strncmp(s, prefix, strlen(prefix));
}

static bool rule_matches(const struct ls_target_spec *r, const char *comm, const char *exe,
			 const struct ls_cgroup *cg)
{
	if (r->pattern &&
	    !((comm && !fnmatch(r->pattern, comm, 0)) || (exe && !fnmatch(r->pattern, exe, 0))))
		return false;
	if ((r->cgroup || r->container || r->pod) && !cg)
		return false;
	if (r->cgroup && (!cg->path[0] || fnmatch(r->cgroup, cg->path, 0)))
		return false;
	if (r->container && !prefix_of(r->container, cg->container_id))
		return false;
	return !r->pod || prefix_of(r->pod, cg->pod_uid);
}

const struct ls_target_spec *ls_config__match_proc(const struct ls_config *c, const char *comm,
						   const char *exe, const struct ls_cgroup *cg)
{
	size_t i;

	for (i = 0; i < c->n_matches; i++)
		if (rule_matches(&c->matches[i], comm, exe, cg))
			return &c->matches[i];
	return NULL;
}

const struct ls_target_spec *ls_config__match(const struct ls_config *c, const char *comm,
					      const char *exe)
{
	return ls_config__match_proc(c, comm, exe, NULL);
}

bool ls_config__needs_cgroup(const struct ls_config *c)
{
	size_t i;

	for (i = 0; i < c->n_matches; i++)
		if (c->matches[i].cgroup || c->matches[i].container || c->matches[i].pod)
			return true;
	return false;
}

uint64_t ls_config__threshold(const struct ls_config *c, const struct ls_target_spec *spec)
{
	return spec && spec->threshold_ns ? spec->threshold_ns : c->threshold_ns;
}

bool ls_config__stacks(const struct ls_config *c, const struct ls_target_spec *spec)
{
	return spec && spec->stacks >= 0 ? spec->stacks : c->stacks;
}
