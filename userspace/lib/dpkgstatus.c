// SPDX-License-Identifier: LGPL-2.1-or-later
/* Stanza files (dpkg's status, debconf's) merged by stanza: see dpkgstatus.h. */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dpkgstatus.h"
#include "grow.h"

struct stanza {
	char key[256];		/* "package:arch" */
	const char *text;	/* its lines, the last "\n" included */
	size_t len;
};

struct file {
	struct stanza *v;
	size_t n, cap;
};

/* The value of field @name in the stanza @s of @len bytes, trimmed. */
static void field(const char *s, size_t len, const char *name, char *out,
		  size_t outlen)
{
	size_t nlen = strlen(name);
	const char *end = s + len;

	out[0] = '\0';
	for (const char *line = s; line < end;) {
		const char *eol = memchr(line, '\n', (size_t)(end - line));

		if (!eol)
			eol = end;
		if ((size_t)(eol - line) > nlen && !strncasecmp(line, name, nlen) &&
		    line[nlen] == ':') {
			const char *v = line + nlen + 1;
			size_t l;

			while (v < eol && (*v == ' ' || *v == '\t'))
				v++;
			l = (size_t)(eol - v);
			while (l && (v[l - 1] == ' ' || v[l - 1] == '\t' ||
				     v[l - 1] == '\r'))
				l--;
			if (l >= outlen)
				l = outlen - 1;
			memcpy(out, v, l);
			out[l] = '\0';
			return;
		}
		line = eol + 1;
	}
}

static int cmp_stanza(const void *a, const void *b)
{
	return strcmp(((const struct stanza *)a)->key,
		      ((const struct stanza *)b)->key);
}

static int parse(const struct tplfs_stanza_file *sf, const char *buf,
		 size_t len, struct file *f, char *why, size_t whylen)
{
	const char *p = buf, *end = buf + len;

	while (p < end) {
		const char *start, *q;
		char pkg[200], arch[48];
		struct stanza *s;

		while (p < end && *p == '\n')	/* blank lines between */
			p++;
		if (p == end)
			break;
		start = p;
		/* to the first empty line or the end */
		for (q = p; q < end; q++)
			if (*q == '\n' && (q + 1 == end || q[1] == '\n'))
				break;
		p = q < end ? q + 1 : end;
		field(start, (size_t)(p - start), sf->key, pkg, sizeof(pkg));
		arch[0] = '\0';
		if (sf->key2)
			field(start, (size_t)(p - start), sf->key2, arch,
			      sizeof(arch));
		if (!pkg[0]) {
			snprintf(why, whylen, "a stanza without %s:", sf->key);
			return -EINVAL;
		}
		if (tplfs_grow(&f->v, &f->cap, f->n, sizeof(*f->v), 256))
			return -ENOMEM;
		s = &f->v[f->n++];
		snprintf(s->key, sizeof(s->key), "%s:%s", pkg, arch);
		s->text = start;
		s->len = (size_t)(p - start);
	}
	qsort(f->v, f->n, sizeof(*f->v), cmp_stanza);
	for (size_t i = 1; i < f->n; i++)
		if (!strcmp(f->v[i - 1].key, f->v[i].key)) {
			snprintf(why, whylen, "%s %s twice", sf->key, f->v[i].key);
			return -EINVAL;
		}
	return 0;
}

/* Without the final newline(s): a stanza at the end may lack its own. */
static size_t body_len(const struct stanza *s)
{
	size_t l = s->len;

	while (l && s->text[l - 1] == '\n')
		l--;
	return l;
}

static bool same(const struct stanza *a, const struct stanza *b)
{
	if (!a || !b)
		return a == b;
	return body_len(a) == body_len(b) && !memcmp(a->text, b->text, body_len(a));
}

struct outbuf {
	char *p;
	size_t len, cap;
};

static int put(struct outbuf *o, const struct stanza *s)
{
	size_t l = body_len(s);

	if (tplfs_grow(&o->p, &o->cap, o->len + l + 3, 1, 65536))
		return -ENOMEM;
	memcpy(o->p + o->len, s->text, l);
	o->len += l;
	memcpy(o->p + o->len, "\n\n", 2);
	o->len += 2;
	return 0;
}

