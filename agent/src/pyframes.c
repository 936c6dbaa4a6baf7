// SPDX-License-Identifier: BSD-2-Clause
/*
 * CPython frames: finding the interpreter of a process, handing BPF what it
 * needs to walk the frame chain, and naming the code objects it recorded.
 *
 * The interpreter is the mapped ELF file (python3.X or libpython3.X.so)
 * that defines _PyRuntime. Its version comes from Py_Version (3.11+, read
 * from the process) or the file's name (3.10). Code objects are read with
 * process_vm_readv and cached per (pid, address); a cached one is checked
 * again (its type, name, file and line table pointers) before it is trusted
 * after a while, since the object may have been freed and the memory reused.
 */
#include <errno.h>
#include <fcntl.h>
#include <gelf.h>
#include <libelf.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include "pycode.h"
#include "pyframes.h"
#include "pywalk.h"
#include "pytask.h"

#define MAX_PROCS 64
#define CODE_CACHE 4096 /* entries, a power of two */
/* A cached code object is checked against the process again after this. */
#define RECHECK_NS 100000000ull
/* A process where _asyncio was not found is looked at again after this. */
#define TASKS_RETRY_NS 1000000000ull
/* Stalls whose running Tasks are kept until the stall is resolved. */
#define TASK_SNAPSHOTS 64

struct pyproc {
	pid_t pid;		 /* 0: free */
	unsigned long map_start; /* the interpreter's first mapping: an exec changes it */
	struct ls_py_layout layout;
	uint64_t runtime;
	uint64_t code_type; /* &PyCode_Type, 0 when the module does not say */
	uint64_t used_ns;
	struct ls_py_types types;
	uint64_t current_tasks; /* _asyncio._current_tasks, 0: not found (yet) */
	uint64_t tasks_tried_ns;
	uint64_t task_type; /* _asyncio.Task: 3.12+ from the module, else once seen */
};

/* The Tasks running while a stall went on (taken when it crossed the threshold). */
struct task_snapshot {
	pid_t pid; /* 0: free */
	pid_t tid;
	uint64_t busy_start_ns;
	unsigned n;
	struct ls_py_task tasks[LS_PY_TASKS_MAX];
};

struct code_entry {
	pid_t pid; /* 0: free */
	uint64_t addr;
	uint64_t checked_ns;
	struct ls_py_code_id id;
	char *name; /* NULL when unknown */
	char *file;
	uint8_t *linetable;
	size_t linetable_len;
	bool bad; /* not a code object: no name, no line */
};

/*
 * The agent attaches from its event thread, the finisher attaches and
 * merges from its own: one lock over the tables.
 */
struct ls_pyframes {
	pthread_mutex_t lock;
	int map_fd;
	struct pyproc procs[MAX_PROCS];
	struct code_entry *codes;
	struct task_snapshot snaps[TASK_SNAPSHOTS];
	unsigned next_snap;
};

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

struct ls_pyframes *ls_pyframes__new(int py_procs_fd)
{
	struct ls_pyframes *py = calloc(1, sizeof(*py));

	if (!py)
		return NULL;
	py->codes = calloc(CODE_CACHE, sizeof(*py->codes));
	if (!py->codes) {
		free(py);
		return NULL;
	}
	py->map_fd = py_procs_fd;
	pthread_mutex_init(&py->lock, NULL);
	return py;
}

static void code_clear(struct code_entry *e)
{
	free(e->name);
	free(e->file);
	free(e->linetable);
	memset(e, 0, sizeof(*e));
}

void ls_pyframes__free(struct ls_pyframes *py)
{
	size_t i;

	if (!py)
		return;
	for (i = 0; i < CODE_CACHE; i++)
		code_clear(&py->codes[i]);
	free(py->codes);
	pthread_mutex_destroy(&py->lock);
	free(py);
}

static struct pyproc *proc_find(struct ls_pyframes *py, pid_t pid)
{
	unsigned i;

	for (i = 0; i < MAX_PROCS; i++)
		if (py->procs[i].pid == pid)
			return &py->procs[i];
	return NULL;
}

static int read_mem(void *ctx, uint64_t addr, void *buf, size_t len)
{
	pid_t pid = *(pid_t *)ctx;
	struct iovec local = {.iov_base = buf, .iov_len = len};
	struct iovec remote = {.iov_base = (void *)(uintptr_t)addr, .iov_len = len};

	if (process_vm_readv(pid, &local, 1, &remote, 1, 0) != (ssize_t)len)
		return -EFAULT;
	return 0;
}

