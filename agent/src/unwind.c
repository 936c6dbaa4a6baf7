// SPDX-License-Identifier: BSD-2-Clause
/*
 * DWARF unwinding and symbolization of stacks BPF copied, with libdwfl.
 *
 * libdwfl unwinds a live process through ptrace by default; here it gets
 * our own thread callbacks instead, as perf's libdw unwinder does: the
 * initial registers come from the record and memory reads are answered from
 * the copied stack only. The ELF and DWARF files it reads belong to the
 * traced process: they are opened through /proc/PID/map_files, so a library
 * deleted or replaced on disk still resolves to the code that is mapped.
 */
#include <dwarf.h>
#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <setjmp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <elfutils/libdwfl.h>
#include <gelf.h>
#include "cuindex.h"
#include "debugcache.h"
#include "demangle.h"
#include "funcache.h"
#include "funstore.h"
#include "linetab.h"
#include "linetab_dw.h"
#include "perfmap.h"
#include "pyframes.h"
#include "symindex.h"
#include "symraw_dw.h"
#include "unwind.h"

#define MAX_PROCS 16
/* How often a process's mappings are re-read to notice newly loaded libraries. */
#define MAPS_RECHECK_NS 200000000ull
#define MAX_INLINE 16
#define MAX_POISONED 64
/* Modules with a build-id whose DWARF one process's Dwfl has read, lent to the others. */
#define MAX_DONORS 64
/* Modules whose store (funstore.h) was looked for: beyond, the others go without */
#define MAX_STORES 256

struct proc {
	pid_t pid;
	Dwfl *dwfl;
	uint64_t maps_hash;
	uint64_t checked_ns;
	uint64_t used_ns;
	struct ls_perfmap *perfmap;
	off_t perfmap_size; /* size when loaded: reload when the JIT appended */
};

/*
 * LOOPSTALL_SYMBOLIZE=full names every address with libdw alone, as before
 * the per-function caches; =check does both and counts the addresses where
 * they differ (the e2e test holds the caches to libdw's answers this way).
 */
enum sym_mode {
	SYM_CACHED,
	SYM_FULL,
	SYM_CHECK,
};

/*
 * A module (by build-id) in one process's Dwfl that has read its debug
 * info: another process mapping the same file asks it instead of reading
 * (and decompressing) the same debug info again in its own Dwfl.
 */
struct donor {
	uint64_t key;
	Dwfl *dwfl;
	Dwfl_Module *mod;
	Dwarf_Addr low;
};

/*
 * A module's store: what the caches learned of it in earlier runs
 * (funstore.h), read before its first address is named, written again by
 * the idle finisher once this run learned more.
 */
struct store {
	uint64_t key;
	unsigned char id[LS_DEBUGCACHE_ID_MAX];
	size_t id_len; /* 0: no build-id, nothing stored */
	uint32_t n_symtab;
	bool dirty;
};

/* A module's symbols by address (symindex.h), as long as its Dwfl lives (names point into it). */
struct symidx {
	Dwfl_Module *mod;
	struct ls_symindex *x; /* NULL: it could not be built, libdwfl alone */
};

/* Symbolized frames of one code address, cached by (module build-id, offset). */
struct sym_entry {
	uint64_t module_key;
	uint64_t offset;
	unsigned n;
	struct ls_frame *frames; /* addr left 0: filled per use */
};

struct ls_unwinder {
	struct proc procs[MAX_PROCS];
	/* the record being unwound, for the thread callbacks */
	const struct lt_stack_rec *rec;
	size_t rec_stack;
	struct ls_pcs *out;
	uint64_t last_bp;
	bool last_bp_valid;
	/* interned strings */
	char **strs;
	size_t strs_cap, strs_n;
	/* symbol cache */
	struct sym_entry *syms;
	size_t syms_cap, syms_n;
	struct ls_unwind_stats stats;
	struct ls_pyframes *py; /* NULL until ls_unwinder__set_python */
	/* modules whose DWARF crashed libdw: ELF symbols only from then on */
	uint64_t poisoned[MAX_POISONED];
	unsigned n_poisoned;
	/*
	 * Per function, what naming one of its addresses needs (funcache.h):
	 * the ELF symbol's range and the tree of inlined instances.
	 */
	enum sym_mode mode;
	struct ls_rangemap *elf_syms; /* value: interned symbol */
	struct ls_rangemap *funcs;    /* value: struct ls_func */
	struct ls_rangemap *bare;     /* single addresses with no DWARF function (funstore.h) */
	size_t n_bare;
	struct ls_func **func_list; /* every ls_func built, to free */
	size_t funcs_n, funcs_cap;
	uint64_t checked, check_differ, check_more; /* SYM_CHECK */
	uint64_t lent; /* addresses named with another process's module */
	struct donor donors[MAX_DONORS];
	unsigned n_donors;
	struct ls_debugcache *dcache; /* NULL: off */
	struct store stores[MAX_STORES];
	unsigned n_stores;
	struct symidx symidx[MAX_DONORS];
	unsigned n_symidx;
	struct ls_cuindex *cuidx; /* modules' .debug_aranges (NULL: libdwfl's) */
	uint64_t stores_read, stores_refused, stores_written;
};

/* find_elf has no context argument: the process whose modules are loaded. */
static pid_t current_pid;
static char *debuginfo_path;

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static uint64_t fnv1a(const void *data, size_t len, uint64_t h)
{
	const unsigned char *p = data;

	while (len--) {
		h ^= *p++;
		h *= 1099511628211ull;
	}
	return h;
}

#define FNV_SEED 14695981039346656037ull

static const char *intern(struct ls_unwinder *u, const char *s)
{
	uint64_t h;
	size_t i;

	if (!s)
		return NULL;
	if (u->strs_n * 2 >= u->strs_cap) {
		size_t cap = u->strs_cap ? 2 * u->strs_cap : 1024, j;
		char **grown = calloc(cap, sizeof(*grown));

		if (!grown)
			return NULL;
		for (j = 0; j < u->strs_cap; j++) {
			char *old = u->strs[j];

			if (!old)
				continue;
			h = fnv1a(old, strlen(old), FNV_SEED);
			for (i = h & (cap - 1); grown[i]; i = (i + 1) & (cap - 1))
				;
			grown[i] = old;
		}
		free(u->strs);
		u->strs = grown;
		u->strs_cap = cap;
	}
	h = fnv1a(s, strlen(s), FNV_SEED);
	for (i = h & (u->strs_cap - 1); u->strs[i]; i = (i + 1) & (u->strs_cap - 1))
		if (!strcmp(u->strs[i], s))
			return u->strs[i];
	u->strs[i] = strdup(s);
	if (!u->strs[i])
		return NULL;
	u->strs_n++;
	return u->strs[i];
}

/*
 * A symbol as people read it: without its version
 * ("clock_nanosleep@GLIBC_2.2.5"), C++ demangled (every output shows
 * "v8::base::Time::Now()", never "_ZN2v84base4Time3NowEv"). Done once per
 * code address: frames are cached.
 */
static const char *intern_symbol(struct ls_unwinder *u, const char *sym)
{
	char buf[LS_DEMANGLE_MAX_IN + 1], readable[1024];
	size_t len;

	if (!sym)
		return NULL;
	len = strcspn(sym, "@");
	if (sym[len] && len < sizeof(buf)) {
		memcpy(buf, sym, len);
		buf[len] = '\0';
		sym = buf;
	}
	if (ls_demangle(sym, readable, sizeof(readable)))
		return intern(u, readable);
	return intern(u, sym);
}

/*
 * Open a module through the mapping itself: /proc/PID/map_files/START-END
 * is the inode that is mapped, even if the path now names another file.
 */
static int find_elf(Dwfl_Module *mod, void **userdata, const char *modname, Dwarf_Addr base,
		    char **file_name, Elf **elfp)
{
	char path[96], *line = NULL, mapped[64], magic[SELFMAG];
	unsigned long start, end;
	size_t cap = 0;
	int fd = -1;
	FILE *maps;

	if (modname[0] != '/')
		return dwfl_linux_proc_find_elf(mod, userdata, modname, base, file_name, elfp);
	snprintf(path, sizeof(path), "/proc/%d/maps", (int)current_pid);
	maps = fopen(path, "re");
	if (!maps)
		return -1;
	mapped[0] = '\0';
	/* getline: a mapped path can be longer than any fixed buffer */
	while (getline(&line, &cap, maps) > 0) {
		if (sscanf(line, "%lx-%lx", &start, &end) != 2 || start != base)
			continue;
		snprintf(mapped, sizeof(mapped), "%lx-%lx", start, end);
		break;
	}
	free(line);
	fclose(maps);
	if (mapped[0]) {
		snprintf(path, sizeof(path), "/proc/%d/map_files/%s", (int)current_pid, mapped);
		fd = open(path, O_RDONLY | O_CLOEXEC);
	}
	if (fd < 0)
		return dwfl_linux_proc_find_elf(mod, userdata, modname, base, file_name, elfp);
	/*
	 * A data file the target maps is no module: say so before libdwfl
	 * reads all of it looking for a compressed ELF file inside (which
	 * would also pull the target's file into the page cache).
	 */
	if (pread(fd, magic, sizeof(magic), 0) != sizeof(magic) || memcmp(magic, ELFMAG, SELFMAG)) {
		close(fd);
		return -1;
	}
	*elfp = elf_begin(fd, ELF_C_READ_MMAP, NULL);
	if (!*elfp) {
		close(fd);
		return -1;
	}
	/* the path, for .gnu_debuglink lookups relative to the library's directory */
	*file_name = strndup(modname, strcspn(modname, " "));
	return fd;
}

