// SPDX-License-Identifier: LGPL-2.1-or-later
/* The template manifest: see manifest.h and doc/manifest.md. */
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "grow.h"
#include "manifest.h"

#define MAGIC		"tplfs-manifest"

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

static bool plain_byte(unsigned char c)
{
	return c >= 0x21 && c <= 0x7e && c != '%';
}

char *tplfs_manifest_escape(const void *in, size_t len)
{
	const unsigned char *p = in;
	char *out = malloc(3 * len + 1), *o = out;

	if (!out)
		return NULL;
	for (size_t i = 0; i < len; i++) {
		if (plain_byte(p[i])) {
			*o++ = (char)p[i];
		} else {
			*o++ = '%';
			*o++ = "0123456789ABCDEF"[p[i] >> 4];
			*o++ = "0123456789ABCDEF"[p[i] & 15];
		}
	}
	*o = '\0';
	return out;
}

/* An upper-case hex digit's value (the escaping is unique), else -1. */
static int upper_hexval(char c)
{
	return (c >= 'a' && c <= 'f') ? -1 : hexval(c);
}

char *tplfs_manifest_unescape(const char *in, size_t *len)
{
	size_t n = strlen(in), o = 0;
	char *out = malloc(n + 1);

	if (!out)
		return NULL;
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)in[i];
		int hi, lo;

		if (plain_byte(c)) {
			out[o++] = (char)c;
			continue;
		}
		if (c != '%' || i + 2 >= n)
			goto bad;
		hi = upper_hexval(in[i + 1]);
		lo = upper_hexval(in[i + 2]);
		/* a plain byte must not be escaped: one tree, one manifest */
		if (hi < 0 || lo < 0 || plain_byte((unsigned char)(hi << 4 | lo)))
			goto bad;
		out[o++] = (char)(hi << 4 | lo);
		i += 2;
	}
	out[o] = '\0';
	*len = o;
	return out;
bad:
	free(out);
	errno = EINVAL;
	return NULL;
}

bool tplfs_manifest_path_valid(const char *path)
{
	const char *p = path;

	if (path[0] != '/')
		return false;
	if (!strcmp(path, "/"))
		return true;
	while (*p == '/') {
		const char *end = strchr(p + 1, '/');
		size_t len = end ? (size_t)(end - p - 1) : strlen(p + 1);

		if (len == 0 || (len == 1 && p[1] == '.') ||
		    (len == 2 && p[1] == '.' && p[2] == '.'))
			return false;
		if (!end)
			return true;
		p = end;
	}
	return false;
}

/* Raw byte order of two paths (the manifest's sort order). */
static int path_cmp(const char *a, const char *b)
{
	return strcmp(a, b);	/* strcmp compares as unsigned char */
}

static bool type_valid(char t, bool layer)
{
	return t && (strchr("dflcbph", t) || (layer && t == '-'));
}

/* A template id as the header holds it: NAME@VERSION, no space or LF. */
static bool header_id_valid(const char *id)
{
	return strchr(id, '@') && !strchr(id, ' ') && !strchr(id, '\n') &&
	       strlen(id) < 256;
}

/* --- writer --------------------------------------------------------------- */

struct tplfs_mwriter {
	FILE *f;
	char *prev;
	uint64_t count;
	int err;
	bool layer;	/* version 2: a layer of another version */
};

static void put_escaped(struct tplfs_mwriter *w, const void *s, size_t len)
{
	char *e = tplfs_manifest_escape(s, len);

	if (!e) {
		w->err = -ENOMEM;
		return;
	}
	fputs(e, w->f);
	free(e);
}

static int writer_open(FILE *f, const char *id, const char *layer_of,
		       const char *const *private, size_t nprivate,
		       struct tplfs_mwriter **wp)
{
	struct tplfs_mwriter *w;

	if (!header_id_valid(id) ||
	    (layer_of && (!header_id_valid(layer_of) || !strcmp(id, layer_of))))
		return -EINVAL;
	for (size_t i = 0; i < nprivate; i++)
		if (!tplfs_manifest_path_valid(private[i]) ||
		    (i && path_cmp(private[i - 1], private[i]) >= 0))
			return -EINVAL;
	w = calloc(1, sizeof(*w));
	if (!w)
		return -ENOMEM;
	w->f = f;
	w->layer = layer_of;
	fprintf(f, MAGIC " %d\ntemplate %s\n", layer_of ?
		TPLFS_MANIFEST_LAYER_VERSION : TPLFS_MANIFEST_VERSION, id);
	if (layer_of)
		fprintf(f, "layer-of %s\n", layer_of);
	for (size_t i = 0; i < nprivate; i++) {
		fputs("private ", f);
		put_escaped(w, private[i], strlen(private[i]));
		fputc('\n', f);
	}
	*wp = w;
	return w->err;
}