void ls_pyframes__walk(struct ls_pyframes *py, pid_t pid, uint64_t fsbase, struct lt_py_stack *out)
{
	struct lt_py_proc pp;
	__u32 key = (__u32)pid;

	out->n = 0;
	out->status = LT_PY_NONE;
	/* the layout attach wrote for BPF is the one to walk with */
	if (!py || py->map_fd < 0 || bpf_map_lookup_elem(py->map_fd, &key, &pp))
		return;
	ls_py_walk(&pp, read_mem, &pid, fsbase, out);
}

/* What attach learns from the interpreter's ELF file. */
struct interp_syms {
	uint64_t runtime, code_type, py_version; /* link-time addresses, 0: absent */
	uint64_t first_load;			 /* p_vaddr of the first PT_LOAD, page-aligned */
	struct ls_py_types types;		 /* the same, of the types pytask.c checks */
};

static void elf_syms(Elf *elf, struct interp_syms *out)
{
	Elf_Scn *scn = NULL;
	GElf_Phdr ph;
	size_t i, nph;

	if (!elf_getphdrnum(elf, &nph)) {
		for (i = 0; i < nph; i++) {
			if (gelf_getphdr(elf, (int)i, &ph) && ph.p_type == PT_LOAD) {
				out->first_load = ph.p_vaddr & ~(uint64_t)4095;
				break;
			}
		}
	}
	/* .dynsym is there even when stripped; .symtab is searched too when present */
	while ((scn = elf_nextscn(elf, scn))) {
		GElf_Shdr sh;
		Elf_Data *data;
		size_t n;

		if (!gelf_getshdr(scn, &sh) ||
		    (sh.sh_type != SHT_DYNSYM && sh.sh_type != SHT_SYMTAB))
			continue;
		data = elf_getdata(scn, NULL);
		if (!data || !sh.sh_entsize)
			continue;
		n = sh.sh_size / sh.sh_entsize;
		for (i = 0; i < n; i++) {
			GElf_Sym sym;
			const char *name;

			if (!gelf_getsym(data, (int)i, &sym) || sym.st_shndx == SHN_UNDEF)
				continue;
			name = elf_strptr(elf, sh.sh_link, sym.st_name);
			if (!name)
				continue;
			if (!strcmp(name, "_PyRuntime"))
				out->runtime = sym.st_value;
			else if (!strcmp(name, "PyCode_Type"))
				out->code_type = sym.st_value;
			else if (!strcmp(name, "Py_Version"))
				out->py_version = sym.st_value;
			else if (!strcmp(name, "PyDict_Type"))
				out->types.dict = sym.st_value;
			else if (!strcmp(name, "PyUnicode_Type"))
				out->types.str = sym.st_value;
			else if (!strcmp(name, "PyLong_Type"))
				out->types.integer = sym.st_value;
			else if (!strcmp(name, "PyModule_Type"))
				out->types.module = sym.st_value;
		}
	}
}

/* "python3.11", "libpython3.10.so.1.0", "python3.12d": the minor version, else 0. */
static int minor_from_name(const char *path)
{
	const char *base = strrchr(path, '/'), *p;
	long minor;
	char *end;

	base = base ? base + 1 : path;
	if (!strncmp(base, "lib", 3))
		base += 3;
	if (strncmp(base, "python3.", 8))
		return 0;
	p = base + 8;
	minor = strtol(p, &end, 10);
	if (end == p || minor <= 0 || minor > 99)
		return 0;
	return (int)minor;
}

static bool interp_candidate(const char *path)
{
	const char *base = strrchr(path, '/');

	base = base ? base + 1 : path;
	return !strncmp(base, "python", 6) || !strncmp(base, "libpython", 9);
}

/*
 * The ELF file mapped at [start, end) with file offset 0, read through
 * /proc/PID/map_files (the mapped inode even if the path changed since).
 */
static int interp_from_mapping(pid_t pid, unsigned long start, unsigned long end,
			       struct interp_syms *syms)
{
	char path[96];
	Elf *elf;
	int fd;

