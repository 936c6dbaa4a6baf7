/* SPDX-License-Identifier: BSD-2-Clause */
#ifndef LOOPSTALL_TARGET_H
#define LOOPSTALL_TARGET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "loop_tracker.h"

/*
 * What kind of thing a blocking call waited on: the `target_kind` of a
 * stall's syscalls[] entry. The advice and `doctor` speak of it: a FIFO or
 * a pipe waits for another process, a regular file for the disk.
 */
enum ls_target_kind {
	LS_TK_NONE = 0, /* nothing to name */
	LS_TK_FILE,	/* regular file */
	LS_TK_FIFO,	/* named pipe */
	LS_TK_PIPE,	/* anonymous pipe (pipefs) */
	LS_TK_SOCKET,
	LS_TK_DEVICE, /* character or block device */
	LS_TK_EVENTFD,
	LS_TK_TIMERFD,
	LS_TK_SIGNALFD,
	LS_TK_EPOLL,
	LS_TK_DIR,
	LS_TK_OTHER,
	LS_TK_COUNT,
};

/* "file", "fifo", ...; NULL for LS_TK_NONE (written as JSON null). */
const char *ls_target_kind_name(enum ls_target_kind kind);
/* The inverse, for records read back; LS_TK_NONE when unknown or NULL. */
enum ls_target_kind ls_target_kind_parse(const char *name);

/*
 * The kind from an inode's i_mode, its superblock's magic and, for an
 * anonymous inode, its name ("[eventfd]", "anon_inode:[eventfd]" or "eventfd").
 */
enum ls_target_kind ls_target_kind_of(uint32_t mode, uint32_t magic, const char *anon_name);

/*
 * A socket as the target string: "socket:TCP 10.0.0.1:4000->10.0.0.5:5432",
 * "socket:UDP [::1]:53" (no peer), and a resolver's "dns:udp 127.0.0.53:53"
 * (peer port 53). Addresses in network byte order, ports in host order.
 */
void ls_target_inet(char *buf, size_t len, uint16_t family, uint16_t sock_type, uint16_t protocol,
		    const uint8_t laddr[16], uint16_t lport, const uint8_t raddr[16],
		    uint16_t rport);

/*
 * A socket target from /proc ("socket:UDP a:p->b:53") as a resolver query
 * ("dns:udp b:53") when its peer port is 53; unchanged otherwise.
 */
void ls_target_dns(char *target, size_t len);

/*
 * Dentry names as BPF walked them, leaf first, each NUL-ended ("x\0tmp\0"),
 * into a path ("/tmp/x"); `cut`: the walk did not reach the root, so the
 * path starts with "...". Returns 0, or -EINVAL when nothing usable.
 */
int ls_target_dentries(const char *names, size_t names_len, bool cut, char *buf, size_t len);

/*
 * A target from what BPF captured, without /proc: a relative path argument
 * stays relative (ls_target_resolve joins it to the cwd or the dirfd).
 * Returns the kind (LS_TK_NONE and an empty buf when nothing is named).
 */
enum ls_target_kind ls_target_from_capture(const struct lt_capture *c, char *buf, size_t len);

/* The kernel's dev_t (major << 20 | minor) as stat() reports it. */
uint64_t ls_target_user_dev(uint32_t kdev);

#endif