/*
 * A module's separate debug file: the inflated copy in the debug-info
 * cache when there is one (debugcache.h); else its file by build-id under
 * /usr/lib/debug inflated by the agent (into the cache or memory) when its
 * sections are compressed, so that libdw inflates nothing; else where
 * libdwfl looks (.gnu_debuglink...). *userdata is the unwinder (proc_build sets it).
 */
static int find_debuginfo(Dwfl_Module *mod, void **userdata, const char *modname, Dwarf_Addr base,
			  const char *file_name, const char *debuglink_file,
			  GElf_Word debuglink_crc, char **debuginfo_file_name)
{
	struct ls_unwinder *u = *userdata;
	const char *mainfile = NULL;
	const unsigned char *id;
	GElf_Addr vaddr;
	int len = dwfl_module_build_id(mod, &id, &vaddr), fd;

	/* libdwfl asks again for the dwz file a debug file names: that one is not cached */
	dwfl_module_info(mod, NULL, NULL, NULL, NULL, NULL, &mainfile, NULL);
	if (u && len > 0 && file_name && mainfile && !strcmp(file_name, mainfile)) {
		fd = ls_debugcache__open(u->dcache, id, (size_t)len, debuginfo_file_name);
		if (fd < 0) {
			fd =
			    ls_debugcache__inflate(u->dcache, id, (size_t)len, debuginfo_file_name);
			u->stats.debuginfo_inflated += fd >= 0;
		}
		if (fd >= 0)
			return fd;
	}
	return dwfl_standard_find_debuginfo(mod, userdata, modname, base, file_name, debuglink_file,
					    debuglink_crc, debuginfo_file_name);
}

static const Dwfl_Callbacks proc_callbacks = {
    .find_elf = find_elf,
    .find_debuginfo = find_debuginfo,
    .debuginfo_path = &debuginfo_path,
};

static pid_t next_thread(Dwfl *dwfl, void *arg, void **thread_argp)
{
	struct ls_unwinder *u = arg;

	(void)dwfl;
	if (*thread_argp)
		return 0;
	*thread_argp = u;
	return (pid_t)u->rec->tid;
}

/* Only the copied stack is memory we know: nothing else is read, ever. */
static bool memory_read(Dwfl *dwfl, Dwarf_Addr addr, Dwarf_Word *result, void *arg)
{
	struct ls_unwinder *u = arg;
	uint64_t sp = u->rec->regs[7];

	(void)dwfl;
	if (addr < sp || addr - sp > u->rec_stack || u->rec_stack - (addr - sp) < sizeof(*result))
		return false;
	memcpy(result, u->rec->data + (addr - sp), sizeof(*result));
	return true;
}

static bool set_initial_registers(Dwfl_Thread *thread, void *thread_arg)
{
	struct ls_unwinder *u = thread_arg;
	Dwarf_Word regs[LT_NREGS];

	memcpy(regs, u->rec->regs, sizeof(regs));
	return dwfl_thread_state_registers(thread, 0, LT_NREGS, regs);
}

static const Dwfl_Thread_Callbacks thread_callbacks = {
    .next_thread = next_thread,
    .memory_read = memory_read,
    .set_initial_registers = set_initial_registers,
};

/*
 * A hash of the process's file-backed mappings: a new library changes it,
 * anonymous memory (heap arenas, thread stacks) does not, so malloc does
 * not make us reload DWARF.
 */
static uint64_t maps_hash(pid_t pid, int *err)
{
	char path[64], line[4096];
	uint64_t h = FNV_SEED;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/maps", (int)pid);
	f = fopen(path, "re");
	if (!f) {
		*err = -errno;
		return 0;
	}
	while (fgets(line, sizeof(line), f))
		if (strchr(line, '/'))
			h = fnv1a(line, strlen(line), h);
	fclose(f);
	*err = 0;
	return h;
}

/* A module of a Dwfl that ends: its symbol and unit indexes go (its names are the module's). */
static int symidx_drop(Dwfl_Module *mod, void **userdata, const char *name, Dwarf_Addr start,
		       void *arg)
{
	struct ls_unwinder *u = arg;
	unsigned i;

	(void)userdata, (void)name, (void)start;
	ls_cuindex__drop(u->cuidx, mod);
	for (i = 0; i < u->n_symidx; i++) {
		if (u->symidx[i].mod == mod) {
			ls_symindex__free(u->symidx[i].x);
			u->symidx[i] = u->symidx[--u->n_symidx];
			break;
		}
	}
	return DWARF_CB_OK;
}

/* A Dwfl ends: its modules lend nothing any more, and their symbol indexes go. */
static void donors_drop(struct ls_unwinder *u, Dwfl *dwfl)
{
	unsigned i = 0;

	if (u->n_symidx || ls_cuindex__count(u->cuidx))
		dwfl_getmodules(dwfl, symidx_drop, u, 0);

	while (i < u->n_donors) {
		if (u->donors[i].dwfl == dwfl)
			u->donors[i] = u->donors[--u->n_donors];
		else
			i++;
	}
}

static void proc_reset(struct ls_unwinder *u, struct proc *p)
{
	if (p->dwfl) {
		donors_drop(u, p->dwfl);
		dwfl_end(p->dwfl);
	}
	ls_perfmap__free(p->perfmap);
	memset(p, 0, sizeof(*p));
}

static int set_userdata(Dwfl_Module *mod, void **userdata, const char *name, Dwarf_Addr start,
			void *arg)
{
	(void)mod, (void)name, (void)start;
	*userdata = arg;
	return DWARF_CB_OK;
}

static int proc_build(struct ls_unwinder *u, struct proc *p, pid_t pid, uint64_t hash)
{
	Dwfl *dwfl = dwfl_begin(&proc_callbacks);

	if (!dwfl)
		return -ENOMEM;
	current_pid = pid;
	dwfl_report_begin(dwfl);
	if (dwfl_linux_proc_report(dwfl, pid) || dwfl_report_end(dwfl, NULL, NULL)) {
		dwfl_end(dwfl);
		return -ESRCH;
	}
	/* find_debuginfo's context */
	dwfl_getmodules(dwfl, set_userdata, u, 0);
	if (!dwfl_attach_state(dwfl, NULL, pid, &thread_callbacks, u)) {
		dwfl_end(dwfl);
		return -EINVAL;
	}
	if (p->dwfl) {
		donors_drop(u, p->dwfl);
		dwfl_end(p->dwfl);
	}
	p->dwfl = dwfl;
	p->pid = pid;
	p->maps_hash = hash;
	return 0;
}

/* The process's Dwfl, rebuilt when its mappings changed since we last looked. */
static struct proc *proc_get(struct ls_unwinder *u, pid_t pid)
{
	struct proc *p = NULL, *lru = &u->procs[0];
	uint64_t now = now_ns(), hash;
	unsigned i;
	int err;

	for (i = 0; i < MAX_PROCS; i++) {
		if (u->procs[i].dwfl && u->procs[i].pid == pid) {
			p = &u->procs[i];
			break;
		}
		if (u->procs[i].used_ns < lru->used_ns)
			lru = &u->procs[i];
	}
	if (p && now - p->checked_ns < MAPS_RECHECK_NS) {
		p->used_ns = now;
		return p;
	}
	hash = maps_hash(pid, &err);
	if (err)
		return p; /* gone: what we have may still symbolize its last stacks */
	if (!p) {
		p = lru;
		proc_reset(u, p);
	}
	if (p->maps_hash != hash || !p->dwfl) {
		if (proc_build(u, p, pid, hash)) {
			if (!p->dwfl)
				return NULL;
		}
	}
	p->checked_ns = now;
	p->used_ns = now;
	return p;
}

static int frame_cb(Dwfl_Frame *state, void *arg)
{
	struct ls_unwinder *u = arg;
	struct ls_pcs *out = u->out;
	Dwarf_Word bp;
	Dwarf_Addr pc;
	bool act;

	if (!dwfl_frame_pc(state, &pc, &act))
		return DWARF_CB_ABORT;
	out->pc[out->n] = pc;
	out->activation[out->n] = act;
	out->n++;
	u->last_bp_valid = dwfl_frame_reg(state, 6, &bp) == 0;
	if (u->last_bp_valid)
		u->last_bp = bp;
	return out->n < LS_MAX_FRAMES ? DWARF_CB_OK : DWARF_CB_ABORT;
}

