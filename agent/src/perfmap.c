// SPDX-License-Identifier: BSD-2-Clause
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>
#include <linux/openat2.h>
#include "grow.h"
#include "perfmap.h"

/* Bounds for what a hostile process can make us allocate. */
#define PERFMAP_MAX_BYTES (256u << 20)
#define PERFMAP_MAX_ENTRIES (1u << 20)
#define PERFMAP_MAX_NAME 1024

struct entry {
	uint64_t start;
	uint64_t end;
	uint64_t max_end; /* the largest end of this entry and all before it */
	uint32_t order;	  /* line number: a later line replaces code at the same address */
	uint32_t name;	  /* offset into names */
};

struct ls_perfmap {
	struct entry *entries;
	size_t n, cap;
	char *names;
	size_t names_len, names_cap;
};

static int by_start(const void *a, const void *b)
{
	const struct entry *x = a, *y = b;

	if (x->start != y->start)
		return x->start < y->start ? -1 : 1;
	return x->order < y->order ? -1 : x->order > y->order;
}

static int parse_hex(const char **p, const char *end, uint64_t *out)
{
	uint64_t v = 0;
	int digits = 0;

	if (end - *p > 2 && (*p)[0] == '0' && ((*p)[1] == 'x' || (*p)[1] == 'X'))
		*p += 2;
	for (; *p < end && digits < 17; (*p)++, digits++) {
		char c = **p;
		int d;

		if (c >= '0' && c <= '9')
			d = c - '0';
		else if (c >= 'a' && c <= 'f')
			d = c - 'a' + 10;
		else if (c >= 'A' && c <= 'F')
			d = c - 'A' + 10;
		else
			break;
		v = v << 4 | (uint64_t)d;
	}
	if (!digits || digits > 16)
		return -EINVAL;
	*out = v;
	return 0;
}

/* One "START SIZE name" line; 1 when the map is full, -ENOMEM, else 0. */
static int add_line(struct ls_perfmap *m, const char *p, const char *eol, uint32_t line)
{
	uint64_t start, size;
	const char *name;
	size_t name_len;
	void *grown;

	if (m->n == PERFMAP_MAX_ENTRIES)
		return 1;
	if (parse_hex(&p, eol, &start) || p >= eol || *p++ != ' ' || parse_hex(&p, eol, &size) ||
	    p >= eol || *p++ != ' ' || !size || start + size < start)
		return 0;
	name = p;
	name_len = (size_t)(eol - name);
	if (name_len && name[name_len - 1] == '\r')
		name_len--;
	if (!name_len)
		return 0;
	if (name_len > PERFMAP_MAX_NAME)
		name_len = PERFMAP_MAX_NAME;
	grown = ls_grow(m->entries, &m->cap, m->n + 1, sizeof(*m->entries), 256);
	if (!grown)
		return -ENOMEM;
	m->entries = grown;
	grown = ls_grow(m->names, &m->names_cap, m->names_len + name_len + 1, 1, 4096);
	if (!grown)
		return -ENOMEM;
	m->names = grown;
	m->entries[m->n].start = start;
	m->entries[m->n].end = start + size;
	m->entries[m->n].order = line;
	m->entries[m->n].name = (uint32_t)m->names_len;
	m->n++;
	memcpy(m->names + m->names_len, name, name_len);
	m->names_len += name_len;
	m->names[m->names_len++] = '\0';
	return 0;
}

static void index_entries(struct ls_perfmap *m)
{
	size_t i;

	if (!m->n)
		return;
	qsort(m->entries, m->n, sizeof(*m->entries), by_start);
	m->entries[0].max_end = m->entries[0].end;
	for (i = 1; i < m->n; i++)
		m->entries[i].max_end = m->entries[i].end > m->entries[i - 1].max_end
					    ? m->entries[i].end
					    : m->entries[i - 1].max_end;
}

struct ls_perfmap *ls_perfmap__parse(const char *text, size_t len)
{
	struct ls_perfmap *m = calloc(1, sizeof(*m));
	const char *p = text, *end = text + len;
	uint32_t line = 0;
	int err;

	if (!m)
		return NULL;
	while (p < end) {
		const char *eol = memchr(p, '\n', (size_t)(end - p));

		if (!eol)
			eol = end;
		err = add_line(m, p, eol, ++line);
		if (err < 0) {
			ls_perfmap__free(m);
			return NULL;
		}
		if (err)
			break;
		p = eol + 1;
	}
	index_entries(m);
	return m;
}

const char *ls_perfmap__lookup(const struct ls_perfmap *m, uint64_t addr)
{
	size_t lo = 0, hi, i;
	const struct entry *best = NULL;

	if (!m || !m->n)
		return NULL;
	/* the last entry starting at or below addr... */
	hi = m->n;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (m->entries[mid].start <= addr)
			lo = mid + 1;
		else
			hi = mid;
	}
	/*
	 * ...and every earlier one that still covers it (JIT code is re-emitted
	 * over old ranges): the latest line wins. max_end says when no entry
	 * further back can reach addr.
	 */
	for (i = lo; i > 0 && m->entries[i - 1].max_end > addr; i--) {
		const struct entry *e = &m->entries[i - 1];

		if (addr < e->end && (!best || e->order > best->order))
			best = e;
	}
	return best ? m->names + best->name : NULL;
}

size_t ls_perfmap__count(const struct ls_perfmap *m)
{
	return m ? m->n : 0;
}

