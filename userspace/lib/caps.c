// SPDX-License-Identifier: LGPL-2.1-or-later
/* Least privilege for tplfsd (libcap): see caps.h. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/capability.h>

#include "caps.h"

/*
 * CAP_SYS_ADMIN       mount and unmount tplfs; /dev/tplfs; trusted.* xattrs
 * CAP_DAC_OVERRIDE    write private areas whatever their files' modes
 * CAP_DAC_READ_SEARCH read template trees and private areas of any owner
 * CAP_FOWNER          set modes, times and xattrs of files it does not own
 * CAP_CHOWN           give created files their template owners
 * CAP_FSETID          keep set-id bits on files it creates for others
 * CAP_MKNOD           device nodes in templates and private areas
 * CAP_SETFCAP         security.capability of template files
 */
static const cap_value_t kept[] = {
	CAP_SYS_ADMIN, CAP_DAC_OVERRIDE, CAP_DAC_READ_SEARCH, CAP_FOWNER,
	CAP_CHOWN, CAP_FSETID, CAP_MKNOD, CAP_SETFCAP,
};
#define NKEPT (sizeof(kept) / sizeof(kept[0]))

const char *tplfs_caps_kept(void)
{
	return "cap_sys_admin,cap_dac_override,cap_dac_read_search,"
	       "cap_fowner,cap_chown,cap_fsetid,cap_mknod,cap_setfcap";
}

static int missing(cap_t cur, char *err, size_t errlen)
{
	size_t off = 0;
	int n = 0;

	err[0] = '\0';
	for (size_t i = 0; i < NKEPT; i++) {
		cap_flag_value_t v = CAP_CLEAR;
		char *name;

		cap_get_flag(cur, kept[i], CAP_PERMITTED, &v);
		if (v == CAP_SET)
			continue;
		name = cap_to_name(kept[i]);
		off += (size_t)snprintf(err + off, off < errlen ? errlen - off : 0,
					"%s%s", n++ ? "," : "",
					name ? name : "?");
		cap_free(name);
	}
	return n;
}

int tplfs_caps_restrict(char *err, size_t errlen)
{
	cap_t cur, want;
	int ret = 0;

	cur = cap_get_proc();
	if (!cur)
		return -errno;
	if (missing(cur, err, errlen)) {
		cap_free(cur);
		return -EPERM;
	}
	/* The bounding set first: dropping from it needs CAP_SETPCAP. */
	for (cap_value_t c = 0; c <= CAP_LAST_CAP; c++) {
		int keep = 0;

		for (size_t i = 0; i < NKEPT; i++)
			keep |= kept[i] == c;
		if (!keep && CAP_IS_SUPPORTED(c) && cap_get_bound(c) == 1 &&
		    cap_drop_bound(c) < 0) {
			ret = -errno;
			snprintf(err, errlen, "cannot drop %s from the bounding set: %s",
				 cap_to_name(c), strerror(errno));
			goto out;
		}
	}
	want = cap_init();
	if (!want) {
		ret = -errno;
		goto out;
	}
	if (cap_set_flag(want, CAP_EFFECTIVE, NKEPT, kept, CAP_SET) ||
	    cap_set_flag(want, CAP_PERMITTED, NKEPT, kept, CAP_SET) ||
	    cap_set_proc(want)) {
		ret = -errno;
		snprintf(err, errlen, "cannot set capabilities: %s",
			 strerror(errno));
	}
	cap_free(want);
	if (!ret && cap_reset_ambient() < 0 && errno != EINVAL) {
		ret = -errno;
		snprintf(err, errlen, "cannot clear ambient capabilities: %s",
			 strerror(errno));
	}
	if (!ret && prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0) {
		ret = -errno;
		snprintf(err, errlen, "cannot set no_new_privs: %s",
			 strerror(errno));
	}
out:
	cap_free(cur);
	return ret;
}
