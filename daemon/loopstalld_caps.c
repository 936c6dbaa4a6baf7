// SPDX-License-Identifier: BSD-2-Clause
/*
 * Once its BPF programs are loaded and attached, loopstalld keeps only the
 * capabilities it still uses. What each is for, as tried on Linux 6.18 with
 * kernel.unprivileged_bpf_disabled=2 (docs/loopstalld.md has the details):
 *
 *   CAP_BPF              nothing there: map updates and lookups on the fds
 *                        already open need none since 6.5, but older kernels
 *                        check it on every bpf() call while unprivileged BPF is off
 *   CAP_PERFMON          the perf events that sample each new loop thread
 *                        (cpu_stacks); without it stalls are still counted
 *   CAP_SYS_PTRACE and   /proc/PID/{maps,exe,fd,root} of processes of other
 *   CAP_DAC_READ_SEARCH  users: stack symbolization, fd targets and --match
 *                        on the executable's name
 *   CAP_CHECKPOINT_RESTORE  /proc/PID/map_files, which opens the very file a
 *                        process mapped even after it was replaced on disk
 *
 * The rest goes from every set and from the bounding set (CAP_SYS_ADMIN,
 * CAP_DAC_OVERRIDE, CAP_NET_ADMIN...), and no_new_privs is set, so nothing
 * run later can get them back. Files are still written as uid 0: the output
 * directory and the metrics file's directory must be root's.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>
#include <linux/capability.h>

#ifndef CAP_PERFMON
#define CAP_PERFMON 38
#endif
#ifndef CAP_BPF
#define CAP_BPF 39
#endif
#ifndef CAP_CHECKPOINT_RESTORE
#define CAP_CHECKPOINT_RESTORE 40
#endif

#include "loopstalld.h"

static const struct {
	int cap;
	const char *name;
} wanted[] = {
	{ CAP_BPF, "CAP_BPF" },
	{ CAP_PERFMON, "CAP_PERFMON" },
	{ CAP_SYS_PTRACE, "CAP_SYS_PTRACE" },
	{ CAP_DAC_READ_SEARCH, "CAP_DAC_READ_SEARCH" },
	{ CAP_CHECKPOINT_RESTORE, "CAP_CHECKPOINT_RESTORE" },
};

static bool kernel_has(int cap)
{
	return prctl(PR_CAPBSET_READ, cap, 0, 0, 0) >= 0;
}

int lsd_drop_caps(char *describe, size_t len)
{
	struct __user_cap_header_struct hdr = { .version = _LINUX_CAPABILITY_VERSION_3 };
	struct __user_cap_data_struct data[2] = { { 0 } }, keep[2] = { { 0 } };
	size_t i, used = 0;
	int cap;

	describe[0] = '\0';
	for (i = 0; i < sizeof(wanted) / sizeof(wanted[0]); i++) {
		cap = wanted[i].cap;
		if (!kernel_has(cap)) {
			/* before 5.8 CAP_SYS_ADMIN did what CAP_BPF and CAP_PERFMON do now */
			if (cap != CAP_BPF && cap != CAP_PERFMON)
				continue;
			cap = CAP_SYS_ADMIN;
		}
		keep[cap / 32].permitted |= 1u << (cap % 32);
	}
	if (syscall(SYS_capget, &hdr, data))
		return -errno;
	for (i = 0; i < 2; i++) {
		keep[i].permitted &= data[i].permitted;
		keep[i].effective = keep[i].permitted;
		keep[i].inheritable = 0;
	}
	/* the bounding set needs CAP_SETPCAP, which goes last, with capset */
	for (cap = 0; kernel_has(cap); cap++) {
		if (keep[cap / 32].permitted & (1u << (cap % 32)))
			continue;
		if (prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) && errno != EINVAL)
			return -errno;
	}
	if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) && errno != EINVAL)
		return -errno;
	if (syscall(SYS_capset, &hdr, keep))
		return -errno;
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0))
		return -errno;
	for (cap = 0; cap < 64; cap++) {
		const char *name = NULL;

		if (!(keep[cap / 32].effective & (1u << (cap % 32))))
			continue;
		for (i = 0; i < sizeof(wanted) / sizeof(wanted[0]); i++)
			if (wanted[i].cap == cap)
				name = wanted[i].name;
		used += (size_t)snprintf(describe + used, used < len ? len - used : 0, "%s%s",
					 used ? " " : "", name ? name : "CAP_SYS_ADMIN");
		if (used >= len)
			break;
	}
	if (!used)
		snprintf(describe, len, "none");
	return 0;
}
