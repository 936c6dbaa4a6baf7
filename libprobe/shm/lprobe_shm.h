/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * Layout of libprobe's shared-memory region, /dev/shm/lprobe.PID: the
 * contract between libprobe (inside the service, one writer per loop) and
 * the agent (a reader running as root that trusts nothing in it). Fixed-width
 * types, explicit padding, no pointers; every size a reader needs is in the
 * header so it can check the region against what it was built for.
 *
 *   header | symbol table | string table | loop slot 0 | loop slot 1 | ...
 *
 * A loop slot is a struct lps_loop followed by its flight recorder ring of
 * ring_len struct lps_event. Only the loop's own thread writes its slot; only
 * libprobe's reporter thread writes the symbol and string tables. That
 * thread runs only when the process needs it (LPROBE_OUTPUT, a tracer on
 * stall_begin), so the tables may stay empty: a reader names a key it does
 * not find itself (a callback's address in the process, an await name's
 * address of a NUL-terminated string there).
 *
 * Consistency without locks: a ring entry or stall entry carries a sequence
 * number that is odd while the writer changes it (a seqlock per entry), so a
 * reader copies the entry, checks the number did not change and matches the
 * index it expected, and otherwise drops it. Counters are single aligned
 * 64-bit words and never torn.
 *
 * What a callback writes is kept to its ring entry: counters and ring_head
 * are published once per loop iteration (a page touched per callback costs
 * a TLB miss after every syscall the callback made). Entries newer than
 * ring_head are found by their sequence numbers, which name their index.
 */
#ifndef LPROBE_SHM_H
#define LPROBE_SHM_H

#include <stdint.h>

#define LPS_MAGIC 0x31424f52504c534cull /* "LSPLROB1" read as bytes */
#define LPS_VERSION 1u
/*
 * Version 2 has version 1's layout and is written by the CPython probe
 * (libprobe/python): its entries may carry the LPS_W_ASYNCIO_* watchers,
 * whose fields mean what struct lps_event says for them. A reader that
 * knows only version 1 refuses it rather than misread those fields.
 */
#define LPS_VERSION_PY 2u
/* name under /dev/shm; %d: the pid as the process itself sees it */
#define LPS_NAME_FMT "lprobe.%d"
#define LPS_DIR "/dev/shm"

/* Limits a reader enforces (a writer never exceeds them). */
#define LPS_MAX_LOOPS 64u
#define LPS_MAX_RING 65536u
#define LPS_MAX_REGION (64u << 20)
#define LPS_MAX_SYM_LEN 512u

/* What kind of libev watcher a callback belongs to. */
enum lps_watcher {
	LPS_W_UNKNOWN = 0,
	LPS_W_IO,
	LPS_W_TIMER,
	LPS_W_PERIODIC,
	LPS_W_SIGNAL,
	LPS_W_CHILD,
	LPS_W_STAT,
	LPS_W_IDLE,
	LPS_W_PREPARE,
	LPS_W_CHECK,
	LPS_W_EMBED,
	LPS_W_FORK,
	LPS_W_CLEANUP,
	LPS_W_ASYNC,
	LPS_W_CUSTOM, /* ev_feed_event with EV_CUSTOM, or a type libev does not name */
	LPS_W_COUNT,
};

/* Callbacks of an asyncio loop (version 2 regions only), outside libev's range. */
enum lps_watcher_py {
	LPS_W_ASYNCIO_TASK = 32,     /* a Task step: the coroutine ran from one await to the next */
	LPS_W_ASYNCIO_CALLBACK = 33, /* any other callback the loop ran (a Handle) */
};

static inline const char *lps_watcher_name(uint32_t w)
{
	switch (w) {
	case LPS_W_IO:
		return "io";
	case LPS_W_TIMER:
		return "timer";
	case LPS_W_PERIODIC:
		return "periodic";
	case LPS_W_SIGNAL:
		return "signal";
	case LPS_W_CHILD:
		return "child";
	case LPS_W_STAT:
		return "stat";
	case LPS_W_IDLE:
		return "idle";
	case LPS_W_PREPARE:
		return "prepare";
	case LPS_W_CHECK:
		return "check";
	case LPS_W_EMBED:
		return "embed";
	case LPS_W_FORK:
		return "fork";
	case LPS_W_CLEANUP:
		return "cleanup";
	case LPS_W_ASYNC:
		return "async";
	case LPS_W_CUSTOM:
		return "custom";
	case LPS_W_ASYNCIO_TASK:
		return "asyncio_task";
	case LPS_W_ASYNCIO_CALLBACK:
		return "asyncio_callback";
	default:
		return "unknown";
	}
}

/* What a flight-recorder entry describes. */
enum lps_kind {
	LPS_K_CALLBACK = 1, /* a watcher callback ran (key: its address) */
	LPS_K_AWAIT = 2,    /* a task was suspended (key: the await's name) */
	LPS_K_SEGMENT = 3,  /* a task ran on the loop after a resume or yield (key: name) */
};