/* The least key not yet merged of the three files, or NULL at the end. */
static const char *next_key(const struct file *f[3], const size_t pos[3])
{
	const char *min = NULL;

	for (int k = 0; k < 3; k++)
		if (pos[k] < f[k]->n &&
		    (!min || strcmp(f[k]->v[pos[k]].key, min) < 0))
			min = f[k]->v[pos[k]].key;
	return min;
}

static int merge(const struct tplfs_stanza_file *sf, const struct file *f[3],
		 struct outbuf *o, char *why, size_t whylen)
{
	size_t pos[3] = { 0 };
	const char *key;

	while ((key = next_key(f, pos))) {
		const struct stanza *s[3];
		const struct stanza *pick;
		char k[256];
		int ret;

		snprintf(k, sizeof(k), "%s", key);
		for (int i = 0; i < 3; i++) {
			s[i] = pos[i] < f[i]->n && !strcmp(f[i]->v[pos[i]].key, k) ?
			       &f[i]->v[pos[i]++] : NULL;
		}
		/* [0] base, [1] ours, [2] theirs */
		if (same(s[2], s[0]) || same(s[1], s[2]))
			pick = s[1];
		else if (same(s[1], s[0]))
			pick = s[2];
		else {
			snprintf(why, whylen, "%s %s changed in both", sf->key, k);
			return -EAGAIN;
		}
		if (pick && (ret = put(o, pick)))
			return ret;
	}
	return 0;
}

static const struct tplfs_stanza_file stanza_files[] = {
	{ "/var/lib/dpkg/status", "Package", "Architecture" },
	/* debconf's questions and answers (its File driver) */
	{ "/var/cache/debconf/config.dat", "Name", NULL },
	{ "/var/cache/debconf/templates.dat", "Name", NULL },
	{ "/var/cache/debconf/passwords.dat", "Name", NULL },
};

const struct tplfs_stanza_file *tplfs_stanza_file(const char *path)
{
	for (size_t i = 0; i < sizeof(stanza_files) / sizeof(stanza_files[0]); i++)
		if (!strcmp(path, stanza_files[i].path))
			return &stanza_files[i];
	return NULL;
}

size_t tplfs_stanza_files(const struct tplfs_stanza_file **files)
{
	*files = stanza_files;
	return sizeof(stanza_files) / sizeof(stanza_files[0]);
}

int tplfs_dpkg_status_merge(const char *base, size_t base_len,
			    const char *ours, size_t ours_len,
			    const char *theirs, size_t theirs_len,
			    char **out, size_t *outlen, char *why, size_t whylen)
{
	return tplfs_stanza_merge(&stanza_files[0], base, base_len, ours,
				  ours_len, theirs, theirs_len, out, outlen,
				  why, whylen);
}

int tplfs_stanza_merge(const struct tplfs_stanza_file *sf,
		       const char *base, size_t base_len,
		       const char *ours, size_t ours_len,
		       const char *theirs, size_t theirs_len,
		       char **out, size_t *outlen, char *why, size_t whylen)
{
	struct file fb = { 0 }, fo = { 0 }, ft = { 0 };
	struct outbuf o = { 0 };
	int ret;

	why[0] = '\0';
	ret = parse(sf, base, base_len, &fb, why, whylen);
	if (!ret)
		ret = parse(sf, ours, ours_len, &fo, why, whylen);
	if (!ret)
		ret = parse(sf, theirs, theirs_len, &ft, why, whylen);
	if (!ret) {
		const struct file *f[3] = { &fb, &fo, &ft };

		ret = merge(sf, f, &o, why, whylen);
	}
	free(fb.v);
	free(fo.v);
	free(ft.v);
	if (ret) {
		free(o.p);
		return ret;
	}
	if (!o.p && !(o.p = malloc(1)))
		return -ENOMEM;
	*out = o.p;
	*outlen = o.len;
	return 0;
}
