// SPDX-License-Identifier: LGPL-2.1-or-later
/* tplfs mounts through the mount API; see fsmount.h. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/mount.h>
#include <unistd.h>

#include "fsmount.h"
#include <linux/tplfs.h>

int tplfs_fc_log_read(int fd, char *msg, size_t len)
{
	char line[1024];
	size_t used = 0;
	int kept = 0;
	ssize_t n;

	/* Each read() returns one message: "e text", "w text" or "i text". */
	while ((n = read(fd, line, sizeof(line) - 1)) > 0) {
		line[n] = '\0';
		line[strcspn(line, "\n")] = '\0';
		if ((line[0] != 'e' && line[0] != 'w') || line[1] != ' ')
			continue;
		if (used + 1 < len) {
			int w = snprintf(msg + used, len - used, "%s%s",
					 kept ? "; " : "", line + 2);
			used += (size_t)w < len - used ? (size_t)w :
				len - used - 1;
		}
		kept++;
	}
	return kept;
}

/* Fill @msg with what the kernel logged, or else with @step and @err. */
static int fail(int fd, int err, const char *step, char *msg, size_t len)
{
	if (fd < 0 || tplfs_fc_log_read(fd, msg, len) == 0)
		snprintf(msg, len, "%s: %s", step, strerror(err));
	return -err;
}

static int set_string(int fd, const char *key, const char *value)
{
	return fsconfig(fd, FSCONFIG_SET_STRING, key, value, 0) < 0 ? errno : 0;
}

int tplfs_fsmount(const struct tplfs_mount_opts *o, const char *target,
		  char *msg, size_t len)
{
	int fd, mfd, err;

	fd = fsopen(TPLFS_FSTYPE, FSOPEN_CLOEXEC);
	if (fd < 0) {
		err = errno;
		if (err == ENODEV)
			snprintf(msg, len, "no %s filesystem in this kernel "
				 "(is the module loaded?)", TPLFS_FSTYPE);
		else
			snprintf(msg, len, "fsopen %s: %s", TPLFS_FSTYPE,
				 strerror(err));
		return -err;
	}
	err = set_string(fd, "source", TPLFS_FSTYPE);
	if (!err)
		err = set_string(fd, "private", o->private_dir);
	if (!err)
		err = set_string(fd, "store", o->store);
	if (!err && o->ct)
		err = set_string(fd, "ct", o->ct);
	if (!err && o->verity)
		err = set_string(fd, "verity", o->verity);
	if (!err && o->is_volatile &&
	    fsconfig(fd, FSCONFIG_SET_FLAG, "volatile", NULL, 0) < 0)
		err = errno;
	if (err) {
		fail(fd, err, "fsconfig", msg, len);
		goto out;
	}
	if (fsconfig(fd, FSCONFIG_CMD_CREATE, NULL, NULL, 0) < 0) {
		err = errno;
		fail(fd, err, "creating the superblock", msg, len);
		goto out;
	}
	mfd = fsmount(fd, FSMOUNT_CLOEXEC, 0);
	if (mfd < 0) {
		err = errno;
		fail(fd, err, "fsmount", msg, len);
		goto out;
	}
	if (move_mount(mfd, "", AT_FDCWD, target, MOVE_MOUNT_F_EMPTY_PATH) < 0) {
		err = errno;
		snprintf(msg, len, "attaching on %s: %s", target, strerror(err));
	}
	close(mfd);
	/* Warnings of a mount that worked are of no use to anyone now. */
	if (!err)
		tplfs_fc_log_read(fd, NULL, 0);
out:
	close(fd);
	return -err;
}