void ls_fp_walk(const uint8_t *stack, uint64_t sp, size_t size, uint64_t fp, uint64_t *pcs,
		bool *activation, unsigned *n, unsigned max)
{
	while (*n < max) {
		uint64_t next, ret;

		if (fp < sp || fp - sp > size || size - (fp - sp) < 16)
			return;
		memcpy(&next, stack + (fp - sp), 8);
		memcpy(&ret, stack + (fp - sp) + 8, 8);
		if (!ret)
			return;
		pcs[*n] = ret;
		activation[*n] = false;
		(*n)++;
		/* frames live at increasing addresses: anything else is not a chain */
		if (next <= fp)
			return;
		fp = next;
	}
}

int ls_unwinder__unwind(struct ls_unwinder *u, const struct lt_stack_rec *rec, size_t size,
			struct ls_pcs *out)
{
	size_t hdr = offsetof(struct lt_stack_rec, data);
	uint64_t t0 = now_ns();
	struct proc *p;

	out->n = 0;
	if (size < hdr || rec->size > LT_STACK_MAX || size < hdr + rec->size)
		return -EINVAL;
	u->rec = rec;
	u->rec_stack = rec->size;
	u->out = out;
	u->last_bp_valid = false;
	p = proc_get(u, (pid_t)rec->pid);
	if (p) {
		current_pid = p->pid;
		dwfl_getthread_frames(p->dwfl, (pid_t)rec->tid, frame_cb, u);
	}
	if (!out->n) {
		/* no CFI at all: the frame-pointer chain from the sampled registers */
		out->pc[0] = rec->regs[16];
		out->activation[0] = true;
		out->n = 1;
		ls_fp_walk(rec->data, rec->regs[7], rec->size, rec->regs[6], out->pc,
			   out->activation, &out->n, LS_MAX_FRAMES);
	} else if (p && u->last_bp_valid && out->n < LS_MAX_FRAMES &&
		   !dwfl_addrmodule(p->dwfl, out->pc[out->n - 1])) {
		/* CFI ran out in code no module covers (JIT): JITs keep frame pointers */
		ls_fp_walk(rec->data, rec->regs[7], rec->size, u->last_bp, out->pc, out->activation,
			   &out->n, LS_MAX_FRAMES);
	}
	u->rec = NULL;
	u->stats.unwound++;
	u->stats.unwind_ns += now_ns() - t0;
	return 0;
}

void ls_unwinder__stats(const struct ls_unwinder *u, struct ls_unwind_stats *stats)
{
	struct ls_debugcache_stats dc;

	*stats = u->stats;
	ls_debugcache__stats(u->dcache, &dc);
	stats->debuginfo_cached = dc.hits;
	stats->debuginfo_stored = dc.stored;
}

static const char *die_name(Dwarf_Die *die)
{
	Dwarf_Attribute attr;
	const char *name;

	/* inlined instances name their function through DW_AT_abstract_origin */
	name = dwarf_formstring(dwarf_attr_integrate(die, DW_AT_name, &attr));
	if (!name)
		name = dwarf_formstring(dwarf_attr_integrate(die, DW_AT_linkage_name, &attr));
	return name;
}

/* The file DW_AT_call_file names: from lt (unit_lines) when the unit's files are there. */
static const char *call_file(Dwarf_Die *cu, Dwarf_Die *inlined, struct ls_linetab *lt)
{
	Dwarf_Attribute attr;
	Dwarf_Files *files;
	Dwarf_Word idx;
	size_t nfiles;

	if (dwarf_formudata(dwarf_attr(inlined, DW_AT_call_file, &attr), &idx))
		return NULL;
	if (lt)
		return ls_linetab__file(lt, idx);
	if (dwarf_getsrcfiles(cu, &files, &nfiles) || idx >= nfiles)
		return NULL;
	return dwarf_filesrc(files, idx, NULL, NULL);
}

static struct sym_entry *sym_find(struct ls_unwinder *u, uint64_t key, uint64_t offset)
{
	size_t i;

	if (!u->syms_cap)
		return NULL;
	for (i = fnv1a(&offset, 8, key) & (u->syms_cap - 1); u->syms[i].frames;
	     i = (i + 1) & (u->syms_cap - 1))
		if (u->syms[i].module_key == key && u->syms[i].offset == offset)
			return &u->syms[i];
	return NULL;
}

static int sym_insert(struct ls_unwinder *u, const struct sym_entry *e)
{
	size_t i;

	if ((u->syms_n + 1) * 2 >= u->syms_cap) {
		size_t cap = u->syms_cap ? 2 * u->syms_cap : 4096, j;
		struct sym_entry *grown = calloc(cap, sizeof(*grown));

		if (!grown)
			return -ENOMEM;
		for (j = 0; j < u->syms_cap; j++) {
			struct sym_entry *old = &u->syms[j];

			if (!old->frames)
				continue;
			for (i = fnv1a(&old->offset, 8, old->module_key) & (cap - 1);
			     grown[i].frames; i = (i + 1) & (cap - 1))
				;
			grown[i] = *old;
		}
		free(u->syms);
		u->syms = grown;
		u->syms_cap = cap;
	}
	for (i = fnv1a(&e->offset, 8, e->module_key) & (u->syms_cap - 1); u->syms[i].frames;
	     i = (i + 1) & (u->syms_cap - 1))
		;
	u->syms[i] = *e;
	u->syms_n++;
	return 0;
}

/* Identity of a module's contents: its build-id, else its path. */
static uint64_t module_key(Dwfl_Module *mod, const char *name)
{
	const unsigned char *bits;
	GElf_Addr vaddr;
	int len = dwfl_module_build_id(mod, &bits, &vaddr);

	if (len > 0)
		return fnv1a(bits, (size_t)len, FNV_SEED);
	return fnv1a(name, strlen(name), FNV_SEED ^ 1);
}

/* Frames for one code address in a module: inlined functions first. */
/*
 * libdw walks DWARF scopes recursively: a hostile library with deeply nested
 * DIEs in a target's mappings overflows our stack there. Such a fault is
 * caught on an alternate stack and jumps back; that module's DWARF is not
 * used again, and its frames are named from ELF symbols.
 */
static __thread sigjmp_buf *dwarf_guard;

static void on_dwarf_fault(int sig, siginfo_t *si, void *uc)
{
	(void)si, (void)uc;
	if (dwarf_guard)
		siglongjmp(*dwarf_guard, 1);
	/* not inside libdw: a real crash, reported as one */
	signal(sig, SIG_DFL);
	raise(sig);
}

/*
 * One thread at a time symbolizes (the agent's finisher), so one alternate
 * stack serves; the thread's own (a sanitizer's, say) is put back by
 * ls_unwinder__thread_done before the thread ends.
 */
static __thread bool guard_installed;
static __thread stack_t guard_saved;

static void guard_install(void)
{
	static char altstack[256 * 1024] __attribute__((aligned(16)));
	struct sigaction sa;
	stack_t ss;

	if (guard_installed)
		return;
	ss.ss_sp = altstack;
	ss.ss_size = sizeof(altstack);
	ss.ss_flags = 0;
	if (sigaltstack(&ss, &guard_saved))
		return;
	guard_installed = true;
	memset(&sa, 0, sizeof(sa));
	sa.sa_sigaction = on_dwarf_fault;
	sa.sa_flags = SA_SIGINFO | SA_ONSTACK | SA_NODEFER;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGSEGV, &sa, NULL);
}

/* The DWARF function chain at lookup (inlined first); returns how many frames. */
static unsigned dwarf_frames(struct ls_unwinder *u, Dwfl_Module *mod, Dwarf_Addr lookup,
			     const char *file, int lineno, struct ls_frame *frames)
{
	/* SYM_CHECK's reference is libdwfl's own unit */
	struct ls_cuindex *units = u->mode == SYM_CHECK ? NULL : u->cuidx;
	Dwarf_Die *cu, *scopes = NULL, cumem;
	Dwarf_Addr bias = 0;
	int nscopes = 0, i;
	unsigned n = 0;

	cu = ls_cuindex__addrdie(units, mod, lookup, &bias, &cumem);
	if (cu)
		nscopes = dwarf_getscopes(cu, lookup - bias, &scopes);
	/*
	 * dwarf_getscopes continues from an inlined instance into its abstract
	 * definition; the concrete nesting (inlined into inlined into the real
	 * function) comes from the parents of the innermost instance.
	 */
	for (i = 0; i < nscopes; i++) {
		int tag = dwarf_tag(&scopes[i]);

		if (tag == DW_TAG_inlined_subroutine || tag == DW_TAG_subprogram) {
			Dwarf_Die inner = scopes[i];

			free(scopes);
			scopes = NULL;
			nscopes = dwarf_getscopes_die(&inner, &scopes);
			break;
		}
	}
	/*
	 * scopes run from the innermost: each inlined subroutine is a frame at
	 * the current file:line, and its call site is the next frame's location.
	 */
	for (i = 0; i < nscopes && n < MAX_INLINE; i++) {
		int tag = dwarf_tag(&scopes[i]);
		Dwarf_Attribute attr;
		Dwarf_Word call_line;

		if (tag != DW_TAG_inlined_subroutine && tag != DW_TAG_subprogram)
			continue;
		frames[n].symbol = intern_symbol(u, die_name(&scopes[i]));
		frames[n].file = intern(u, file);
		frames[n].line = lineno;
		frames[n].inlined = tag == DW_TAG_inlined_subroutine;
		n++;
		if (tag == DW_TAG_subprogram)
			break;
		file = call_file(cu, &scopes[i], NULL);
		lineno = dwarf_formudata(dwarf_attr(&scopes[i], DW_AT_call_line, &attr), &call_line)
			     ? 0
			     : (int)call_line;
	}
	free(scopes);
	return n;
}

