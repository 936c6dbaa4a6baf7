// SPDX-License-Identifier: BSD-2-Clause
/* A compile unit's line rows for a function, from .debug_line (linetab.h). */
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include "grow.h"
#include "linetab.h"

#define MAX_RANGES 64

/* DWARF constants (dwarf.h spells them the same; kept here so this file stays pure) */
enum {
	LNS_copy = 1,
	LNS_advance_pc,
	LNS_advance_line,
	LNS_set_file,
	LNS_set_column,
	LNS_negate_stmt,
	LNS_set_basic_block,
	LNS_const_add_pc,
	LNS_fixed_advance_pc,
	LNS_set_prologue_end,
	LNS_set_epilogue_begin,
	LNS_set_isa,
	LNE_end_sequence = 1,
	LNE_set_address,
	LNE_define_file,
	LNE_set_discriminator,
	LNCT_path = 1,
	LNCT_directory_index,
	FORM_block2 = 0x03,
	FORM_block4 = 0x04,
	FORM_data2 = 0x05,
	FORM_data4 = 0x06,
	FORM_data8 = 0x07,
	FORM_string = 0x08,
	FORM_block = 0x09,
	FORM_block1 = 0x0a,
	FORM_data1 = 0x0b,
	FORM_strp = 0x0e,
	FORM_udata = 0x0f,
	FORM_data16 = 0x1e,
	FORM_line_strp = 0x1f,
};

/* A bounded cursor: reading past end sets bad and yields zeros. */
struct cur {
	const uint8_t *p, *end;
	bool bad;
};

static uint64_t get_n(struct cur *c, unsigned n)
{
	uint64_t v = 0;
	unsigned i;

	if (c->bad || (size_t)(c->end - c->p) < n) {
		c->bad = true;
		return 0;
	}
	/* little-endian: the caller checked the file is the host's order (x86-64, arm64) */
	for (i = 0; i < n; i++)
		v |= (uint64_t)c->p[i] << (8 * i);
	c->p += n;
	return v;
}

static uint64_t uleb_long(struct cur *c)
{
	uint64_t v = 0;
	unsigned shift = 0;

	while (!c->bad) {
		uint8_t b;

		if (c->p >= c->end) {
			c->bad = true;
			break;
		}
		b = *c->p++;
		/* more than 64 bits: libdw would truncate; this reader does not guess */
		if (shift >= 64 || (shift == 63 && (b & 0x7e)))
			c->bad = true;
		else
			v |= (uint64_t)(b & 0x7f) << shift;
		shift += 7;
		if (!(b & 0x80))
			break;
	}
	return c->bad ? 0 : v;
}

/* Most operands are one byte: that case inline. */
static inline uint64_t uleb(struct cur *c)
{
	if (c->p < c->end && !(*c->p & 0x80))
		return *c->p++;
	return uleb_long(c);
}

static int64_t sleb(struct cur *c)
{
	uint64_t v = 0;
	unsigned shift = 0;
	uint8_t b = 0;

	while (!c->bad) {
		if (c->p >= c->end) {
			c->bad = true;
			break;
		}
		b = *c->p++;
		if (shift >= 63)
			c->bad = true;
		else
			v |= (uint64_t)(b & 0x7f) << shift;
		shift += 7;
		if (!(b & 0x80))
			break;
	}
	if (c->bad)
		return 0;
	if (shift < 64 && (b & 0x40))
		v |= ~0ull << shift;
	return (int64_t)v;
}

/* A NUL-terminated string at the cursor, inside its bounds; NULL when none. */
static const char *cstr(struct cur *c)
{
	const uint8_t *nul;
	const char *s;

	if (c->bad || c->p >= c->end || !(nul = memchr(c->p, 0, (size_t)(c->end - c->p)))) {
		c->bad = true;
		return NULL;
	}
	s = (const char *)c->p;
	c->p = nul + 1;
	return s;
}

