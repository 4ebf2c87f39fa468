// SPDX-License-Identifier: LGPL-2.1-or-later
/* A container's own machine-id and ssh host keys: see identity.h. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <spawn.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "beneath.h"
#include "identity.h"
#include "tree.h"

extern char **environ;

static const char *const machine_ids[] = {
	"etc/machine-id", "var/lib/dbus/machine-id",
};
/* ssh-keygen -t TYPE writes ssh_host_TYPE_key; dsa is not made any more */
static const char *const key_types[] = { "rsa", "ecdsa", "ed25519", "dsa" };

static int fail(char *err, size_t errlen, int ret, const char *path,
		const char *what)
{
	snprintf(err, errlen, "/%s: %s: %s", path, what, strerror(-ret));
	return ret;
}

/* The directory of @path and its last name, beneath @root_fd. */
static int open_parent(int root_fd, const char *path, const char **name)
{
	char dir[PATH_MAX];
	const char *slash = strrchr(path, '/');
	struct stat st;
	int fd;

	*name = slash ? slash + 1 : path;
	if (!slash)
		return fcntl(root_fd, F_DUPFD_CLOEXEC, 0);
	snprintf(dir, sizeof(dir), "%.*s", (int)(slash - path), path);
	/* not O_DIRECTORY: with it a symlink gives ENOTDIR, not ELOOP */
	fd = tplfs_open_beneath(root_fd, dir, O_RDONLY, 0);
	if (fd >= 0 && (fstat(fd, &st) < 0 || !S_ISDIR(st.st_mode))) {
		close(fd);
		return -ENOTDIR;
	}
	return fd;
}

/*
 * Replace the regular file @path (a stub or a copy) by a private file of
 * @len bytes of @buf, keeping its owner and mode. -ENOENT if there is no
 * regular file there (a symlink, say /var/lib/dbus/machine-id ->
 * /etc/machine-id, is left as it is).
 */
static int replace_file(int root_fd, const char *path, const void *buf,
			size_t len, mode_t mode_if_new, bool must_exist)
{
	const char *name;
	struct stat st;
	int dfd, fd, ret = 0;

	dfd = open_parent(root_fd, path, &name);
	if (dfd < 0)
		return dfd;
	if (fstatat(dfd, name, &st, AT_SYMLINK_NOFOLLOW) < 0) {
		ret = -errno;
		if (ret != -ENOENT || must_exist)
			goto out;
		/* a new file is its directory's owner's: root's, or in a
		 * container of shifted ids (doc/userns.md) the shifted root */
		if (fstat(dfd, &st) < 0) {
			ret = -errno;
			goto out;
		}
		st.st_mode = S_IFREG | mode_if_new;
		ret = 0;
	} else if (!S_ISREG(st.st_mode)) {
		ret = -ENOENT;
		goto out;
	} else if (unlinkat(dfd, name, 0) < 0) {
		ret = -errno;
		goto out;
	}
	fd = openat(dfd, name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW |
		    O_CLOEXEC, 0600);
	if (fd < 0) {
		ret = -errno;
		goto out;
	}
	if (write(fd, buf, len) != (ssize_t)len ||
	    fchown(fd, st.st_uid, st.st_gid) < 0 ||
	    fchmod(fd, st.st_mode & 07777) < 0)
		ret = errno ? -errno : -EIO;
	close(fd);
out:
	close(dfd);
	return ret;
}

static int new_machine_id(int root_fd, struct tplfs_identity *id, char *err,
			  size_t errlen)
{
	unsigned char r[16];
	char text[34];

	if (getrandom(r, sizeof(r), 0) != sizeof(r))
		return fail(err, errlen, -EIO, machine_ids[0], "getrandom");
	for (int i = 0; i < 16; i++)
		sprintf(text + 2 * i, "%02x", r[i]);
	text[32] = '\n';
	text[33] = '\0';
	for (size_t i = 0; i < sizeof(machine_ids) / sizeof(machine_ids[0]);
	     i++) {
		int ret = replace_file(root_fd, machine_ids[i], text, 33, 0444,
				       true);

		if (ret == -ENOENT || ret == -ENOTDIR)
			continue;	/* none, or a symlink: nothing of its own */
		if (ret)
			return fail(err, errlen, ret, machine_ids[i], "new id");
		memcpy(id->machine_id, text, 32);
		id->machine_id[32] = '\0';
	}
	return 0;
}

/* Read all of @path (a file we made) into @buf: its length, or -errno. */
static ssize_t slurp(const char *path, char *buf, size_t size)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	ssize_t n;

	if (fd < 0)
		return -errno;
	n = read(fd, buf, size);
	close(fd);
	return n < 0 ? -errno : (size_t)n == size ? -EFBIG : n;
}

