// SPDX-License-Identifier: BSD-2-Clause
/*
 * Stall records from the ring buffer (stall.c), decoded, classified and
 * written as JSON (jsonout.c) and advice (advice.c). BPF writes them, but
 * their numbers come from a process we do not control: any bytes must
 * decode or be refused, the time split must add up, and the JSON line must
 * parse back as one object with no raw newline in it.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cjson/cJSON.h>
#include "jsonout.h"
#include "stall.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint64_t threshold = 50000000, dur;
	struct ls_stall s;
	cJSON *parsed;
	char *line;
	void *rec;

	/* the threshold comes from the input's last 8 bytes when it is long enough */
	if (size >= sizeof(struct lt_stall_rec) + 8)
		memcpy(&threshold, data + size - 8, 8);
	/* an exact copy: the decoder must not read past the record it is given */
	rec = malloc(size ? size : 1);
	if (!rec)
		return 0;
	memcpy(rec, data, size);
	/*
	 * The traced process controls fds, counts and times, but syscall numbers
	 * pass BPF's check (orig_ax < 1024, else LT_NR_NONE or LT_NR_OTHER):
	 * keep them in that domain (stall.c's sort subtracts them as ints).
	 */
	if (size >= sizeof(struct lt_stall_rec)) {
		struct lt_stall_rec *r = rec;
		unsigned i;

		for (i = 0; i < LT_MAX_SLOTS; i++)
			if (r->busy.slots[i].nr != LT_NR_NONE && r->busy.slots[i].nr != LT_NR_OTHER)
				r->busy.slots[i].nr %= 1024;
	}
	if (ls_stall_from_record(&s, rec, size, threshold)) {
		free(rec);
		return 0;
	}
	free(rec);
	if (s.end_ns < s.start_ns)
		abort();
	dur = s.end_ns - s.start_ns;
	if (s.on_cpu_ns + s.off_cpu_ns + s.runq_ns != dur)
		abort();
	if (s.n_syscalls > LT_MAX_SLOTS || strnlen(s.comm, sizeof(s.comm)) == sizeof(s.comm))
		abort();
	if (!strcmp(ls_cause_name(s.cause), "") || (unsigned)s.cause >= LS_CAUSE_COUNT)
		abort();
	ls_stall_conclude(&s);
	if (strnlen(s.advice, sizeof(s.advice)) == sizeof(s.advice))
		abort();
	line = ls_json_stall(&s, (int64_t)s.start_ns, (int64_t)s.end_ns);
	if (line) {
		if (strchr(line, '\n'))
			abort();
		parsed = cJSON_Parse(line);
		if (!parsed || !cJSON_IsObject(parsed))
			abort();
		cJSON_Delete(parsed);
		free(line);
	}
	{
		struct ls_stall_begin b = {
		    .pid = s.pid,
		    .tid = s.tid,
		    .comm = s.comm,
		    .start_ns = s.start_ns,
		    .elapsed_ns = dur,
		    .threshold_ns = threshold,
		    .began_before_attach = s.began_before_attach,
		};

		line = ls_json_stall_begin(&b, (int64_t)s.start_ns);
	}
	if (line) {
		parsed = cJSON_Parse(line);
		if (!parsed || strchr(line, '\n'))
			abort();
		cJSON_Delete(parsed);
		free(line);
	}
	ls_stall_free_stacks(&s);
	return 0;
}