/* The string at off of a string section; NULL when off or its NUL is outside. */
static const char *sec_str(const uint8_t *sec, size_t size, uint64_t off)
{
	if (!sec || off >= size || !memchr(sec + off, 0, size - off))
		return NULL;
	return (const char *)sec + off;
}

struct file {
	const char *name;
	uint64_t dir; /* NO_DIR: the name as it is */
	char *path;   /* dir/name, composed when a row first needs it */
};

/* libdw's placeholder for file 0 before DWARF 5 ("???"): never joined to a directory */
#define NO_DIR UINT64_MAX

struct table {
	const char **dirs;
	size_t ndirs;
	struct file *files;
	size_t nfiles, cap_files;
};

static void table_free(struct table *t)
{
	size_t i;

	for (i = 0; i < t->nfiles; i++)
		free(t->files[i].path);
	free(t->files);
	free(t->dirs);
}

static int add_file(struct table *t, const char *name, uint64_t dir)
{
	struct file *grown;

	if (dir >= t->ndirs)
		return -EINVAL;
	grown = ls_grow(t->files, &t->cap_files, t->nfiles + 1, sizeof(*t->files), 16);
	if (!grown)
		return -ENOMEM;
	t->files = grown;
	t->files[t->nfiles++] = (struct file){.name = name, .dir = dir};
	return 0;
}

/* The name dwarf_linesrc gives file i: NULL past the table, as libdw. */
static const char *file_path(struct table *t, uint64_t i, int *err)
{
	struct file *f;
	const char *dir;
	size_t ld, ln;

	if (i >= t->nfiles)
		return NULL;
	f = &t->files[i];
	dir = f->dir == NO_DIR ? NULL : t->dirs[f->dir];
	/* an absolute name, or no directory (no DW_AT_comp_dir before DWARF 5): as it is */
	if (f->name[0] == '/' || !dir)
		return f->name;
	if (!f->path) {
		ld = strlen(dir);
		ln = strlen(f->name);
		f->path = malloc(ld + ln + 2);
		if (!f->path) {
			*err = -ENOMEM;
			return NULL;
		}
		memcpy(f->path, dir, ld);
		f->path[ld] = '/';
		memcpy(f->path + ld + 1, f->name, ln + 1);
	}
	return f->path;
}

struct header {
	unsigned version, offset_size, min_inst, max_ops, line_range, opcode_base;
	int line_base;
	uint8_t default_is_stmt;
	const uint8_t *std_len; /* std_len[op] for 1 <= op < opcode_base */
	/* special opcodes, precomputed: no division per row */
	int dline[256];
	unsigned dadv[256];
	const uint8_t *program, *end;
};

/* Skip one DWARF 5 entry-format value; *s gets it when it is a string form. */
static int form_value(struct cur *c, const struct ls_linetab_src *src, unsigned offset_size,
		      uint64_t form, const char **s, uint64_t *u)
{
	uint64_t off, len;

	*s = NULL;
	*u = UINT64_MAX;
	switch (form) {
	case FORM_string:
		*s = cstr(c);
		break;
	case FORM_line_strp:
		off = get_n(c, offset_size);
		*s = c->bad ? NULL : sec_str(src->line_str, src->line_str_size, off);
		break;
	case FORM_strp:
		off = get_n(c, offset_size);
		*s = c->bad ? NULL : sec_str(src->str, src->str_size, off);
		break;
	case FORM_udata:
		*u = uleb(c);
		break;
	case FORM_data1:
		*u = get_n(c, 1);
		break;
	case FORM_data2:
		*u = get_n(c, 2);
		break;
	case FORM_data4:
		*u = get_n(c, 4);
		break;
	case FORM_data8:
		*u = get_n(c, 8);
		break;
	case FORM_data16:
		get_n(c, 8);
		get_n(c, 8);
		break;
	case FORM_block:
	case FORM_block1:
	case FORM_block2:
	case FORM_block4:
		len = form == FORM_block    ? uleb(c)
		      : form == FORM_block1 ? get_n(c, 1)
		      : form == FORM_block2 ? get_n(c, 2)
					    : get_n(c, 4);
		if (c->bad || len > (uint64_t)(c->end - c->p))
			return -EINVAL;
		c->p += len;
		break;
	default:
		/* strx (needs the unit's string offsets), a supplementary file's string... */
		return -EINVAL;
	}
	return c->bad ? -EINVAL : 0;
}

