/* SPDX-License-Identifier: BSD-2-Clause */
#ifndef LOOPSTALL_GROW_H
#define LOOPSTALL_GROW_H

#include <stddef.h>

/*
 * Room for `need` elements of `size` bytes in a growing array of *cap:
 * the array itself when it has it, else reallocated to double its capacity
 * (`first` when empty) until it does, and *cap updated. NULL without memory
 * (or when the size overflows); the array is then unchanged and still the
 * caller's. The usual step: need = n + 1.
 */
void *ls_grow(void *items, size_t *cap, size_t need, size_t size, size_t first);

#endif