	snprintf(path, sizeof(path), "/proc/%d/map_files/%lx-%lx", (int)pid, start, end);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	elf = elf_begin(fd, ELF_C_READ_MMAP, NULL);
	if (!elf || elf_kind(elf) != ELF_K_ELF) {
		if (elf)
			elf_end(elf);
		close(fd);
		return -ENOEXEC;
	}
	memset(syms, 0, sizeof(*syms));
	elf_syms(elf, syms);
	elf_end(elf);
	close(fd);
	return syms->runtime ? 0 : -ENOENT;
}

static int configure(struct pyproc *p, const char *path, uint64_t bias,
		     const struct interp_syms *syms)
{
	const struct ls_py_layout *l;
	uint32_t version = 0;
	uint8_t hdr[512];
	int minor;

	p->runtime = syms->runtime + bias;
	p->code_type = syms->code_type ? syms->code_type + bias : 0;
	p->types.dict = syms->types.dict ? syms->types.dict + bias : 0;
	p->types.str = syms->types.str ? syms->types.str + bias : 0;
	p->types.integer = syms->types.integer ? syms->types.integer + bias : 0;
	p->types.module = syms->types.module ? syms->types.module + bias : 0;
	minor = minor_from_name(path);
	/* PY_VERSION_HEX, what the interpreter says of itself */
	if (syms->py_version &&
	    !read_mem(&p->pid, syms->py_version + bias, &version, sizeof(version)) &&
	    (version >> 24) == 3)
		minor = (int)((version >> 16) & 0xff);
	l = ls_py_layout(minor);
	if (!l)
		return -ENOENT;
	p->layout = *l;
	/*
	 * 3.13+ describes its layout itself: where it differs, it is right;
	 * without it (a free-threaded build, say) the table is not trusted
	 */
	if (minor >= 13 && (read_mem(&p->pid, p->runtime, hdr, sizeof(hdr)) ||
			    ls_py_apply_debug_offsets(&p->layout, hdr, sizeof(hdr))))
		return -ENOENT;
	return 0;
}

static void forget_locked(struct ls_pyframes *py, pid_t pid);

static struct pyproc *proc_slot(struct ls_pyframes *py)
{
	struct pyproc *lru = &py->procs[0];
	unsigned i;

	for (i = 0; i < MAX_PROCS; i++) {
		if (!py->procs[i].pid)
			return &py->procs[i];
		if (py->procs[i].used_ns < lru->used_ns)
			lru = &py->procs[i];
	}
	forget_locked(py, lru->pid);
	return lru;
}

static int attach_locked(struct ls_pyframes *py, pid_t pid)
{
	unsigned long start, end, off, base = 0;
	char maps[64], *line = NULL, *path;
	struct interp_syms syms;
	struct lt_py_proc walk;
	struct pyproc *p, fresh;
	size_t cap = 0;
	int err = -ENOENT;
	FILE *f;

	snprintf(maps, sizeof(maps), "/proc/%d/maps", (int)pid);
	f = fopen(maps, "re");
	if (!f)
		return -errno;
	elf_version(EV_CURRENT);
	memset(&fresh, 0, sizeof(fresh));
	fresh.pid = pid;
	while (getline(&line, &cap, f) > 0) {
		int pos = 0;

		if (sscanf(line, "%lx-%lx %*s %lx %*s %*s %n", &start, &end, &off, &pos) != 3 ||
		    !pos)
			continue;
		path = line + pos;
		path[strcspn(path, "\n")] = '\0';
		/* the first mapping of a file (offset 0) is where its ELF header is */
		if (off != 0 || path[0] != '/' || !interp_candidate(path))
			continue;
		p = proc_find(py, pid);
		if (p && p->map_start == start) {
			err = 1; /* known already */
			break;
		}
		if (interp_from_mapping(pid, start, end, &syms))
			continue;
		fresh.map_start = start;
		base = start - syms.first_load;
		err = configure(&fresh, path, base, &syms);
		break;
	}
	free(line);
	fclose(f);
	if (err)
		return err > 0 ? 0 : err;
	/* another program under the same pid (exec, or a pid reused) */
	forget_locked(py, pid);
	walk = fresh.layout.walk;
	walk.runtime = fresh.runtime;
	if (py->map_fd >= 0) {
		__u32 key = (__u32)pid;

		if (bpf_map_update_elem(py->map_fd, &key, &walk, BPF_ANY))
			return -errno;
	}
	p = proc_slot(py);
	fresh.used_ns = now_ns();
	*p = fresh;
	return 0;
}