/* DWARF 5 directory or file entries: path (and directory index) per entry. */
static int v5_entries(struct cur *c, const struct ls_linetab_src *src, unsigned offset_size,
		      struct table *t, bool files)
{
	uint64_t forms[32], descs[32], count, i;
	unsigned nforms, k;
	bool has_path = false, has_dir = false;
	int err;

	nforms = (unsigned)get_n(c, 1);
	if (nforms > 32)
		return -EINVAL;
	for (k = 0; k < nforms; k++) {
		descs[k] = uleb(c);
		forms[k] = uleb(c);
		has_path |= descs[k] == LNCT_path;
		has_dir |= descs[k] == LNCT_directory_index;
	}
	count = uleb(c);
	if (c->bad || (nforms && (!has_path || (files && !has_dir))) || (!nforms && count))
		return -EINVAL;
	/* every entry takes at least a byte per form */
	if (nforms && count > (uint64_t)(c->end - c->p) / nforms)
		return -EINVAL;
	if (!files) {
		t->dirs = calloc(count ? count : 1, sizeof(*t->dirs));
		if (!t->dirs)
			return -ENOMEM;
	}
	for (i = 0; i < count; i++) {
		const char *path = NULL, *s;
		uint64_t dir = UINT64_MAX, u;

		for (k = 0; k < nforms; k++) {
			err = form_value(c, src, offset_size, forms[k], &s, &u);
			if (err)
				return err;
			if (descs[k] == LNCT_path)
				path = s;
			else if (descs[k] == LNCT_directory_index)
				dir = u;
		}
		if (!path || (files && dir == UINT64_MAX))
			return -EINVAL;
		if (!files) {
			t->dirs[t->ndirs++] = path;
		} else if (i == 0) {
			/* entry 0 takes the place of libdw's "???" (files count from 0 in DWARF 5)
			 */
			if (dir >= t->ndirs)
				return -EINVAL;
			t->files[0] = (struct file){.name = path, .dir = dir};
		} else if ((err = add_file(t, path, dir))) {
			return err;
		}
	}
	return 0;
}

/* Directories and files before DWARF 5: strings up to an empty one. */
static int v4_entries(struct cur *c, const char *comp_dir, struct table *t)
{
	struct cur scan = *c;
	size_t n = 1;
	int err;

	while (!scan.bad && scan.p < scan.end && *scan.p) {
		cstr(&scan);
		n++;
	}
	if (scan.bad || scan.p >= scan.end)
		return -EINVAL;
	t->dirs = calloc(n, sizeof(*t->dirs));
	if (!t->dirs)
		return -ENOMEM;
	t->dirs[t->ndirs++] = comp_dir;
	while (*c->p)
		t->dirs[t->ndirs++] = cstr(c);
	c->p++;
	if (c->p >= c->end)
		return -EINVAL;
	while (!c->bad && c->p < c->end && *c->p) {
		const char *name = cstr(c);
		uint64_t dir = uleb(c);

		uleb(c); /* modification time */
		uleb(c); /* length */
		if (c->bad)
			return -EINVAL;
		if ((err = add_file(t, name, dir)))
			return err;
	}
	if (c->bad || c->p >= c->end)
		return -EINVAL;
	c->p++;
	return 0;
}