/*
 * A flight-recorder entry. seq: 4i+1 or 4i+3 while written, 4i+2 running, 4i+4 done.
 *
 * An asyncio entry (watcher LPS_W_ASYNCIO_*) names everything by symbol table
 * keys (see LPS_PY_KEY): key is the coroutine or function (name: its
 * qualified name, module: "file:line" of its definition); interval_ns is the
 * task (LPS_PY_TASK_NUM | N for the default name "Task-N", else the key of
 * its name; 0: not a task); reserved holds the location keys' ids of where
 * the step resumed (low 32 bits) and suspended again (high 32 bits, written
 * when the step ends; 0: unknown or finished). arg is -1.
 */
struct lps_event {
	uint64_t seq;
	uint64_t key;	      /* callback address, or name key (see lps_sym) */
	uint64_t start_ns;    /* CLOCK_MONOTONIC */
	uint64_t end_ns;      /* 0 while running */
	uint64_t interval_ns; /* timer repeat, periodic interval; 0: none */
	uint32_t kind;	      /* enum lps_kind */
	uint32_t watcher;     /* enum lps_watcher */
	int32_t arg;	      /* fd (io), signal number (signal), pid (child); -1: none */
	uint32_t depth;	      /* callbacks running around this one (nested ev_run) */
	uint64_t reserved;
};
_Static_assert(sizeof(struct lps_event) == 64, "lps_event layout");

/*
 * The index after the newest ring entry begun: ring_head as published, then
 * forward over entries whose sequence number says they are the next ones.
 * Bounded by the ring's length whatever the region holds.
 */
static inline uint64_t lps_ring_end(const struct lps_event *ring, uint64_t mask, uint64_t head)
{
	uint64_t k;

	for (k = head; k - head <= mask; k++) {
		uint64_t seq = __atomic_load_n(&ring[k & mask].seq, __ATOMIC_ACQUIRE);

		if (seq < 4 * k + 1 || seq > 4 * k + 4)
			break;
	}
	return k;
}

/* A busy period over the threshold, with its longest callback. seq: 2i+1 writing, 2i+2 done. */
struct lps_stall {
	uint64_t seq;
	uint64_t start_ns;
	uint64_t end_ns;
	uint64_t cb_key; /* 0: unknown (the entry was overwritten) */
	uint64_t cb_start_ns;
	uint64_t cb_end_ns;
	uint64_t cb_interval_ns;
	uint32_t cb_watcher;
	int32_t cb_arg;
	uint32_t callbacks; /* callbacks that ran in the busy period */
	uint32_t pad;
	uint64_t seg_key;     /* task segment that ran longest in that callback; 0: none */
	uint64_t reserved[2]; /* version 2: reserved[0] is the callback's entry's reserved */
};
_Static_assert(sizeof(struct lps_stall) == 96, "lps_stall layout");

/*
 * Log-linear histogram of durations in ns: 64 linear buckets of 16 ns below
 * 1024 ns, then 64 sub-buckets per power of two up to 2^41 ns (36 min). A
 * bucket's midpoint is within 1/128 (0.8 %) of any value in it from 1 us up.
 */
#define LPS_HIST_SUB_BITS 6u
#define LPS_HIST_SUB (1u << LPS_HIST_SUB_BITS)
#define LPS_HIST_MIN_SHIFT 10u
#define LPS_HIST_MAX_SHIFT 41u
#define LPS_HIST_BUCKETS (LPS_HIST_SUB + (LPS_HIST_MAX_SHIFT - LPS_HIST_MIN_SHIFT) * LPS_HIST_SUB)

static inline uint32_t lps_hist_bucket(uint64_t ns)
{
	uint32_t k;

	if (ns < (1ull << LPS_HIST_MIN_SHIFT))
		return (uint32_t)(ns >> (LPS_HIST_MIN_SHIFT - LPS_HIST_SUB_BITS));
	if (ns >= (1ull << LPS_HIST_MAX_SHIFT))
		return LPS_HIST_BUCKETS - 1;
	k = 63u - (uint32_t)__builtin_clzll(ns);
	return LPS_HIST_SUB + (k - LPS_HIST_MIN_SHIFT) * LPS_HIST_SUB +
	       (uint32_t)((ns >> (k - LPS_HIST_SUB_BITS)) & (LPS_HIST_SUB - 1));
}

/* Smallest value of bucket b (b may be LPS_HIST_BUCKETS: the end of the last). */
static inline uint64_t lps_hist_lower(uint32_t b)
{
	uint32_t k;

	if (b < LPS_HIST_SUB)
		return (uint64_t)b << (LPS_HIST_MIN_SHIFT - LPS_HIST_SUB_BITS);
	b -= LPS_HIST_SUB;
	k = LPS_HIST_MIN_SHIFT + b / LPS_HIST_SUB;
	return (1ull << k) + ((uint64_t)(b % LPS_HIST_SUB) << (k - LPS_HIST_SUB_BITS));
}

/* Callbacks per iteration: bucket 0 holds 0, bucket i holds [2^(i-1), 2^i). */
#define LPS_CPI_BUCKETS 16u