int ls_pyframes__attach(struct ls_pyframes *py, pid_t pid)
{
	int err;

	if (!py)
		return -EINVAL;
	pthread_mutex_lock(&py->lock);
	err = attach_locked(py, pid);
	pthread_mutex_unlock(&py->lock);
	return err;
}

static void forget_locked(struct ls_pyframes *py, pid_t pid)
{
	struct pyproc *p;
	size_t i;

	if (!pid)
		return;
	p = proc_find(py, pid);
	if (!p)
		return;
	if (py->map_fd >= 0) {
		__u32 key = (__u32)pid;

		bpf_map_delete_elem(py->map_fd, &key);
	}
	memset(p, 0, sizeof(*p));
	for (i = 0; i < CODE_CACHE; i++)
		if (py->codes[i].pid == pid)
			code_clear(&py->codes[i]);
	for (i = 0; i < TASK_SNAPSHOTS; i++)
		if (py->snaps[i].pid == pid)
			memset(&py->snaps[i], 0, sizeof(py->snaps[i]));
}

void ls_pyframes__forget(struct ls_pyframes *py, pid_t pid)
{
	if (!py)
		return;
	pthread_mutex_lock(&py->lock);
	forget_locked(py, pid);
	pthread_mutex_unlock(&py->lock);
}

static size_t code_slot(pid_t pid, uint64_t addr)
{
	uint64_t h = (addr >> 4) * 0x9e3779b97f4a7c15ull ^ (uint64_t)pid * 0xff51afd7ed558ccdull;

	return (size_t)(h >> 32) & (CODE_CACHE - 1);
}

/*
 * The cached reading of the code object at addr, read (again) when needed.
 * A process that has exited keeps what was read while it ran: its memory
 * cannot have been reused since.
 */
static struct code_entry *code_get(struct ls_pyframes *py, struct pyproc *p, uint64_t addr,
				   uint64_t now)
{
	struct code_entry *e = &py->codes[code_slot(p->pid, addr)];
	struct ls_py_code_id id;
	struct ls_py_code code;
	pid_t pid = p->pid;

	if (e->pid == pid && e->addr == addr) {
		if (now - e->checked_ns < RECHECK_NS)
			return e;
		/* the same object still? (freed and reallocated memory reads otherwise) */
		if (!ls_py_code_id(&p->layout, read_mem, &pid, addr, p->code_type, &id)) {
			if (!memcmp(&id, &e->id, sizeof(id)) && !e->bad) {
				e->checked_ns = now;
				return e;
			}
		} else if (kill(pid, 0) && errno == ESRCH) {
			return e;
		}
	}
	code_clear(e);
	e->pid = pid;
	e->addr = addr;
	e->checked_ns = now;
	if (ls_py_code_read(&p->layout, read_mem, &pid, addr, p->code_type, &code)) {
		e->bad = true;
		return e;
	}
	e->id = code.id;
	/* a failed copy leaves the name unknown, as an unreadable one */
	e->name = code.name[0] ? strdup(code.name) : NULL;
	e->file = code.file[0] ? strdup(code.file) : NULL;
	e->linetable = code.linetable;
	e->linetable_len = code.linetable_len;
	return e;
}

static bool runs_eval(const struct ls_frame *f)
{
	static const char eval[] = "_PyEval_EvalFrameDefault";

	/* a compiler's split-off part (".cold") is the same function */
	return f->kind == LS_FRAME_NATIVE && f->symbol &&
	       !strncmp(f->symbol, eval, sizeof(eval) - 1);
}

static bool named(const struct ls_frame *f, const char *symbol, const char *file_end)
{
	size_t n, m;

	if (f->kind != LS_FRAME_PYTHON || !f->symbol || !f->file || strcmp(f->symbol, symbol))
		return false;
	n = strlen(f->file);
	m = strlen(file_end);
	return n >= m && !strcmp(f->file + n - m, file_end);
}

