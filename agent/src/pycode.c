// SPDX-License-Identifier: BSD-2-Clause
/*
 * CPython code objects read from another process. The offsets below were
 * taken with gdb `ptype /o` from the pyenv builds 3.10.13, 3.11.7, 3.12.1
 * and 3.13.0 (which have symbols); Debian's python3.11 (3.11.2) has the
 * same 3.11 layout. Within a minor version CPython keeps these structs.
 */
#include <errno.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include "pycode.h"

#define NO LS_PY_NO_FIELD

static const struct ls_py_layout layouts[] = {
    {
	.minor = 10,
	.walk = {.chain = LT_PY_CHAIN_FRAMEOBJ,
		 .runtime_interp = 32,
		 .interp_next = 0,
		 .interp_threads = 8,
		 .tstate_next = 8,
		 .tstate_thread_id = 176,
		 .tstate_frame = 24,
		 .cframe_current = NO,
		 .frame_back = 24,
		 .frame_code = 32,
		 .frame_instr = 96,
		 .frame_entry = NO,
		 .frame_owner = NO,
		 .code_adaptive = 0,
		 .frame_read = 104},
	.co_filename = 104,
	.co_name = 112,
	.co_qualname = NO,
	.co_firstlineno = 40,
	.co_flags = 36,
	.co_linetable = 120,
	.unicode_state = 32,
	.unicode_ascii_size = 48,
	.unicode_compact_size = 72,
    },
    {
	.minor = 11,
	.walk = {.chain = LT_PY_CHAIN_CFRAME,
		 .runtime_interp = 40,
		 .interp_next = 0,
		 .interp_threads = 16,
		 .tstate_next = 8,
		 .tstate_thread_id = 152,
		 .tstate_frame = 56,
		 .cframe_current = 8,
		 .frame_back = 48,
		 .frame_code = 32,
		 .frame_instr = 56,
		 .frame_entry = 68,
		 .frame_owner = NO,
		 .code_adaptive = 184,
		 .frame_read = 80},
	.co_filename = 112,
	.co_name = 120,
	.co_qualname = 128,
	.co_firstlineno = 72,
	.co_flags = 48,
	.co_linetable = 136,
	.unicode_state = 32,
	.unicode_ascii_size = 48,
	.unicode_compact_size = 72,
    },
    {
	.minor = 12,
	.walk = {.chain = LT_PY_CHAIN_CFRAME,
		 .runtime_interp = 40,
		 .interp_next = 0,
		 .interp_threads = 72,
		 .tstate_next = 8,
		 .tstate_thread_id = 136,
		 .tstate_frame = 56,
		 .cframe_current = 0,
		 .frame_back = 8,
		 .frame_code = 0,
		 .frame_instr = 56,
		 .frame_entry = NO,
		 .frame_owner = 70,
		 .code_adaptive = 192,
		 .frame_read = 80},
	.co_filename = 112,
	.co_name = 120,
	.co_qualname = 128,
	.co_firstlineno = 68,
	.co_flags = 48,
	.co_linetable = 136,
	.unicode_state = 32,
	.unicode_ascii_size = 40,
	.unicode_compact_size = 56,
    },
    {
	.minor = 13,
	.walk = {.chain = LT_PY_CHAIN_DIRECT,
		 .runtime_interp = 632,
		 .interp_next = 7264,
		 .interp_threads = 7344,
		 .tstate_next = 8,
		 .tstate_thread_id = 152,
		 .tstate_frame = 72,
		 .cframe_current = NO,
		 .frame_back = 8,
		 .frame_code = 0,
		 .frame_instr = 56,
		 .frame_entry = NO,
		 .frame_owner = 70,
		 .code_adaptive = 200,
		 .frame_read = 80},
	.co_filename = 112,
	.co_name = 120,
	.co_qualname = 128,
	.co_firstlineno = 68,
	.co_flags = 48,
	.co_linetable = 136,
	.unicode_state = 32,
	.unicode_ascii_size = 40,
	.unicode_compact_size = 56,
    },
};

_Static_assert(offsetof(struct ls_py_layout, minor) == 0, "ls_py_by_minor reads minor first");

const void *ls_py_by_minor(const void *table, size_t n, size_t size, int minor)
{
	const char *entry = table;
	size_t i;

	for (i = 0; i < n; i++, entry += size)
		if (*(const int *)entry == minor)
			return entry;
	return NULL;
}

const struct ls_py_layout *ls_py_layout(int minor)
{
	return ls_py_by_minor(layouts, sizeof(layouts) / sizeof(layouts[0]), sizeof(layouts[0]),
			      minor);
}