static bool module_poisoned(struct ls_unwinder *u, uint64_t key)
{
	unsigned i;

	for (i = 0; i < u->n_poisoned; i++)
		if (u->poisoned[i] == key)
			return true;
	return false;
}

static struct store *store_find(struct ls_unwinder *u, uint64_t key)
{
	unsigned i;

	for (i = 0; i < u->n_stores; i++)
		if (u->stores[i].key == key)
			return &u->stores[i];
	return NULL;
}

static void store_learned(struct ls_unwinder *u, uint64_t key)
{
	struct store *s = store_find(u, key);

	if (s && s->id_len)
		s->dirty = true;
}

static int list_func(struct ls_unwinder *u, struct ls_func *f);

static const char *intern_cb(void *ctx, const char *s);

static int adopt_func(void *ctx, struct ls_func *f)
{
	return list_func(ctx, f);
}

/*
 * Before naming the first address of module key: what earlier runs
 * learned of it. The size of its symbol table is part of its identity
 * here (the same build-id names more with its debug file than without);
 * reading it loads the table, which naming needs anyway.
 */
static void store_load(struct ls_unwinder *u, Dwfl_Module *mod, uint64_t key)
{
	const struct ls_funstore_sink sink = {.intern = intern_cb, .adopt = adopt_func, .ctx = u};
	const struct ls_funstore_maps maps = {
	    .elf_syms = u->elf_syms, .funcs = u->funcs, .bare = u->bare};
	const unsigned char *bits;
	struct store *s;
	GElf_Addr vaddr;
	size_t size;
	void *buf;
	int len, n, err;

	if (!u->dcache || u->mode == SYM_FULL || store_find(u, key) || u->n_stores == MAX_STORES)
		return;
	s = &u->stores[u->n_stores++];
	memset(s, 0, sizeof(*s));
	s->key = key;
	len = dwfl_module_build_id(mod, &bits, &vaddr);
	if (len <= 0 || len > LS_DEBUGCACHE_ID_MAX)
		return;
	memcpy(s->id, bits, (size_t)len);
	s->id_len = (size_t)len;
	n = dwfl_module_getsymtab(mod);
	s->n_symtab = n > 0 ? (uint32_t)n : 0;
	err = ls_debugcache__read(u->dcache, s->id, s->id_len, ".funcs", &buf, &size);
	if (err == -ENOENT)
		return;
	if (!err)
		err =
		    ls_funstore_decode(buf, size, s->id, s->id_len, s->n_symtab, key, &maps, &sink);
	free(buf);
	if (err) {
		/* refused (foreign, corrupt, not ours): this run's own replaces it */
		u->stores_refused++;
		s->dirty = true;
		return;
	}
	u->stores_read++;
}

/* One module's store written again, when it learned more: false when none did. */
static bool store_write(struct ls_unwinder *u)
{
	const struct ls_funstore_maps maps = {
	    .elf_syms = u->elf_syms, .funcs = u->funcs, .bare = u->bare};
	unsigned i;

	for (i = 0; i < u->n_stores; i++) {
		struct store *s = &u->stores[i];
		size_t len;
		void *buf;

		if (!s->dirty)
			continue;
		s->dirty = false;
		if (module_poisoned(u, s->key))
			continue;
		if (!ls_funstore_encode(&maps, s->key, s->id, s->id_len, s->n_symtab, &buf, &len)) {
			u->stores_written +=
			    !ls_debugcache__write(u->dcache, s->id, s->id_len, ".funcs", buf, len);
			free(buf);
		}
		return true;
	}
	return false;
}

static int list_func(struct ls_unwinder *u, struct ls_func *f)
{
	if (u->funcs_n == u->funcs_cap) {
		size_t cap = u->funcs_cap ? 2 * u->funcs_cap : 64;
		struct ls_func **grown = realloc(u->func_list, cap * sizeof(*grown));

		if (!grown)
			return -ENOMEM;
		u->func_list = grown;
		u->funcs_cap = cap;
	}
	u->func_list[u->funcs_n++] = f;
	return 0;
}

static bool has_pc_attrs(Dwarf_Die *die)
{
	return dwarf_hasattr(die, DW_AT_low_pc) || dwarf_hasattr(die, DW_AT_ranges);
}

/*
 * The inlined instances under die, in DIE order. Only scopes with
 * addresses are entered: dwarf_getscopes prunes the others too.
 */
static int walk_inlines(struct ls_unwinder *u, struct ls_func *f, Dwarf_Die *cu, Dwarf_Die *die,
			int parent, unsigned depth, uint64_t adj, struct ls_linetab *lt)
{
	Dwarf_Die child;
	int err = 0;

	/* libdw recurses on deep DIE trees too; ours is bounded */
	if (depth >= 64 || dwarf_child(die, &child))
		return 0;
	do {
		int tag = dwarf_tag(&child), me = parent;

		if (tag == DW_TAG_inlined_subroutine && has_pc_attrs(&child)) {
			Dwarf_Addr base, start, end;
			Dwarf_Attribute attr;
			Dwarf_Word line;
			ptrdiff_t off = 0;

			me = ls_func__add_inst(
			    f, parent, intern_symbol(u, die_name(&child)),
			    intern(u, call_file(cu, &child, lt)),
			    dwarf_formudata(dwarf_attr(&child, DW_AT_call_line, &attr), &line)
				? 0
				: (int)line);
			if (me < 0)
				return me;
			while ((off = dwarf_ranges(&child, off, &base, &start, &end)) > 0)
				if (start < end && (err = ls_func__add_range(
							f, (unsigned)me, start + adj, end + adj)))
					return err;
		} else if (!((tag == DW_TAG_lexical_block || tag == DW_TAG_try_block ||
			      tag == DW_TAG_catch_block || tag == DW_TAG_with_stmt) &&
			     has_pc_attrs(&child))) {
			continue;
		}
		err = walk_inlines(u, f, cu, &child, me, depth + 1, adj, lt);
	} while (!err && dwarf_siblingof(&child, &child) == 0);
	return err;
}

static Dwarf_Addr row_addr(Dwarf_Lines *lines, size_t i)
{
	Dwarf_Addr a = 0;

	dwarf_lineaddr(dwarf_onesrcline(lines, i), &a);
	return a;
}

/* Index of the last row at or below addr (0 when none is). */
static size_t row_at(Dwarf_Lines *lines, size_t nlines, Dwarf_Addr addr)
{
	size_t lo = 0, hi = nlines - 1;

	while (lo < hi) {
		size_t mid = hi - (hi - lo) / 2;

		if (addr < row_addr(lines, mid))
			hi = mid - 1;
		else
			lo = mid;
	}
	return lo;
}

struct slice {
	size_t first, last;
};

static int by_first(const void *a, const void *b)
{
	const struct slice *x = a, *y = b;

	return x->first < y->first ? -1 : x->first > y->first;
}

/*
 * The rows and files of the function's unit read from .debug_line itself
 * (linetab.h), without libdw decoding the unit's whole program: NULL when
 * the unit is one to leave to libdw.
 */
static struct ls_linetab *unit_lines(struct ls_unwinder *u, Dwarf_Die *cu, Dwarf_Die *sub)
{
	struct ls_linetab_range ranges[64];
	Dwarf_Addr base, start, end;
	struct ls_linetab *lt = NULL;
	ptrdiff_t off = 0;
	size_t n = 0;

	while ((off = dwarf_ranges(sub, off, &base, &start, &end)) > 0) {
		if (start >= end)
			continue;
		if (n == sizeof(ranges) / sizeof(ranges[0]))
			return NULL;
		ranges[n++] = (struct ls_linetab_range){.lo = start, .hi = end};
	}
	if (n && !ls_linetab__unit(cu, ranges, n, &lt))
		u->stats.lines_read++;
	else
		u->stats.lines_libdw++;
	return lt;
}