const struct ls_frame *ls_pyframes__task(struct ls_pyframes *py, pid_t pid,
					 const struct ls_stack *st)
{
	const struct ls_frame *found = NULL;
	unsigned h, i;

	if (!py)
		return NULL;
	/* the event loop runs every ready callback, a Task's step too, from Handle._run */
	for (h = 0; h < st->n; h++)
		if (named(&st->frames[h], "Handle._run", "asyncio/events.py") ||
		    named(&st->frames[h], "_run", "asyncio/events.py")) /* 3.10: no qualname */
			break;
	if (h == st->n)
		return NULL;
	pthread_mutex_lock(&py->lock);
	for (i = h; i-- > 0;) {
		const struct ls_frame *f = &st->frames[i];
		const struct code_entry *e;

		if (f->kind != LS_FRAME_PYTHON)
			continue; /* the C Task's step: task_step, task_wakeup, send */
		/* the pure-Python Task's own step frames */
		if (f->symbol && f->file && strstr(f->file, "asyncio/tasks.py") &&
		    (!strncmp(f->symbol, "Task.__", 7) || !strncmp(f->symbol, "__", 2)))
			continue;
		e = &py->codes[code_slot(pid, f->addr)];
		/* a coroutine's frame is the Task's; anything else, a plain callback */
		if (e->pid == pid && e->addr == f->addr && !e->bad &&
		    (e->id.flags & (LS_PY_CO_COROUTINE | LS_PY_CO_ITERABLE_COROUTINE)))
			found = f;
		break;
	}
	pthread_mutex_unlock(&py->lock);
	return found;
}

struct ls_frame *ls_pyframes_interleave(const struct ls_frame *native, unsigned n_native,
					const struct ls_frame *py, const bool *entry, unsigned n_py,
					unsigned *n)
{
	struct ls_frame *out = calloc((size_t)n_native + n_py + 1, sizeof(*out));
	unsigned i, j = 0, k = 0, r, group;

	if (!out)
		return NULL;
	for (i = 0; i < n_native; i++) {
		if (runs_eval(&native[i]) && j < n_py) {
			/* one eval call runs the frames up to its entry frame */
			for (r = j; r < n_py;)
				if (entry[r++])
					break;
			/* the Python frames go before what is inlined into the eval call */
			for (group = 0; group < k && out[k - group - 1].inlined &&
					out[k - group - 1].addr == native[i].addr;
			     group++)
				;
			memmove(&out[k - group + (r - j)], &out[k - group], group * sizeof(*out));
			memcpy(&out[k - group], &py[j], (r - j) * sizeof(*out));
			k += r - j;
			j = r;
		}
		out[k++] = native[i];
	}
	/* runs whose eval call lies beyond the copied native stack */
	while (j < n_py)
		out[k++] = py[j++];
	*n = k;
	return out;
}

void ls_pyframes__warm(struct ls_pyframes *py, pid_t pid, const struct lt_py_stack *ps)
{
	unsigned i, n = ps->n < LT_PY_MAX_FRAMES ? ps->n : LT_PY_MAX_FRAMES;
	uint64_t now = now_ns();
	struct pyproc *p;

	if (!py || ps->status == LT_PY_NONE || ps->status == LT_PY_NO_THREAD)
		return;
	pthread_mutex_lock(&py->lock);
	p = proc_find(py, pid);
	for (i = 0; p && i < n; i++)
		code_get(py, p, ps->frames[i].code, now);
	pthread_mutex_unlock(&py->lock);
}

int ls_pyframes__merge(struct ls_pyframes *py, pid_t pid, const struct lt_py_stack *ps,
		       struct ls_stack *stack, ls_pyframes_intern_fn intern, void *intern_ctx)
{
	struct ls_frame frames[LT_PY_MAX_FRAMES], *merged;
	bool entry[LT_PY_MAX_FRAMES];
	uint64_t now = now_ns();
	unsigned i, n_py, n;
	struct pyproc *p;

