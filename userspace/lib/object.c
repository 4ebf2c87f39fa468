// SPDX-License-Identifier: LGPL-2.1-or-later
/* Objects in the store: see object.h and doc/stub-format.md. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <linux/fs.h>

#include <libfsverity.h>

#include "digest.h"
#include "object.h"

/* Copy [@off, @end) of @in to the same offsets of @out. */
static int copy_range(int in, int out, loff_t off, loff_t end)
{
	loff_t off_in = off, off_out = off;
	char buf[65536];

	while (off_in < end) {
		ssize_t n = copy_file_range(in, &off_in, out, &off_out,
					    (size_t)(end - off_in), 0);

		if (n > 0)
			continue;
		if (n == 0)
			return -EIO;
		if (errno == EINTR)
			continue;
		if (errno != EXDEV && errno != EINVAL && errno != EOPNOTSUPP &&
		    errno != ENOSYS)
			return -errno;
		break;	/* fall back to read/write from where we are */
	}
	while (off_in < end) {
		size_t want = (size_t)(end - off_in) < sizeof(buf) ?
			      (size_t)(end - off_in) : sizeof(buf);
		ssize_t n = pread(in, buf, want, off_in), w;

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return n < 0 ? -errno : -EIO;
		for (ssize_t done = 0; done < n; done += w) {
			w = pwrite(out, buf + done, (size_t)(n - done),
				   off_out + done);
			if (w < 0 && errno == EINTR)
				w = 0;
			else if (w <= 0)
				return w < 0 ? -errno : -EIO;
		}
		off_in += n;
		off_out += n;
	}
	return 0;
}

/*
 * Copy all @size bytes of @in to @out, data extent by data extent, so that
 * holes stay holes (a 4 GiB sparse file costs nothing to store).
 */
static int copy_fd(int in, int out, uint64_t size)
{
	loff_t end = (loff_t)size, data = 0, hole;

	while (data < end) {
		int ret;

		data = lseek(in, data, SEEK_DATA);
		if (data < 0) {
			if (errno == ENXIO)
				break;		/* only a hole is left */
			if (errno != EINVAL && errno != EOPNOTSUPP)
				return -errno;
			data = 0;		/* no SEEK_DATA: all of it */
			hole = end;
		} else {
			hole = lseek(in, data, SEEK_HOLE);
			if (hole < 0)
				return -errno;
		}
		if (hole > end)
			hole = end;
		ret = copy_range(in, out, data, hole);
		if (ret)
			return ret;
		data = hole;
	}
	return ftruncate(out, end) < 0 ? -errno : 0;
}

int tplfs_object_put_data(int store_fd, const void *data, size_t len,
			  struct tplfs_origin_info *info)
{
	int fd = memfd_create("tplfs-object", MFD_CLOEXEC);
	size_t done = 0;
	int ret = 0;

	if (fd < 0)
		return -errno;
	while (!ret && done < len) {
		ssize_t n = write(fd, (const char *)data + done, len - done);

		if (n < 0 && errno != EINTR)
			ret = -errno;
		else if (n > 0)
			done += (size_t)n;
	}
	if (!ret)
		ret = tplfs_object_put(store_fd, fd, info);
	close(fd);
	return ret;
}

int tplfs_fd_read_all(int fd, uint64_t len, uint64_t max, char **out)
{
	size_t got = 0;
	char *buf;

	if (len > max)
		return -EFBIG;
	buf = malloc(len ? len : 1);
	if (!buf)
		return -ENOMEM;
	while (got < len) {
		ssize_t n = pread(fd, buf + got, len - got, (off_t)got);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			free(buf);
			return n < 0 ? -errno : -EIO;
		}
		got += (size_t)n;
	}
	*out = buf;
	return 0;
}