/* The function's rows from lt (unit_lines): what func_rows takes from libdw. */
static int linetab_rows(struct ls_unwinder *u, struct ls_func *f, struct ls_linetab *lt,
			uint64_t adj)
{
	const char *raw = NULL, *file = NULL;
	size_t i, n = ls_linetab__nrows(lt);
	int err = 0;

	for (i = 0; i < n && !err; i++) {
		struct ls_linetab_row row;

		err = ls_linetab__row(lt, i, &row);
		/* a file's name is one string in lt: hashed once per run of rows in it */
		if (!err && (row.file != raw || !i)) {
			raw = row.file;
			file = intern(u, raw);
		}
		if (!err)
			err = ls_func__add_row(f, row.addr + adj, file, row.line, row.end_sequence);
	}
	return err;
}

/*
 * The rows of the compile unit's line table, from libdw, for a unit the
 * reader above leaves to it, that answer for any address of the function:
 * per range, from the last row at or below its start to
 * the last row below its end, in the table's order. The last row at or
 * below an address in a range is always among them, so ls_func__line
 * finds what dwarf_getsrc_die finds in the whole table.
 */
static int func_rows(struct ls_unwinder *u, struct ls_func *f, Dwarf_Die *cu, Dwarf_Die *sub,
		     uint64_t adj)
{
	struct slice slices[64];
	Dwarf_Addr base, start, end;
	size_t nlines, n = 0, i, j, next = 0;
	Dwarf_Lines *lines;
	ptrdiff_t off = 0;
	int err;

	if (dwarf_getsrclines(cu, &lines, &nlines) || !nlines)
		return -ENOENT;
	while ((off = dwarf_ranges(sub, off, &base, &start, &end)) > 0) {
		if (start >= end)
			continue;
		if (n == sizeof(slices) / sizeof(slices[0]))
			return -E2BIG;
		slices[n].first = row_at(lines, nlines, start);
		slices[n].last = row_at(lines, nlines, end - 1);
		n++;
	}
	qsort(slices, n, sizeof(*slices), by_first);
	for (i = 0; i < n; i++) {
		for (j = slices[i].first > next ? slices[i].first : next; j <= slices[i].last;
		     j++) {
			Dwarf_Line *line = dwarf_onesrcline(lines, j);
			Dwarf_Addr a = 0;
			bool endseq = false;
			int lineno = 0;

			dwarf_lineaddr(line, &a);
			dwarf_lineno(line, &lineno);
			dwarf_lineendsequence(line, &endseq);
			err = ls_func__add_row(
			    f, a + adj, intern(u, dwarf_linesrc(line, NULL, NULL)), lineno, endseq);
			if (err)
				return err;
		}
		if (slices[i].last + 1 > next)
			next = slices[i].last + 1;
	}
	return 0;
}

/* Most addresses the store keeps with no function (funstore.h); past them, libdw again. */
#define MAX_BARE 65536

/*
 * An address DWARF names no function for (dwarf_getscopes gave up on its
 * unit, or no unit covers it): noted with its line, so that a later run
 * (the store) does not walk the unit again to learn the same. Only where
 * the module has DWARF: without, the walk costs nothing.
 */
static void bare_learn(struct ls_unwinder *u, Dwfl_Module *mod, uint64_t key, uint64_t rel,
		       const char *file, int line)
{
	struct ls_func *b;
	Dwarf_Addr bias;

	if (u->n_bare >= MAX_BARE || !dwfl_module_getdwarf(mod, &bias))
		return;
	b = ls_func__new(NULL);
	if (!b)
		return;
	if (ls_func__add_row(b, rel, file, line, false) || list_func(u, b)) {
		ls_func__free(b);
		return;
	}
	b->lines = true;
	if (!ls_rangemap__add(u->bare, key, rel, rel + 1, b)) {
		u->n_bare++;
		store_learned(u, key);
	}
}

/*
 * The innermost subprogram on the path of DIEs holding pc under die, in
 * one pass that enters only what holds pc, as dwarf_getscopes descends
 * (the same DIEs matched, walked through, or ignored; the first holder in
 * DIE order wins). dwarf_getscopes then looks for an inlined instance's
 * abstract origin (another walk of the whole unit) and dwarf_getscopes_die
 * walks the unit again for the instance's parents: ~0.5 ms a function in
 * python3's largest units. 1: *sub set; 0: none holds pc; -1: what this
 * walk does not follow (an imported unit, an address libdw cannot read,
 * depth), libdw's own walk decides.
 */
static int holder_sub(Dwarf_Die *die, Dwarf_Addr pc, Dwarf_Die *sub, unsigned depth)
{
	Dwarf_Die child;
	int found = 0, r;

	if (depth >= 64)
		return -1;
	if (dwarf_child(die, &child))
		return 0;
	do {
		switch (dwarf_tag(&child)) {
		case DW_TAG_subprogram:
		case DW_TAG_inlined_subroutine:
		case DW_TAG_lexical_block:
		case DW_TAG_with_stmt:
		case DW_TAG_catch_block:
		case DW_TAG_try_block:
		case DW_TAG_entry_point:
		case DW_TAG_module:
			r = dwarf_haspc(&child, pc);
			if (r < 0)
				return -1;
			if (!r)
				continue;
			if (dwarf_tag(&child) == DW_TAG_subprogram) {
				*sub = child;
				found = 1;
			}
			r = holder_sub(&child, pc, sub, depth + 1);
			return r < 0 ? -1 : (found || r);
		case DW_TAG_namespace:
		case DW_TAG_class_type:
		case DW_TAG_structure_type:
			/* no addresses of their own, but they own functions */
			r = holder_sub(&child, pc, sub, depth + 1);
			if (r)
				return r;
			break;
		case DW_TAG_imported_unit:
			return -1;
		default:
			break;
		}
	} while (dwarf_siblingof(&child, &child) == 0);
	return 0;
}

/*
 * The function (DWARF subprogram) around lookup with its inlined
 * instances, indexed by its address ranges; NULL when DWARF has none.
 */
static struct ls_func *func_build(struct ls_unwinder *u, Dwfl_Module *mod, Dwarf_Addr lookup,
				  uint64_t key, uint64_t rel)
{
	Dwarf_Die *cu, *scopes = NULL, inner, sub, cudie, cumem;
	Dwarf_Addr bias = 0, base, start, end, low = lookup - rel;
	int nscopes, i, found = 0, err;
	struct ls_linetab *lt;
	ptrdiff_t off = 0;
	struct ls_func *f;
	bool holds = false;
	uint64_t adj;

	/* libdwfl's unit, from the module's aranges without its first-call table */
	cu = ls_cuindex__addrdie(u->cuidx, mod, lookup, &bias, &cumem);
	if (!cu)
		return NULL;
	found = holder_sub(cu, lookup - bias, &sub, 0);
	if (found < 0) {
		/* the concrete subprogram as dwarf_frames finds it */
		found = 0;
		nscopes = dwarf_getscopes(cu, lookup - bias, &scopes);
		for (i = 0; i < nscopes && !found; i++) {
			int tag = dwarf_tag(&scopes[i]);

			if (tag == DW_TAG_inlined_subroutine || tag == DW_TAG_subprogram) {
				inner = scopes[i];
				found = 1;
			}
		}
		free(scopes);
		scopes = NULL;
		if (!found)
			return NULL;
		found = 0;
		nscopes = dwarf_getscopes_die(&inner, &scopes);
		for (i = 0; i < nscopes && !found; i++) {
			if (dwarf_tag(&scopes[i]) == DW_TAG_subprogram) {
				sub = scopes[i];
				found = 1;
			}
		}
		free(scopes);
	}
	if (!found || !dwarf_diecu(&sub, &cudie, NULL, NULL))
		return NULL;
	f = ls_func__new(intern_symbol(u, die_name(&sub)));
	if (!f)
		return NULL;
	if (list_func(u, f)) {
		ls_func__free(f);
		return NULL;
	}
	store_learned(u, key);
	/* module-relative offsets: the same library anywhere in any process */
	adj = bias - low;
	/* the unit libdwfl looks the line up in: the one its address index names */
	lt = unit_lines(u, cu, &sub);
	/* its files name the call sites when the function's DIE is in that unit too */
	err = walk_inlines(u, f, &cudie, &sub, -1, 0, adj,
			   lt && dwarf_dieoffset(cu) == dwarf_dieoffset(&cudie) ? lt : NULL);
	if (!err)
		f->lines = lt ? !linetab_rows(u, f, lt, adj) : !func_rows(u, f, cu, &sub, adj);
	ls_linetab__free(lt);
	if (err)
		return NULL;
	while ((off = dwarf_ranges(&sub, off, &base, &start, &end)) > 0) {
		if (start >= end)
			continue;
		if (rel >= start + adj && rel < end + adj)
			holds = true;
		/* a range another function claimed already stays its own */
		ls_rangemap__add(u->funcs, key, start + adj, end + adj, f);
	}
	return holds && ls_rangemap__find(u->funcs, key, rel) == f ? f : NULL;
}