/* An offset from _Py_DebugOffsets, usable as a 16-bit field (and inside limit when given). */
static bool debug_off(const uint8_t *hdr, size_t at, uint64_t limit, uint16_t *out)
{
	uint64_t v = ls_py_get64(hdr + at);

	if (v >= NO || (limit && v >= limit))
		return false;
	*out = (uint16_t)v;
	return true;
}

/* Where 3.13's _Py_DebugOffsets keeps the fields we use. */
#define DBG_COOKIE "xdebugpy"
#define DBG_VERSION 8
#define DBG_FREE_THREADED 16
#define DBG_RUNTIME_INTERP 40
#define DBG_INTERP_NEXT 64
#define DBG_INTERP_THREADS 72
#define DBG_TSTATE_NEXT 168
#define DBG_TSTATE_FRAME 184
#define DBG_TSTATE_THREAD_ID 192
#define DBG_FRAME_BACK 232
#define DBG_FRAME_CODE 240
#define DBG_FRAME_INSTR 248
#define DBG_FRAME_OWNER 264
#define DBG_CO_FILENAME 280
#define DBG_CO_NAME 288
#define DBG_CO_QUALNAME 296
#define DBG_CO_LINETABLE 304
#define DBG_CO_FIRSTLINENO 312
#define DBG_CO_ADAPTIVE 344
#define DBG_MIN_SIZE 352

int ls_py_apply_debug_offsets(struct ls_py_layout *l, const uint8_t *hdr, size_t len)
{
	struct ls_py_layout t = *l;
	uint64_t version;

	if (len < DBG_MIN_SIZE || memcmp(hdr, DBG_COOKIE, 8))
		return -EINVAL;
	version = ls_py_get64(hdr + DBG_VERSION);
	/* PY_VERSION_HEX: 3.minor */
	if ((version >> 24) != 3 || (int)((version >> 16) & 0xff) != l->minor)
		return -EINVAL;
	/* a free-threaded build lays its objects out otherwise */
	if (ls_py_get64(hdr + DBG_FREE_THREADED))
		return -EINVAL;
	/* frame fields must lie inside what BPF reads of a frame */
	if (!debug_off(hdr, DBG_RUNTIME_INTERP, 0, &t.walk.runtime_interp) ||
	    !debug_off(hdr, DBG_INTERP_NEXT, 0, &t.walk.interp_next) ||
	    !debug_off(hdr, DBG_INTERP_THREADS, 0, &t.walk.interp_threads) ||
	    !debug_off(hdr, DBG_TSTATE_NEXT, 0, &t.walk.tstate_next) ||
	    !debug_off(hdr, DBG_TSTATE_FRAME, 0, &t.walk.tstate_frame) ||
	    !debug_off(hdr, DBG_TSTATE_THREAD_ID, 0, &t.walk.tstate_thread_id) ||
	    !debug_off(hdr, DBG_FRAME_BACK, t.walk.frame_read - 7, &t.walk.frame_back) ||
	    !debug_off(hdr, DBG_FRAME_CODE, t.walk.frame_read - 7, &t.walk.frame_code) ||
	    !debug_off(hdr, DBG_FRAME_INSTR, t.walk.frame_read - 7, &t.walk.frame_instr) ||
	    !debug_off(hdr, DBG_FRAME_OWNER, t.walk.frame_read, &t.walk.frame_owner) ||
	    !debug_off(hdr, DBG_CO_FILENAME, LS_PY_CODE_HEAD - 7, &t.co_filename) ||
	    !debug_off(hdr, DBG_CO_NAME, LS_PY_CODE_HEAD - 7, &t.co_name) ||
	    !debug_off(hdr, DBG_CO_QUALNAME, LS_PY_CODE_HEAD - 7, &t.co_qualname) ||
	    !debug_off(hdr, DBG_CO_LINETABLE, LS_PY_CODE_HEAD - 7, &t.co_linetable) ||
	    !debug_off(hdr, DBG_CO_FIRSTLINENO, LS_PY_CODE_HEAD - 3, &t.co_firstlineno) ||
	    !debug_off(hdr, DBG_CO_ADAPTIVE, 0, &t.walk.code_adaptive))
		return -EINVAL;
	*l = t;
	return 0;
}

