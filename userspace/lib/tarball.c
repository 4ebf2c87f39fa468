// SPDX-License-Identifier: LGPL-2.1-or-later
/* Template tarballs with libarchive: see archive.h and doc/store.md. */
#include <archive.h>
#include <archive_entry.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <unistd.h>

#include "tarball.h"
#include "manifest.h"
#include "origin.h"

/* A path inside the tree: relative, no ".." component. */
static bool member_path_ok(const char *p)
{
	if (!p || !*p || p[0] == '/')
		return false;
	while (*p) {
		const char *end = strchr(p, '/');
		size_t len = end ? (size_t)(end - p) : strlen(p);

		if (len == 2 && p[0] == '.' && p[1] == '.')
			return false;
		if (!end)
			break;
		p = end + 1;
	}
	return true;
}

static int la_errno(struct archive *a)
{
	int e = archive_errno(a);

	return e > 0 ? -e : -EIO;
}

/* @rel as a name relative to the destination ("./x" and "x" alike). */
static int relative(char *buf, size_t size, const char *rel)
{
	while (rel[0] == '.' && rel[1] == '/')
		rel += 2;
	if (!*rel || !strcmp(rel, "."))
		rel = ".";
	return (size_t)snprintf(buf, size, "%s", rel) >= size ?
	       -ENAMETOOLONG : 0;
}

/* The raw POSIX ACL xattrs of an entry, set by us after libarchive. */
struct raw_acls {
	void *value[2];
	size_t len[2];
};

static const char *const acl_xattr[2] = {
	"system.posix_acl_access", "system.posix_acl_default",
};

/*
 * GNU tar stores an ACL twice: as text naming users and groups by name
 * only, and as the raw xattr with numeric ids. Names would resolve against
 * this host's users, not the template's: take the raw xattrs out of the
 * entry (with its text ACL) and set them ourselves once it is written.
 */
static int take_raw_acls(struct archive_entry *e, struct raw_acls *acls)
{
	struct { char *name; void *value; size_t len; } *keep = NULL;
	const char *name;
	const void *value;
	size_t len, n = 0;
	int count = archive_entry_xattr_count(e), ret = 0;

	memset(acls, 0, sizeof(*acls));
	if (!count)
		return 0;
	keep = calloc((size_t)count, sizeof(*keep));
	if (!keep)
		return -ENOMEM;
	archive_entry_xattr_reset(e);
	while (archive_entry_xattr_next(e, &name, &value, &len) == ARCHIVE_OK) {
		int k = !strcmp(name, acl_xattr[0]) ? 0 :
			!strcmp(name, acl_xattr[1]) ? 1 : -1;
		void *copy = malloc(len ? len : 1);

		if (!copy) {
			ret = -ENOMEM;
			break;
		}
		memcpy(copy, value, len);
		if (k >= 0) {
			free(acls->value[k]);
			acls->value[k] = copy;
			acls->len[k] = len;
			continue;
		}
		keep[n].name = strdup(name);
		keep[n].value = copy;
		keep[n].len = len;
		n++;
	}
	if (!ret && (acls->value[0] || acls->value[1])) {
		archive_entry_acl_clear(e);
		archive_entry_xattr_clear(e);
		for (size_t i = 0; i < n; i++)
			archive_entry_xattr_add_entry(e, keep[i].name,
						      keep[i].value, keep[i].len);
	}
	for (size_t i = 0; i < n; i++) {
		free(keep[i].name);
		free(keep[i].value);
	}
	free(keep);
	return ret;
}

static void free_raw_acls(struct raw_acls *acls)
{
	for (int k = 0; k < 2; k++) {
		free(acls->value[k]);
		acls->value[k] = NULL;
	}
}

static int set_raw_acls(const char *path, struct raw_acls *acls)
{
	int ret = 0;

	for (int k = 0; k < 2 && !ret; k++)
		if (acls->value[k] && lsetxattr(path, acl_xattr[k],
						acls->value[k], acls->len[k], 0) < 0)
			ret = -errno;
	free_raw_acls(acls);
	return ret;
}

struct extraction {
	const char *path;
	int dest_fd;
	uint64_t *entries;
	tplfs_tarball_progress_fn progress;
	void *arg;
	char *err;
	size_t errlen;
	bool root_timed;
	struct timespec root_time[2];
	int ret;
};

/*
 * The extraction, in a thread of its own whose working directory is the
 * destination: libarchive resolves (and checks for symlinks) every
 * component of the names it is given, and a short relative name costs
 * a third of what one beneath a long absolute path does.
 */
