// SPDX-License-Identifier: BSD-2-Clause
#include <stdint.h>
#include <stdlib.h>
#include "grow.h"

void *ls_grow(void *items, size_t *cap, size_t need, size_t size, size_t first)
{
	size_t want = *cap ? *cap : first;
	void *grown;

	if (need <= *cap)
		return items;
	if (!want || !size)
		return NULL;
	while (want < need) {
		if (want > SIZE_MAX / 2)
			return NULL;
		want *= 2;
	}
	if (want > SIZE_MAX / size)
		return NULL;
	grown = realloc(items, want * size);
	if (!grown)
		return NULL;
	*cap = want;
	return grown;
}