int tplfs_mwriter_open(FILE *f, const char *id, const char *const *private,
		       size_t nprivate, struct tplfs_mwriter **wp)
{
	return writer_open(f, id, NULL, private, nprivate, wp);
}

int tplfs_mwriter_open_layer(FILE *f, const char *id, const char *layer_of,
			     const char *const *private, size_t nprivate,
			     struct tplfs_mwriter **wp)
{
	return writer_open(f, id, layer_of, private, nprivate, wp);
}

static bool entry_valid(const struct tplfs_mentry *e, const char *prev,
			bool layer)
{
	if (!tplfs_manifest_path_valid(e->path) || !type_valid(e->type, layer))
		return false;
	if (prev ? path_cmp(prev, e->path) >= 0 :
	    !layer && (strcmp(e->path, "/") || e->type != 'd'))
		return false;
	if (e->type == '-')
		return strcmp(e->path, "/") != 0;
	if (e->type == 'h')
		return e->target && tplfs_manifest_path_valid(e->target) &&
		       path_cmp(e->target, e->path) < 0;
	if (e->mode > 07777 || e->mtime_nsec >= 1000000000)
		return false;
	if (e->type == 'l' && (!e->target || !*e->target))
		return false;
	for (size_t i = 0; i < e->nxattrs; i++)
		if (!e->xattrs[i].name[0] ||
		    (i && strcmp(e->xattrs[i - 1].name, e->xattrs[i].name) >= 0))
			return false;
	return true;
}

bool tplfs_manifest_pkg_valid(const char *pkg)
{
	const char *colon = strchr(pkg, ':');
	size_t len = colon ? (size_t)(colon - pkg) : strlen(pkg);

	/* Debian's package names, and a Multi-Arch: same one's :ARCH */
	if (len < 2 || len > 128 || !((*pkg >= 'a' && *pkg <= 'z') ||
				      (*pkg >= '0' && *pkg <= '9')))
		return false;
	for (size_t i = 1; i < len; i++)
		if (!strchr("abcdefghijklmnopqrstuvwxyz0123456789+.-", pkg[i]) ||
		    !pkg[i])
			return false;
	if (!colon)
		return true;
	if (!colon[1] || strlen(colon + 1) > 32)
		return false;
	for (const char *a = colon + 1; *a; a++)
		if (!strchr("abcdefghijklmnopqrstuvwxyz0123456789-", *a))
			return false;
	return true;
}

int tplfs_mwriter_postinst(struct tplfs_mwriter *w, const char *pkg)
{
	if (w->err)
		return w->err;
	if (!w->layer || w->count || !tplfs_manifest_pkg_valid(pkg))
		return -EINVAL;
	fprintf(w->f, "postinst %s\n", pkg);
	return 0;
}

int tplfs_mwriter_add(struct tplfs_mwriter *w, const struct tplfs_mentry *e)
{
	FILE *f = w->f;

	if (w->err)
		return w->err;
	if (!entry_valid(e, w->prev, w->layer))
		return -EINVAL;
	put_escaped(w, e->path, strlen(e->path));
	fprintf(f, " %c", e->type);
	if (e->type == '-')
		goto done;
	if (e->type == 'h') {
		fputc(' ', f);
		put_escaped(w, e->target, strlen(e->target));
		goto done;
	}
	fprintf(f, " %04o %" PRIu32 " %" PRIu32 " %" PRId64 ".%09" PRIu32,
		e->mode, e->uid, e->gid, e->mtime_sec, e->mtime_nsec);
	switch (e->type) {
	case 'f':
		fprintf(f, " %" PRIu64 " ", e->size);
		for (int i = 0; i < TPLFS_DIGEST_SIZE; i++)
			fprintf(f, "%02x", e->digest[i]);
		break;
	case 'l':
		fputc(' ', f);
		put_escaped(w, e->target, strlen(e->target));
		break;
	case 'c':
	case 'b':
		fprintf(f, " %" PRIu32 ":%" PRIu32, e->major, e->minor);
		break;
	}
	for (size_t i = 0; i < e->nxattrs; i++) {
		const struct tplfs_xattr *x = &e->xattrs[i];

		fputs(" x:", f);
		put_escaped(w, x->name, strlen(x->name));
		fputc('=', f);
		for (size_t j = 0; j < x->len; j++)
			fprintf(f, "%02x", x->value[j]);
	}
done:
	fputc('\n', f);
	free(w->prev);
	w->prev = strdup(e->path);
	if (!w->prev)
		w->err = -ENOMEM;
	w->count++;
	if (ferror(f))
		w->err = -EIO;
	return w->err;
}

