// SPDX-License-Identifier: BSD-2-Clause
/*
 * The unwinder (unwind.c) on stack records whose bytes a traced process
 * controls: the copied stack is its memory, the registers its registers.
 * Unwinding and symbolizing run against this very process (its modules,
 * its DWARF), and must never crash, loop or read outside the record: the
 * record is an exact-size allocation, so ASan catches a read past it.
 *
 * The input's first byte picks how the record is made:
 *   even: the rest is the record itself (header, then stack). Words whose top
 *         16 bits are 0xA5A5 are relocated into a module of this process
 *         (bits 32..39 pick it, the low 32 bits are the offset from its
 *         base), words with 0x5A5A on top point into the copied stack
 *         (sp + low 32 bits): so a fuzzer that cannot know our addresses
 *         still reaches code with CFI and chains of frames.
 *   odd:  this thread's own live stack, captured now, then patched: u16
 *         size, then (u16 offset, u64 xor) pairs applied to the record.
 *
 * FUZZ_UNWIND_WRITE_SEED=FILE makes a live run also write its record in the
 * even form to FILE: that is how corpus/unwind/raw-* were made.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <dlfcn.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <elfutils/libdwfl.h>
#include "unwind.h"

/* records are variable-size: a header and only the stack bytes it says */
#pragma GCC diagnostic ignored "-Warray-bounds"
#pragma GCC diagnostic ignored "-Wpragmas"
#pragma GCC diagnostic ignored "-Wunknown-warning-option"

#define HDR offsetof(struct lt_stack_rec, data)
#define CODE_TAG 0xA5A5ull
#define STACK_TAG 0x5A5Aull
#define LIVE_MAX 8192
/* the agent keeps one unwinder for its whole run; a fresh one now and then bounds our memory */
#define RUNS_PER_UNWINDER 2000

static struct ls_unwinder *unwinder;
static unsigned runs;
static uintptr_t bases[4];
static unsigned n_bases;
static uintptr_t stack_end; /* the top of this thread's stack: captures stop there */

static void add_base(const void *addr)
{
	Dl_info info;

	if (dladdr(addr, &info) && info.dli_fbase)
		bases[n_bases++] = (uintptr_t)info.dli_fbase;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc, (void)argv;
	n_bases = 0;
	add_base((const void *)LLVMFuzzerTestOneInput);			     /* this program */
	add_base((const void *)dlsym(RTLD_DEFAULT, "gnu_get_libc_version")); /* libc */
	add_base((const void *)dwfl_begin);				     /* libdw */
	add_base((const void *)dlsym(RTLD_DEFAULT, "elf_begin"));	     /* libelf */
	unwinder = ls_unwinder__new();
	{
		pthread_attr_t attr;
		void *addr;
		size_t len;

		if (!pthread_getattr_np(pthread_self(), &attr)) {
			if (!pthread_attr_getstack(&attr, &addr, &len))
				stack_end = (uintptr_t)addr + len;
			pthread_attr_destroy(&attr);
		}
	}
	return 0;
}

static uint64_t relocate(uint64_t w, uint64_t sp)
{
	if (w >> 48 == CODE_TAG && n_bases)
		return bases[((w >> 32) & 0xff) % n_bases] + (w & 0xffffffffull);
	if (w >> 48 == STACK_TAG)
		return sp + (w & 0xffffffffull);
	return w;
}

/* Copy our own stack without ASan's checks: callers' frames hold redzones. */
__attribute__((no_sanitize_address, noinline)) static void copy_stack(uint8_t *dst,
								      const uint8_t *src, size_t n)
{
	const volatile uint8_t *s = src;

	while (n--)
		*dst++ = *s++;
}

/* Registers and the top of the stack of this very function's frame. */
__attribute__((noinline)) static void capture(struct lt_stack_rec *r, size_t want)
{
	uint64_t ip, sp, bp;

	__asm__ volatile("lea 0(%%rip), %0\n\t"
			 "mov %%rsp, %1\n\t"
			 "mov %%rbp, %2\n\t"
			 : "=r"(ip), "=r"(sp), "=r"(bp));
	memset(r->regs, 0, sizeof(r->regs));
	r->regs[6] = bp;
	r->regs[7] = sp;
	r->regs[16] = ip;
	if (sp + want > stack_end)
		want = stack_end > sp ? stack_end - sp : 0;
	copy_stack(r->data, (const uint8_t *)(uintptr_t)sp, want);
	r->size = (uint32_t)want;
}

static void unwind_one(struct lt_stack_rec *rec, size_t size, int expect_refusal)
{
	struct ls_pcs pcs;
	struct ls_stack st = {0};
	int err;

	err = ls_unwinder__unwind(unwinder, rec, size, &pcs);
	if (expect_refusal && !err)
		abort();
	if (err)
		return;
	if (pcs.n < 1 || pcs.n > LS_MAX_FRAMES)
		abort();
	if (!ls_unwinder__symbolize(unwinder, (pid_t)rec->pid, &pcs, &st)) {
		if (st.n > LS_MAX_FRAMES)
			abort();
		/* FUZZ_VERBOSE=1: what an input unwinds to, for checking the seeds */
		if (getenv("FUZZ_VERBOSE")) {
			unsigned i;

			fprintf(stderr, "%u pcs, %u frames:", pcs.n, st.n);
			for (i = 0; i < st.n; i++)
				fprintf(stderr, " %s",
					st.frames[i].symbol ? st.frames[i].symbol : "?");
			fprintf(stderr, "\n");
		}
		free(st.frames);
	}
}

