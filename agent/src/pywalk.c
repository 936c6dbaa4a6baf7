// SPDX-License-Identifier: BSD-2-Clause
#include <string.h>
#include "pywalk.h"

/* as pyframes.bpf.h: interpreters and thread states looked at, steps of the chain */
#define MAX_INTERPS 4
#define MAX_THREADS 64
#define MAX_STEPS (LT_PY_MAX_FRAMES + 32)
#define OWNED_BY_CSTACK 3

static uint64_t read_ptr(ls_py_read_fn read, void *ctx, uint64_t addr)
{
	uint64_t v = 0;

	if (!addr || read(ctx, addr, &v, sizeof(v)))
		return 0;
	return v;
}

static uint64_t field(const uint8_t *buf, size_t len, uint32_t off, uint32_t size)
{
	uint64_t v = 0;

	if (off + (uint64_t)size > len)
		return 0;
	memcpy(&v, buf + off, size);
	return v;
}

static uint64_t thread_state(const struct lt_py_proc *pp, ls_py_read_fn read, void *ctx,
			     uint64_t fsbase)
{
	uint64_t interp = read_ptr(read, ctx, pp->runtime + pp->runtime_interp), ts;
	unsigned i, j;

	for (i = 0; i < MAX_INTERPS && interp; i++) {
		ts = read_ptr(read, ctx, interp + pp->interp_threads);
		for (j = 0; j < MAX_THREADS && ts; j++) {
			if (read_ptr(read, ctx, ts + pp->tstate_thread_id) == fsbase)
				return ts;
			ts = read_ptr(read, ctx, ts + pp->tstate_next);
		}
		interp = read_ptr(read, ctx, interp + pp->interp_next);
	}
	return 0;
}

void ls_py_walk(const struct lt_py_proc *pp, ls_py_read_fn read, void *ctx, uint64_t fsbase,
		struct lt_py_stack *out)
{
	uint8_t buf[LT_PY_FRAME_READ];
	uint64_t tstate, frame, at, code, instr;
	uint32_t flags, lasti, step;
	size_t len = pp->frame_read;

	out->n = 0;
	out->status = LT_PY_NO_THREAD;
	if (!fsbase)
		return;
	tstate = thread_state(pp, read, ctx, fsbase);
	if (!tstate)
		return;
	frame = read_ptr(read, ctx, tstate + pp->tstate_frame);
	if (pp->chain == LT_PY_CHAIN_CFRAME)
		frame = read_ptr(read, ctx, frame + pp->cframe_current);
	if (len == 0 || len > sizeof(buf))
		len = sizeof(buf);
	out->status = LT_PY_OK;
	for (step = 0; frame && step < MAX_STEPS; step++) {
		if (out->n >= LT_PY_MAX_FRAMES) {
			out->status = LT_PY_TRUNCATED;
			return;
		}
		if (read(ctx, frame, buf, len)) {
			out->status = LT_PY_READ_FAILED;
			return;
		}
		at = frame;
		code = field(buf, len, pp->frame_code, 8);
		frame = field(buf, len, pp->frame_back, 8);
		if (pp->frame_owner != LT_PY_NO_FIELD &&
		    field(buf, len, pp->frame_owner, 1) == OWNED_BY_CSTACK) {
			/* an eval call's entry shim: the frame after it began that call */
			if (out->n)
				out->frames[out->n - 1].flags |= LT_PY_ENTRY;
			continue;
		}
		flags = 0;
		if (pp->chain == LT_PY_CHAIN_FRAMEOBJ) {
			flags = LT_PY_ENTRY;
			lasti = (uint32_t)field(buf, len, pp->frame_instr, 4);
		} else {
			instr = field(buf, len, pp->frame_instr, 8);
			lasti = LT_PY_NO_LASTI;
			if (instr >= code + pp->code_adaptive &&
			    instr - code - pp->code_adaptive < (1ull << 31))
				lasti = (uint32_t)((instr - code - pp->code_adaptive) / 2);
			if (pp->frame_entry != LT_PY_NO_FIELD &&
			    field(buf, len, pp->frame_entry, 1))
				flags = LT_PY_ENTRY;
		}
		out->frames[out->n].code = code;
		out->frames[out->n].lasti = lasti;
		out->frames[out->n].flags = flags;
		out->frames[out->n].frame = at;
		out->n++;
	}
	/* steps ran out on entry shims before the chain did */
	if (frame)
		out->status = LT_PY_TRUNCATED;
}