int ls_py_code_id(const struct ls_py_layout *l, ls_py_read_fn read, void *ctx, uint64_t addr,
		  uint64_t code_type, struct ls_py_code_id *id)
{
	uint8_t head[LS_PY_CODE_HEAD];
	int32_t first;

	if (!addr || addr % 8 || read(ctx, addr, head, sizeof(head)))
		return -EINVAL;
	memset(id, 0, sizeof(*id));
	id->type = ls_py_get64(head + 8);
	if (code_type && id->type != code_type)
		return -EINVAL;
	id->filename = ls_py_get64(head + l->co_filename);
	id->name = ls_py_get64(head + (l->co_qualname != NO ? l->co_qualname : l->co_name));
	id->linetable = ls_py_get64(head + l->co_linetable);
	memcpy(&first, head + l->co_firstlineno, sizeof(first));
	id->firstlineno = first;
	memcpy(&first, head + l->co_flags, sizeof(first));
	id->flags = first;
	return 0;
}

/* Append code point cp to out as UTF-8 if it fits whole; false when out is full. */
static bool put_utf8(char *out, size_t outlen, size_t *n, uint32_t cp)
{
	uint8_t b[4];
	size_t k, len;

	/* control characters and surrogates would break the readers' lines */
	if (cp < 0x20 || cp == 0x7f || (cp >= 0xd800 && cp < 0xe000) || cp > 0x10ffff)
		cp = '?';
	if (cp < 0x80) {
		b[0] = (uint8_t)cp;
		len = 1;
	} else if (cp < 0x800) {
		b[0] = (uint8_t)(0xc0 | (cp >> 6));
		b[1] = (uint8_t)(0x80 | (cp & 0x3f));
		len = 2;
	} else if (cp < 0x10000) {
		b[0] = (uint8_t)(0xe0 | (cp >> 12));
		b[1] = (uint8_t)(0x80 | ((cp >> 6) & 0x3f));
		b[2] = (uint8_t)(0x80 | (cp & 0x3f));
		len = 3;
	} else {
		b[0] = (uint8_t)(0xf0 | (cp >> 18));
		b[1] = (uint8_t)(0x80 | ((cp >> 12) & 0x3f));
		b[2] = (uint8_t)(0x80 | ((cp >> 6) & 0x3f));
		b[3] = (uint8_t)(0x80 | (cp & 0x3f));
		len = 4;
	}
	if (*n + len >= outlen)
		return false;
	for (k = 0; k < len; k++)
		out[(*n)++] = (char)b[k];
	return true;
}

int ls_py_str(const struct ls_py_layout *l, ls_py_read_fn read, void *ctx, uint64_t addr, char *out,
	      size_t outlen)
{
	uint8_t head[80], data[4 * LS_PY_MAX_PATH];
	uint32_t state, kind, cp;
	uint64_t length, at, bytes;
	size_t n = 0, i;

	if (!outlen)
		return -EINVAL;
	out[0] = '\0';
	if (l->unicode_compact_size > sizeof(head) || (size_t)l->unicode_state + 4 > sizeof(head))
		return -EINVAL;
	if (!addr || addr % 8 || read(ctx, addr, head, l->unicode_compact_size))
		return -EINVAL;
	length = ls_py_get64(head + 16);
	memcpy(&state, head + l->unicode_state, sizeof(state));
	kind = (state >> 2) & 7;
	/* compact: the characters follow the header; code objects hold no others */
	if (!(state & (1u << 5)) || (kind != 1 && kind != 2 && kind != 4))
		return -EINVAL;
	if (state & (1u << 6)) {
		if (kind != 1)
			return -EINVAL;
		at = addr + l->unicode_ascii_size;
	} else {
		at = addr + l->unicode_compact_size;
	}
	/* read no more than fits the output: a hostile length is only a long name */
	if (length > outlen)
		length = outlen;
	bytes = length * kind;
	if (bytes > sizeof(data))
		bytes = sizeof(data) - sizeof(data) % kind;
	if (bytes && read(ctx, at, data, bytes))
		return -EINVAL;
	for (i = 0; i + kind <= bytes; i += kind) {
		if (kind == 1) {
			cp = data[i];
		} else if (kind == 2) {
			uint16_t v;

			memcpy(&v, data + i, 2);
			cp = v;
		} else {
			memcpy(&cp, data + i, 4);
		}
		if (!put_utf8(out, outlen, &n, cp))
			break;
	}
	out[n] = '\0';
	return 0;
}

void ls_py_code_free(struct ls_py_code *c)
{
	free(c->linetable);
	c->linetable = NULL;
	c->linetable_len = 0;
}