static int read_header(const struct ls_linetab_src *src, uint64_t offset, const char *comp_dir,
		       unsigned address_size, struct header *h, struct table *t)
{
	struct cur c;
	uint64_t unit_length, header_length;
	const uint8_t *header_end;
	unsigned op;
	int err;

	if (!src->line || offset >= src->line_size)
		return -EINVAL;
	c = (struct cur){.p = src->line + offset, .end = src->line + src->line_size};
	unit_length = get_n(&c, 4);
	h->offset_size = 4;
	if (unit_length == 0xffffffffu) {
		unit_length = get_n(&c, 8);
		h->offset_size = 8;
	} else if (unit_length >= 0xfffffff0u) {
		return -EINVAL;
	}
	if (c.bad || unit_length > (uint64_t)(c.end - c.p))
		return -EINVAL;
	c.end = c.p + unit_length;
	h->end = c.end;
	h->version = (unsigned)get_n(&c, 2);
	if (c.bad || h->version < 2 || h->version > 5)
		return -EINVAL;
	if (h->version >= 5) {
		if (get_n(&c, 1) != address_size || get_n(&c, 1) != 0)
			return -EINVAL;
	}
	header_length = get_n(&c, h->offset_size);
	if (c.bad || header_length > (uint64_t)(c.end - c.p))
		return -EINVAL;
	header_end = c.p + header_length;
	h->min_inst = (unsigned)get_n(&c, 1);
	h->max_ops = h->version >= 4 ? (unsigned)get_n(&c, 1) : 1;
	h->default_is_stmt = (uint8_t)get_n(&c, 1);
	h->line_base = (int8_t)get_n(&c, 1);
	h->line_range = (unsigned)get_n(&c, 1);
	h->opcode_base = (unsigned)get_n(&c, 1);
	if (c.bad || !h->max_ops || !h->opcode_base)
		return -EINVAL;
	h->std_len = c.p - 1;
	if ((size_t)(c.end - c.p) < h->opcode_base - 1)
		return -EINVAL;
	c.p += h->opcode_base - 1;
	/* the file and directory lists end where the header says */
	c.end = header_end;
	t->files = calloc(1, sizeof(*t->files));
	if (!t->files)
		return -ENOMEM;
	t->cap_files = 1;
	t->nfiles = 1;
	t->files[0] = (struct file){.name = "???", .dir = NO_DIR};
	if (h->version < 5) {
		err = v4_entries(&c, comp_dir, t);
	} else {
		err = v5_entries(&c, src, h->offset_size, t, false);
		if (!err)
			err = v5_entries(&c, src, h->offset_size, t, true);
	}
	if (err)
		return err;
	if (c.p != header_end)
		return -EINVAL;
	h->program = header_end;
	if (h->line_range)
		for (op = h->opcode_base; op < 256; op++) {
			h->dline[op] = h->line_base + (int)((op - h->opcode_base) % h->line_range);
			h->dadv[op] = (op - h->opcode_base) / h->line_range;
		}
	return 0;
}

struct row {
	uint64_t addr;
	uint64_t file;
	size_t seq; /* program order: libdw's tie-break */
	int line;
	bool end_sequence;
};

/* libdw's order: address, an end of sequence first, then program order. */
static bool before(const struct row *a, const struct row *b)
{
	if (a->addr != b->addr)
		return a->addr < b->addr;
	if (a->end_sequence != b->end_sequence)
		return a->end_sequence;
	return a->seq < b->seq;
}

/*
 * Sort rows into libdw's order. They come in program order, a sequence's
 * rows by address already, then the ranges' predecessors: a few sorted
 * runs, merged pairwise (qsort's n log n compares cost ~2 ms on the 10,000
 * rows of python3's eval loop). -ENOMEM.
 */