static void *extract_here(void *data)
{
	struct extraction *x = data;
	const char *path = x->path;
	char *err = x->err;
	size_t errlen = x->errlen;
	uint64_t *entries = x->entries;
	struct archive *in = archive_read_new(), *out = archive_write_disk_new();
	struct archive_entry *e;
	char full[PATH_MAX], link[PATH_MAX];
	uint64_t file_size = 0;
	struct stat sb;
	int ret = 0, r;

	*entries = 0;
	if (stat(path, &sb) == 0)
		file_size = (uint64_t)sb.st_size;
	if (!in || !out) {
		ret = -ENOMEM;
		goto done;
	}
	archive_read_support_format_all(in);
	archive_read_support_filter_all(in);
	/* Numeric owners only (no name lookup: the template's users are not
	 * this host's); never write through a symlink. */
	archive_write_disk_set_options(out, ARCHIVE_EXTRACT_OWNER |
		ARCHIVE_EXTRACT_PERM | ARCHIVE_EXTRACT_TIME |
		ARCHIVE_EXTRACT_XATTR | ARCHIVE_EXTRACT_ACL |
		ARCHIVE_EXTRACT_SPARSE | ARCHIVE_EXTRACT_SECURE_SYMLINKS |
		ARCHIVE_EXTRACT_SECURE_NODOTDOT |
		ARCHIVE_EXTRACT_SECURE_NOABSOLUTEPATHS);
	if (archive_read_open_filename(in, path, 65536) != ARCHIVE_OK) {
		ret = la_errno(in);
		snprintf(err, errlen, "%s: %s", path, archive_error_string(in));
		goto done;
	}
	/* this thread's own working directory (and umask, which libarchive
	 * sets and puts back for every file): other threads keep theirs */
	if (unshare(CLONE_FS) < 0 || fchdir(x->dest_fd) < 0) {
		ret = -errno;
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		goto done;
	}
	while ((r = archive_read_next_header(in, &e)) == ARCHIVE_OK ||
	       r == ARCHIVE_WARN) {	/* WARN: a name that is not UTF-8 */
		const char *hard = archive_entry_hardlink(e);
		struct raw_acls acls;
		char name[PATH_MAX];

		snprintf(name, sizeof(name), "%s",
			 archive_entry_pathname(e) ? archive_entry_pathname(e) : "");

		if (!member_path_ok(name) || (hard && !member_path_ok(hard))) {
			snprintf(err, errlen, "%s: entry \"%s\"%s%s: absolute or \"..\" paths are refused",
				 path, name, hard ? " linking to " : "",
				 hard ? hard : "");
			ret = -EINVAL;
			goto done;
		}
		if (relative(full, sizeof(full), name) ||
		    (hard && relative(link, sizeof(link), hard))) {
			snprintf(err, errlen, "%s: entry \"%s\": path too long",
				 path, name);
			ret = -ENAMETOOLONG;
			goto done;
		}
		if (archive_entry_filetype(e) == AE_IFDIR &&
		    !strcmp(full, ".") && archive_entry_mtime_is_set(e)) {
			/* the root: its time is set again at the end, once
			 * its entries are made */
			x->root_time[0].tv_sec = archive_entry_mtime(e);
			x->root_time[0].tv_nsec = archive_entry_mtime_nsec(e);
			x->root_time[1] = x->root_time[0];
			x->root_timed = true;
		}
		archive_entry_copy_pathname(e, full);
		if (hard)
			archive_entry_copy_hardlink(e, link);
		if (take_raw_acls(e, &acls)) {
			ret = -ENOMEM;
			goto done;
		}
		r = archive_write_header(out, e);
		if (r == ARCHIVE_WARN)
			r = ARCHIVE_OK;
		if (r == ARCHIVE_OK && archive_entry_size(e) > 0) {
			const void *buf;
			size_t size;
			la_int64_t off;

			while ((r = archive_read_data_block(in, &buf, &size,
							    &off)) == ARCHIVE_OK)
				if (archive_write_data_block(out, buf, size,
							     off) != ARCHIVE_OK) {
					r = ARCHIVE_FATAL;
					break;
				}
			if (r == ARCHIVE_EOF)
				r = ARCHIVE_OK;
		}
		if (r == ARCHIVE_OK)
			r = archive_write_finish_entry(out);
		if (r == ARCHIVE_OK) {
			ret = set_raw_acls(full, &acls);
			if (ret) {
				snprintf(err, errlen, "%s: entry \"%s\": ACL: %s",
					 path, name, strerror(-ret));
				goto done;
			}
		}
		free_raw_acls(&acls);
		if (r != ARCHIVE_OK) {
			struct archive *a = archive_errno(out) ? out : in;

			ret = la_errno(a);
			snprintf(err, errlen, "%s: entry \"%s\": %s", path, name,
				 archive_error_string(a) ?
				 archive_error_string(a) : strerror(-ret));
			goto done;
		}
		(*entries)++;
		if (x->progress) /* the last filter's count: the file's bytes */
			x->progress(x->arg,
				    (uint64_t)archive_filter_bytes(in, -1),
				    file_size);
	}
	if (r != ARCHIVE_EOF) {
		ret = la_errno(in);
		snprintf(err, errlen, "%s: %s", path, archive_error_string(in));
	}
done:
	if (out) {
		if (archive_write_close(out) != ARCHIVE_OK && !ret) {
			ret = la_errno(out);
			snprintf(err, errlen, "%s: %s", path,
				 archive_error_string(out));
		}
		archive_write_free(out);
	}
	if (in)
		archive_read_free(in);
	x->ret = ret;
	return NULL;
}