static inline uint32_t lps_cpi_bucket(uint64_t n)
{
	uint32_t b = n ? 64u - (uint32_t)__builtin_clzll(n) : 0;

	return b < LPS_CPI_BUCKETS ? b : LPS_CPI_BUCKETS - 1;
}

#define LPS_STALL_RING 16u

enum lps_loop_state {
	LPS_LOOP_FREE = 0,
	LPS_LOOP_LIVE = 1,
	LPS_LOOP_GONE = 2, /* the loop was destroyed; its numbers stay readable */
};

/* One event loop. Its ring of header.ring_len struct lps_event follows it. */
struct lps_loop {
	uint32_t state;	  /* enum lps_loop_state */
	uint32_t tid;	  /* thread that last ran the loop; 0: not run yet */
	uint64_t loop_id; /* identifies the loop within the process */
	uint64_t attached_ns;
	uint64_t busy_start_ns; /* start of the busy period running now; 0 while in the poll */
	uint64_t ring_head;  /* ring entries begun, as of the last iteration: see lps_ring_end() */
	uint64_t stall_head; /* stall entries written so far */
	uint64_t iterations;
	uint64_t callbacks;
	uint64_t busy_ns;	  /* between poll return and the next poll */
	uint64_t poll_ns;	  /* waiting in the poll */
	uint64_t callback_ns;	  /* inside watcher callbacks */
	uint64_t callback_max_ns; /* the longest callback among those that made a stall */
	uint64_t stalls;
	uint64_t awaits;
	uint64_t yields;
	uint64_t max_callbacks_per_iteration;
	uint64_t untimed;		/* callbacks libprobe could not time (bookkeeping full) */
	uint64_t heartbeat_interval_ns; /* 0: no heartbeat */
	uint64_t heartbeat_samples;
	uint64_t heartbeat_max_ns;
	uint64_t reserved[12];
	uint64_t callbacks_per_iteration[LPS_CPI_BUCKETS];
	uint64_t heartbeat_late[LPS_HIST_BUCKETS]; /* lateness of each heartbeat tick */
	struct lps_stall stall_ring[LPS_STALL_RING];
};
_Static_assert(sizeof(struct lps_loop) % 64 == 0, "lps_loop keeps the ring aligned");

/* Symbol table entry: a callback address or await name, resolved to text. */
struct lps_sym {
	uint64_t key;	   /* 0: empty; written last, after the text it points to */
	uint32_t name_off; /* into the string table */
	uint16_t name_len; /* 0: the reporter could not name it */
	uint16_t flags;	   /* LPS_SYM_* */
	uint32_t module_off;
	uint16_t module_len;
	uint16_t pad;
};
_Static_assert(sizeof(struct lps_sym) == 24, "lps_sym layout");

#define LPS_SYM_NAME 0x1u /* key is an await/yield name, not a code address */

/*
 * Version 2 keys: tag in the top 16 bits (never a user-space address),
 * what is named in the next 8, an id the probe numbered from 1 below. The
 * probe writes the symbol table itself, on the loop thread, once per id.
 */
#define LPS_PY_TAG 0x5079ull /* "Py" */
#define LPS_PY_CODE 1u	     /* a coroutine or function */
#define LPS_PY_LOC 2u	     /* a "file:line" */
#define LPS_PY_NAME 3u	     /* a task's name */
#define LPS_PY_KEY(what, id) ((LPS_PY_TAG << 48) | ((uint64_t)(what) << 40) | (uint64_t)(id))
#define LPS_PY_TASK_NUM (1ull << 63) /* interval_ns: a task named "Task-N", N in the low bits */

static inline uint32_t lps_sym_hash(uint64_t key, uint32_t slots)
{
	/* Fibonacci hashing; slots is a power of two */
	return (uint32_t)((key * 0x9e3779b97f4a7c15ull) >> 32) & (slots - 1);
}

struct lps_header {
	uint64_t magic; /* written last: a reader sees it only once the rest is valid */
	uint32_t version;
	uint32_t header_size;
	uint64_t region_size;
	uint32_t pid; /* as the process sees itself (its own pid namespace) */
	uint32_t uid;
	uint64_t start_time; /* field 22 of /proc/self/stat: tells a reused pid apart */
	uint64_t created_ns;
	uint32_t syms_off;
	uint32_t sym_slots; /* power of two */
	uint32_t strtab_off;
	uint32_t strtab_size;
	uint64_t strtab_used; /* bytes of the string table in use */
	uint32_t loops_off;
	uint32_t loop_stride; /* sizeof(struct lps_loop) + ring_len * sizeof(struct lps_event) */
	uint32_t max_loops;
	uint32_t ring_len;   /* power of two */
	uint32_t loop_size;  /* sizeof(struct lps_loop) as the writer built it */
	uint32_t event_size; /* sizeof(struct lps_event) */
	uint32_t stall_size; /* sizeof(struct lps_stall) */
	uint32_t hist_buckets;
	uint64_t threshold_ns; /* libprobe's own stall threshold */
	uint64_t reserved[18];
};
_Static_assert(sizeof(struct lps_header) == 256, "lps_header layout");

#endif