static int sort_rows(struct row *v, size_t n)
{
	struct row *tmp;
	size_t *runs, nruns = 0, i;

	for (i = 1; i < n && !before(&v[i], &v[i - 1]); i++)
		;
	if (i >= n)
		return 0;
	tmp = malloc(n * sizeof(*tmp));
	runs = malloc((n + 1) * sizeof(*runs));
	if (!tmp || !runs) {
		free(tmp);
		free(runs);
		return -ENOMEM;
	}
	/* runs[k]: where run k starts; runs[nruns] == n */
	runs[nruns++] = 0;
	for (i = 1; i < n; i++)
		if (before(&v[i], &v[i - 1]))
			runs[nruns++] = i;
	runs[nruns] = n;
	while (nruns > 1) {
		size_t k, out = 0;

		for (k = 0; k + 1 < nruns; k += 2) {
			size_t a = runs[k], am = runs[k + 1], b = am, bm = runs[k + 2], o = a;

			/* ties keep the earlier run's row first: a stable merge */
			while (a < am && b < bm)
				tmp[o++] = before(&v[b], &v[a]) ? v[b++] : v[a++];
			while (a < am)
				tmp[o++] = v[a++];
			while (b < bm)
				tmp[o++] = v[b++];
			memcpy(v + runs[k], tmp + runs[k], (bm - runs[k]) * sizeof(*v));
			runs[out++] = runs[k];
		}
		if (k < nruns)
			runs[out++] = runs[k];
		runs[out] = n;
		nruns = out;
	}
	free(tmp);
	free(runs);
	return 0;
}

struct walk {
	const struct ls_linetab_range *ranges;
	size_t n;
	struct row pred[MAX_RANGES]; /* per range: the last row at or below lo */
	bool has_pred[MAX_RANGES];
	struct row first;   /* of the whole table, in libdw's order */
	uint64_t last_addr; /* and its last row: what libdw marks an end of sequence */
	size_t last_seq;
	bool last_end;
	size_t nrows;
	struct row *rows; /* those inside some range (lo, hi - 1] */
	size_t nkept, cap;
	uint64_t lo_min, hi_max;
};

static int keep_in(struct walk *w, const struct row *r);

/*
 * One row of the program. Most are nowhere near the ranges: for them,
 * only the table's first and last rows are followed (the order's first
 * key is the address; rows come in program order, so a later row ties
 * ahead only by ending a sequence).
 */
static inline int keep(struct walk *w, const struct row *r)
{
	if (!w->nrows++ || r->addr < w->first.addr ||
	    (r->addr == w->first.addr && r->end_sequence && !w->first.end_sequence))
		w->first = *r;
	if (r->addr > w->last_addr ||
	    (r->addr == w->last_addr && (!r->end_sequence || w->last_end)) || w->nrows == 1) {
		w->last_addr = r->addr;
		w->last_seq = r->seq;
		w->last_end = r->end_sequence;
	}
	if (r->addr > w->hi_max - 1)
		return 0;
	return keep_in(w, r);
}

/* A row at or below some range's end: a range's predecessor, or inside one. */
static int keep_in(struct walk *w, const struct row *r)
{
	size_t i;
	bool in = false;

	for (i = 0; i < w->n; i++) {
		const struct ls_linetab_range *g = &w->ranges[i];

		if (r->addr <= g->lo) {
			/* rows come in program order: a later one wins a tie unless it ends a
			 * sequence */
			if (!w->has_pred[i] || before(&w->pred[i], r)) {
				w->pred[i] = *r;
				w->has_pred[i] = true;
			}
		} else if (r->addr <= g->hi - 1) {
			in = true;
		}
	}
	if (in) {
		struct row *grown = ls_grow(w->rows, &w->cap, w->nkept + 1, sizeof(*w->rows), 64);

		if (!grown)
			return -ENOMEM;
		w->rows = grown;
		w->rows[w->nkept++] = *r;
	}
	return 0;
}

