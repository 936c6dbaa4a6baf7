/* SPDX-License-Identifier: BSD-2-Clause */
#ifndef LOOPSTALL_PERFMAP_H
#define LOOPSTALL_PERFMAP_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/*
 * JIT symbols from /tmp/perf-PID.map ("START SIZE name" per line, hex, as
 * Node.js --perf-basic-prof and others write it). The file belongs to the
 * traced process: it is parsed defensively and never followed as a symlink.
 */
struct ls_perfmap;

/* Parse a map's text; lines that do not parse are skipped. NULL without memory. */
struct ls_perfmap *ls_perfmap__parse(const char *text, size_t len);
/*
 * Load the map of process pid: the JIT names it after its pid in its own
 * pid namespace (/tmp/perf-1.map in a container), in its own mount
 * namespace's /tmp, so the file is opened as tmp/perf-NSPID.map resolved
 * inside /proc/PID/root (a symlink in the target's tree cannot lead out of
 * it). -ENOENT when there is none; -EPERM when it is not a regular file
 * owned by the process's user or root.
 */
int ls_perfmap__load(pid_t pid, struct ls_perfmap **out);
/*
 * The pid a process has in its innermost pid namespace, from the text of
 * /proc/PID/status (the last number of its "NSpid:" line; kernels before
 * 4.1 have none: then the "Pid:" line). -EINVAL when neither parses.
 */
int ls_perfmap__nspid(const char *status, size_t len, pid_t *out);
/* Size of pid's perf map now (to notice a JIT appending); -errno. */
int ls_perfmap__size(pid_t pid, off_t *size);
/* The symbol covering addr, or NULL. Later entries win over earlier ones. */
const char *ls_perfmap__lookup(const struct ls_perfmap *m, uint64_t addr);
size_t ls_perfmap__count(const struct ls_perfmap *m);
void ls_perfmap__free(struct ls_perfmap *m);

#endif