int tplfs_object_read(int store_fd, const uint8_t *digest, uint64_t size,
		      uint64_t max, char **out)
{
	char obj[TPLFS_OBJECT_PATH_SIZE];
	int fd, ret;

	tplfs_object_path(digest, obj);
	fd = openat(store_fd, obj, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	ret = tplfs_fd_read_all(fd, size, max, out);
	close(fd);
	return ret;
}

int tplfs_object_copy_out(int store_fd, const struct tplfs_origin_info *info,
			  int out_fd)
{
	char obj[TPLFS_OBJECT_PATH_SIZE];
	int in, ret;

	tplfs_object_path(info->digest, obj);
	in = openat(store_fd, obj, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (in < 0)
		return -errno;
	/* a reflink where the filesystem can (xfs, btrfs), holes and all */
	if (info->size && !ioctl(out_fd, FICLONE, in)) {
		close(in);
		return 0;
	}
	ret = copy_fd(in, out_fd, info->size);
	close(in);
	return ret;
}

static int ensure_dir(int dirfd, const char *name, mode_t mode)
{
	if (mkdirat(dirfd, name, mode) < 0 && errno != EEXIST)
		return -errno;
	return 0;
}

/* The same file, unchanged: size, mtime and ctime (any write moves ctime). */
static bool same_version(const struct stat *a, const struct stat *b)
{
	return a->st_size == b->st_size &&
	       a->st_mtim.tv_sec == b->st_mtim.tv_sec &&
	       a->st_mtim.tv_nsec == b->st_mtim.tv_nsec &&
	       a->st_ctim.tv_sec == b->st_ctim.tv_sec &&
	       a->st_ctim.tv_nsec == b->st_ctim.tv_nsec;
}

void (*tplfs_object_stage_hook)(int src_fd);

/*
 * The first half of a stage or an adopt: hash @src_fd into @info, and if
 * the store lacks the object name a temporary for it in @tmp (1); 0 if
 * the store has it. The object's directory may not be there yet: see
 * make_object_dir.
 */
static int stage_begin(int store_fd, int src_fd, struct tplfs_origin_info *info,
		       char tmp[TPLFS_OBJECT_TMP_SIZE])
{
	char path[TPLFS_OBJECT_PATH_SIZE];
	int err;

	tmp[0] = '\0';
	err = tplfs_digest_fd(src_fd, &info->size, info->digest);
	if (err)
		return err;
	tplfs_object_path(info->digest, path);
	if (faccessat(store_fd, path, F_OK, AT_SYMLINK_NOFOLLOW) == 0)
		return 0;
	if (tplfs_object_stage_hook)
		tplfs_object_stage_hook(src_fd);
	snprintf(tmp, TPLFS_OBJECT_TMP_SIZE, "%.*s/" TPLFS_OBJECT_TMP_PREFIX
		 "%d.%lx", (int)sizeof("objects/xx") - 1, path,
		 (int)getpid(), (unsigned long)random());
	return 1;
}

/* objects/ and objects/xx/ of the temporary @tmp, once it met ENOENT. */
static int make_object_dir(int store_fd, const char *tmp)
{
	char dir[sizeof("objects/xx")];
	int err;

	memcpy(dir, tmp, sizeof(dir) - 1);
	dir[sizeof(dir) - 1] = '\0';
	/* root's only: see tplfs_store_open */
	err = ensure_dir(store_fd, "objects", 0700);
	return err ? err : ensure_dir(store_fd, dir, 0755);
}

/*
 * @from in @from_dir moved to @to in @to_dir unless @to exists (-EEXIST):
 * a hard link, then the old name removed. Not renameat2(RENAME_NOREPLACE),
 * which NFS does not have (EINVAL): a store may be shared over NFS by
 * several hosts (issue 21), and link is atomic there. 0 or a negative errno.
 */
static int move_noreplace(int from_dir, const char *from, int to_dir,
			  const char *to)
{
	if (linkat(from_dir, from, to_dir, to, 0) < 0)
		return -errno;
	return unlinkat(from_dir, from, 0) < 0 ? -errno : 0;
}

/*
 * The temporary @tmp: a new file (@from NULL; its fd), or the file @from
 * in @from_dir moved there (0), its directories made if they are not there.
 */
static int make_temporary(int store_fd, int from_dir, const char *from,
			  const char *tmp)
{
	int ret;

	for (int tries = 0; ; tries++) {
		if (!from)
			ret = openat(store_fd, tmp, O_WRONLY | O_CREAT | O_EXCL |
				     O_CLOEXEC, 0600);
		else
			ret = move_noreplace(from_dir, from, store_fd, tmp);
		if (ret >= 0)
			return ret;
		if (!from)
			ret = -errno;
		if (ret != -ENOENT || tries)
			return ret;
		ret = make_object_dir(store_fd, tmp);
		if (ret)
			return ret;
	}
}

/*
 * fs-verity on the object open read-only at @fd, with the parameters of
 * its digest (SHA-256, 4 KiB blocks, no salt), so that its measurement is
 * the digest its stubs carry and a mount with verity= can hold it to
 * them. A filesystem that cannot (EOPNOTSUPP: ext4 without the verity
 * feature; ENOTTY: xfs, tmpfs, NFS; EINVAL: ext4 with blocks smaller than
 * the digest's 4 KiB, which mke2fs makes for a filesystem under 512 MiB)
 * leaves it without: that is not an error. Neither is a file that has it
 * already.
 */
static int seal_verity(int fd)
{
	struct libfsverity_merkle_tree_params params = {
		.version = 1,
		.hash_algorithm = FS_VERITY_HASH_ALG_SHA256,
		.block_size = 4096,
	};
	int err = libfsverity_enable(fd, &params);

	if (err == -EOPNOTSUPP || err == -ENOTTY || err == -EINVAL ||
	    err == -EEXIST)
		return 0;
	return err;
}

/* seal_verity() on the temporary @tmp, closed for writing. */
static int seal_verity_at(int store_fd, const char *tmp)
{
	int fd = openat(store_fd, tmp, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	int err;

	if (fd < 0)
		return -errno;
	err = seal_verity(fd);
	close(fd);
	return err;
}

int tplfs_object_stage(int store_fd, int src_fd, struct tplfs_origin_info *info,
		       char tmp[TPLFS_OBJECT_TMP_SIZE])
{
	struct stat before, after;
	int err, fd;

	if (fstat(src_fd, &before) < 0)
		return -errno;
	err = stage_begin(store_fd, src_fd, info, tmp);
	if (err <= 0)
		return err;
	fd = make_temporary(store_fd, -1, NULL, tmp);
	if (fd < 0) {
		tmp[0] = '\0';
		return fd;
	}
	err = copy_fd(src_fd, fd, info->size);
	/* what was copied is what was hashed, or the file changed meanwhile */
	if (!err && (fstat(src_fd, &after) < 0 || !same_version(&before, &after)))
		err = -ESTALE;
	if (!err && fchmod(fd, 0444) < 0)
		err = -errno;
	if (close(fd) < 0 && !err)
		err = -errno;
	if (!err)
		err = seal_verity_at(store_fd, tmp);
	if (err) {
		unlinkat(store_fd, tmp, 0);
		tmp[0] = '\0';
		return err;
	}
	return 1;
}

/* Every xattr of @fd gone but an LSM's label, which is not the file's. */
static int drop_xattrs(int fd)
{
	char names[65536];
	ssize_t len = flistxattr(fd, names, sizeof(names));

	if (len < 0)
		return errno == ENOTSUP ? 0 : -errno;
	for (ssize_t off = 0; off < len; off += (ssize_t)strlen(names + off) + 1) {
		const char *name = names + off;

		if (!strncmp(name, "security.", 9) &&
		    strcmp(name, "security.capability"))
			continue;
		if (fremovexattr(fd, name) < 0 && errno != ENODATA)
			return -errno;
	}
	return 0;
}

int tplfs_object_adopt(int store_fd, int src_fd, int dir_fd, const char *name,
		       struct tplfs_origin_info *info,
		       char tmp[TPLFS_OBJECT_TMP_SIZE])
{
	uid_t uid = geteuid();
	gid_t gid = getegid();
	struct stat sb, moved;
	int err;

	err = stage_begin(store_fd, src_fd, info, tmp);
	if (err <= 0)
		return err;
	/* moved first: a file on another filesystem is left as it was */
	err = make_temporary(store_fd, dir_fd, name, tmp);
	if (err) {
		tmp[0] = '\0';
		return err;
	}
	if (fstat(src_fd, &sb) < 0 ||
	    fstatat(store_fd, tmp, &moved, AT_SYMLINK_NOFOLLOW) < 0) {
		err = -errno;
	} else if (sb.st_dev != moved.st_dev || sb.st_ino != moved.st_ino) {
		/* @name was not @src_fd's: put it back */
		move_noreplace(store_fd, tmp, dir_fd, name);
		tmp[0] = '\0';
		return -ESTALE;
	}
	/* as a written object is: the store's owner's, 0444, nothing else */
	if (!err && (((sb.st_uid != uid || sb.st_gid != gid) &&
		      fchown(src_fd, uid, gid) < 0) ||
		     ((sb.st_mode & 07777) != 0444 && fchmod(src_fd, 0444) < 0)))
		err = -errno;
	if (!err)
		err = drop_xattrs(src_fd);
	if (!err)
		err = seal_verity(src_fd);
	if (err) {
		unlinkat(store_fd, tmp, 0);
		tmp[0] = '\0';
		return err;
	}
	return 1;
}

int tplfs_object_commit(int store_fd, const struct tplfs_origin_info *info,
			const char *tmp)
{
	char path[TPLFS_OBJECT_PATH_SIZE];
	int created = 1;

	tplfs_object_path(info->digest, path);
	/*
	 * A link, never a rename: an object another host may hold open is
	 * never replaced, and NFS has no RENAME_NOREPLACE. EEXIST: another
	 * writer was first. The temporary name goes either way.
	 */
	if (linkat(store_fd, tmp, store_fd, path, 0) < 0) {
		if (errno != EEXIST)
			return -errno;
		created = 0;
	}
	unlinkat(store_fd, tmp, 0);
	return created;
}

int tplfs_object_put(int store_fd, int src_fd, struct tplfs_origin_info *info)
{
	char tmp[TPLFS_OBJECT_TMP_SIZE], dir[sizeof("objects/xx")];
	int err, fd, dfd, created;

	err = tplfs_object_stage(store_fd, src_fd, info, tmp);
	if (err <= 0)
		return err;
	fd = openat(store_fd, tmp, O_RDONLY | O_CLOEXEC);
	if (fd < 0 || fsync(fd) < 0) {
		err = -errno;
		if (fd >= 0)
			close(fd);
		unlinkat(store_fd, tmp, 0);
		return err;
	}
	close(fd);
	created = tplfs_object_commit(store_fd, info, tmp);
	if (created < 0) {
		unlinkat(store_fd, tmp, 0);
		return created;
	}
	memcpy(dir, tmp, sizeof(dir) - 1);
	dir[sizeof(dir) - 1] = '\0';
	dfd = openat(store_fd, dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd < 0)
		return -errno;
	if (fsync(dfd) < 0)
		err = -errno;
	close(dfd);
	return err ? err : created;
}

/* The digest an entry of objects/@dir named @name stands for: lower-case hex. */
static bool object_name(unsigned int dir, const char *name,
			uint8_t digest[TPLFS_DIGEST_SIZE])
{
	static const char hex[] = "0123456789abcdef";

	if (strlen(name) != TPLFS_DIGEST_HEX_SIZE - 2)
		return false;
	digest[0] = (uint8_t)dir;
	for (int i = 1; i < TPLFS_DIGEST_SIZE; i++) {
		const char *hi = strchr(hex, name[2 * i - 2]);
		const char *lo = strchr(hex, name[2 * i - 1]);

		if (!hi || !lo || !*hi || !*lo)
			return false;
		digest[i] = (uint8_t)((hi - hex) << 4 | (lo - hex));
	}
	return true;
}

int tplfs_objects_each(int store_fd,
		       int (*fn)(void *arg, const struct tplfs_object_entry *e),
		       void (*dir_done)(void *arg, unsigned int dir),
		       void *arg)
{
	const size_t plen = strlen(TPLFS_OBJECT_TMP_PREFIX);
	int ret = 0;

	for (unsigned int hi = 0; hi < 256 && !ret; hi++) {
		char dir[sizeof("objects/xx")];
		struct tplfs_object_entry e = { .dir = hi };
		struct dirent *de;
		DIR *dp;

		snprintf(dir, sizeof(dir), "objects/%02x", hi);
		e.dir_fd = openat(store_fd, dir, O_RDONLY | O_DIRECTORY |
				  O_NOFOLLOW | O_CLOEXEC);
		if (e.dir_fd < 0) {
			if (errno != ENOENT)
				ret = -errno;
			goto next;
		}
		dp = fdopendir(e.dir_fd);
		if (!dp) {
			ret = -errno;
			close(e.dir_fd);
			break;
		}
		while (!ret && (errno = 0, de = readdir(dp))) {
			e.name = de->d_name;
			e.is_temporary = !strncmp(de->d_name,
						  TPLFS_OBJECT_TMP_PREFIX, plen);
			if (de->d_name[0] == '.' && !e.is_temporary)
				continue;
			e.is_object = !e.is_temporary &&
				      object_name(hi, de->d_name, e.digest);
			ret = fn(arg, &e);
		}
		if (!ret && errno)
			ret = -errno;
		closedir(dp);
next:
		if (!ret && dir_done)
			dir_done(arg, hi);
	}
	return ret;
}