/* dwarf_frames from the function's cached tree: the same frames, no DWARF walk. */
/* dwarf_frames from the function's cached tree: the same frames, no DWARF walk. */
static unsigned func_frames(struct ls_unwinder *u, const struct ls_func *fn, uint64_t rel,
			    const char *file, int lineno, struct ls_frame *frames)
{
	unsigned chain[MAX_INLINE], k, n = 0, i;

	k = ls_func__chain(fn, rel, chain, MAX_INLINE);
	for (i = 0; i < k; i++) {
		const struct ls_inl *in = &fn->inst[chain[i]];

		frames[n].symbol = in->symbol;
		frames[n].file = intern(u, file);
		frames[n].line = lineno;
		frames[n].inlined = true;
		n++;
		file = in->call_file;
		lineno = in->call_line;
	}
	if (n < MAX_INLINE) {
		frames[n].symbol = fn->symbol;
		frames[n].file = intern(u, file);
		frames[n].line = lineno;
		frames[n].inlined = false;
		n++;
	}
	return n;
}

/*
 * The line of an address no function was built for, from the unit's own
 * program (linetab.h): what dwfl_module_getsrc answers (the last row at or
 * below it, unless that row ends a sequence) without libdw decoding the
 * whole unit and libdwfl indexing it. -EINVAL: a unit left to libdw.
 */
static int unit_line(struct ls_unwinder *u, Dwarf_Die *cu, Dwarf_Addr addr, const char **file,
		     int *lineno)
{
	struct ls_linetab_range r = {addr, addr + 1};
	struct ls_linetab_row row;
	struct ls_linetab *lt;
	int err;

	if (addr == UINT64_MAX)
		return -EINVAL;
	err = ls_linetab__unit(cu, &r, 1, &lt);
	if (err == -EINVAL) {
		u->stats.lines_libdw++;
		return err;
	}
	u->stats.lines_read++;
	if (err)
		return err == -ENOENT ? 0 : err;
	/* the first row of [addr, addr + 1) is the last at or below addr */
	err = ls_linetab__row(lt, 0, &row);
	if (!err && row.addr <= addr && !row.end_sequence) {
		*file = intern(u, row.file);
		*lineno = row.line;
	}
	ls_linetab__free(lt);
	return err;
}

/*
 * The line libdwfl gives lookup: its file (interned) and number, read from
 * the unit's own program where it can be. reference: SYM_CHECK's, asked of
 * libdwfl's own unit and line (as SYM_FULL asks).
 */
static const char *address_line(struct ls_unwinder *u, Dwfl_Module *mod, Dwarf_Addr lookup,
				int *lineno, bool reference)
{
	Dwfl_Line *line = NULL;
	const char *f = NULL;
	Dwarf_Addr bias;
	Dwarf_Die cumem, *cu = NULL;

	*lineno = 0;
	if (!reference && u->mode != SYM_FULL) {
		cu = ls_cuindex__addrdie(u->cuidx, mod, lookup, &bias, &cumem);
		/* the index is sure no unit holds it: libdwfl would build its table to say so */
		if (!cu && ls_cuindex__last_from_index(u->cuidx))
			return NULL;
		if (cu && unit_line(u, cu, lookup - bias, &f, lineno) != -EINVAL)
			return f;
	}
	line = dwfl_module_getsrc(mod, lookup);
	if (line)
		f = dwfl_lineinfo(line, NULL, lineno, NULL, NULL, NULL);
	if (!f)
		*lineno = 0;
	return intern(u, f);
}

/*
 * The symbols of mod that dwfl_module_addrinfo weighs, sorted: built at
 * the first function of the module the caches do not know (one pass over
 * the table, as one addrinfo call costs), then each new function is a
 * binary search instead of a scan.
 */
static const struct ls_symindex *symindex_get(struct ls_unwinder *u, Dwfl_Module *mod)
{
	struct ls_symindex *x;
	unsigned i;

	for (i = 0; i < u->n_symidx; i++)
		if (u->symidx[i].mod == mod)
			return u->symidx[i].x;
	if (u->n_symidx == MAX_DONORS)
		return NULL;
	x = ls_symindex__new();
	/* the table read raw where that gives libdwfl's symbols (symraw_dw.h) */
	if (x && (ls_symraw__index(mod, x) || ls_symindex__seal(x))) {
		ls_symindex__free(x);
		x = NULL;
	}
	u->symidx[u->n_symidx++] = (struct symidx){.mod = mod, .x = x};
	return x;
}

/*
 * The ELF symbol around lookup, from the range the last lookup in that
 * function found. Not inlined: its locals would live across resolve's sigsetjmp.
 */
static __attribute__((noinline)) const char *elf_symbol(struct ls_unwinder *u, Dwfl_Module *mod,
							Dwarf_Addr lookup, Dwfl_Module *own,
							Dwarf_Addr own_lookup, uint64_t key,
							uint64_t rel)
{
	const char *cached = NULL, *name;
	struct ls_symindex_hit hit;
	GElf_Off off, off2;
	GElf_Sym sym, sym2;

	if (u->mode != SYM_FULL) {
		cached = ls_rangemap__find(u->elf_syms, key, rel);
		if (cached && u->mode == SYM_CACHED)
			return cached;
	}
	if (cached) {
		/* SYM_CHECK: libdw in the process's own module */
		name = intern_symbol(
		    u, dwfl_module_addrinfo(own, own_lookup, &off, &sym, NULL, NULL, NULL));
		u->checked++;
		if (cached != name) {
			u->check_differ++;
			fprintf(stderr,
				"loopstall: symbol check: +0x%" PRIx64
				": ELF symbol %s, cached %s\n",
				rel, name ? name : "(none)", cached);
		}
		return name;
	}
	if (u->mode != SYM_FULL && ls_symindex__find(symindex_get(u, mod), lookup, &hit)) {
		name = intern_symbol(u, hit.name);
		off = lookup - hit.value;
		sym.st_size = hit.size;
		if (u->mode == SYM_CHECK) {
			const char *libdw =
			    intern_symbol(u, dwfl_module_addrinfo(own, own_lookup, &off2, &sym2,
								  NULL, NULL, NULL));

			u->checked++;
			if (libdw != name || off2 != off || sym2.st_size != sym.st_size) {
				u->check_differ++;
				fprintf(stderr,
					"loopstall: symbol check: +0x%" PRIx64
					": ELF symbol %s, indexed %s\n",
					rel, libdw ? libdw : "(none)", name);
			}
		}
	} else {
		name = intern_symbol(
		    u, dwfl_module_addrinfo(mod, lookup, &off, &sym, NULL, NULL, NULL));
	}
	/* the ranges never overlap: sized symbols only, each one once */
	if (name && u->mode != SYM_FULL && sym.st_size && off < sym.st_size &&
	    !ls_rangemap__add(u->elf_syms, key, rel - off, rel - off + sym.st_size, (void *)name))
		store_learned(u, key);
	return name;
}

static bool same_frames(const struct ls_frame *a, unsigned na, const struct ls_frame *b,
			unsigned nb)
{
	unsigned i;

	if (na != nb)
		return false;
	for (i = 0; i < na; i++)
		if (a[i].symbol != b[i].symbol || a[i].file != b[i].file ||
		    a[i].line != b[i].line || a[i].inlined != b[i].inlined)
			return false;
	return true;
}

static void check_frames(struct ls_unwinder *u, uint64_t rel, const struct ls_frame *libdw,
			 unsigned n_libdw, const struct ls_frame *cached, unsigned n_cached)
{
	u->checked++;
	if (same_frames(libdw, n_libdw, cached, n_cached))
		return;
	/*
	 * dwarf_getscopes gives up on a whole compile unit at the first DIE
	 * whose address it cannot read (seen in LTO units: "no address value"),
	 * and the address is then named by its ELF symbol alone; the cache
	 * skips that DIE and still names the function and its inlined calls.
	 */
	if (!n_libdw && n_cached) {
		u->check_more++;
		return;
	}
	u->check_differ++;
	fprintf(stderr,
		"loopstall: symbol check: +0x%" PRIx64 ": libdw %u frames (%s), cached %u (%s)\n",
		rel, n_libdw, n_libdw && libdw[0].symbol ? libdw[0].symbol : "?", n_cached,
		n_cached && cached[0].symbol ? cached[0].symbol : "?");
}

static void check_line(struct ls_unwinder *u, uint64_t rel, const char *libdw_file,
		       int libdw_lineno, const char *cached_file, int cached_lineno)
{
	u->checked++;
	if (libdw_file == cached_file && libdw_lineno == cached_lineno)
		return;
	u->check_differ++;
	fprintf(stderr, "loopstall: symbol check: +0x%" PRIx64 ": libdw line %s:%d, cached %s:%d\n",
		rel, libdw_file ? libdw_file : "?", libdw_lineno, cached_file ? cached_file : "?",
		cached_lineno);
}

/*
 * Name an address of mod (lookup) into e. own/own_lookup: the same
 * address in the process's own module when mod is lent by another one
 * (SYM_CHECK asks libdw there, so a wrong lending shows as a difference).
 */