/* ssh-keygen -q -N '' -t @type -C @comment -f @out: 0 or why not. */
static int keygen(const char *type, const char *comment, const char *out)
{
	char *argv[] = {
		"ssh-keygen", "-q", "-N", "", "-t", (char *)type,
		"-C", (char *)comment, "-f", (char *)out, NULL,
	};
	posix_spawn_file_actions_t fa;
	int status, ret;
	pid_t pid;

	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
	posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0);
	posix_spawn_file_actions_addopen(&fa, 2, "/dev/null", O_WRONLY, 0);
	ret = posix_spawnp(&pid, "ssh-keygen", &fa, NULL, argv, environ);
	posix_spawn_file_actions_destroy(&fa);
	if (ret)
		return -ret;
	while (waitpid(pid, &status, 0) < 0)
		if (errno != EINTR)
			return -errno;
	return WIFEXITED(status) && WEXITSTATUS(status) == 0 ? 0 : -EINVAL;
}

/* Append @word to the list @list (64 bytes: the four types fit). */
static void add_word(char *list, const char *word)
{
	if (list[0])
		strcat(list, " ");
	strcat(list, word);
}

/* One key type present in the template: removed, and made anew if we can. */
static int renew_key(int root_fd, const char *type, const char *tmpdir,
		     const char *comment, struct tplfs_identity *id,
		     char *err, size_t errlen)
{
	char path[64], pub[68], out[PATH_MAX], outpub[PATH_MAX + 4];
	char key[16384], pubkey[16384];
	ssize_t klen = -1, plen = -1;
	const char *name;
	int dfd, ret = 0;

	snprintf(path, sizeof(path), "etc/ssh/ssh_host_%s_key", type);
	snprintf(pub, sizeof(pub), "%s.pub", path);
	dfd = open_parent(root_fd, path, &name);
	if (dfd == -ENOENT || dfd == -ENOTDIR)
		return 0;	/* no /etc/ssh: no keys */
	if (dfd < 0)	/* ELOOP: a symlink on the way, keys we cannot reach */
		return fail(err, errlen, dfd, path, "opening its directory");
	if (faccessat(dfd, name, F_OK, AT_SYMLINK_NOFOLLOW) < 0) {
		close(dfd);
		return 0;	/* the template has no key of this type */
	}
	/* the template's key never stays, whatever follows */
	if (unlinkat(dfd, name, 0) < 0 ||
	    (unlinkat(dfd, strrchr(pub, '/') + 1, 0) < 0 && errno != ENOENT))
		ret = fail(err, errlen, -errno, path, "removing the template's");
	close(dfd);
	if (ret)
		return ret;
	snprintf(out, sizeof(out), "%s/%s", tmpdir, type);
	snprintf(outpub, sizeof(outpub), "%s.pub", out);
	if (keygen(type, comment, out) == 0) {
		klen = slurp(out, key, sizeof(key));
		plen = slurp(outpub, pubkey, sizeof(pubkey));
	}
	unlink(out);
	unlink(outpub);
	if (klen < 0 || plen < 0) {
		add_word(id->ssh_keys_gone, type);
		return 0;
	}
	ret = replace_file(root_fd, path, key, (size_t)klen, 0600, false);
	if (!ret)
		ret = replace_file(root_fd, pub, pubkey, (size_t)plen, 0644,
				   false);
	if (ret)
		return fail(err, errlen, ret, path, "writing the new key");
	add_word(id->ssh_keys, type);
	return 0;
}

bool tplfs_identity_path(const char *path)
{
	static const char key[] = "/etc/ssh/ssh_host_";
	const char *type, *end;

	for (size_t i = 0; i < sizeof(machine_ids) / sizeof(machine_ids[0]); i++)
		if (path[0] == '/' && !strcmp(path + 1, machine_ids[i]))
			return true;
	if (strncmp(path, key, sizeof(key) - 1))
		return false;
	type = path + sizeof(key) - 1;
	if (strchr(type, '/'))
		return false;
	end = strstr(type, "_key");
	return end && end > type && (!strcmp(end, "_key") ||
				     !strcmp(end, "_key.pub"));
}

int tplfs_identity_renew(int root_fd, const char *comment,
			 struct tplfs_identity *id, char *err, size_t errlen)
{
	char tmpdir[] = "/tmp/tplfs-keys.XXXXXX";
	int ret;

	memset(id, 0, sizeof(*id));
	err[0] = '\0';
	ret = new_machine_id(root_fd, id, err, errlen);
	if (ret)
		return ret;
	if (!mkdtemp(tmpdir))
		return fail(err, errlen, -errno, "tmp", "a directory for keys");
	for (size_t i = 0; !ret && i < sizeof(key_types) / sizeof(key_types[0]);
	     i++)
		ret = renew_key(root_fd, key_types[i], tmpdir, comment, id, err,
				errlen);
	tplfs_tree_remove(tmpdir);
	return ret;
}