/* Run the line program (DWARF 5, 6.2.5), keeping what the ranges need. */
static int run(const struct header *h, struct table *t, unsigned address_size, struct walk *w)
{
	struct cur c = {.p = h->program, .end = h->end};
	uint64_t addr = 0, file = 1, column = 0, isa = 0, op_index = 0;
	int64_t line = 1;
	unsigned is_stmt = h->default_is_stmt;
	size_t seq = 0;
	int err;

	/* one row: refused where libdw's narrower fields would refuse the unit */
#define EMIT(endseq)                                                                               \
	do {                                                                                       \
		struct row r_ = {.addr = addr,                                                     \
				 .file = file,                                                     \
				 .seq = seq++,                                                     \
				 .line = (int)line,                                                \
				 .end_sequence = (endseq)};                                        \
		if (line < INT_MIN || line > INT_MAX || column > 0xffff || op_index > 0xff ||      \
		    isa > 0xff || is_stmt > 1 || file > UINT_MAX)                                  \
			return -EINVAL;                                                            \
		if ((err = keep(w, &r_)))                                                          \
			return err;                                                                \
	} while (0)

	while (c.p < c.end) {
		unsigned op = *c.p++;
		uint64_t adv;

		if (op >= h->opcode_base) {
			if (!h->line_range)
				return -EINVAL;
			line += h->dline[op];
			adv = h->dadv[op];
			if (h->max_ops == 1) {
				addr += h->min_inst * adv;
			} else {
				addr += h->min_inst * ((op_index + adv) / h->max_ops);
				op_index = (op_index + adv) % h->max_ops;
			}
			EMIT(false);
		} else if (op == 0) {
			unsigned len, sub;

			if (c.end - c.p < 2)
				return -EINVAL;
			len = *c.p++;
			/* libdw reads the length as one byte: a longer one is not guessed at */
			if (len & 0x80 || !len || (size_t)(c.end - c.p) < len)
				return -EINVAL;
			sub = *c.p++;
			switch (sub) {
			case LNE_end_sequence:
				EMIT(true);
				addr = op_index = column = isa = 0;
				file = 1;
				line = 1;
				is_stmt = h->default_is_stmt;
				break;
			case LNE_set_address:
				/* libdw reads the unit's address size, whatever the length says */
				op_index = 0;
				addr = get_n(&c, address_size);
				if (c.bad || (address_size != 4 && address_size != 8))
					return -EINVAL;
				break;
			case LNE_define_file: {
				const char *name = cstr(&c);
				uint64_t dir = uleb(&c);

				uleb(&c);
				uleb(&c);
				if (c.bad)
					return -EINVAL;
				if ((err = add_file(t, name, dir)))
					return err;
				break;
			}
			case LNE_set_discriminator:
				if (h->opcode_base <= 4 || h->std_len[4] != 1)
					return -EINVAL;
				uleb(&c);
				break;
			default:
				c.p += len - 1;
				break;
			}
		} else if (op <= LNS_set_isa) {
			/* a known standard opcode must say the operands it has */
			static const uint8_t nargs[] = {0, 0, 1, 1, 1, 1, 0, 0, 0, 1, 0, 0, 1};

			if (h->std_len[op] != nargs[op])
				return -EINVAL;
			switch (op) {
			case LNS_copy:
				EMIT(false);
				break;
			case LNS_advance_pc:
				adv = uleb(&c);
				/* libdw keeps 32 bits of it: a larger advance is not guessed at */
				if (adv > 0xffffff)
					return -EINVAL;
				addr += h->min_inst * ((op_index + adv) / h->max_ops);
				op_index = (op_index + adv) % h->max_ops;
				break;
			case LNS_advance_line: {
				int64_t d = sleb(&c);

				if (d < INT_MIN || d > INT_MAX)
					return -EINVAL;
				line += d;
				break;
			}
			case LNS_set_file:
				file = uleb(&c);
				break;
			case LNS_set_column:
				column = uleb(&c);
				break;
			case LNS_negate_stmt:
				is_stmt = (1 - is_stmt) & 0xff;
				break;
			case LNS_const_add_pc:
				if (!h->line_range)
					return -EINVAL;
				adv = (255 - h->opcode_base) / h->line_range;
				addr += h->min_inst * ((op_index + adv) / h->max_ops);
				op_index = (op_index + adv) % h->max_ops;
				break;
			case LNS_fixed_advance_pc:
				addr += get_n(&c, 2);
				op_index = 0;
				break;
			case LNS_set_isa:
				isa = uleb(&c);
				break;
			default: /* basic_block, prologue_end, epilogue_begin: nothing kept */
				break;
			}
		} else {
			/* a standard opcode this reader does not know: skip its operands */
			unsigned k;

			for (k = 0; k < h->std_len[op]; k++)
				uleb(&c);
		}
		if (c.bad)
			return -EINVAL;
	}
#undef EMIT
	return 0;
}