static int resolve(struct ls_unwinder *u, Dwfl_Module *mod, Dwarf_Addr lookup, Dwfl_Module *own,
		   Dwarf_Addr own_lookup, struct sym_entry *e)
{
	struct ls_frame frames[MAX_INLINE + 1], full[MAX_INLINE + 1];
	const char *volatile file = NULL;
	volatile int lineno = 0;
	volatile unsigned n = 0;
	const char *elf_sym;
	sigjmp_buf jb;

	memset(frames, 0, sizeof(frames));
	store_load(u, mod, e->module_key);
	elf_sym = elf_symbol(u, mod, lookup, own, own_lookup, e->module_key, e->offset);
	if (!module_poisoned(u, e->module_key)) {
		guard_install();
		if (!sigsetjmp(jb, 1)) {
			struct ls_func *fn = NULL, *bare = NULL;
			const char *f = NULL;
			int l = 0;

			dwarf_guard = &jb;
			if (u->mode != SYM_FULL) {
				fn = ls_rangemap__find(u->funcs, e->module_key, e->offset);
				bare = fn ? NULL
					  : ls_rangemap__find(u->bare, e->module_key, e->offset);
				/* a new function: its rows give the line, as for one seen before */
				if (!fn && !bare)
					fn = func_build(u, mod, lookup, e->module_key, e->offset);
			}
			if (bare) {
				/* DWARF named no function here before: its line alone */
				f = bare->rows[0].file;
				l = bare->rows[0].line;
			} else if (fn && fn->lines) {
				/* the function's own rows: no search of its unit's whole table */
				const struct ls_line_row *row = ls_func__line(fn, e->offset);

				f = row ? row->file : NULL;
				l = row ? row->line : 0;
			} else {
				f = address_line(u, mod, lookup, &l, false);
			}
			file = f;
			lineno = l;
			if (u->mode == SYM_FULL) {
				n = dwarf_frames(u, mod, lookup, f, l, frames);
			} else {
				if (fn)
					n = func_frames(u, fn, e->offset, f, l, frames);
				else if (!bare && !(n = dwarf_frames(u, mod, lookup, f, l, frames)))
					bare_learn(u, mod, e->module_key, e->offset, f, l);
				if (u->mode == SYM_CHECK) {
					const char *lf;
					unsigned nf;
					int ll;

					memset(full, 0, sizeof(full));
					lf = address_line(u, own, own_lookup, &ll, true);
					nf = dwarf_frames(u, own, own_lookup, lf, ll, full);
					check_line(u, e->offset, lf, ll, f, l);
					check_frames(u, e->offset, full, nf, frames, n);
				}
			}
		} else {
			file = NULL;
			lineno = 0;
			n = 0;
			memset(frames, 0, sizeof(frames));
			if (u->n_poisoned < MAX_POISONED)
				u->poisoned[u->n_poisoned++] = e->module_key;
		}
		dwarf_guard = NULL;
	}
	if (!n || frames[n - 1].inlined) {
		/* no DWARF function here: the ELF symbol names the frame */
		frames[n].symbol = elf_sym;
		frames[n].file = intern(u, file);
		frames[n].line = lineno;
		n++;
	} else if (elf_sym) {
		/* the ELF symbol is what perf and gdb show for the real function */
		frames[n - 1].symbol = elf_sym;
	}
	e->frames = malloc(n * sizeof(*e->frames));
	if (!e->frames)
		return -ENOMEM;
	memcpy(e->frames, frames, n * sizeof(*e->frames));
	e->n = n;
	return 0;
}

/*
 * The module that names an address of mod: a donor in another process's
 * Dwfl with the same build-id (at the same offset in its mapping) when
 * there is one; else mod itself, which becomes the donor for its build-id.
 */
static void lend(struct ls_unwinder *u, Dwfl *dwfl, Dwfl_Module *mod, Dwarf_Addr low, uint64_t key,
		 Dwfl_Module **from, Dwarf_Addr *at)
{
	const unsigned char *bits;
	GElf_Addr vaddr;
	unsigned i;

	/* a path is no identity: another file may be there now */
	if (dwfl_module_build_id(mod, &bits, &vaddr) <= 0)
		return;
	for (i = 0; i < u->n_donors; i++) {
		if (u->donors[i].key != key)
			continue;
		if (u->donors[i].dwfl != dwfl) {
			*from = u->donors[i].mod;
			*at = u->donors[i].low + (*at - low);
		}
		return;
	}
	if (u->n_donors < MAX_DONORS)
		u->donors[u->n_donors++] =
		    (struct donor){.key = key, .dwfl = dwfl, .mod = mod, .low = low};
}

/* *checked: the map was looked at during this stack already. */
static const char *jit_symbol(struct proc *p, uint64_t pc, bool *checked)
{
	off_t size;

	/* JITs append as they compile: reload when the file grew */
	if (!*checked && !ls_perfmap__size(p->pid, &size) && size != p->perfmap_size) {
		struct ls_perfmap *m;

		if (!ls_perfmap__load(p->pid, &m)) {
			ls_perfmap__free(p->perfmap);
			p->perfmap = m;
			p->perfmap_size = size;
		}
	}
	*checked = true;
	return ls_perfmap__lookup(p->perfmap, pc);
}

int ls_unwinder__symbolize(struct ls_unwinder *u, pid_t pid, const struct ls_pcs *pcs,
			   struct ls_stack *stack)
{
	struct ls_frame *frames = calloc(LS_MAX_FRAMES, sizeof(*frames));
	uint64_t t0 = now_ns();
	struct proc *p = proc_get(u, pid);
	unsigned i, j, n = 0;
	bool map_checked = false;

	if (!frames)
		return -ENOMEM;
	if (p)
		current_pid = p->pid;
	for (i = 0; i < pcs->n && n < LS_MAX_FRAMES; i++) {
		uint64_t pc = pcs->pc[i];
		/* a return address points after the call: look up the call itself */
		Dwarf_Addr lookup = pcs->activation[i] || !pc ? pc : pc - 1;
		Dwfl_Module *mod = p ? dwfl_addrmodule(p->dwfl, lookup) : NULL;
		struct sym_entry *e, fresh = {0};
		const char *modname;
		Dwarf_Addr low;

		if (!mod) {
			frames[n].addr = pc;
			frames[n].symbol =
			    p ? intern(u, jit_symbol(p, lookup, &map_checked)) : NULL;
			frames[n].module = frames[n].symbol ? intern(u, "[jit]") : NULL;
			if (frames[n].symbol)
				frames[n].kind = LS_FRAME_JS;
			n++;
			continue;
		}
		modname = dwfl_module_info(mod, NULL, &low, NULL, NULL, NULL, NULL, NULL);
		fresh.module_key = module_key(mod, modname ? modname : "?");
		fresh.offset = lookup - low;
		e = sym_find(u, fresh.module_key, fresh.offset);
		if (!e) {
			Dwfl_Module *from = mod;
			Dwarf_Addr at = lookup;

			lend(u, p->dwfl, mod, low, fresh.module_key, &from, &at);
			u->lent += from != mod;
			if (resolve(u, from, at, mod, lookup, &fresh) || sym_insert(u, &fresh)) {
				free(fresh.frames);
				free(frames);
				return -ENOMEM;
			}
			e = &fresh;
		}
		/*
		 * V8 remaps its builtins next to its JIT area, so libdwfl's module
		 * for node spans JIT code too: an address it cannot name may be JIT.
		 */
		if (e->n == 1 && !e->frames[0].symbol) {
			const char *jit = jit_symbol(p, lookup, &map_checked);

			if (jit) {
				frames[n].addr = pc;
				frames[n].symbol = intern(u, jit);
				frames[n].module = intern(u, "[jit]");
				frames[n].kind = LS_FRAME_JS;
				n++;
				continue;
			}
		}
		/* the cache is per build-id: the same library may be mapped from other paths */
		for (j = 0; j < e->n && n < LS_MAX_FRAMES; j++) {
			frames[n] = e->frames[j];
			frames[n].addr = pc;
			frames[n].module = intern(u, modname);
			n++;
		}
	}
	stack->frames = frames;
	stack->n = n;
	u->stats.symbolized++;
	u->stats.symbolize_ns += now_ns() - t0;
	return 0;
}

int ls_unwinder__name(struct ls_unwinder *u, pid_t pid, uint64_t addr, char *symbol,
		      size_t symbol_len, char *module, size_t module_len)
{
	/* a function's first instruction: looked up as it is, not as a return address */
	struct ls_pcs pcs = {.n = 1, .pc = {addr}, .activation = {true}};
	struct ls_stack st = {0};
	const struct ls_frame *f;
	int err;

	symbol[0] = module[0] = '\0';
	err = ls_unwinder__symbolize(u, pid, &pcs, &st);
	if (err)
		return err;
	/* inlined frames come first: the last one is the function itself */
	f = st.n ? &st.frames[st.n - 1] : NULL;
	if (f && f->symbol) {
		snprintf(symbol, symbol_len, "%s", f->symbol);
		snprintf(module, module_len, "%s", f->module ? f->module : "");
	}
	free(st.frames);
	return symbol[0] ? 0 : -ENOENT;
}

