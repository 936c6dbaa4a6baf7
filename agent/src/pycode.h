/* SPDX-License-Identifier: BSD-2-Clause */
#ifndef LOOPSTALL_PYCODE_H
#define LOOPSTALL_PYCODE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include "loop_tracker.h"

/*
 * CPython's objects as another process sees them: the layout of each
 * supported version (3.10 to 3.13) and decoders for code objects, their
 * strings and their line tables. Pure: memory comes through a read
 * callback, so the same code reads a live process (pyframes.c) and a
 * fuzzer's bytes. Everything read is untrusted: sizes are bounded, loops
 * end, a failed or odd read gives "unknown", never a crash.
 */

#define LS_PY_NO_FIELD 0xffffu

/* One CPython version's offsets (bytes), from gdb `ptype /o` on builds with symbols. */
struct ls_py_layout {
	int minor; /* 3.minor */
	/* what BPF walks with (struct lt_py_proc without the runtime address) */
	struct lt_py_proc walk;
	/* code objects */
	uint16_t co_filename;
	uint16_t co_name;
	uint16_t co_qualname; /* LS_PY_NO_FIELD before 3.11: co_name names the frame */
	uint16_t co_firstlineno;
	uint16_t co_flags;
	uint16_t co_linetable;
	/* str: PyASCIIObject, then PyCompactUnicodeObject when not ASCII */
	uint16_t unicode_state;
	uint16_t unicode_ascii_size;
	uint16_t unicode_compact_size;
};

/* The layout of 3.minor, or NULL when that version is not supported. */
const struct ls_py_layout *ls_py_layout(int minor);

/*
 * The entry for 3.minor of a per-version table: n structs of `size` bytes,
 * each starting with its `int minor`. NULL when the version has none.
 */
const void *ls_py_by_minor(const void *table, size_t n, size_t size, int minor);

/* A 64-bit field of bytes read from the target (unaligned, host order). */
static inline uint64_t ls_py_get64(const uint8_t *p)
{
	uint64_t v;

	memcpy(&v, p, sizeof(v));
	return v;
}

/*
 * 3.13+ describes its own layout in _Py_DebugOffsets at the start of
 * _PyRuntime: `hdr` is that many bytes of it. Fields it names replace the
 * table's in *l. Returns 0, or -EINVAL when hdr is not such a header, is
 * another version's or a free-threaded build's, or names offsets outside
 * what BPF can read.
 */
int ls_py_apply_debug_offsets(struct ls_py_layout *l, const uint8_t *hdr, size_t len);

/* Reads len bytes of the target at addr into buf: 0 or -errno. */
typedef int (*ls_py_read_fn)(void *ctx, uint64_t addr, void *buf, size_t len);

#define LS_PY_MAX_NAME 256
#define LS_PY_MAX_PATH 1024
#define LS_PY_MAX_LINETABLE 65536
/* bytes of a code object's head read at once: every field used lies below */
#define LS_PY_CODE_HEAD 160

/* What a code object's identity is checked by: its head's pointer fields. */
struct ls_py_code_id {
	uint64_t type;
	uint64_t filename;
	uint64_t name;
	uint64_t linetable;
	int32_t firstlineno;
	int32_t flags; /* co_flags: LS_PY_CO_COROUTINE... */
};

/* co_flags of a function whose call makes a coroutine (async def, @types.coroutine) */
#define LS_PY_CO_COROUTINE 0x80
#define LS_PY_CO_ITERABLE_COROUTINE 0x100

struct ls_py_code {
	struct ls_py_code_id id;
	char name[LS_PY_MAX_NAME]; /* qualified name ("" when unreadable) */
	char file[LS_PY_MAX_PATH];
	uint8_t *linetable; /* malloc'd copy, NULL when unreadable */
	size_t linetable_len;
};

/*
 * The identity fields of the code object at addr: 0, or -EINVAL when it is
 * no code object (code_type, when not 0, is the address of PyCode_Type).
 */
int ls_py_code_id(const struct ls_py_layout *l, ls_py_read_fn read, void *ctx, uint64_t addr,
		  uint64_t code_type, struct ls_py_code_id *id);
/* Read a code object: 0, -EINVAL (not one), -ENOMEM. Free with ls_py_code_free. */
int ls_py_code_read(const struct ls_py_layout *l, ls_py_read_fn read, void *ctx, uint64_t addr,
		    uint64_t code_type, struct ls_py_code *out);
void ls_py_code_free(struct ls_py_code *c);

/*
 * A str object as UTF-8 into out (always terminated, cut at a character
 * boundary when longer). 0, or -EINVAL when it is not a compact str.
 */
int ls_py_str(const struct ls_py_layout *l, ls_py_read_fn read, void *ctx, uint64_t addr, char *out,
	      size_t outlen);

/*
 * The source line of instruction `lasti` (code units from the start of the
 * bytecode) from a code object's line table: 3.10's (bytecode delta, line
 * delta) pairs or 3.11+'s location table. -1 when the table says nothing.
 */
int ls_py_line(int minor, const uint8_t *table, size_t len, int firstlineno, uint32_t lasti);

#endif
