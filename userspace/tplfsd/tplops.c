// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Template operations, run as jobs. An import is journaled (record
 * tpl-<name>@<version>): recovery keeps a version that was sealed and
 * removes one that was not, and the extraction directory of a tarball.
 *
 * template.import  record {tmp}; version dir "importing"; (extract a
 *                  tarball into store/tmp/); objects + manifest; seal;
 *                  remove tmp; remove the record.
 * template.export  manifest + objects -> FILE.tmp -> rename to FILE.
 * template.rm      refused while a container uses the version.
 * store.gc         removes objects no manifest names; refused while an
 *                  import holds the store's gc lock (flock, shared by
 *                  imports, exclusive for gc).
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "atomic.h"
#include "digest.h"
#include "grow.h"
#include "import.h"
#include "journal.h"
#include "log.h"
#include "maintenance.h"
#include "layer.h"
#include "postinst.h"
#include "manifest.h"
#include "mlist.h"
#include "object.h"
#include "opjob.h"
#include "origin.h"
#include "store.h"
#include "storerefs.h"
#include "tarball.h"
#include "tree.h"

#define DEFAULT_PRIVATE_N	3
static const char *const default_private[DEFAULT_PRIVATE_N] = {
	"/etc/hostname", "/etc/hosts", "/etc/machine-id",
};
#define PRIVATE_MAX		64

struct tpljob {
	struct opjob op;
	struct tplfs_template_id t;
	char id[2 * TPLFS_TEMPLATE_PART_MAX + 2];
	char path[PATH_MAX];	/* import: from; export: to */
	bool exclusive;		/* holds the template exclusively */
	bool dry_run;		/* gc: say what would go, remove nothing */
	/* import: the always-private paths, sorted */
	char *private[PRIVATE_MAX];
	size_t nprivate;
	bool stubs;		/* publish: the tree is a private area */
	char base[256];		/* publish: the area was made from it */
	char from_ct[TPLFS_CT_ID_MAX + 1];	/* publish: of this container */
	char layer_of[256];	/* import, publish: an application template
				 * of this version (held), else empty */
	bool run_postinst;	/* ...whose packages' postinst containers run */
	char **postinst;	/* ...those packages, in order */
	size_t npostinst;
	bool changes;		/* import, rm, gc: the store's view changes */
	json_object *cts;	/* show: the containers made from it */
	uint64_t store_gen, view_gen;	/* list: of what it lists */
};

/* --- which templates are in use: by operations, and by containers ------- */

struct tplbusy {
	char id[2 * TPLFS_TEMPLATE_PART_MAX + 2];
	unsigned int users;	/* shared: exports, ct.create */
	bool exclusive;		/* import, rm */
	struct tplbusy *next;
};

static struct tplbusy *busy;

bool tpl_acquire(const char *id, bool exclusive)
{
	struct tplbusy *b;

	for (b = busy; b; b = b->next)
		if (!strcmp(b->id, id))
			break;
	if (b && (b->exclusive || (exclusive && b->users)))
		return false;
	if (!b) {
		b = calloc(1, sizeof(*b));
		if (!b)
			return false;
		snprintf(b->id, sizeof(b->id), "%s", id);
		b->next = busy;
		busy = b;
	}
	if (exclusive)
		b->exclusive = true;
	else
		b->users++;
	return true;
}

void tpl_release(const char *id, bool exclusive)
{
	for (struct tplbusy **pp = &busy; *pp; pp = &(*pp)->next) {
		struct tplbusy *b = *pp;

		if (strcmp(b->id, id))
			continue;
		if (exclusive)
			b->exclusive = false;
		else
			b->users--;
		if (!b->exclusive && !b->users) {
			*pp = b->next;
			free(b);
		}
		return;
	}
}

/* The key of template_uses() for the containers it cannot tell of. */
#define USES_UNKNOWN "?"

static void uses_add(json_object *uses, const char *key, const char *what)
{
	json_object *arr;

	if (!json_object_object_get_ex(uses, key, &arr)) {
		arr = json_object_new_array();
		json_object_object_add(uses, key, arr);
	}
	json_object_array_add(arr, json_object_new_string(what));
}

/*
 * Containers by template, from private/<ct>/ct.conf: { id: [ct...] }.
 * A container whose ct.conf cannot be read (missing, unreadable, bad)
 * could name any template: it goes under USES_UNKNOWN as "ct (reason)",
 * and so does a private/ that cannot be read.
 */
/* Another daemon's container, as template_uses names it. */
static void foreign_use(void *arg, const struct tplfs_ref *r)
{
	char what[TPLFS_CT_ID_MAX + 600];

	snprintf(what, sizeof(what), "%s on %s", r->ct, r->host);
	uses_add(arg, r->tpl, what);
}

static json_object *template_uses(struct daemon *d)
{
	json_object *uses = json_object_new_object();
	char privdir[PATH_MAX], err[256], what[PATH_MAX + 300];
	struct dirent *de;
	DIR *dir;
	int ret;

	tplfs_path(privdir, sizeof(privdir), "%s/private", d->cfg.root);
	dir = opendir(privdir);
	if (!dir && errno != ENOENT) {
		snprintf(what, sizeof(what), "%s (%s)", privdir,
			 strerror(errno));
		uses_add(uses, USES_UNKNOWN, what);
	}
	while (dir && (de = readdir(dir))) {
		struct tplfs_ct_paths p = { .root = "" };
		struct tplfs_ct_conf conf;

		/* .<id>.create and .<id>.destroy are the operations' own */
		if (!tplfs_ct_id_valid(de->d_name) ||
		    tplfs_ct_paths(&d->cfg, de->d_name, &p))
			continue;
		if (tplfs_ct_conf_read(p.conf, &conf, err, sizeof(err))) {
			snprintf(what, sizeof(what), "%s (%s)", de->d_name, err);
			uses_add(uses, USES_UNKNOWN, what);
		} else {
			if (conf.template[0])
				uses_add(uses, conf.template, de->d_name);
			/* what a relink against another template made it name */
			for (size_t i = 0; i < conf.nuses; i++)
				uses_add(uses, conf.uses[i], de->d_name);
			for (size_t i = 0; i < conf.apps.n; i++)
				uses_add(uses, conf.apps.v[i], de->d_name);
		}
	}
	if (dir)
		closedir(dir);
	/* other hosts' containers (and other roots'), from their references */
	ret = refs_foreign(d, foreign_use, uses);
	if (ret) {
		snprintf(what, sizeof(what), "%s/%s (%s)", d->cfg.store,
			 TPLFS_REFS_DIR, strerror(-ret));
		uses_add(uses, USES_UNKNOWN, what);
	}
	return uses;
}

/*
 * Fail @op if @uses has containers it cannot tell of: whatever @what does
 * could take what they use. Returns true if it failed.
 */