struct ls_unwinder *ls_unwinder__new(void)
{
	static char path[] = "-:.debug:/usr/lib/debug";
	const char *mode = getenv("LOOPSTALL_SYMBOLIZE");
	struct ls_unwinder *u;

	debuginfo_path = path;
	elf_version(EV_CURRENT);
	u = calloc(1, sizeof(*u));
	if (!u)
		return NULL;
	u->elf_syms = ls_rangemap__new();
	u->funcs = ls_rangemap__new();
	u->bare = ls_rangemap__new();
	if (!u->elf_syms || !u->funcs || !u->bare) {
		ls_unwinder__free(u);
		return NULL;
	}
	u->dcache = ls_debugcache__new();
	u->cuidx = ls_cuindex__new();
	if (mode && !strcmp(mode, "full"))
		u->mode = SYM_FULL;
	else if (mode && !strcmp(mode, "check"))
		u->mode = SYM_CHECK;
	return u;
}

static int open_module_elf(Dwfl_Module *mod, void **userdata, const char *name, Dwarf_Addr start,
			   void *arg)
{
	Dwarf_Addr bias;

	(void)userdata, (void)name, (void)start, (void)arg;
	dwfl_module_getelf(mod, &bias);
	return DWARF_CB_OK;
}

void ls_unwinder__thread_done(void)
{
	if (!guard_installed)
		return;
	if (guard_saved.ss_flags & SS_DISABLE) {
		guard_saved.ss_sp = NULL;
		guard_saved.ss_size = 0;
	}
	sigaltstack(&guard_saved, NULL);
	guard_installed = false;
}

bool ls_unwinder__idle(struct ls_unwinder *u)
{
	return store_write(u);
}

void ls_unwinder__prepare(struct ls_unwinder *u, pid_t pid)
{
	struct proc *p = proc_get(u, pid);

	/*
	 * Open every module's ELF file now, while /proc/PID exists: a process
	 * killed mid-stall is gone by the time its last stall is symbolized.
	 */
	if (p) {
		current_pid = pid;
		dwfl_getmodules(p->dwfl, open_module_elf, NULL, 0);
	}
	ls_unwinder__attach_python(u, pid);
}

int ls_unwinder__set_python(struct ls_unwinder *u, int py_procs_fd)
{
	ls_pyframes__free(u->py);
	u->py = ls_pyframes__new(py_procs_fd);
	return u->py ? 0 : -ENOMEM;
}

void ls_unwinder__attach_python(struct ls_unwinder *u, pid_t pid)
{
	/* a process that runs no CPython is no error */
	if (u && u->py)
		ls_pyframes__attach(u->py, pid);
}

static const char *intern_cb(void *ctx, const char *s)
{
	return intern(ctx, s);
}

int ls_unwinder__python(struct ls_unwinder *u, pid_t pid, const struct lt_py_stack *ps,
			struct ls_stack *stack)
{
	uint64_t t0 = now_ns();
	int err = ls_pyframes__merge(u->py, pid, ps, stack, intern_cb, u);

	/* naming the Python frames is part of symbolizing the stack */
	u->stats.symbolize_ns += now_ns() - t0;
	return err;
}

void ls_unwinder__python_walk(struct ls_unwinder *u, pid_t pid, uint64_t fsbase,
			      struct lt_py_stack *out)
{
	out->n = 0;
	out->status = LT_PY_NONE;
	if (u && u->py)
		ls_pyframes__walk(u->py, pid, fsbase, out);
}

void ls_unwinder__python_warm(struct ls_unwinder *u, const struct lt_stack_rec *rec)
{
	if (u && u->py)
		ls_pyframes__warm(u->py, (pid_t)rec->pid, &rec->py);
}

const struct ls_frame *ls_unwinder__python_task(struct ls_unwinder *u, pid_t pid,
						const struct ls_stack *stack)
{
	return ls_pyframes__task(u->py, pid, stack);
}

void ls_unwinder__python_snapshot(struct ls_unwinder *u, pid_t pid, pid_t tid,
				  uint64_t busy_start_ns)
{
	if (u && u->py)
		ls_pyframes__snapshot_tasks(u->py, pid, tid, busy_start_ns);
}

bool ls_unwinder__python_task_name(struct ls_unwinder *u, pid_t pid, pid_t tid,
				   uint64_t busy_start_ns, uint64_t frame, char *out, size_t len)
{
	return u && ls_pyframes__task_name(u->py, pid, tid, busy_start_ns, frame, out, len);
}

void ls_unwinder__refresh(struct ls_unwinder *u, pid_t pid)
{
	unsigned i;

	for (i = 0; i < MAX_PROCS; i++)
		if (u->procs[i].dwfl && u->procs[i].pid == pid)
			u->procs[i].checked_ns = 0;
}

void ls_unwinder__forget(struct ls_unwinder *u, pid_t pid)
{
	unsigned i;

	for (i = 0; i < MAX_PROCS; i++)
		if (u->procs[i].dwfl && u->procs[i].pid == pid)
			proc_reset(u, &u->procs[i]);
	ls_pyframes__forget(u->py, pid);
}

void ls_unwinder__free(struct ls_unwinder *u)
{
	size_t i;

	if (!u)
		return;
	for (i = 0; i < MAX_PROCS; i++)
		proc_reset(u, &u->procs[i]);
	for (i = 0; i < u->n_symidx; i++)
		ls_symindex__free(u->symidx[i].x);
	ls_cuindex__free(u->cuidx);
	ls_pyframes__free(u->py);
	ls_debugcache__free(u->dcache);
	for (i = 0; i < u->strs_cap; i++)
		free(u->strs[i]);
	free(u->strs);
	for (i = 0; i < u->syms_cap; i++)
		free(u->syms[i].frames);
	free(u->syms);
	if (u->mode == SYM_CHECK)
		fprintf(stderr,
			"loopstall: symbol check: %" PRIu64 " compared, %" PRIu64
			" differ, %" PRIu64 " named by the cache alone, %" PRIu64
			" with another process's module\n",
			u->checked, u->check_differ, u->check_more, u->lent);
	if (u->mode == SYM_CHECK && u->dcache)
		fprintf(stderr,
			"loopstall: symbol store: %" PRIu64 " modules read, %" PRIu64
			" refused, %" PRIu64 " written\n",
			u->stores_read, u->stores_refused, u->stores_written);
	for (i = 0; i < u->funcs_n; i++)
		ls_func__free(u->func_list[i]);
	free(u->func_list);
	ls_rangemap__free(u->funcs);
	ls_rangemap__free(u->bare);
	ls_rangemap__free(u->elf_syms);
	free(u);
}

/*
 * Is addr code of module mod: inside one of its executable PT_LOAD
 * segments? libdwfl can answer a module for an address that is none of its
 * code: CPython's -X perf trampolines, anonymous memory mapped after a
 * library, were named `_contextvars` or `_asyncio` here (1 of 3 attaches),
 * and an `_asyncio` frame reads as a Task step to the attach-time judge.
 */
static bool module_code(Dwfl_Module *mod, Dwarf_Addr addr)
{
	GElf_Phdr mem, *ph;
	Dwarf_Addr bias;
	size_t n, i;
	Elf *elf = dwfl_module_getelf(mod, &bias);

	if (!elf || elf_getphdrnum(elf, &n))
		return false;
	for (i = 0; i < n; i++) {
		ph = gelf_getphdr(elf, (int)i, &mem);
		if (ph && ph->p_type == PT_LOAD && (ph->p_flags & PF_X) &&
		    addr - bias >= ph->p_vaddr && addr - bias < ph->p_vaddr + ph->p_memsz)
			return true;
	}
	return false;
}

int ls_unwinder__names(struct ls_unwinder *u, pid_t pid, const struct ls_pcs *pcs,
		       struct ls_stack *stack)
{
	struct ls_frame *frames = calloc(pcs->n ? pcs->n : 1, sizeof(*frames));
	struct proc *p = proc_get(u, pid);
	unsigned i;

	if (!frames)
		return -ENOMEM;
	if (p)
		current_pid = p->pid;
	for (i = 0; i < pcs->n; i++) {
		uint64_t pc = pcs->pc[i];
		Dwarf_Addr lookup = pcs->activation[i] || !pc ? pc : pc - 1;
		Dwfl_Module *mod = p ? dwfl_addrmodule(p->dwfl, lookup) : NULL;
		const char *name;

		frames[i].addr = pc;
		/* a JIT's code: unnamed here, neither module nor symbol */
		if (mod && !module_code(mod, lookup))
			mod = NULL;
		name = mod ? dwfl_module_addrname(mod, lookup) : NULL;
		if (mod) {
			frames[i].module = intern(
			    u, dwfl_module_info(mod, NULL, NULL, NULL, NULL, NULL, NULL, NULL));
			frames[i].symbol = intern_symbol(u, name);
		}
	}
	stack->frames = frames;
	stack->n = pcs->n;
	return 0;
}
