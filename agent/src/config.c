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
#include "config.h"
#include "duration.h"

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
	c->metrics_addr = strdup(LS_CONFIG_DEFAULT_ADDR);
	if (!c->metrics_addr) {
		free(c);
		return -ENOMEM;
	}
	c->metrics_file_interval_ns = 10000000000ull;
	c->output_max_bytes = 16ull << 20;
	c->output_keep = 5;
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

int ls_parse_size(const char *text, uint64_t *bytes)
{
	unsigned long long n, mult = 1;
	char *end;

	if (!isdigit((unsigned char)*text))
		return -EINVAL;
	errno = 0;
	n = strtoull(text, &end, 10);
	if (errno)
		return -ERANGE;
	if (*end) {
		switch (toupper((unsigned char)*end)) {
		case 'K':
			mult = 1ull << 10;
			break;
		case 'M':
			mult = 1ull << 20;
			break;
		case 'G':
			mult = 1ull << 30;
			break;
		default:
			return -EINVAL;
		}
		end++;
		/* "16M", "16MB", "16MiB" all mean the same */
		if (!strcasecmp(end, "b") || !strcasecmp(end, "ib"))
			end += strlen(end);
		if (*end)
			return -EINVAL;
	}
	if (n > UINT64_MAX / mult)
		return -ERANGE;
	*bytes = n * mult;
	return 0;
}

int ls_parse_ring_size(const char *text, uint32_t *bytes)
{
	uint64_t n;

	if (ls_parse_size(text, &n) || n < LS_RING_BYTES_MIN || n > LS_RING_BYTES_MAX ||
	    (n & (n - 1)))
		return -EINVAL;
	*bytes = (uint32_t)n;
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

static int set_target(struct ls_config *c, const char *key, const char *value, char *err,
		      size_t len)
{
	struct ls_target_spec spec = {0};
	unsigned long long pid;
	const char *rest;
	int ret;

	ret = split_label(value, &spec.label, &rest);
	if (ret == -ENOMEM)
		return ret;
	if (ret)
		return fail(err, len, ret,
			    "%s: '%s': the name before '=' must be 1 to 64 "
			    "printable characters",
			    key, value);
	if (!strcmp(key, "pid")) {
		if (parse_uint(rest, INT_MAX, &pid) || !pid) {
			ret = fail(err, len, -EINVAL, "%s: '%s' is not [NAME=]PID", key, value);
			goto cleanup;
		}
		spec.pid = (pid_t)pid;
		ret = add_spec(&c->pids, &c->n_pids, &spec);
	} else {
		if (!*rest) {
			ret = fail(err, len, -EINVAL, "%s: '%s': empty pattern", key, value);
			goto cleanup;
		}
		spec.pattern = strdup(rest);
		ret = spec.pattern ? add_spec(&c->matches, &c->n_matches, &spec) : -ENOMEM;
	}
	if (!ret)
		return 0;
cleanup:
	free(spec.label);
	free(spec.pattern);
	return ret;
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

const struct ls_target_spec *ls_config__match(const struct ls_config *c, const char *comm,
					      const char *exe)
{
	size_t i;

	for (i = 0; i < c->n_matches; i++) {
		const char *pat = c->matches[i].pattern;

		if ((comm && !fnmatch(pat, comm, 0)) || (exe && !fnmatch(pat, exe, 0)))
			return &c->matches[i];
	}
	return NULL;
}
