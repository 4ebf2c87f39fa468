/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Growing arrays. */
#ifndef TPLFS_GROW_H
#define TPLFS_GROW_H

#include <errno.h>
#include <stdlib.h>

/*
 * Make room for element @n of the array at *@arrp, of *@cap elements of
 * @elem bytes each, doubling it (from @first). Returns 0 or -ENOMEM (the
 * array is then unchanged).
 */
static inline int tplfs_grow(void *arrp, size_t *cap, size_t n, size_t elem,
			     size_t first)
{
	void **arr = arrp, *p;
	size_t c;

	if (n < *cap)
		return 0;
	c = *cap ? 2 * *cap : first;
	p = realloc(*arr, c * elem);
	if (!p)
		return -ENOMEM;
	*arr = p;
	*cap = c;
	return 0;
}

#endif /* TPLFS_GROW_H */
