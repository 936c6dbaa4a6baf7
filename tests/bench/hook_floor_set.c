// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <errno.h>
#include <linux/perf_event.h>
#include <stdlib.h>
#include <sys/syscall.h>
#include <unistd.h>
#include <bpf/libbpf.h>
#include "hook_floor.h"
#include "hook_floor.skel.h"
#include "loop_tracker.h"
#include "waitcalls.h"
#include "tracefs.h"

struct hook_floor_set {
	struct hook_floor *skel;
	struct bpf_link *waits[LT_WAIT_COUNT];
	struct bpf_link *switches; /* owns the perf event fd */
};

int hook_floor_set__new(pid_t tid, uint32_t waits, struct hook_floor_set **out)
{
	struct perf_event_attr attr = {
	    .type = PERF_TYPE_SOFTWARE,
	    .size = sizeof(attr),
	    .config = PERF_COUNT_SW_CONTEXT_SWITCHES,
	    .sample_period = 1,
	};
	struct hook_floor_set *fs;
	int fd, err, i;

	err = ls_tracefs_ensure();
	if (err)
		return err;
	fs = calloc(1, sizeof(*fs));
	if (!fs)
		return -ENOMEM;
	fs->skel = hook_floor__open();
	if (!fs->skel) {
		err = -errno;
		goto cleanup;
	}
	bpf_program__set_autoattach(fs->skel->progs.exit_wait, false);
	err = hook_floor__load(fs->skel);
	if (err)
		goto cleanup;
	err = hook_floor__attach(fs->skel);
	if (err)
		goto cleanup;
	/* the wait calls asked for, as waitcalls.c hooks those its loops use */
	for (i = 0; i < LT_WAIT_COUNT; i++) {
		if (!(waits & (1u << i)))
			continue;
		fs->waits[i] = ls_waitcalls_attach(fs->skel->progs.exit_wait, i);
		if (!fs->waits[i]) {
			err = -errno;
			goto cleanup;
		}
	}
	if (tid < 0) {
		/* the wait calls' hooks alone */
		*out = fs;
		return 0;
	}
	fd = syscall(SYS_perf_event_open, &attr, tid, -1, -1, PERF_FLAG_FD_CLOEXEC);
	if (fd < 0) {
		err = -errno;
		goto cleanup;
	}
	fs->switches = bpf_program__attach_perf_event(fs->skel->progs.cpu_switch, fd);
	if (!fs->switches) {
		err = -errno;
		close(fd);
		goto cleanup;
	}
	*out = fs;
	return 0;
cleanup:
	hook_floor_set__free(fs);
	return err;
}

void hook_floor_set__free(struct hook_floor_set *fs)
{
	int i;

	if (!fs)
		return;
	bpf_link__destroy(fs->switches);
	for (i = 0; i < LT_WAIT_COUNT; i++)
		bpf_link__destroy(fs->waits[i]);
	hook_floor__destroy(fs->skel);
	free(fs);
}