int tplfs_tarball_extract(const char *path, const char *dest,
			  uint64_t *entries, tplfs_tarball_progress_fn progress,
			  void *arg, char *err, size_t errlen)
{
	struct extraction x = {
		.path = path, .entries = entries, .progress = progress,
		.arg = arg, .err = err, .errlen = errlen,
	};
	pthread_t th;
	int ret;

	*entries = 0;
	x.dest_fd = open(dest, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (x.dest_fd < 0) {
		ret = -errno;
		snprintf(err, errlen, "%s: %s", dest, strerror(errno));
		return ret;
	}
	ret = -pthread_create(&th, NULL, extract_here, &x);
	if (ret) {
		snprintf(err, errlen, "%s: a thread: %s", path, strerror(-ret));
		close(x.dest_fd);
		return ret;
	}
	pthread_join(th, NULL);
	ret = x.ret;
	if (!ret && x.root_timed &&
	    futimens(x.dest_fd, x.root_time) < 0) {
		ret = -errno;
		snprintf(err, errlen, "%s: %s", dest, strerror(errno));
	}
	close(x.dest_fd);
	return ret;
}

/* Copy an object's content into the archive. */
static int write_object(struct archive *a, int store_fd,
			const struct tplfs_mentry *m)
{
	char obj[TPLFS_OBJECT_PATH_SIZE], buf[65536];
	uint64_t left = m->size;
	int fd = -1, ret = 0;

	tplfs_object_path(m->digest, obj);
	fd = openat(store_fd, obj, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0)
		return -errno;
	while (left) {
		ssize_t n = read(fd, buf, left < sizeof(buf) ? left : sizeof(buf));

		if (n <= 0) {
			ret = n < 0 ? -errno : -EIO;	/* object shorter */
			break;
		}
		if (archive_write_data(a, buf, (size_t)n) != n) {
			ret = la_errno(a);
			break;
		}
		left -= (uint64_t)n;
	}
	close(fd);
	return ret;
}

/*
 * A POSIX ACL xattr (system.posix_acl_access/default: le32 version 2, then
 * entries of le16 tag, le16 perm, le32 id) as the entry's ACL, which is how
 * tar carries ACLs (libarchive does not pass these xattrs through).
 */
static int add_acl(struct archive_entry *ae, const struct tplfs_xattr *x,
		   int type)
{
	static const struct { unsigned int kernel; int la; } tags[] = {
		{ 0x01, ARCHIVE_ENTRY_ACL_USER_OBJ },
		{ 0x02, ARCHIVE_ENTRY_ACL_USER },
		{ 0x04, ARCHIVE_ENTRY_ACL_GROUP_OBJ },
		{ 0x08, ARCHIVE_ENTRY_ACL_GROUP },
		{ 0x10, ARCHIVE_ENTRY_ACL_MASK },
		{ 0x20, ARCHIVE_ENTRY_ACL_OTHER },
	};
	const uint8_t *v = x->value;

	if (x->len < 4 || (x->len - 4) % 8 || v[0] != 2 || v[1] || v[2] || v[3])
		return -EINVAL;
	for (size_t off = 4; off < x->len; off += 8) {
		unsigned int tag = v[off] | v[off + 1] << 8;
		unsigned int perm = v[off + 2] | v[off + 3] << 8;
		unsigned int id = v[off + 4] | v[off + 5] << 8 |
				  v[off + 6] << 16 | (unsigned int)v[off + 7] << 24;
		int la = 0;

		for (size_t i = 0; i < sizeof(tags) / sizeof(tags[0]); i++)
			if (tags[i].kernel == tag)
				la = tags[i].la;
		if (!la || perm > 7)
			return -EINVAL;
		if (archive_entry_acl_add_entry(ae, type, (int)perm, la,
						(int)id, NULL) != ARCHIVE_OK)
			return -EINVAL;
	}
	return 0;
}

int tplfs_tarball_export(int store_fd, FILE *manifest, int out_fd,
			 const char *out, uint64_t *entries, char *err,
			 size_t errlen)
{
	struct archive *a = archive_write_new();
	struct archive_entry *ae = archive_entry_new();
	struct tplfs_mreader *r = NULL;
	struct tplfs_mentry m;
	char name[PATH_MAX + 2];
	int ret;

	*entries = 0;
	if (!a || !ae) {
		ret = -ENOMEM;
		goto done;
	}
	ret = tplfs_mreader_open(manifest, &r, err, errlen);
	if (ret)
		goto done;
	if (tplfs_mreader_layer_of(r)) {
		snprintf(err, errlen,
			 "%s is an application template (a layer of %s): only whole trees are exported",
			 tplfs_mreader_template(r), tplfs_mreader_layer_of(r));
		ret = -EINVAL;
		goto done;
	}
	if (archive_write_add_filter_zstd(a) != ARCHIVE_OK ||
	    archive_write_set_format_pax(a) != ARCHIVE_OK ||
	    archive_write_open_fd(a, out_fd) != ARCHIVE_OK) {
		ret = la_errno(a);
		snprintf(err, errlen, "%s: %s", out, archive_error_string(a));
		goto done;
	}
	while ((ret = tplfs_mreader_next(r, &m, err, errlen)) == 1) {
		archive_entry_clear(ae);
		snprintf(name, sizeof(name), ".%s", m.path);
		archive_entry_copy_pathname(ae, name);
		if (m.type == 'h') {
			snprintf(name, sizeof(name), ".%s", m.target);
			archive_entry_copy_hardlink(ae, name);
			archive_entry_set_filetype(ae, AE_IFREG);
			archive_entry_set_size(ae, 0);
		} else {
			archive_entry_set_filetype(ae,
				m.type == 'd' ? AE_IFDIR : m.type == 'f' ? AE_IFREG :
				m.type == 'l' ? AE_IFLNK : m.type == 'c' ? AE_IFCHR :
				m.type == 'b' ? AE_IFBLK : AE_IFIFO);
			archive_entry_set_perm(ae, m.mode);
			archive_entry_set_uid(ae, m.uid);
			archive_entry_set_gid(ae, m.gid);
			archive_entry_set_mtime(ae, m.mtime_sec, m.mtime_nsec);
			archive_entry_set_size(ae, m.type == 'f' ? (la_int64_t)m.size : 0);
			if (m.type == 'l')
				archive_entry_copy_symlink(ae, m.target);
			if (m.type == 'c' || m.type == 'b')
				archive_entry_set_rdev(ae, makedev(m.major, m.minor));
			int acl = 0;

			for (size_t i = 0; i < m.nxattrs && !acl; i++) {
				const struct tplfs_xattr *x = &m.xattrs[i];

				if (!strcmp(x->name, "system.posix_acl_access"))
					acl = add_acl(ae, x, ARCHIVE_ENTRY_ACL_TYPE_ACCESS);
				else if (!strcmp(x->name, "system.posix_acl_default"))
					acl = add_acl(ae, x, ARCHIVE_ENTRY_ACL_TYPE_DEFAULT);
				else
					archive_entry_xattr_add_entry(ae, x->name,
								      x->value,
								      x->len);
			}
			if (acl) {
				ret = acl;
				snprintf(err, errlen, "%s: %s: a malformed ACL",
					 out, m.path);
				break;
			}
		}
		/* WARN: a name that is not UTF-8, kept as raw bytes
		 * (hdrcharset=BINARY) */
		if (archive_write_header(a, ae) < ARCHIVE_WARN) {
			ret = la_errno(a);
			snprintf(err, errlen, "%s: %s: %s", out, m.path,
				 archive_error_string(a));
			break;
		}
		if (m.type == 'f' && m.size) {
			ret = write_object(a, store_fd, &m);
			if (ret) {
				snprintf(err, errlen, "%s: object of %s: %s", out,
					 m.path, strerror(-ret));
				break;
			}
		}
		(*entries)++;
	}
	if (!ret && archive_write_close(a) != ARCHIVE_OK) {
		ret = la_errno(a);
		snprintf(err, errlen, "%s: %s", out, archive_error_string(a));
	}
done:
	tplfs_mreader_close(r);
	if (ae)
		archive_entry_free(ae);
	if (a)
		archive_write_free(a);
	return ret < 0 ? ret : 0;
}