static bool refuse_unknown_uses(struct opjob *op, json_object *uses,
				const char *what)
{
	json_object *cts;
	size_t n;

	if (!json_object_object_get_ex(uses, USES_UNKNOWN, &cts))
		return false;
	n = json_object_array_length(cts);
	opjob_fail(op, TPLFS_E_BUSY, EBUSY,
		   "cannot tell which template %zu container(s) use: %s%s; %s refused (repair or destroy them first)",
		   n, json_object_get_string(json_object_array_get_idx(cts, 0)),
		   n > 1 ? ", ..." : "", what);
	return true;
}

/* --- template.import ----------------------------------------------------- */

static void journal_name(char *buf, size_t size, const char *id)
{
	snprintf(buf, size, "tpl-%s", id);
}

static void import_progress(void *arg, const struct tplfs_import_progress *p)
{
	struct tpljob *tj = arg;

	atomic_store(&tj->op.total, p->files_total);
	atomic_store(&tj->op.bytes_total, p->bytes_total);
	atomic_store(&tj->op.done, p->files_done);
	atomic_store(&tj->op.bytes_done, p->bytes_done);
	atomic_store(&tj->op.what, "files imported");
	if (p->files_done)
		jobs_test_point("template.import:file");
}

/* Extracting a tarball: bytes of the file read, of its size. */
static void extract_progress(void *arg, uint64_t read, uint64_t size)
{
	struct tpljob *tj = arg;

	atomic_store(&tj->op.bytes_total, size);
	atomic_store(&tj->op.bytes_done, read);
}

static int gc_lock(const struct daemon *d, int how)
{
	int fd = openat(d->store_fd, ".gc.lock", O_RDWR | O_CREAT | O_CLOEXEC,
			0644);

	if (fd < 0)
		return -errno;
	if (flock(fd, how) < 0) {
		int ret = -errno;

		close(fd);
		return ret;
	}
	return fd;
}

/* The start of import's and show's results: what a version holds. */
static json_object *template_result(const char *id, uint64_t entries,
				    uint64_t files, uint64_t bytes)
{
	json_object *r = json_object_new_object();

	tplfs_json_str(r, "template", id);
	tplfs_json_u64(r, "entries", entries);
	tplfs_json_u64(r, "files", files);
	tplfs_json_u64(r, "bytes", bytes);
	return r;
}

/* publish: the private area tj->path, made from template tj->base. */
static int import_private_area(struct tpljob *tj, FILE *m,
			       struct tplfs_import_stats *st, char *err,
			       size_t errlen)
{
	struct tplfs_mlist base = { 0 };
	struct tplfs_template_id t;
	FILE *bm;
	int ret;

	if (tplfs_template_id_parse(tj->base, &t, err, errlen))
		return -EINVAL;
	bm = tplfs_template_manifest_open(tj->op.d->store_fd, &t);
	if (!bm) {
		ret = -errno;
		snprintf(err, errlen, "the manifest of %s: %s", tj->base,
			 strerror(errno));
		return ret;
	}
	ret = tplfs_mlist_load(&base, bm, err, errlen);
	fclose(bm);
	if (ret)
		return ret == -EINVAL ? -EIO : ret;	/* the store's, not the request's */
	ret = tplfs_import_private_area(tj->op.d->store_fd, tj->path, &base,
					tj->id, m, st, import_progress, tj,
					err, errlen);
	tplfs_mlist_free(&base);
	return ret;
}

/* Published: from what, and the end of the name's maintenance if it
 * was its maintenance container's. */
static void publish_done(struct tpljob *tj, json_object *r)
{
	struct tplfs_maintenance m;
	char err[PATH_MAX + 64];
	bool ended = false;

	if (!tplfs_maintenance_read(tj->op.d->cfg.root, tj->t.name, &m, err,
				    sizeof(err)) && !strcmp(m.ct, tj->from_ct)) {
		maintain_end(tj->op.d, tj->t.name);
		ended = true;
	}
	tplfs_json_str(r, "from", tj->base);
	tplfs_json_str(r, "from_ct", tj->from_ct);
	tplfs_json_bool(r, "maintenance_ended", ended);
}

json_object *tplops_names_json(char *const *names, size_t n)
{
	json_object *arr = json_object_new_array();

	for (size_t i = 0; i < n; i++)
		json_object_array_add(arr, json_object_new_string(names[i]));
	return arr;
}

/*
 * An application template: @full (the whole tree, as imported) made the
 * layer of what it changes from tj->layer_of, written to @m.
 */
static int write_layer(struct tpljob *tj, const char *full, size_t len,
		       FILE *m, char *err, size_t errlen)
{
	struct tplfs_mlist base = { 0 }, tree = { 0 };
	struct tplfs_template_id t;
	FILE *f;
	int ret;

	if (tplfs_template_id_parse(tj->layer_of, &t, err, errlen))
		return -EINVAL;
	f = tplfs_template_manifest_open(tj->op.d->store_fd, &t);
	if (!f) {
		ret = -errno;
		snprintf(err, errlen, "no template %s (sealed)", tj->layer_of);
		return ret == -ENOENT ? -ENOENT : ret;
	}
	ret = tplfs_mlist_load(&base, f, err, errlen);
	fclose(f);
	if (ret)
		return ret == -EINVAL ? -EIO : ret;	/* the store's */
	if (base.layer_of[0]) {
		snprintf(err, errlen,
			 "%s is an application template itself: a layer is of a container's template",
			 tj->layer_of);
		ret = -EINVAL;
		goto out;
	}
	f = fmemopen((void *)full, len, "r");
	ret = f ? tplfs_mlist_load(&tree, f, err, errlen) : -ENOMEM;
	if (f)
		fclose(f);
	if (!ret && tj->run_postinst) {
		ret = tplfs_layer_postinst(tj->op.d->store_fd, &base, &tree,
					   &tj->postinst, &tj->npostinst, err,
					   errlen);
		if (!ret && !tj->npostinst) {
			snprintf(err, errlen,
				 "run_postinst: the layer installs no package with a postinst (dpkg's status against %s's)",
				 tj->layer_of);
			ret = -EINVAL;
		}
	}
	if (!ret)
		ret = tplfs_layer_diff(&base, tj->layer_of, &tree, tj->id,
				       (const char *const *)tj->postinst,
				       tj->npostinst, m, err, errlen);
	if (ret == -ENODATA)
		ret = -EINVAL;	/* nothing to layer: the request's */
out:
	tplfs_mlist_free(&base);
	tplfs_mlist_free(&tree);
	return ret;
}

