/* SPDX-License-Identifier: BSD-2-Clause */
#ifndef LOOPSTALL_SYSCALLS_H
#define LOOPSTALL_SYSCALLS_H

/* Generated at build time from <asm/unistd_64.h> (cmake/gen_syscalls.cmake). */
extern const char *const ls_syscall_table[];
extern const unsigned ls_syscall_table_size;

/* Name of syscall nr, or NULL when the number is unknown (what it waits for: syscall_class.h). */
const char *ls_syscall_name(unsigned nr);

#endif