struct ls_linetab {
	struct table t;
	struct row *rows;
	size_t n;
	size_t last_seq; /* the table's last row, which libdw marks an end of sequence */
};

void ls_linetab__free(struct ls_linetab *lt)
{
	if (!lt)
		return;
	table_free(&lt->t);
	free(lt->rows);
	free(lt);
}

int ls_linetab__read(const struct ls_linetab_src *src, uint64_t offset, const char *comp_dir,
		     unsigned address_size, const struct ls_linetab_range *ranges, size_t n,
		     struct ls_linetab **out)
{
	struct ls_linetab *lt = NULL;
	struct header h;
	struct walk *w;
	size_t i, kept = 0;
	int err;

	*out = NULL;
	if (n > MAX_RANGES)
		return -E2BIG;
	if (!n)
		return -EINVAL;
	for (i = 0; i < n; i++)
		if (ranges[i].lo >= ranges[i].hi)
			return -EINVAL;
	w = calloc(1, sizeof(*w));
	lt = calloc(1, sizeof(*lt));
	if (!w || !lt) {
		err = -ENOMEM;
		goto cleanup;
	}
	w->ranges = ranges;
	w->n = n;
	w->hi_max = ranges[0].hi;
	for (i = 1; i < n; i++)
		if (ranges[i].hi > w->hi_max)
			w->hi_max = ranges[i].hi;
	err = read_header(src, offset, comp_dir, address_size, &h, &lt->t);
	if (!err)
		err = run(&h, &lt->t, address_size, w);
	if (!err && !w->nrows)
		err = -ENOENT;
	if (err)
		goto cleanup;
	/* each range starts at its last row at or below lo: the table's first when none is */
	for (i = 0; i < n; i++) {
		struct row *grown = ls_grow(w->rows, &w->cap, w->nkept + 1, sizeof(*w->rows), 64);

		if (!grown) {
			err = -ENOMEM;
			goto cleanup;
		}
		w->rows = grown;
		w->rows[w->nkept++] = w->has_pred[i] ? w->pred[i] : w->first;
	}
	err = sort_rows(w->rows, w->nkept);
	if (err)
		goto cleanup;
	for (i = 0; i < w->nkept; i++)
		if (!kept || w->rows[i].seq != w->rows[kept - 1].seq)
			w->rows[kept++] = w->rows[i];
	lt->rows = w->rows;
	lt->n = kept;
	lt->last_seq = w->last_seq;
	w->rows = NULL;
	*out = lt;
	lt = NULL;
cleanup:
	if (w)
		free(w->rows);
	free(w);
	ls_linetab__free(lt);
	return err;
}

size_t ls_linetab__nrows(const struct ls_linetab *lt)
{
	return lt->n;
}

int ls_linetab__row(struct ls_linetab *lt, size_t i, struct ls_linetab_row *row)
{
	const struct row *r = &lt->rows[i];
	int err = 0;

	*row = (struct ls_linetab_row){
	    .addr = r->addr,
	    .file = file_path(&lt->t, r->file, &err),
	    .line = r->line,
	    /* libdw marks the table's last row an end of sequence, whatever it was */
	    .end_sequence = r->end_sequence || r->seq == lt->last_seq,
	};
	return err;
}

const char *ls_linetab__file(struct ls_linetab *lt, uint64_t i)
{
	int err = 0;

	return file_path(&lt->t, i, &err);
}