static void import_run(struct job *job)
{
	struct tpljob *tj = (struct tpljob *)job;
	struct daemon *d = tj->op.d;
	struct tplfs_import_stats st;
	char name[256], tmp[PATH_MAX], err[PATH_MAX + 256];
	const char *src = tj->path;
	json_object *rec, *r;
	struct stat sb;
	bool begun = false;
	int lock, ret;
	uint64_t n;
	FILE *m, *full;
	char *full_text = NULL;
	size_t full_len = 0;

	if (stat(tj->path, &sb) < 0) {
		opjob_failno(&tj->op, TPLFS_E_NOT_FOUND, errno, tj->path);
		return;
	}
	if (!S_ISDIR(sb.st_mode) && !S_ISREG(sb.st_mode)) {
		opjob_fail(&tj->op, TPLFS_E_BAD_ARGS, EINVAL,
			   "%s: neither a directory nor a tarball", tj->path);
		return;
	}
	lock = gc_lock(d, LOCK_SH);
	if (lock < 0) {
		opjob_failno(&tj->op, TPLFS_E_SYSTEM, -lock, "store gc lock");
		return;
	}
	tplfs_path(tmp, sizeof(tmp), "%s/tmp/import-%s", d->cfg.store, tj->id);
	journal_name(name, sizeof(name), tj->id);
	rec = json_object_new_object();
	tplfs_json_str(rec, "op", "template.import");
	tplfs_json_str(rec, "template", tj->id);
	ret = tplfs_journal_write(d->journal_fd, name, rec);
	json_object_put(rec);
	if (ret) {
		opjob_failno(&tj->op, TPLFS_E_SYSTEM, -ret, "journal");
		close(lock);
		return;
	}
	ret = tplfs_template_begin(d->store_fd, &tj->t);
	if (ret) {
		opjob_failno(&tj->op, ret == -EEXIST ? TPLFS_E_EXISTS :
			     TPLFS_E_SYSTEM, -ret, tj->id);
		goto out;
	}
	begun = true;
	if (S_ISREG(sb.st_mode)) {
		tplfs_tree_remove(tmp);
		if (mkdir(tmp, 0700) < 0) {
			opjob_failno(&tj->op, TPLFS_E_SYSTEM, errno, tmp);
			goto out;
		}
		atomic_store(&tj->op.what, "tarball extracted");
		ret = tplfs_tarball_extract(tj->path, tmp, &n,
					    extract_progress, tj,
					    err, sizeof(err));
		if (ret) {
			/* EILSEQ: not a tarball libarchive knows */
			opjob_fail(&tj->op, ret == -EINVAL || ret == -EILSEQ ?
				   TPLFS_E_BAD_ARGS : TPLFS_E_SYSTEM, -ret, "%s",
				   err);
			goto out;
		}
		src = tmp;
	}
	jobs_test_point("template.import:begun");
	atomic_store(&tj->op.bytes_done, 0);
	atomic_store(&tj->op.bytes_total, 0);
	atomic_store(&tj->op.what, "walking the tree");
	m = tplfs_template_manifest_create(d->store_fd, &tj->t);
	if (!m) {
		opjob_failno(&tj->op, TPLFS_E_SYSTEM, errno, "manifest");
		goto out;
	}
	/* an application template: the whole tree first, in memory */
	full = tj->layer_of[0] ? open_memstream(&full_text, &full_len) : m;
	if (!full) {
		fclose(m);
		opjob_failno(&tj->op, TPLFS_E_SYSTEM, ENOMEM, "manifest");
		goto out;
	}
	if (tj->stubs)
		ret = import_private_area(tj, full, &st, err, sizeof(err));
	else
		ret = tplfs_import_dir(d->store_fd, src, tj->id,
				       (const char *const *)tj->private,
				       tj->nprivate,
				       src == tmp ? TPLFS_IMPORT_ADOPT : 0,
				       full, &st, import_progress, tj,
				       err, sizeof(err));
	if (full != m) {
		if (fclose(full) && !ret)
			ret = -EIO;
		if (!ret)
			ret = write_layer(tj, full_text, full_len, m, err,
					  sizeof(err));
	}
	if (ret) {
		fclose(m);
		/* what the tree is (not the host) is the request's fault */
		opjob_fail(&tj->op, ret == -EXDEV || ret == -ELOOP ||
			   ret == -EINVAL || ret == -ENAMETOOLONG ||
			   ret == -ESTALE ? TPLFS_E_BAD_ARGS : TPLFS_E_SYSTEM,
			   -ret, "%s", err);
		goto out;
	}
	ret = tplfs_template_seal(d->store_fd, &tj->t, m);
	if (ret) {
		opjob_failno(&tj->op, TPLFS_E_SYSTEM, -ret, "seal");
		goto out;
	}
	r = template_result(tj->id, st.entries, st.files, st.bytes);
	tplfs_json_u64(r, "new_objects", st.new_objects);
	tplfs_json_u64(r, "new_bytes", st.new_bytes);
	tplfs_json_u64(r, "stored_bytes", st.stored_bytes);
	if (tj->stubs)
		publish_done(tj, r);
	if (tj->layer_of[0])
		tplfs_json_str(r, "layer_of", tj->layer_of);
	if (tj->layer_of[0])
		json_object_object_add(r, "postinst",
				       tplops_names_json(tj->postinst, tj->npostinst));
	tj->op.result = r;
out:
	free(full_text);
	/* Nothing half-imported stays: an unsealed version goes. */
	if (opjob_failed(&tj->op) && begun)
		tplfs_template_remove(d->store_fd, &tj->t);
	tplfs_tree_remove(tmp);
	close(lock);
	ret = tplfs_journal_remove(d->journal_fd, name);
	if (ret)
		log_err("journal %s: %s", name, strerror(-ret));
}

int tplops_recover(struct daemon *d, const char *op, const char *tpl,
		   json_object *rec)
{
	struct tplfs_template_id t;
	char err[256], tmp[PATH_MAX];

	(void)rec;
	if (strcmp(op, "template.import") ||
	    tplfs_template_id_parse(tpl, &t, err, sizeof(err)))
		return -1;
	tplfs_path(tmp, sizeof(tmp), "%s/tmp/import-%s", d->cfg.store, tpl);
	tplfs_tree_remove(tmp);
	if (tplfs_template_state(d->store_fd, &t) == TPLFS_TEMPLATE_SEALED) {
		log_info("recovery: template.import %s had sealed it: finished", tpl);
		return 0;
	}
	tplfs_template_remove(d->store_fd, &t);
	log_info("recovery: template.import %s was not sealed: rolled back", tpl);
	return 0;
}

/* --- template.export -------------------------------------------------------- */