/* A bytes object's contents, at most LS_PY_MAX_LINETABLE of them, malloc'd. */
static int read_bytes(ls_py_read_fn read, void *ctx, uint64_t addr, uint8_t **out, size_t *len)
{
	uint8_t head[32];
	uint64_t size;

	*out = NULL;
	*len = 0;
	if (!addr || addr % 8 || read(ctx, addr, head, sizeof(head)))
		return -EINVAL;
	size = ls_py_get64(head + 16);
	/* a longer table is cut: lines past its end read as unknown */
	if (size > LS_PY_MAX_LINETABLE)
		size = LS_PY_MAX_LINETABLE;
	if (!size)
		return 0;
	*out = malloc(size);
	if (!*out)
		return -ENOMEM;
	if (read(ctx, addr + 32, *out, size)) {
		free(*out);
		*out = NULL;
		return -EINVAL;
	}
	*len = size;
	return 0;
}

int ls_py_code_read(const struct ls_py_layout *l, ls_py_read_fn read, void *ctx, uint64_t addr,
		    uint64_t code_type, struct ls_py_code *out)
{
	int err;

	memset(out, 0, sizeof(*out));
	err = ls_py_code_id(l, read, ctx, addr, code_type, &out->id);
	if (err)
		return err;
	/* a name or file that cannot be read stays empty: the line may still be known */
	ls_py_str(l, read, ctx, out->id.name, out->name, sizeof(out->name));
	ls_py_str(l, read, ctx, out->id.filename, out->file, sizeof(out->file));
	err = read_bytes(read, ctx, out->id.linetable, &out->linetable, &out->linetable_len);
	return err == -ENOMEM ? err : 0;
}

/* 6-bit groups, low first, bit 6 set on all but the last (3.11+ location tables). */
static bool varint(const uint8_t *t, size_t len, size_t *i, uint32_t *out)
{
	uint32_t v = 0, shift = 0;
	uint8_t b;

	do {
		if (*i >= len || shift > 30)
			return false;
		b = t[(*i)++];
		v |= (uint32_t)(b & 63) << shift;
		shift += 6;
	} while (b & 64);
	*out = v;
	return true;
}

static bool svarint(const uint8_t *t, size_t len, size_t *i, int64_t *out)
{
	uint32_t u;

	if (!varint(t, len, i, &u))
		return false;
	*out = (u & 1) ? -(int64_t)(u >> 1) : (int64_t)(u >> 1);
	return true;
}

static int as_line(int64_t line)
{
	return line > 0 && line < (1 << 30) ? (int)line : -1;
}

/* 3.10: pairs of (bytecode bytes, signed line delta); -128 means no line. */
static int line_310(const uint8_t *t, size_t len, int firstlineno, uint32_t lasti)
{
	uint64_t start = 0, target = (uint64_t)lasti * 2, end;
	int64_t line = firstlineno;
	size_t i;

	for (i = 0; i + 1 < len; i += 2) {
		int8_t ldelta = (int8_t)t[i + 1];
		int64_t cur = -1;

		end = start + t[i];
		if (ldelta != -128) {
			line += ldelta;
			cur = line;
		}
		if (target >= start && target < end)
			return as_line(cur);
		start = end;
	}
	return -1;
}

/* 3.11+: entries of 1-8 code units; the first byte says how the line changes. */
static int line_311(const uint8_t *t, size_t len, int firstlineno, uint32_t lasti)
{
	int64_t line = firstlineno, delta, cur;
	uint64_t addr = 0;
	uint32_t skip;
	size_t i = 0;

	while (i < len) {
		uint8_t b = t[i++];
		unsigned code = (b >> 3) & 15, units = (b & 7) + 1, k;

		if (!(b & 0x80))
			return -1; /* not at an entry's start: the table is not one */
		if (code == 15) {
			cur = -1;
		} else if (code == 14) {
			if (!svarint(t, len, &i, &delta))
				return -1;
			line += delta;
			cur = line;
			/* end line, column, end column */
			for (k = 0; k < 3; k++)
				if (!varint(t, len, &i, &skip))
					return -1;
		} else if (code == 13) {
			if (!svarint(t, len, &i, &delta))
				return -1;
			line += delta;
			cur = line;
		} else if (code >= 10) {
			line += code - 10;
			cur = line;
			i += 2;
		} else {
			cur = line;
			i += 1;
		}
		/* a long table of huge deltas must not overflow */
		if (line > (1 << 30) || line < -(1 << 30))
			return -1;
		if (lasti < addr + units)
			return as_line(cur);
		addr += units;
	}
	return -1;
}

int ls_py_line(int minor, const uint8_t *table, size_t len, int firstlineno, uint32_t lasti)
{
	/* not started yet (3.10's f_lasti -1): the definition's line, as CPython says */
	if (lasti == LT_PY_NO_LASTI)
		return as_line(firstlineno);
	if (!table)
		return -1;
	if (minor == 10)
		return line_310(table, len, firstlineno, lasti);
	return line_311(table, len, firstlineno, lasti);
}
