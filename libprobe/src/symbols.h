/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
#ifndef LPROBE_SYMBOLS_H
#define LPROBE_SYMBOLS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/*
 * The function at addr in this process and the module holding it. name is
 * empty when no symbol covers addr (module still set); -ENOENT when no
 * module does. Opens files: the reporter thread's job, never a loop's.
 */
int lpi_symbolize(uint64_t addr, char *name, size_t name_len, char *module, size_t module_len);

#endif