static void export_run(struct job *job)
{
	struct tpljob *tj = (struct tpljob *)job;
	struct daemon *d = tj->op.d;
	char dir[PATH_MAX], err[PATH_MAX + 256];
	struct tplfs_atomic out;
	const char *base;
	json_object *r;
	int ret, dirfd;
	uint64_t n;
	FILE *m;

	m = tplfs_template_manifest_open(d->store_fd, &tj->t);
	if (!m) {
		opjob_fail(&tj->op, TPLFS_E_NOT_FOUND, ENOENT,
			   "no template %s (sealed)", tj->id);
		return;
	}
	/* Written under a new name in FILE's directory, renamed over FILE:
	 * never through a symlink or a file someone put there. */
	strcpy(dir, tj->path);
	base = strrchr(tj->path, '/') + 1;	/* the path is absolute */
	dir[base - tj->path] = '\0';
	dirfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	ret = dirfd < 0 ? -errno : tplfs_atomic_begin(&out, dirfd, base, 0644);
	if (ret) {
		fclose(m);
		opjob_failno(&tj->op, ret == -ENOENT || ret == -ENOTDIR ||
			     ret == -EINVAL ? TPLFS_E_BAD_ARGS : TPLFS_E_SYSTEM,
			     -ret, tj->path);
		if (dirfd >= 0)
			close(dirfd);
		return;
	}
	ret = tplfs_tarball_export(d->store_fd, m, out.fd, tj->path, &n, err,
				   sizeof(err));
	fclose(m);
	jobs_test_point("template.export:written");
	if (ret) {
		tplfs_atomic_abort(&out);
	} else {
		ret = tplfs_atomic_commit(&out);
		snprintf(err, sizeof(err), "%s: %s", tj->path,
			 ret == -ESTALE ? "replaced by another writer at once" :
			 strerror(-ret));
	}
	close(dirfd);
	if (ret) {
		opjob_fail(&tj->op, TPLFS_E_SYSTEM, -ret, "%s", err);
		return;
	}
	r = json_object_new_object();
	tplfs_json_str(r, "template", tj->id);
	tplfs_json_str(r, "file", tj->path);
	tplfs_json_u64(r, "entries", n);
	tj->op.result = r;
}

/* --- template.list ------------------------------------------------------------ */

/* Distinct objects of one template: digest -> size, in a sorted array. */
struct objref {
	uint8_t digest[TPLFS_DIGEST_SIZE];
	uint64_t size;
	unsigned int templates;	/* how many templates name it */
};

static int cmp_obj(const void *a, const void *b)
{
	return memcmp(a, b, TPLFS_DIGEST_SIZE);
}

struct tplinfo {
	struct tplfs_template_id t;
	enum tplfs_template_state state;
	char layer_of[256];	/* an app template: of this version */
	uint64_t entries, files, bytes;
	struct objref *objs;
	size_t nobjs;
	int read_err;
};

struct listing {
	struct daemon *d;
	struct tplinfo *v;
	size_t n, cap;
};

static int read_template(struct listing *l, struct tplinfo *ti)
{
	struct tplfs_mentry e;
	char err[256];
	size_t cap = 0;
	int ret;
	struct tplfs_mreader *r;
	FILE *m = tplfs_template_manifest_open(l->d->store_fd, &ti->t);

	if (!m)
		return -errno;
	ret = tplfs_mreader_open(m, &r, err, sizeof(err));
	if (ret) {
		fclose(m);
		return ret;
	}
	if (tplfs_mreader_layer_of(r))
		snprintf(ti->layer_of, sizeof(ti->layer_of), "%s",
			 tplfs_mreader_layer_of(r));
	while ((ret = tplfs_mreader_next(r, &e, err, sizeof(err))) == 1) {
		ti->entries++;
		if (e.type != 'f')
			continue;
		ti->files++;
		ti->bytes += e.size;
		if (tplfs_grow(&ti->objs, &cap, ti->nobjs, sizeof(*ti->objs),
			       256)) {
			ret = -ENOMEM;
			break;
		}
		memcpy(ti->objs[ti->nobjs].digest, e.digest, TPLFS_DIGEST_SIZE);
		ti->objs[ti->nobjs].size = e.size;
		ti->objs[ti->nobjs].templates = 1;
		ti->nobjs++;
	}
	tplfs_mreader_close(r);
	fclose(m);
	if (ret < 0)
		return ret;
	/* distinct */
	qsort(ti->objs, ti->nobjs, sizeof(*ti->objs), cmp_obj);
	{
		size_t o = 0;

		for (size_t i = 0; i < ti->nobjs; i++)
			if (!o || memcmp(ti->objs[o - 1].digest, ti->objs[i].digest,
					 TPLFS_DIGEST_SIZE))
				ti->objs[o++] = ti->objs[i];
		ti->nobjs = o;
	}
	return 0;
}

static int list_one(void *arg, const struct tplfs_template_id *t,
		    enum tplfs_template_state state)
{
	struct listing *l = arg;
	struct tplinfo *ti;

	if (tplfs_grow(&l->v, &l->cap, l->n, sizeof(*l->v), 16))
		return -ENOMEM;
	ti = &l->v[l->n++];
	memset(ti, 0, sizeof(*ti));
	ti->t = *t;
	ti->state = state;
	if (state == TPLFS_TEMPLATE_SEALED)
		ti->read_err = read_template(l, ti);
	return 0;
}

static int cmp_tplinfo(const void *a, const void *b)
{
	const struct tplinfo *x = a, *y = b;
	int c = strcmp(x->t.name, y->t.name);

	return c ? c : strcmp(x->t.version, y->t.version);
}

static void list_run(struct job *job)
{
	struct tpljob *tj = (struct tpljob *)job;
	struct listing l = { .d = tj->op.d };
	json_object *arr = json_object_new_array(), *uses;

	tplfs_templates_each(l.d->store_fd, list_one, &l);
	qsort(l.v, l.n, sizeof(*l.v), cmp_tplinfo);
	uses = template_uses(l.d);
	/* How many templates name each object: the others' sorted arrays. */
	for (size_t i = 0; i < l.n; i++) {
		for (size_t k = 0; k < l.v[i].nobjs; k++)
			for (size_t j = 0; j < l.n; j++)
				if (j != i && l.v[j].nobjs &&
				    bsearch(l.v[i].objs[k].digest, l.v[j].objs,
					    l.v[j].nobjs, sizeof(struct objref),
					    cmp_obj))
					l.v[i].objs[k].templates++;
	}
	for (size_t i = 0; i < l.n; i++) {
		struct tplinfo *ti = &l.v[i];
		json_object *o = json_object_new_object(), *cts;
		uint64_t unique = 0, obytes = 0;
		char id[sizeof(tj->id)];

		snprintf(id, sizeof(id), "%s@%s", ti->t.name, ti->t.version);
		for (size_t k = 0; k < ti->nobjs; k++) {
			obytes += ti->objs[k].size;
			if (ti->objs[k].templates == 1)
				unique += ti->objs[k].size;
		}
		tplfs_json_str(o, "template", id);
		tplfs_json_str(o, "state", 
			ti->state == TPLFS_TEMPLATE_SEALED ? "sealed" : "importing");
		tplfs_json_u64(o, "entries", ti->entries);
		tplfs_json_u64(o, "files", ti->files);
		tplfs_json_u64(o, "bytes", ti->bytes);
		tplfs_json_u64(o, "objects", ti->nobjs);
		tplfs_json_u64(o, "object_bytes", obytes);
		tplfs_json_u64(o, "unique_bytes", unique);
		tplfs_json_str(o, "layer_of", ti->layer_of);
		if (json_object_object_get_ex(uses, id, &cts))
			json_object_object_add(o, "containers", json_object_get(cts));
		else
			json_object_object_add(o, "containers", json_object_new_array());
		json_object_array_add(arr, o);
		free(ti->objs);
	}
	json_object_put(uses);
	free(l.v);
	tj->op.result = json_object_new_object();
	json_object_object_add(tj->op.result, "templates", arr);
}