	if (!py || ps->status == LT_PY_NONE || ps->status == LT_PY_NO_THREAD || !ps->n)
		return 0;
	pthread_mutex_lock(&py->lock);
	p = proc_find(py, pid);
	if (!p) {
		pthread_mutex_unlock(&py->lock);
		return 0;
	}
	p->used_ns = now;
	n_py = ps->n < LT_PY_MAX_FRAMES ? ps->n : LT_PY_MAX_FRAMES;
	memset(frames, 0, sizeof(frames));
	for (i = 0; i < n_py; i++) {
		const struct lt_py_frame *pf = &ps->frames[i];
		struct code_entry *e = code_get(py, p, pf->code, now);
		int line;

		frames[i].addr = pf->code;
		frames[i].kind = LS_FRAME_PYTHON;
		frames[i].pyframe = pf->frame;
		entry[i] = pf->flags & LT_PY_ENTRY;
		if (e->bad)
			continue;
		frames[i].symbol = e->name ? intern(intern_ctx, e->name) : NULL;
		frames[i].file = e->file ? intern(intern_ctx, e->file) : NULL;
		line = ls_py_line(p->layout.minor, e->linetable, e->linetable_len,
				  e->id.firstlineno, pf->lasti);
		frames[i].line = line > 0 ? line : 0;
	}
	pthread_mutex_unlock(&py->lock);
	merged = ls_pyframes_interleave(stack->frames, stack->n, frames, entry, n_py, &n);
	if (!merged)
		return -ENOMEM;
	free(stack->frames);
	stack->frames = merged;
	stack->n = n;
	return 0;
}

/* The process's current-tasks dict, looked for again now and then until found. */
static uint64_t current_tasks_dict(struct pyproc *p, uint64_t now)
{
	const struct ls_py_task_layout *tl = ls_py_task_layout(p->layout.minor);
	uint64_t interp;
	pid_t pid = p->pid;

	if (p->current_tasks || !tl)
		return p->current_tasks;
	if (p->tasks_tried_ns && now - p->tasks_tried_ns < TASKS_RETRY_NS)
		return 0;
	p->tasks_tried_ns = now;
	if (read_mem(&pid, p->runtime + p->layout.walk.runtime_interp, &interp, sizeof(interp)))
		return 0;
	if (ls_py_current_tasks_dict(&p->layout, tl, &p->types, read_mem, &pid, interp,
				     &p->current_tasks, &p->task_type))
		p->current_tasks = p->task_type = 0;
	return p->current_tasks;
}

int ls_pyframes__snapshot_tasks(struct ls_pyframes *py, pid_t pid, pid_t tid,
				uint64_t busy_start_ns)
{
	struct ls_py_task tasks[LS_PY_TASKS_MAX];
	const struct ls_py_task_layout *tl;
	struct task_snapshot *snap;
	uint64_t now = now_ns(), dict;
	struct pyproc *p;
	int n;

	if (!py)
		return 0;
	pthread_mutex_lock(&py->lock);
	p = proc_find(py, pid);
	tl = p ? ls_py_task_layout(p->layout.minor) : NULL;
	dict = p ? current_tasks_dict(p, now) : 0;
	if (!dict) {
		pthread_mutex_unlock(&py->lock);
		return 0;
	}
	n = ls_py_current_tasks(&p->layout, tl, &p->types, read_mem, &pid, dict, &p->task_type,
				tasks, LS_PY_TASKS_MAX);
	if (n < 0) {
		/* not a dict any more: the module was reloaded, or the process exec'd */
		p->current_tasks = p->task_type = 0;
	} else if (n > 0) {
		snap = &py->snaps[py->next_snap++ % TASK_SNAPSHOTS];
		snap->pid = pid;
		snap->tid = tid;
		snap->busy_start_ns = busy_start_ns;
		snap->n = (unsigned)n;
		memcpy(snap->tasks, tasks, (size_t)n * sizeof(tasks[0]));
	}
	pthread_mutex_unlock(&py->lock);
	return n > 0 ? n : 0;
}

bool ls_pyframes__task_name(struct ls_pyframes *py, pid_t pid, pid_t tid, uint64_t busy_start_ns,
			    uint64_t frame, char *out, size_t len)
{
	bool found = false;
	unsigned i, j;

	if (!py || !frame || !len)
		return false;
	pthread_mutex_lock(&py->lock);
	for (i = 0; i < TASK_SNAPSHOTS && !found; i++) {
		const struct task_snapshot *snap = &py->snaps[i];

		if (snap->pid != pid || snap->tid != tid || snap->busy_start_ns != busy_start_ns)
			continue;
		for (j = 0; j < snap->n && !found; j++) {
			if (snap->tasks[j].frame != frame)
				continue;
			snprintf(out, len, "%s", snap->tasks[j].name);
			found = true;
		}
	}
	pthread_mutex_unlock(&py->lock);
	return found;
}
