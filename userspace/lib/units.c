// SPDX-License-Identifier: LGPL-2.1-or-later
/* Sizes and durations as operators write them: see units.h. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "units.h"

int tplfs_parse_size(const char *s, uint64_t *bytes)
{
	static const char suffixes[] = "KMGT";
	const char *p = s;
	uint64_t whole = 0, mult = 1, num = 0, den = 1;
	bool digits = false, dot = false;

	for (; *p >= '0' && *p <= '9'; p++) {
		if (whole > (UINT64_MAX - 9) / 10)
			return -ERANGE;
		whole = whole * 10 + (uint64_t)(*p - '0');
		digits = true;
	}
	if (*p == '.') {
		dot = true;
		for (p++; *p >= '0' && *p <= '9'; p++) {
			if (den < 1000000000) {	/* 9 decimals are plenty */
				num = num * 10 + (uint64_t)(*p - '0');
				den *= 10;
			}
			digits = true;
		}
	}
	if (!digits)
		return -EINVAL;
	if (*p) {
		const char *u = strchr(suffixes, *p);

		if (!u || p[1])
			return -EINVAL;
		for (long i = 0; i <= u - suffixes; i++)
			mult *= 1024;
	} else if (dot) {
		return -EINVAL;		/* a fraction of a byte */
	}
	if (whole > UINT64_MAX / mult)
		return -ERANGE;
	/* num / den < 1 and mult <= 2^40: num * mult < 10^9 * 2^40 fits */
	*bytes = whole * mult + (num * mult + den / 2) / den;
	return 0;
}

int tplfs_parse_limits(const char *s, uint64_t *soft, uint64_t *hard)
{
	const char *colon = strchr(s, ':');
	char buf[64];
	int ret;

	if (!colon) {
		ret = tplfs_parse_size(s, soft);
		*hard = *soft;
		return ret;
	}
	if ((size_t)(colon - s) >= sizeof(buf))
		return -EINVAL;
	memcpy(buf, s, (size_t)(colon - s));
	buf[colon - s] = '\0';
	ret = tplfs_parse_size(buf, soft);
	if (!ret)
		ret = tplfs_parse_size(colon + 1, hard);
	if (!ret && *soft > *hard)
		ret = -EINVAL;
	return ret;
}

int tplfs_parse_duration(const char *s, uint64_t *seconds)
{
	const char *p = s;
	uint64_t total = 0;

	if (!*p)
		return -EINVAL;
	while (*p) {
		uint64_t n = 0, unit;
		bool digits = false;

		for (; *p >= '0' && *p <= '9'; p++) {
			if (n > (UINT64_MAX - 9) / 10)
				return -ERANGE;
			n = n * 10 + (uint64_t)(*p - '0');
			digits = true;
		}
		if (!digits)
			return -EINVAL;
		switch (*p) {
		case 'w': unit = 7 * 86400; break;
		case 'd': unit = 86400; break;
		case 'h': unit = 3600; break;
		case 'm': unit = 60; break;
		case 's': unit = 1; break;
		case '\0':
			if (p == s + strspn(s, "0123456789")) {
				unit = 1;	/* a plain number: seconds */
				break;
			}
			return -EINVAL;
		default:
			return -EINVAL;
		}
		if (n > (UINT64_MAX - total) / unit)
			return -ERANGE;
		total += n * unit;
		if (*p)
			p++;
	}
	*seconds = total;
	return 0;
}