/* --- template.show ------------------------------------------------------------ */

static void show_run(struct job *job)
{
	struct tpljob *tj = (struct tpljob *)job;
	struct listing l = { .d = tj->op.d };
	struct tplinfo ti = { .t = tj->t };
	json_object *r, *priv, *postinst;
	struct tplfs_mreader *mr;
	uint64_t obytes = 0;
	char err[256];
	FILE *m;
	int ret;

	if (tplfs_template_state(l.d->store_fd, &tj->t) != TPLFS_TEMPLATE_SEALED) {
		opjob_fail(&tj->op, TPLFS_E_NOT_FOUND, ENOENT,
			   "no template %s (sealed)", tj->id);
		return;
	}
	ret = read_template(&l, &ti);
	m = ret ? NULL : tplfs_template_manifest_open(l.d->store_fd, &tj->t);
	if (!m || tplfs_mreader_open(m, &mr, err, sizeof(err))) {
		opjob_failno(&tj->op, TPLFS_E_SYSTEM, ret ? -ret : errno ? errno : EIO,
			     "manifest");
		if (m)
			fclose(m);
		free(ti.objs);
		return;
	}
	/* the private lines come before the first entry: read up to it */
	{
		struct tplfs_mentry e;

		tplfs_mreader_next(mr, &e, err, sizeof(err));
	}
	priv = json_object_new_array();
	for (size_t i = 0; i < tplfs_mreader_nprivate(mr); i++)
		json_object_array_add(priv, json_object_new_string(
			tplfs_mreader_private(mr, i)));
	postinst = json_object_new_array();
	for (size_t i = 0; i < tplfs_mreader_npostinst(mr); i++)
		json_object_array_add(postinst, json_object_new_string(
			tplfs_mreader_postinst(mr, i)));
	tplfs_mreader_close(mr);
	fclose(m);
	for (size_t k = 0; k < ti.nobjs; k++)
		obytes += ti.objs[k].size;
	free(ti.objs);
	r = template_result(tj->id, ti.entries, ti.files, ti.bytes);
	tplfs_json_u64(r, "objects", ti.nobjs);
	tplfs_json_u64(r, "object_bytes", obytes);
	tplfs_json_str(r, "layer_of", ti.layer_of);
	json_object_object_add(r, "private", priv);
	json_object_object_add(r, "postinst", postinst);
	json_object_object_add(r, "containers", json_object_get(tj->cts));
	json_object_object_add(r, "maintenance", maintain_describe(l.d, tj->id));
	tj->op.result = r;
}

/* --- store.verify ------------------------------------------------------------- */

#define VERIFY_LIST_MAX	200

struct verify {
	json_object *problems;
	uint64_t nproblems;
};

