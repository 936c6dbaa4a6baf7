// SPDX-License-Identifier: BSD-2-Clause
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "perfmap.h"

/* Bounds for what a hostile process can make us allocate. */
#define PERFMAP_MAX_BYTES (256u << 20)
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
	size_t n;
	char *names;
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

struct ls_perfmap *ls_perfmap__parse(const char *text, size_t len)
{
	struct ls_perfmap *m = calloc(1, sizeof(*m));
	const char *p = text, *end = text + len;
	size_t cap = 0, names_len = 0;
	uint32_t line = 0;

	if (!m)
		return NULL;
	/* names are copied with their NUL: never more than the text itself */
	m->names = malloc(len + 1);
	if (!m->names)
		goto fail;
	while (p < end) {
		const char *eol = memchr(p, '\n', (size_t)(end - p));
		const char *name;
		uint64_t start, size;
		size_t name_len;

		if (!eol)
			eol = end;
		line++;
		if (parse_hex(&p, eol, &start) || p >= eol || *p++ != ' ' ||
		    parse_hex(&p, eol, &size) || p >= eol || *p++ != ' ' || !size ||
		    start + size < start)
			goto next;
		name = p;
		name_len = (size_t)(eol - name);
		if (name_len && name[name_len - 1] == '\r')
			name_len--;
		if (!name_len)
			goto next;
		if (name_len > PERFMAP_MAX_NAME)
			name_len = PERFMAP_MAX_NAME;
		if (m->n == cap) {
			size_t ncap = cap ? 2 * cap : 256;
			void *grown = realloc(m->entries, ncap * sizeof(*m->entries));

			if (!grown)
				goto fail;
			m->entries = grown;
			cap = ncap;
		}
		m->entries[m->n].start = start;
		m->entries[m->n].end = start + size;
		m->entries[m->n].order = line;
		m->entries[m->n].name = (uint32_t)names_len;
		m->n++;
		memcpy(m->names + names_len, name, name_len);
		names_len += name_len;
		m->names[names_len++] = '\0';
next:
		p = eol + 1;
	}
	if (m->n) {
		size_t i;

		qsort(m->entries, m->n, sizeof(*m->entries), by_start);
		m->entries[0].max_end = m->entries[0].end;
		for (i = 1; i < m->n; i++)
			m->entries[i].max_end = m->entries[i].end > m->entries[i - 1].max_end ?
							m->entries[i].end :
							m->entries[i - 1].max_end;
	}
	return m;
fail:
	ls_perfmap__free(m);
	return NULL;
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

int ls_perfmap__load(pid_t pid, struct ls_perfmap **out)
{
	char path[96], *text = NULL;
	struct stat st;
	size_t got = 0;
	int fd, err;
	uid_t uid = 0;

	err = owner_uid(pid, &uid);
	if (err)
		return err;
	snprintf(path, sizeof(path), "/proc/%d/root/tmp/perf-%d.map", (int)pid, (int)pid);
	fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK);
	if (fd < 0)
		return -errno;
	if (fstat(fd, &st)) {
		err = -errno;
		goto cleanup;
	}
	if (!S_ISREG(st.st_mode) || (st.st_uid != uid && st.st_uid != 0)) {
		err = -EPERM;
		goto cleanup;
	}
	if ((uint64_t)st.st_size > PERFMAP_MAX_BYTES) {
		err = -EFBIG;
		goto cleanup;
	}
	text = malloc((size_t)st.st_size + 1);
	if (!text) {
		err = -ENOMEM;
		goto cleanup;
	}
	while (got < (size_t)st.st_size) {
		ssize_t n = read(fd, text + got, (size_t)st.st_size - got);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		got += (size_t)n;
	}
	*out = ls_perfmap__parse(text, got);
	err = *out ? 0 : -ENOMEM;
cleanup:
	free(text);
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