/* The last of the blank-separated decimal numbers in [p, eol). */
static int last_number(const char *p, const char *eol, pid_t *out)
{
	long v = -1;

	while (p < eol) {
		long n = 0;
		int digits = 0;

		while (p < eol && (*p == ' ' || *p == '\t'))
			p++;
		if (p == eol)
			break;
		for (; p < eol && *p >= '0' && *p <= '9'; p++, digits++)
			if (digits < 10)
				n = n * 10 + (*p - '0');
		if (!digits || digits > 10 || n > INT_MAX || (p < eol && *p != ' ' && *p != '\t'))
			return -EINVAL;
		v = n;
	}
	if (v < 1)
		return -EINVAL;
	*out = (pid_t)v;
	return 0;
}

int ls_perfmap__nspid(const char *status, size_t len, pid_t *out)
{
	const char *p = status, *end = status + len;
	pid_t pid = 0, ns = 0;
	bool have_pid = false, have_ns = false;

	while (p < end) {
		const char *eol = memchr(p, '\n', (size_t)(end - p));

		if (!eol)
			eol = end;
		if (eol - p > 6 && !memcmp(p, "NSpid:", 6))
			have_ns = !last_number(p + 6, eol, &ns);
		else if (eol - p > 4 && !memcmp(p, "Pid:", 4))
			have_pid = !last_number(p + 4, eol, &pid);
		p = eol + 1;
	}
	if (have_ns)
		*out = ns;
	else if (have_pid)
		*out = pid;
	else
		return -EINVAL;
	return 0;
}

static int owner_uid(pid_t pid, uid_t *uid)
{
	char path[64];
	struct stat st;

	snprintf(path, sizeof(path), "/proc/%d", (int)pid);
	if (stat(path, &st))
		return -errno;
	*uid = st.st_uid;
	return 0;
}

static int read_nspid(pid_t pid, pid_t *nspid)
{
	char path[64], buf[8192];
	ssize_t got;
	int fd, err;

	snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	got = read(fd, buf, sizeof(buf));
	err = got < 0 ? -errno : 0;
	close(fd);
	if (err)
		return err;
	return ls_perfmap__nspid(buf, (size_t)got, nspid);
}

/*
 * tmp/perf-NSPID.map inside the target's root. openat2's RESOLVE_IN_ROOT
 * keeps an absolute symlink planted in the target's tree (/tmp -> /etc)
 * inside that tree instead of our own; kernels before 5.6 lack it and get
 * the plain path, whose last component is still never followed.
 */
static int open_map(pid_t pid)
{
	struct open_how how = {
	    .flags = O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK,
	    .resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS,
	};
	char path[96], name[48];
	pid_t nspid;
	int root, fd, err;

	err = read_nspid(pid, &nspid);
	if (err)
		return err;
	snprintf(path, sizeof(path), "/proc/%d/root", (int)pid);
	snprintf(name, sizeof(name), "tmp/perf-%d.map", (int)nspid);
	root = open(path, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (root < 0)
		return -errno;
	fd = (int)syscall(SYS_openat2, root, name, &how, sizeof(how));
	if (fd < 0 && errno == ENOSYS)
		fd = openat(root, name, (int)how.flags);
	err = fd < 0 ? -errno : fd;
	close(root);
	return err;
}

int ls_perfmap__size(pid_t pid, off_t *size)
{
	struct stat st;
	int fd = open_map(pid), err = 0;

	if (fd < 0)
		return fd;
	if (fstat(fd, &st))
		err = -errno;
	else
		*size = st.st_size;
	close(fd);
	return err;
}

int ls_perfmap__load(pid_t pid, struct ls_perfmap **out)
{
	struct ls_perfmap *m = NULL;
	size_t cap = 0, read_total = 0;
	uint32_t line = 0;
	char *text = NULL;
	struct stat st;
	FILE *f = NULL;
	ssize_t got;
	int fd, err;
	uid_t uid = 0;

	err = owner_uid(pid, &uid);
	if (err)
		return err;
	fd = open_map(pid);
	if (fd < 0)
		return fd;
	if (fstat(fd, &st)) {
		err = -errno;
		goto cleanup;
	}
	if (!S_ISREG(st.st_mode) || (st.st_uid != uid && st.st_uid != 0)) {
		err = -EPERM;
		goto cleanup;
	}
	/* line by line: the file is never held whole, and the index is capped */
	f = fdopen(fd, "r");
	if (!f) {
		err = -errno;
		goto cleanup;
	}
	fd = -1;
	m = calloc(1, sizeof(*m));
	if (!m) {
		err = -ENOMEM;
		goto cleanup;
	}
	while ((got = getline(&text, &cap, f)) > 0) {
		read_total += (size_t)got;
		if (read_total > PERFMAP_MAX_BYTES)
			break;
		err = add_line(m, text, text + got - (text[got - 1] == '\n'), ++line);
		if (err < 0)
			goto cleanup;
		if (err)
			break;
	}
	index_entries(m);
	*out = m;
	m = NULL;
	err = 0;
cleanup:
	free(text);
	ls_perfmap__free(m);
	if (f)
		fclose(f);
	if (fd >= 0)
		close(fd);
	return err;
}

void ls_perfmap__free(struct ls_perfmap *m)
{
	if (!m)
		return;
	free(m->entries);
	free(m->names);
	free(m);
}