static void problem(struct verify *v, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static void problem(struct verify *v, const char *fmt, ...)
{
	char msg[PATH_MAX + 256];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (v->nproblems++ < VERIFY_LIST_MAX)
		json_object_array_add(v->problems, json_object_new_string(msg));
}

/* Every object a sealed manifest names is there, of its size. */
static void verify_manifests(int store_fd, const struct listing *l,
			     struct verify *v)
{
	for (size_t i = 0; i < l->n; i++) {
		const struct tplinfo *ti = &l->v[i];

		if (ti->read_err) {
			problem(v, "template %s@%s: its manifest cannot be read: %s",
				ti->t.name, ti->t.version, strerror(-ti->read_err));
			continue;
		}
		for (size_t k = 0; k < ti->nobjs; k++) {
			char obj[TPLFS_OBJECT_PATH_SIZE];
			struct stat sb;

			tplfs_object_path(ti->objs[k].digest, obj);
			if (fstatat(store_fd, obj, &sb, AT_SYMLINK_NOFOLLOW) < 0)
				problem(v, "template %s@%s names %s: %s",
					ti->t.name, ti->t.version, obj,
					strerror(errno));
			else if (!S_ISREG(sb.st_mode) ||
				 (uint64_t)sb.st_size != ti->objs[k].size)
				problem(v, "template %s@%s names %s of %" PRIu64
					" bytes: it has %lld", ti->t.name,
					ti->t.version, obj, ti->objs[k].size,
					(long long)sb.st_size);
		}
	}
}

struct verify_walk {
	struct tpljob *tj;
	struct verify *v;
	uint64_t objects, bytes;
};

/* One entry of objects/: its content hashes to its name. */
static int verify_one(void *arg, const struct tplfs_object_entry *e)
{
	struct verify_walk *w = arg;
	char dir[sizeof("objects/xx")];
	struct tplfs_origin_info info;
	int fd, ret;

	if (e->is_temporary)
		return 0;	/* a write under way, or gc's to remove */
	snprintf(dir, sizeof(dir), "objects/%02x", e->dir);
	fd = openat(e->dir_fd, e->name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	ret = fd < 0 ? -errno : tplfs_digest_fd(fd, &info.size, info.digest);
	if (fd >= 0)
		close(fd);
	if (ret) {
		problem(w->v, "%s/%s: %s", dir, e->name, strerror(-ret));
		return 0;
	}
	if (!e->is_object ||
	    memcmp(info.digest, e->digest, TPLFS_DIGEST_SIZE)) {
		char obj[TPLFS_OBJECT_PATH_SIZE];

		tplfs_object_path(info.digest, obj);
		problem(w->v, "%s/%s: its content hashes to %s", dir, e->name,
			obj);
	}
	w->objects++;
	w->bytes += info.size;
	atomic_store(&w->tj->op.done, w->objects);
	return 0;
}

/* Every object's content hashes to its name. */
static void verify_objects(struct tpljob *tj, struct verify *v,
			   uint64_t *objects, uint64_t *bytes)
{
	struct verify_walk w = { .tj = tj, .v = v };
	int ret = tplfs_objects_each(tj->op.d->store_fd, verify_one, NULL,
				     &w);

	if (ret)
		problem(v, "objects/: %s", strerror(-ret));
	*objects = w.objects;
	*bytes = w.bytes;
}

/* Sealed templates, a manifest that cannot be read kept with its error. */
static int verify_collect(void *arg, const struct tplfs_template_id *t,
			  enum tplfs_template_state state)
{
	return state == TPLFS_TEMPLATE_SEALED ? list_one(arg, t, state) : 0;
}

static void verify_run(struct job *job)
{
	struct tpljob *tj = (struct tpljob *)job;
	struct daemon *d = tj->op.d;
	struct listing l = { .d = d };
	struct verify v = { .problems = json_object_new_array() };
	uint64_t objects = 0, bytes = 0;
	json_object *r;
	int lock, ret;

	/* shared, as imports: store gc waits until it is done */
	lock = gc_lock(d, LOCK_SH);
	if (lock < 0) {
		opjob_failno(&tj->op, TPLFS_E_SYSTEM, -lock, "store gc lock");
		json_object_put(v.problems);
		return;
	}
	atomic_store(&tj->op.what, "manifests read");
	ret = tplfs_templates_each(d->store_fd, verify_collect, &l);
	if (ret) {
		opjob_failno(&tj->op, TPLFS_E_SYSTEM, -ret, "templates");
		json_object_put(v.problems);
		goto out;
	}
	verify_manifests(d->store_fd, &l, &v);
	atomic_store(&tj->op.what, "objects hashed");
	verify_objects(tj, &v, &objects, &bytes);
	r = json_object_new_object();
	tplfs_json_u64(r, "templates", l.n);
	tplfs_json_u64(r, "objects", objects);
	tplfs_json_u64(r, "bytes", bytes);
	tplfs_json_u64(r, "problems", v.nproblems);
	json_object_object_add(r, "found", v.problems);
	tj->op.result = r;
out:
	for (size_t i = 0; i < l.n; i++)
		free(l.v[i].objs);
	free(l.v);
	close(lock);
}

/* --- template.rm ------------------------------------------------------------ */

/* The application templates of a version: how many, and the first. */
struct layers_of {
	int store_fd;
	const char *of;
	size_t n;
	char first[2 * TPLFS_TEMPLATE_PART_MAX + 2];
};

static int find_layer(void *arg, const struct tplfs_template_id *t,
		      enum tplfs_template_state state)
{
	struct layers_of *l = arg;
	char id[sizeof(l->first)], of[256];

	if (state != TPLFS_TEMPLATE_SEALED)
		return 0;
	snprintf(id, sizeof(id), "%s@%s", t->name, t->version);
	if (!tplfs_template_layer_of(l->store_fd, id, of, sizeof(of)) &&
	    !strcmp(of, l->of) && !l->n++)
		snprintf(l->first, sizeof(l->first), "%s", id);
	return 0;
}

static void rm_run(struct job *job)
{
	struct tpljob *tj = (struct tpljob *)job;
	struct daemon *d = tj->op.d;
	json_object *uses = template_uses(d), *cts;
	struct layers_of layers = { .store_fd = d->store_fd, .of = tj->id };
	int ret;

	if (refuse_unknown_uses(&tj->op, uses, "template rm"))
		goto out;
	if (json_object_object_get_ex(uses, tj->id, &cts)) {
		size_t n = json_object_array_length(cts);

		opjob_fail(&tj->op, TPLFS_E_BUSY, EBUSY,
			   "%s is used by %zu container(s), %s%s: destroy them first",
			   tj->id, n, json_object_get_string(
			   json_object_array_get_idx(cts, 0)), n > 1 ? ", ..." : "");
	} else if (tplfs_template_state(d->store_fd, &tj->t) ==
		   TPLFS_TEMPLATE_ABSENT) {
		opjob_fail(&tj->op, TPLFS_E_NOT_FOUND, ENOENT, "no template %s",
			   tj->id);
	} else if (tplfs_templates_each(d->store_fd, find_layer, &layers) ||
		   layers.n) {
		/* they could not be applied to anything without it */
		opjob_fail(&tj->op, TPLFS_E_BUSY, EBUSY,
			   "%s has %zu application template(s), %s%s: remove them first",
			   tj->id, layers.n, layers.first,
			   layers.n > 1 ? ", ..." : "");
	} else if ((ret = tplfs_template_remove(d->store_fd, &tj->t))) {
		opjob_failno(&tj->op, TPLFS_E_SYSTEM, -ret, tj->id);
	} else {
		tj->op.result = json_object_new_object();
		tplfs_json_str(tj->op.result, "template", tj->id);
	}
out:
	json_object_put(uses);
}

/* --- store.gc ------------------------------------------------------------------ */

struct gcset {
	uint8_t (*v)[TPLFS_DIGEST_SIZE];
	size_t n, cap;
};

static int gc_collect(void *arg, const struct tplfs_template_id *t,
		      enum tplfs_template_state state)
{
	struct listing *l = arg;
	int ret;

	if (state != TPLFS_TEMPLATE_SEALED)
		return 0;	/* an import under way holds the gc lock */
	ret = list_one(l, t, state);
	/* never collect on a manifest not read */
	return ret ? ret : l->v[l->n - 1].read_err;
}

/*
 * Fail @op unless every template a container names is sealed in the store
 * (@l): a container naming one that is gone has stubs no manifest
 * accounts for. Returns true if it failed.
 */
static bool refuse_unlisted_uses(struct opjob *op, json_object *uses,
				 const struct listing *l)
{
	json_object_object_foreach(uses, id, cts) {
		bool found = false;
		char name[sizeof(((struct tpljob *)0)->id)];

		for (size_t i = 0; i < l->n && !found; i++) {
			snprintf(name, sizeof(name), "%s@%s", l->v[i].t.name,
				 l->v[i].t.version);
			found = !strcmp(name, id);
		}
		if (!found) {
			opjob_fail(op, TPLFS_E_BUSY, EBUSY,
				   "container %s names template %s, which the store does not hold sealed: its objects cannot be told; store gc refused",
				   json_object_get_string(
				   json_object_array_get_idx(cts, 0)), id);
			return true;
		}
	}
	return false;
}

/* At most this many names in a dry run's reply (the reply's size). */
#define GC_LIST_MAX 200

/* What gc's callbacks are given: the job (progress) and the names. */
struct gc_watch {
	struct tpljob *tj;
	json_object *names;
};

static void gc_removed(void *arg, const char *what)
{
	struct gc_watch *w = arg;

	if (json_object_array_length(w->names) < GC_LIST_MAX)
		json_object_array_add(w->names, json_object_new_string(what));
}

static void gc_dir_done(void *arg, unsigned int dir)
{
	struct gc_watch *w = arg;

	atomic_store(&w->tj->op.done, (uint64_t)dir + 1);
	if (dir == 0)
		jobs_test_point("store.gc:swept-one");
}

static void gc_run(struct job *job)
{
	struct tpljob *tj = (struct tpljob *)job;
	struct daemon *d = tj->op.d;
	struct listing l = { .d = d };
	struct gcset all = { 0 };
	json_object *uses = NULL, *names = json_object_new_array();
	struct gc_watch watch = { .tj = tj, .names = names };
	struct tplfs_gc gc = {
		.dry_run = tj->dry_run,
		.tmp_grace = TPLFS_GC_TMP_GRACE,
		.removed = gc_removed,
		.dir_done = gc_dir_done,
		.arg = &watch,
	};
	int lock, ret;

	lock = gc_lock(d, LOCK_EX | LOCK_NB);
	if (lock < 0) {
		opjob_fail(&tj->op, TPLFS_E_BUSY, EBUSY,
			   "an import is under way: try store gc again after it");
		json_object_put(names);
		return;
	}
	ret = tplfs_templates_each(d->store_fd, gc_collect, &l);
	if (ret) {
		opjob_failno(&tj->op, TPLFS_E_SYSTEM, -ret, "reading the manifests");
		goto out;
	}
	/* What every private area could name must be in a sealed manifest. */
	uses = template_uses(d);
	if (refuse_unknown_uses(&tj->op, uses, "store gc") ||
	    refuse_unlisted_uses(&tj->op, uses, &l))
		goto out;
	for (size_t i = 0; i < l.n; i++) {
		for (size_t k = 0; k < l.v[i].nobjs; k++) {
			if (tplfs_grow(&all.v, &all.cap, all.n, sizeof(*all.v),
				       1024)) {
				opjob_failno(&tj->op, TPLFS_E_SYSTEM, ENOMEM, "gc");
				goto out;
			}
			memcpy(all.v[all.n++], l.v[i].objs[k].digest,
			       TPLFS_DIGEST_SIZE);
		}
	}
	qsort(all.v, all.n, sizeof(*all.v), cmp_obj);
	gc.keep = (const uint8_t (*)[TPLFS_DIGEST_SIZE])all.v;
	gc.nkeep = all.n;
	atomic_store(&tj->op.what, "object directories swept");
	atomic_store(&tj->op.total, 256);
	ret = tplfs_store_gc(d->store_fd, &gc);
	if (ret) {
		opjob_failno(&tj->op, TPLFS_E_SYSTEM, -ret, "objects/");
		goto out;
	}
	tj->op.result = json_object_new_object();
	tplfs_json_bool(tj->op.result, "dry_run", tj->dry_run);
	tplfs_json_u64(tj->op.result, "removed", gc.nremoved);
	tplfs_json_u64(tj->op.result, "freed_bytes", gc.freed_bytes);
	tplfs_json_u64(tj->op.result, "kept", gc.kept);
	tplfs_json_u64(tj->op.result, "young_temporaries", gc.young);
	json_object_object_add(tj->op.result, "objects", names);
	names = NULL;
out:
	json_object_put(names);
	json_object_put(uses);
	for (size_t i = 0; i < l.n; i++)
		free(l.v[i].objs);
	free(l.v);
	free(all.v);
	close(lock);
}

/* --- entry points, in the loop ------------------------------------------------ */

static void tpljob_finish(struct opjob *oj)
{
	struct tpljob *tj = (struct tpljob *)oj;

	if (tj->id[0])
		tpl_release(tj->id, tj->exclusive);
	if (tj->layer_of[0])
		tpl_release(tj->layer_of, false);
	for (size_t i = 0; i < tj->nprivate; i++)
		free(tj->private[i]);
	tplfs_postinst_free(tj->postinst, tj->npostinst);
	if (tj->changes)
		oj->d->store_gen++;
	json_object_put(tj->cts);
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/*
 * The always-private paths of an import: @list (a JSON array of absolute
 * paths, NULL for the defaults). Replies and returns -1 if it is not one.
 */
static int set_private(struct req *rq, struct tpljob *tj, json_object *list)
{
	size_t n = list ? json_object_array_length(list) : DEFAULT_PRIVATE_N;

	if (n > PRIVATE_MAX) {
		req_reply(rq, tplfs_reply_error(TPLFS_E_BAD_ARGS, EINVAL,
			  "at most %d private paths", PRIVATE_MAX));
		return -1;
	}
	for (size_t i = 0; i < n; i++) {
		json_object *v = list ? json_object_array_get_idx(list, i) : NULL;
		const char *p = list ? json_object_get_string(v) :
				default_private[i];

		if (list && (!json_object_is_type(v, json_type_string) ||
			     !tplfs_manifest_path_valid(p))) {
			req_reply(rq, tplfs_reply_error(TPLFS_E_BAD_ARGS, EINVAL,
				  "\"private\" holds absolute, normal paths: not %s",
				  json_object_to_json_string(v)));
			return -1;
		}
		tj->private[tj->nprivate] = strdup(p);
		if (!tj->private[tj->nprivate]) {
			req_reply(rq, tplfs_reply_error(TPLFS_E_SYSTEM, ENOMEM,
							"out of memory"));
			return -1;
		}
		tj->nprivate++;
	}
	qsort(tj->private, tj->nprivate, sizeof(char *), cmp_str);
	for (size_t i = 1; i < tj->nprivate; i++) {
		if (!strcmp(tj->private[i - 1], tj->private[i])) {
			req_reply(rq, tplfs_reply_error(TPLFS_E_BAD_ARGS, EINVAL,
				  "private path %s given twice", tj->private[i]));
			return -1;
		}
	}
	return 0;
}

/* A job on template @tpl (NULL: the whole store), holding it. */
static struct tpljob *tpljob_new(struct req *rq, const char *tpl,
				 void (*run)(struct job *job), bool exclusive)
{
	struct tplfs_template_id t;
	struct tpljob *tj;
	char err[256];

	if (tpl && tplfs_template_id_parse(tpl, &t, err, sizeof(err))) {
		req_reply(rq, tplfs_reply_error(TPLFS_E_BAD_ARGS, EINVAL, "%s", err));
		return NULL;
	}
	if (tpl && !tpl_acquire(tpl, exclusive)) {
		req_reply(rq, tplfs_reply_error(TPLFS_E_BUSY, EBUSY,
			  "another operation on %s is under way", tpl));
		return NULL;
	}
	tj = opjob_new(rq, sizeof(*tj), run, tpljob_finish);
	if (!tj) {
		if (tpl)
			tpl_release(tpl, exclusive);
		return NULL;
	}
	/* a template being imported is listed as such from now on */
	tj->changes = run == import_run || run == rm_run || run == gc_run;
	if (tj->changes)
		rq->d->store_gen++;
	if (tpl) {
		tj->t = t;
		snprintf(tj->id, sizeof(tj->id), "%s", tpl);
		tj->exclusive = exclusive;
	}
	return tj;
}

static bool absolute(struct req *rq, const char *what, const char *path)
{
	if (path[0] == '/' && strlen(path) < PATH_MAX)
		return true;
	req_reply(rq, tplfs_reply_error(TPLFS_E_BAD_ARGS, EINVAL,
		  "%s: \"%s\" is not an absolute path", what, path));
	return false;
}

/*
 * An application template's base @layer_of: sealed, held until the
 * import ends (so that it cannot go meanwhile). Replies and returns false
 * if it cannot be.
 */
static bool hold_layer_of(struct req *rq, struct tpljob *tj,
			  const char *layer_of)
{
	struct tplfs_template_id t;
	char err[256];

	if (tplfs_template_id_parse(layer_of, &t, err, sizeof(err))) {
		req_reply(rq, tplfs_reply_error(TPLFS_E_BAD_ARGS, EINVAL,
			  "layer_of: %s", err));
		return false;
	}
	if (!strcmp(layer_of, tj->id)) {
		req_reply(rq, tplfs_reply_error(TPLFS_E_BAD_ARGS, EINVAL,
			  "%s cannot be a layer of itself", layer_of));
		return false;
	}
	if (!tpl_acquire(layer_of, false)) {
		req_reply(rq, tplfs_reply_error(TPLFS_E_BUSY, EBUSY,
			  "template %s is being imported or removed", layer_of));
		return false;
	}
	snprintf(tj->layer_of, sizeof(tj->layer_of), "%s", layer_of);
	if (tplfs_template_state(rq->d->store_fd, &t) != TPLFS_TEMPLATE_SEALED) {
		req_reply(rq, tplfs_reply_error(TPLFS_E_NOT_FOUND, ENOENT,
			  "no template %s (sealed)", layer_of));
		return false;
	}
	return true;
}

static void tpljob_drop(struct tpljob *tj)
{
	tpljob_finish(&tj->op);
	free(tj);
}

void tplops_import(struct req *rq, const char *tpl, const char *from,
		   json_object *private, const char *layer_of, bool postinst)
{
	struct tpljob *tj;

	if (!absolute(rq, "from", from))
		return;
	tj = tpljob_new(rq, tpl, import_run, true);
	if (!tj)
		return;
	if (set_private(rq, tj, private) ||
	    (layer_of && !hold_layer_of(rq, tj, layer_of))) {
		tpljob_drop(tj);
		return;
	}
	strcpy(tj->path, from);
	tj->run_postinst = postinst;
	tj->op.what = "walking the tree";
	opjob_submit(&tj->op);
}

void tplops_publish(struct req *rq, const char *tpl, const char *ct_id,
		    const char *layer_of, bool postinst)
{
	const struct ctentry *e = catalog_find(rq->d, ct_id);
	const struct ctstate *ct = ct_find(rq->d, ct_id);
	struct tplfs_ct_paths p = { 0 };
	struct tpljob *tj;

	if (!e || !e->present || !e->conf_ok || !e->conf.template[0]) {
		req_reply(rq, tplfs_reply_error(TPLFS_E_NOT_FOUND, ENOENT,
			  "no container %s made from a template", ct_id));
		return;
	}
	if ((ct && (ct->mounted || ct->busy)) ||
	    tplfs_ct_paths(&rq->d->cfg, ct_id, &p)) {
		req_reply(rq, tplfs_reply_error(TPLFS_E_BUSY, EBUSY,
			  "%s is mounted or busy: publish it unmounted", ct_id));
		return;
	}
	if (e->conf.apps.n || (layer_of && strcmp(layer_of, e->conf.template))) {
		/* its tree is not its template's manifest alone */
		req_reply(rq, tplfs_reply_error(TPLFS_E_BAD_ARGS, EINVAL,
			  e->conf.apps.n ?
			  "%s has application templates: publish a container of its template alone" :
			  "%s is of %s: an application template is published from a container of the template it is a layer of",
			  ct_id, e->conf.template));
		return;
	}
	if (!tplfs_idshift_none(&e->conf.userns)) {
		/* its owners are shifted: a template holds the host's ids */
		req_reply(rq, tplfs_reply_error(TPLFS_E_BAD_ARGS, EINVAL,
			  "%s has its ids shifted (userns %u:%u): publish from a container made without --userns",
			  ct_id, e->conf.userns.base, e->conf.userns.count));
		return;
	}
	tj = tpljob_new(rq, tpl, import_run, true);
	if (!tj)
		return;
	if (layer_of && !hold_layer_of(rq, tj, layer_of)) {
		tpljob_drop(tj);
		return;
	}
	snprintf(tj->base, sizeof(tj->base), "%s", e->conf.template);
	snprintf(tj->from_ct, sizeof(tj->from_ct), "%s", ct_id);
	snprintf(tj->path, sizeof(tj->path), "%s", p.fs);
	tj->stubs = true;
	tj->run_postinst = postinst;
	tj->op.what = "walking the tree";
	opjob_submit(&tj->op);
}

void tplops_export(struct req *rq, const char *tpl, const char *file)
{
	struct tpljob *tj;

	if (!absolute(rq, "file", file))
		return;
	tj = tpljob_new(rq, tpl, export_run, false);
	if (!tj)
		return;
	strcpy(tj->path, file);
	opjob_submit(&tj->op);
}

/*
 * template.list reads every manifest: its reply is kept, as text, until
 * the store or the containers change (an import, rm or gc begins or ends;
 * a container is created or destroyed).
 */
static void list_finish(struct opjob *oj)
{
	struct tpljob *tj = (struct tpljob *)oj;
	struct daemon *d = oj->d;
	json_object *reply;
	const char *text;
	size_t len;

	tpljob_finish(oj);
	if (opjob_failed(oj) || tj->store_gen != d->store_gen ||
	    tj->view_gen != d->view_gen)
		return;
	reply = tplfs_reply_ok(json_object_get(oj->result));
	text = tplfs_msg_text(reply, &len);
	free(d->tpl_list);
	d->tpl_list = text ? malloc(len) : NULL;
	if (d->tpl_list) {
		memcpy(d->tpl_list, text, len);
		d->tpl_list_len = len;
		d->tpl_list_store_gen = tj->store_gen;
		d->tpl_list_view_gen = tj->view_gen;
	}
	json_object_put(reply);
}

void tplops_list(struct req *rq)
{
	struct daemon *d = rq->d;
	struct tpljob *tj;

	if (d->tpl_list && d->tpl_list_store_gen == d->store_gen &&
	    d->tpl_list_view_gen == d->view_gen) {
		req_reply_text(rq, d->tpl_list, d->tpl_list_len);
		return;
	}
	tj = tpljob_new(rq, NULL, list_run, false);
	if (!tj)
		return;
	tj->store_gen = d->store_gen;
	tj->view_gen = d->view_gen;
	tj->op.finish = list_finish;
	tj->op.job.quick = true;
	opjob_submit(&tj->op);
}

void tplops_show(struct req *rq, const char *tpl)
{
	struct daemon *d = rq->d;
	struct tpljob *tj = tpljob_new(rq, tpl, show_run, false);

	if (!tj)
		return;
	/* its containers, from the catalogue (in the loop) */
	tj->cts = json_object_new_array();
	for (size_t i = 0; i < d->ncat; i++)
		if (d->cat[i]->conf_ok && !strcmp(d->cat[i]->conf.template, tpl))
			json_object_array_add(tj->cts,
					      json_object_new_string(d->cat[i]->id));
	tj->op.job.quick = true;
	opjob_submit(&tj->op);
}

void tplops_verify(struct req *rq)
{
	struct tpljob *tj = tpljob_new(rq, NULL, verify_run, false);

	if (tj)
		opjob_submit(&tj->op);
}

void tplops_rm(struct req *rq, const char *tpl)
{
	struct tpljob *tj = tpljob_new(rq, tpl, rm_run, true);

	if (!tj)
		return;
	tj->op.job.quick = true;
	opjob_submit(&tj->op);
}

void tplops_gc(struct req *rq, bool dry_run)
{
	struct tpljob *tj = tpljob_new(rq, NULL, gc_run, false);

	if (!tj)
		return;
	tj->dry_run = dry_run;
	opjob_submit(&tj->op);
}