static uint64_t tag(uint64_t w, uint64_t sp, size_t size)
{
	Dl_info info;
	unsigned k;

	if (w >= sp && w - sp < size)
		return STACK_TAG << 48 | (w - sp);
	if (w < 4096 || !dladdr((void *)(uintptr_t)w, &info))
		return w;
	for (k = 0; k < n_bases; k++)
		if ((uintptr_t)info.dli_fbase == bases[k] && w - bases[k] <= 0xffffffffull)
			return CODE_TAG << 48 | (uint64_t)k << 32 | (w - bases[k]);
	return w;
}

/* The record in the even form, its addresses turned back into tags. */
static void write_seed(const char *path, const struct lt_stack_rec *rec)
{
	uint64_t sp = rec->regs[7], w;
	FILE *f = fopen(path, "wb");
	size_t i;
	struct lt_stack_rec *copy;

	if (!f)
		return;
	copy = malloc(HDR + rec->size);
	if (copy) {
		memcpy(copy, rec, HDR + rec->size);
		for (i = 0; i < LT_NREGS; i++)
			if (i != 7)
				copy->regs[i] = tag(copy->regs[i], sp, rec->size);
		for (i = 0; i + 8 <= rec->size; i += 8) {
			memcpy(&w, copy->data + i, 8);
			w = tag(w, sp, rec->size);
			memcpy(copy->data + i, &w, 8);
		}
		fputc(0, f);
		fwrite(copy, 1, HDR + rec->size, f);
		free(copy);
	}
	fclose(f);
}

static void live(const uint8_t *data, size_t size)
{
	struct lt_stack_rec *rec;
	uint16_t want = 0, off;
	uint64_t x;
	size_t i;

	if (size >= 2)
		memcpy(&want, data, 2);
	want = (uint16_t)((want % (LIVE_MAX / 8 + 1)) * 8);
	rec = malloc(HDR + want);
	if (!rec)
		return;
	memset(rec, 0, HDR);
	rec->type = LT_REC_STACK;
	rec->pid = (uint32_t)getpid();
	rec->tid = (uint32_t)gettid();
	rec->fd = -1;
	capture(rec, want);
	if (getenv("FUZZ_UNWIND_WRITE_SEED"))
		write_seed(getenv("FUZZ_UNWIND_WRITE_SEED"), rec);
	for (i = 2; i + 10 <= size; i += 10) {
		memcpy(&off, data + i, 2);
		memcpy(&x, data + i + 2, 8);
		off %= (uint16_t)(HDR + want);
		if ((size_t)off + 8 > HDR + want)
			off = (uint16_t)(HDR + want - 8);
		if ((size_t)off < offsetof(struct lt_stack_rec, size) + 4 &&
		    (size_t)off + 8 > offsetof(struct lt_stack_rec, pid))
			continue; /* keep pid, tid and size: the point is the stack's contents */
		{
			uint64_t w;

			memcpy(&w, (uint8_t *)rec + off, 8);
			w ^= x;
			memcpy((uint8_t *)rec + off, &w, 8);
		}
	}
	unwind_one(rec, HDR + want, 0);
	free(rec);
}

static void raw(const uint8_t *data, size_t size)
{
	struct lt_stack_rec *rec;
	size_t i, alloc;
	uint32_t claimed;
	int refuse;

	if (size < HDR)
		return;
	/* refused unless the stack it claims is all there; otherwise cut to it exactly */
	memcpy(&claimed, data + offsetof(struct lt_stack_rec, size), 4);
	refuse = claimed > LT_STACK_MAX || claimed > size - HDR;
	alloc = refuse ? size : HDR + claimed;
	rec = malloc(alloc);
	if (!rec)
		return;
	memcpy(rec, data, alloc);
	/* only this process is ours to read; bit 0 of nr asks for one that does not exist */
	rec->pid = rec->nr & 1 ? 0x7ffffffe : (uint32_t)getpid();
	rec->tid = (uint32_t)gettid();
	for (i = 0; i < LT_NREGS; i++)
		if (i != 7)
			rec->regs[i] = relocate(rec->regs[i], rec->regs[7]);
	if (!refuse)
		for (i = 0; i + 8 <= rec->size; i += 8) {
			uint64_t w;

			memcpy(&w, rec->data + i, 8);
			w = relocate(w, rec->regs[7]);
			memcpy(rec->data + i, &w, 8);
		}
	unwind_one(rec, alloc, refuse);
	free(rec);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (!unwinder)
		LLVMFuzzerInitialize(NULL, NULL);
	if (!size)
		return 0;
	if (++runs % RUNS_PER_UNWINDER == 0) {
		ls_unwinder__free(unwinder);
		unwinder = ls_unwinder__new();
	}
	if (data[0] & 1)
		live(data + 1, size - 1);
	else
		raw(data + 1, size - 1);
	return 0;
}
