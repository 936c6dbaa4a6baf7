/* SPDX-License-Identifier: BSD-2-Clause */
#ifndef LOOPSTALL_SYSCALL_CLASS_H
#define LOOPSTALL_SYSCALL_CLASS_H

#include <stddef.h>
#include "target.h"

/*
 * One vocabulary for what a stalled loop thread waited for, shared by the
 * advice the agent writes into each stall record (advice.c, syscalls by
 * number) and `loopstall doctor` (syscalls by the name a record carries):
 * each syscall's class, the kind of wait a blocked call was (its class
 * refined by its target), and what to do about each kind.
 */

/* What a syscall waits for, from its name alone. */
enum ls_sc_class {
	LS_SC_OTHER = 0, /* its target tells (read, write, ioctl...) */
	LS_SC_SLEEP,	 /* an explicit sleep */
	LS_SC_LOCK,	 /* a lock another thread or process holds */
	LS_SC_CHILD,	 /* a child process */
	LS_SC_FILE,	 /* the file system: takes a path, or an fd that is always a file */
	LS_SC_SOCKET,	 /* works on sockets only */
	LS_SC_COUNT,
};

enum ls_sc_class ls_sc_class_of_name(const char *name);
/* By number (this architecture's), through its name. */
enum ls_sc_class ls_sc_class_of_nr(unsigned nr);
/* The table's i-th syscall name and its class (tests walk it); NULL past the end. */
const char *ls_sc_entry(size_t i, enum ls_sc_class *cls);

/* What the loop thread waited for, or did, during a stall. */
enum ls_wait {
	LS_WAIT_SLEEP,
	LS_WAIT_SOCKET,
	LS_WAIT_DNS, /* a name lookup: a socket to port 53 */
	LS_WAIT_FILE,
	LS_WAIT_PIPE, /* a pipe or FIFO: another process */
	LS_WAIT_CHILD,
	LS_WAIT_DEVICE,
	LS_WAIT_EVENT,	 /* an eventfd, timerfd, signalfd or epoll fd */
	LS_WAIT_SYSCALL, /* another blocking call */
	LS_WAIT_CPU,
	LS_WAIT_LOCK,
	LS_WAIT_PREEMPTED,
	LS_WAIT_PAGE_FAULT,
	LS_WAIT_UNKNOWN,
	LS_WAIT_COUNT,
};

/*
 * The kind of target a call's text names, for records that do not say
 * (older agents, tests): "socket:..."/"dns:...", "pipe", an absolute path,
 * an anonymous inode. LS_TK_NONE when the text tells nothing (or is NULL).
 */
enum ls_target_kind ls_target_kind_from_text(const char *target);

/* A resolver's query: "dns:...", or a socket whose peer is port 53. */
bool ls_target_is_dns(const char *target);

/*
 * The kind of wait of one blocked call: its class first (a sleep, a lock,
 * a child), then what it waited on (`kind`, else guessed from `target`,
 * which may be NULL or empty), then its class again (a file or socket call).
 */
enum ls_wait ls_wait_of_call(const char *name, enum ls_target_kind kind, const char *target);

/* The runtime a remedy speaks to. */
enum ls_runtime {
	LS_RUNTIME_NATIVE, /* C, C++, a loop library such as libev or libuv */
	LS_RUNTIME_PYTHON, /* asyncio */
	LS_RUNTIME_NODE,
	LS_RUNTIME_COUNT,
};

/*
 * What to do, in one sentence any runtime can follow (the `advice` of a
 * stall record, after its numbers). NULL for kinds that have none of their
 * own (LS_WAIT_UNKNOWN).
 */
const char *ls_wait_advice(enum ls_wait kind);
/* What to do in the runtime's own idiom (`loopstall doctor`); never NULL. */
const char *ls_wait_remedy(enum ls_wait kind, enum ls_runtime rt);

#endif