int tplfs_mwriter_close(struct tplfs_mwriter *w)
{
	int err = w->err;

	if (!err && !w->count)
		err = -EINVAL;	/* no root entry */
	if (!err) {
		fprintf(w->f, "end %" PRIu64 "\n", w->count);
		if (fflush(w->f) || ferror(w->f))
			err = -EIO;
	}
	free(w->prev);
	free(w);
	return err;
}

/* --- reader --------------------------------------------------------------- */

/* Paths added in sorted order, looked up by bisection. */
struct pathset {
	char **v;
	size_t n, cap;
};

static int pathset_add(struct pathset *set, const char *path)
{
	if (tplfs_grow(&set->v, &set->cap, set->n, sizeof(*set->v), 64))
		return -ENOMEM;
	set->v[set->n] = strdup(path);
	if (!set->v[set->n])
		return -ENOMEM;
	set->n++;
	return 0;
}

static bool pathset_has(const struct pathset *set, const char *path)
{
	size_t lo = 0, hi = set->n;

	while (lo < hi) {
		size_t mid = (lo + hi) / 2;
		int c = path_cmp(set->v[mid], path);

		if (!c)
			return true;
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return false;
}

static void pathset_free(struct pathset *set)
{
	for (size_t i = 0; i < set->n; i++)
		free(set->v[i]);
	free(set->v);
}

/* Is the directory holding @path (not "/") an earlier directory entry? */
static bool parent_is_dir(const struct pathset *dirs, char *path)
{
	char *slash = strrchr(path, '/');
	bool ok;

	if (slash == path)
		return pathset_has(dirs, "/");
	*slash = '\0';
	ok = pathset_has(dirs, path);
	*slash = '/';
	return ok;
}

struct tplfs_mreader {
	FILE *f;
	unsigned long lineno;
	char *line;
	size_t cap;
	char template[256];
	char layer_of[256];	/* version 2; empty in version 1 */
	char **private;
	size_t nprivate;
	char **postinst;	/* a layer's packages to configure, in order */
	size_t npostinst;
	bool ended;
	uint64_t count;
	char *prev;
	/* paths seen, in order: what hard links may name, what may hold entries */
	struct pathset files;
	struct pathset dirs;
	/* the current entry's storage, and the line's fields */
	struct tplfs_mentry cur;
	size_t capx;
	char **tok;
	size_t ntok, captok;
};

static int fail(struct tplfs_mreader *r, char *err, size_t errlen,
		const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

static int fail(struct tplfs_mreader *r, char *err, size_t errlen,
		const char *fmt, ...)
{
	int n = snprintf(err, errlen, "manifest line %lu: ", r->lineno);

	if (n >= 0 && (size_t)n < errlen) {
		va_list ap;

		va_start(ap, fmt);
		vsnprintf(err + n, errlen - (size_t)n, fmt, ap);
		va_end(ap);
	}
	return -EINVAL;
}

/* The next line without its LF; NULL at end of file or on a short line. */
static char *next_line(struct tplfs_mreader *r, bool *eof)
{
	ssize_t n = getline(&r->line, &r->cap, r->f);

	*eof = n < 0;
	if (n < 0)
		return NULL;
	r->lineno++;
	if (n == 0 || r->line[n - 1] != '\n' || (size_t)n != strlen(r->line))
		return NULL;	/* no LF (cut short), or a NUL byte */
	r->line[n - 1] = '\0';
	return r->line;
}

static bool parse_u32(const char *s, int base, uint32_t *out)
{
	char *end;
	unsigned long v;

	if (!*s || *s == '-' || *s == '+' || *s == ' ')
		return false;
	errno = 0;
	v = strtoul(s, &end, base);
	if (errno || *end || v > UINT32_MAX)
		return false;
	*out = (uint32_t)v;
	return true;
}

static bool parse_u64(const char *s, uint64_t *out)
{
	char *end;

	if (!*s || *s == '-' || *s == '+' || *s == ' ')
		return false;
	errno = 0;
	*out = strtoull(s, &end, 10);
	return !errno && !*end;
}

static bool parse_mtime(const char *s, int64_t *sec, uint32_t *nsec)
{
	const char *dot = strchr(s, '.');
	char buf[32], *end;
	long long v;

	if (!dot || (size_t)(dot - s) >= sizeof(buf) || strlen(dot + 1) != 9)
		return false;
	memcpy(buf, s, (size_t)(dot - s));
	buf[dot - s] = '\0';
	if (!buf[0] || buf[0] == '+' || buf[0] == ' ')
		return false;
	errno = 0;
	v = strtoll(buf, &end, 10);
	if (errno || *end)
		return false;
	for (const char *p = dot + 1; *p; p++)
		if (*p < '0' || *p > '9')
			return false;
	*sec = v;
	*nsec = (uint32_t)strtoul(dot + 1, NULL, 10);
	return true;
}

/* An escaped path or target field; NULL if malformed (or has a NUL). */
static char *unescape_str(const char *field)
{
	size_t len;
	char *s = tplfs_manifest_unescape(field, &len);

	if (s && strlen(s) != len) {
		free(s);
		return NULL;
	}
	return s;
}

int tplfs_mreader_open(FILE *f, struct tplfs_mreader **rp, char *err,
		       size_t errlen)
{
	struct tplfs_mreader *r = calloc(1, sizeof(*r));
	char *line, want[32];
	bool eof, layer;
	int ret;

	if (!r)
		return -ENOMEM;
	r->f = f;
	line = next_line(r, &eof);
	if (!line || strncmp(line, MAGIC " ", strlen(MAGIC) + 1)) {
		ret = fail(r, err, errlen, "not a tplfs manifest");
		goto out;
	}
	snprintf(want, sizeof(want), MAGIC " %d", TPLFS_MANIFEST_LAYER_VERSION);
	layer = !strcmp(line, want);
	snprintf(want, sizeof(want), MAGIC " %d", TPLFS_MANIFEST_VERSION);
	if (!layer && strcmp(line, want)) {
		ret = fail(r, err, errlen, "format version %s is not supported (only %d and %d)",
			   line + strlen(MAGIC) + 1, TPLFS_MANIFEST_VERSION,
			   TPLFS_MANIFEST_LAYER_VERSION);
		goto out;
	}
	line = next_line(r, &eof);
	if (!line || strncmp(line, "template ", 9) || !header_id_valid(line + 9)) {
		ret = fail(r, err, errlen, "expected \"template NAME@VERSION\"");
		goto out;
	}
	strcpy(r->template, line + 9);
	if (layer) {
		line = next_line(r, &eof);
		if (!line || strncmp(line, "layer-of ", 9) ||
		    !header_id_valid(line + 9) || !strcmp(line + 9, r->template)) {
			ret = fail(r, err, errlen,
				   "expected \"layer-of NAME@VERSION\" (another version)");
			goto out;
		}
		strcpy(r->layer_of, line + 9);
	}
	*rp = r;
	return 0;
out:
	tplfs_mreader_close(r);
	return ret;
}

const char *tplfs_mreader_layer_of(const struct tplfs_mreader *r)
{
	return r->layer_of[0] ? r->layer_of : NULL;
}

const char *tplfs_mreader_template(const struct tplfs_mreader *r)
{
	return r->template;
}

size_t tplfs_mreader_nprivate(const struct tplfs_mreader *r)
{
	return r->nprivate;
}

const char *tplfs_mreader_private(const struct tplfs_mreader *r, size_t i)
{
	return i < r->nprivate ? r->private[i] : NULL;
}

size_t tplfs_mreader_npostinst(const struct tplfs_mreader *r)
{
	return r->npostinst;
}

const char *tplfs_mreader_postinst(const struct tplfs_mreader *r, size_t i)
{
	return i < r->npostinst ? r->postinst[i] : NULL;
}

static void clear_cur(struct tplfs_mreader *r)
{
	struct tplfs_mentry *e = &r->cur;

	free(e->path);
	free(e->target);
	for (size_t i = 0; i < e->nxattrs; i++) {
		free(e->xattrs[i].name);
		free(e->xattrs[i].value);
	}
	e->path = NULL;
	e->target = NULL;
	e->nxattrs = 0;
}


static int parse_xattr(struct tplfs_mreader *r, const char *tok)
{
	struct tplfs_mentry *e = &r->cur;
	const char *eq = strrchr(tok, '=');	/* the value is hex: no = */
	struct tplfs_xattr *x;
	size_t hexlen;
	char *name, *raw;

	if (strncmp(tok, "x:", 2) || !eq)
		return -1;
	name = strndup(tok + 2, (size_t)(eq - tok - 2));
	if (!name)
		return -1;
	raw = unescape_str(name);
	free(name);
	name = raw;
	if (!name || !name[0])
		goto bad;
	if (e->nxattrs && strcmp(e->xattrs[e->nxattrs - 1].name, name) >= 0)
		goto bad;	/* sorted, unique */
	hexlen = strlen(eq + 1);
	if (hexlen % 2)
		goto bad;
	if (tplfs_grow(&e->xattrs, &r->capx, e->nxattrs, sizeof(*e->xattrs), 4))
		goto bad;
	x = &e->xattrs[e->nxattrs];
	x->name = name;
	x->len = hexlen / 2;
	x->value = malloc(x->len + 1);
	if (!x->value)
		goto bad;
	for (size_t i = 0; i < x->len; i++) {
		int hi = hexval(eq[1 + 2 * i]), lo = hexval(eq[2 + 2 * i]);

		if (hi < 0 || lo < 0 || (eq[1 + 2 * i] >= 'A' && eq[1 + 2 * i] <= 'F') ||
		    (eq[2 + 2 * i] >= 'A' && eq[2 + 2 * i] <= 'F')) {
			free(x->value);
			goto bad;
		}
		x->value[i] = (uint8_t)(hi << 4 | lo);
	}
	e->nxattrs++;
	return 0;
bad:
	free(name);
	return -1;
}

static int parse_header_private(struct tplfs_mreader *r, const char *field,
				char *err, size_t errlen)
{
	char *p = unescape_str(field), **n;

	if (!p || !tplfs_manifest_path_valid(p) ||
	    (r->nprivate && path_cmp(r->private[r->nprivate - 1], p) >= 0)) {
		free(p);
		return fail(r, err, errlen, "bad private path (valid, sorted, unique)");
	}
	n = realloc(r->private, (r->nprivate + 1) * sizeof(*n));
	if (!n) {
		free(p);
		return -ENOMEM;
	}
	r->private = n;
	r->private[r->nprivate++] = p;
	return 0;
}

int tplfs_mreader_copy_names(const struct tplfs_mreader *r,
			     size_t (*count)(const struct tplfs_mreader *r),
			     const char *(*get)(const struct tplfs_mreader *r,
						size_t i),
			     char ***v, size_t *n)
{
	size_t want = count(r);

	if (!want)
		return 0;
	*v = calloc(want, sizeof(char *));
	if (!*v)
		return -ENOMEM;
	for (size_t i = 0; i < want; i++) {
		(*v)[i] = strdup(get(r, i));
		if (!(*v)[i])
			return -ENOMEM;
		(*n)++;
	}
	return 0;
}

static int parse_header_postinst(struct tplfs_mreader *r, const char *pkg,
				 char *err, size_t errlen)
{
	char **n;

	if (!r->layer_of[0])
		return fail(r, err, errlen, "postinst in a manifest that is not a layer");
	if (!tplfs_manifest_pkg_valid(pkg))
		return fail(r, err, errlen, "bad postinst package name");
	for (size_t i = 0; i < r->npostinst; i++)
		if (!strcmp(r->postinst[i], pkg))
			return fail(r, err, errlen, "postinst %s twice", pkg);
	n = realloc(r->postinst, (r->npostinst + 1) * sizeof(*n));
	if (!n)
		return -ENOMEM;
	r->postinst = n;
	r->postinst[r->npostinst] = strdup(pkg);
	if (!r->postinst[r->npostinst])
		return -ENOMEM;
	r->npostinst++;
	return 0;
}

/* Split @line at single spaces into r->tok; -1 on an empty field. */
static int split(struct tplfs_mreader *r, char *line)
{
	r->ntok = 0;
	for (char *p = line; p; ) {
		char *sp = strchr(p, ' ');

		if (sp)
			*sp = '\0';
		if (!*p)
			return -1;
		if (tplfs_grow(&r->tok, &r->captok, r->ntok, sizeof(*r->tok), 16))
			return -1;
		r->tok[r->ntok++] = p;
		p = sp ? sp + 1 : NULL;
	}
	return 0;
}

static bool parse_digest(const char *hex, uint8_t *digest)
{
	if (strlen(hex) != TPLFS_DIGEST_HEX_SIZE)
		return false;
	for (int i = 0; i < TPLFS_DIGEST_SIZE; i++) {
		char a = hex[2 * i], b = hex[2 * i + 1];

		if (hexval(a) < 0 || hexval(b) < 0 || (a >= 'A' && a <= 'F') ||
		    (b >= 'A' && b <= 'F'))
			return false;
		digest[i] = (uint8_t)(hexval(a) << 4 | hexval(b));
	}
	return true;
}

/* The fields after "PATH TYPE MODE UID GID MTIME" of each type. */
static int type_fields(char type)
{
	return type == 'f' ? 2 : strchr("lcb", type) ? 1 : 0;
}

static int parse_entry(struct tplfs_mreader *r, char *err, size_t errlen)
{
	struct tplfs_mentry *e = &r->cur;
	char **tok = r->tok;
	size_t fixed;

	bool layer = r->layer_of[0];

	if (r->ntok < 2 || strlen(tok[1]) != 1 || !type_valid(tok[1][0], layer))
		return fail(r, err, errlen, "expected \"PATH TYPE ...\"");
	e->type = tok[1][0];
	e->path = unescape_str(tok[0]);
	if (!e->path || !tplfs_manifest_path_valid(e->path))
		return fail(r, err, errlen, "bad path");
	if (r->prev ? path_cmp(r->prev, e->path) >= 0 :
	    !layer && (strcmp(e->path, "/") || e->type != 'd'))
		return fail(r, err, errlen, r->prev ?
			    "entries out of order or repeated" :
			    "the first entry must be the directory /");
	/* a layer's parents are its base's: checked when it is applied */
	if (!layer && r->prev && !parent_is_dir(&r->dirs, e->path))
		return fail(r, err, errlen,
			    "its parent is not a directory entry seen before");
	if (e->type == '-') {
		if (r->ntok != 2 || !strcmp(e->path, "/"))
			return fail(r, err, errlen,
				    "a deletion is \"PATH -\", not of /");
		return 0;
	}
	if (e->type == 'h') {
		if (r->ntok != 3)
			return fail(r, err, errlen, "a hard link is \"PATH h TARGETPATH\"");
		e->target = unescape_str(tok[2]);
		if (!e->target || !pathset_has(&r->files, e->target))
			return fail(r, err, errlen,
				    "hard link to a path that is not an earlier regular file");
		return 0;
	}
	fixed = 6 + (size_t)type_fields(e->type);
	if (r->ntok < fixed)
		return fail(r, err, errlen, "too few fields for type %c", e->type);
	if (strlen(tok[2]) != 4 || !parse_u32(tok[2], 8, &e->mode) ||
	    e->mode > 07777 || !parse_u32(tok[3], 10, &e->uid) ||
	    !parse_u32(tok[4], 10, &e->gid) ||
	    !parse_mtime(tok[5], &e->mtime_sec, &e->mtime_nsec))
		return fail(r, err, errlen, "bad mode, owner or time");
	switch (e->type) {
	case 'f':
		if (!parse_u64(tok[6], &e->size) || !parse_digest(tok[7], e->digest))
			return fail(r, err, errlen, "bad size or digest");
		break;
	case 'l':
		e->target = unescape_str(tok[6]);
		if (!e->target || !*e->target)
			return fail(r, err, errlen, "bad symlink target");
		break;
	case 'c':
	case 'b': {
		char *colon = strchr(tok[6], ':');

		if (!colon)
			return fail(r, err, errlen, "bad device number");
		*colon = '\0';
		if (!parse_u32(tok[6], 10, &e->major) ||
		    !parse_u32(colon + 1, 10, &e->minor))
			return fail(r, err, errlen, "bad device number");
		break;
	}
	}
	for (size_t i = fixed; i < r->ntok; i++)
		if (parse_xattr(r, tok[i]))
			return fail(r, err, errlen,
				    "bad xattr (x:NAME=HEX, sorted, unique)");
	return 0;
}

static int remember(struct tplfs_mreader *r)
{
	const struct tplfs_mentry *e = &r->cur;

	if ((e->type == 'f' && pathset_add(&r->files, e->path)) ||
	    (e->type == 'd' && pathset_add(&r->dirs, e->path)))
		return -ENOMEM;
	free(r->prev);
	r->prev = strdup(e->path);
	if (!r->prev)
		return -ENOMEM;
	r->count++;
	return 0;
}

int tplfs_mreader_next(struct tplfs_mreader *r, struct tplfs_mentry *out,
		       char *err, size_t errlen)
{
	char *line;
	bool eof;
	int ret;

	clear_cur(r);
	for (;;) {
		line = next_line(r, &eof);
		if (r->ended) {
			if (!eof)
				return fail(r, err, errlen, "data after the end line");
			return 0;
		}
		if (!line)
			return fail(r, err, errlen, eof ?
				    "no end line: the manifest is cut short" :
				    "line without its line feed, or with a NUL byte");
		if (!strncmp(line, "postinst ", 9)) {
			if (r->count)
				return fail(r, err, errlen, "postinst after the entries");
			ret = parse_header_postinst(r, line + 9, err, errlen);
			if (ret)
				return ret;
			continue;
		}
		if (strncmp(line, "private ", 8))
			break;
		if (r->count || r->npostinst)
			return fail(r, err, errlen, r->count ?
				    "private after the entries" :
				    "private after postinst");
		ret = parse_header_private(r, line + 8, err, errlen);
		if (ret)
			return ret;
	}
	if (!strncmp(line, "end ", 4)) {
		uint64_t n;

		if (!parse_u64(line + 4, &n) || n != r->count)
			return fail(r, err, errlen,
				    "end line says %s entries, saw %" PRIu64,
				    line + 4, r->count);
		if (!r->count)
			return fail(r, err, errlen, "no entries");
		r->ended = true;
		return tplfs_mreader_next(r, out, err, errlen);
	}
	if (split(r, line))
		return fail(r, err, errlen, "empty field (fields are one space apart)");
	ret = parse_entry(r, err, errlen);
	if (!ret)
		ret = remember(r);
	if (ret)
		return ret;
	*out = r->cur;
	return 1;
}

void tplfs_mreader_close(struct tplfs_mreader *r)
{
	if (!r)
		return;
	clear_cur(r);
	free(r->cur.xattrs);
	for (size_t i = 0; i < r->nprivate; i++)
		free(r->private[i]);
	free(r->private);
	for (size_t i = 0; i < r->npostinst; i++)
		free(r->postinst[i]);
	free(r->postinst);
	pathset_free(&r->files);
	pathset_free(&r->dirs);
	free(r->prev);
	free(r->line);
	free(r->tok);
	free(r);
}

void tplfs_mentry_free(struct tplfs_mentry *e)
{
	for (size_t i = 0; i < e->nxattrs; i++) {
		free(e->xattrs[i].name);
		free(e->xattrs[i].value);
	}
	free(e->xattrs);
	free(e->path);
	free(e->target);
	e->xattrs = NULL;
	e->nxattrs = 0;
	e->path = e->target = NULL;
}

int tplfs_mentry_copy(struct tplfs_mentry *out, const struct tplfs_mentry *in)
{
	*out = *in;
	out->xattrs = NULL;
	out->nxattrs = 0;
	out->target = NULL;
	out->path = strdup(in->path);
	if (!out->path)
		return -ENOMEM;
	if (in->target && !(out->target = strdup(in->target)))
		goto nomem;
	if (!in->nxattrs)
		return 0;
	out->xattrs = calloc(in->nxattrs, sizeof(*out->xattrs));
	if (!out->xattrs)
		goto nomem;
	for (size_t i = 0; i < in->nxattrs; i++) {
		struct tplfs_xattr *x = &out->xattrs[i];

		out->nxattrs++;
		x->len = in->xattrs[i].len;
		x->name = strdup(in->xattrs[i].name);
		x->value = malloc(x->len ? x->len : 1);
		if (!x->name || !x->value)
			goto nomem;
		memcpy(x->value, in->xattrs[i].value, x->len);
	}
	return 0;
nomem:
	tplfs_mentry_free(out);
	return -ENOMEM;
}
