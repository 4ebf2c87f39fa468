/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Sizes and durations as operators write them (vzctl's soft:hard):
 * "10G", "512M:1G", "1.5T", "100000" (bytes); "7d", "1h30m", "90s", "0".
 */
#ifndef TPLFS_UNITS_H
#define TPLFS_UNITS_H

#include <stdbool.h>
#include <stdint.h>

/*
 * A size: a number (decimals allowed with a suffix) and an optional K, M,
 * G or T suffix (powers of 1024; "KiB", "MB"... are not accepted, so that
 * no one wonders whether M is 1000 or 1024). Returns 0, or -EINVAL /
 * -ERANGE.
 */
int tplfs_parse_size(const char *s, uint64_t *bytes);

/* "SOFT[:HARD]": without HARD, hard = soft. Refuses soft > hard. */
int tplfs_parse_limits(const char *s, uint64_t *soft, uint64_t *hard);

/* A duration: one or more NUMBER UNIT (w, d, h, m, s), or a plain number
 * of seconds. Returns 0, or -EINVAL / -ERANGE. */
int tplfs_parse_duration(const char *s, uint64_t *seconds);

#endif /* TPLFS_UNITS_H */
