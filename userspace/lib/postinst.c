// SPDX-License-Identifier: LGPL-2.1-or-later
/* The packages whose postinst an app template runs: see postinst.h. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "grow.h"
#include "manifest.h"
#include "postinst.h"

struct pkg {
	char *name;	/* PKG or PKG:ARCH, as its info files are named */
	char *bare;	/* PKG */
	char *deps;	/* Depends and Pre-Depends, as written */
	bool done;
};

struct pkgs {
	struct pkg *v;
	size_t n, cap;
};

/* The value of field @key in the stanza @s (@len bytes), continuation lines
 * joined with spaces; malloc'd, NULL if absent (or no memory: *@nomem). */
static char *field(const char *s, size_t len, const char *key, bool *nomem)
{
	size_t klen = strlen(key);
	const char *end = s + len, *p = s;

	while (p < end) {
		const char *eol = memchr(p, '\n', (size_t)(end - p));
		const char *next = eol ? eol + 1 : end;

		if ((size_t)(end - p) > klen && !strncmp(p, key, klen) &&
		    p[klen] == ':') {
			const char *v = p + klen + 1, *q;
			size_t cap = 0, used = 0;
			char *out = NULL;

			for (q = next; q < end && (*q == ' ' || *q == '\t'); ) {
				const char *e2 = memchr(q, '\n', (size_t)(end - q));

				q = e2 ? e2 + 1 : end;
			}
			/* from after "Key:" to the end of its last line */
			cap = (size_t)(q - v) + 1;
			out = malloc(cap);
			if (!out) {
				*nomem = true;
				return NULL;
			}
			for (const char *c = v; c < q; c++)
				out[used++] = *c == '\n' || *c == '\t' ? ' ' : *c;
			while (used && out[used - 1] == ' ')
				used--;
			out[used] = '\0';
			v = out;
			while (*v == ' ')
				v++;
			memmove(out, v, strlen(v) + 1);
			return out;
		}
		p = next;
	}
	return NULL;
}

/* Calls @fn on each stanza of @text; stops at its first non-zero. */
static int each_stanza(const char *text, size_t len,
		       int (*fn)(void *arg, const char *s, size_t n), void *arg)
{
	const char *p = text, *end = text + len;

	while (p < end) {
		const char *q = p;

		while (q < end) {
			const char *eol = memchr(q, '\n', (size_t)(end - q));

			if (!eol) {
				q = end;
				break;
			}
			if (eol == q)	/* an empty line ends the stanza */
				break;
			q = eol + 1;
		}
		if (q > p) {
			int ret = fn(arg, p, (size_t)(q - p));

			if (ret)
				return ret;
		}
		p = q < end ? q + 1 : end;
	}
	return 0;
}

struct collect {
	const char *base;
	size_t base_len;
	bool (*has_postinst)(void *arg, const char *name);
	void *arg;
	struct pkgs *pkgs;
	char *err;
	size_t errlen;
};

/* The fields of a stanza this reads (NULL: absent). */
struct stanza {
	char *pkg, *arch, *status, *multi_arch, *depends, *pre_depends;
};

static void stanza_free(struct stanza *st)
{
	free(st->pkg);
	free(st->arch);
	free(st->status);
	free(st->multi_arch);
	free(st->depends);
	free(st->pre_depends);
}

/* 0 or -ENOMEM (then nothing to free). */
static int stanza_read(const char *s, size_t n, struct stanza *st)
{
	bool nomem = false;

	st->pkg = field(s, n, "Package", &nomem);
	st->arch = field(s, n, "Architecture", &nomem);
	st->status = field(s, n, "Status", &nomem);
	st->multi_arch = field(s, n, "Multi-Arch", &nomem);
	st->depends = field(s, n, "Depends", &nomem);
	st->pre_depends = field(s, n, "Pre-Depends", &nomem);
	if (nomem)
		stanza_free(st);
	return nomem ? -ENOMEM : 0;
}

static bool installed(const struct stanza *st)
{
	return st->status && !strcmp(st->status, "install ok installed");
}

struct find {
	const char *pkg, *arch;
	bool found;
};

static int find_in_base(void *arg, const char *s, size_t n)
{
	struct find *f = arg;
	struct stanza st;

	if (stanza_read(s, n, &st))
		return -ENOMEM;
	if (st.pkg && !strcmp(st.pkg, f->pkg) &&
	    (!st.arch || !f->arch || !strcmp(st.arch, f->arch)) && installed(&st))
		f->found = true;
	stanza_free(&st);
	return f->found;
}

static int collect_one(void *arg, const char *s, size_t n)
{
	struct collect *c = arg;
	struct stanza st;
	struct find f;
	bool same;
	char name[300];
	int ret = 0;

	if (stanza_read(s, n, &st))
		return -ENOMEM;
	f = (struct find){ .pkg = st.pkg, .arch = st.arch };
	same = st.multi_arch && !strcmp(st.multi_arch, "same") && st.arch;
	if (!st.pkg) {
		snprintf(c->err, c->errlen, "dpkg status: a stanza without Package");
		ret = -EINVAL;
		goto out;
	}
	if (!installed(&st))
		goto out;
	ret = each_stanza(c->base, c->base_len, find_in_base, &f);
	if (ret < 0 || f.found) {
		ret = ret < 0 ? ret : 0;
		goto out;
	}
	snprintf(name, sizeof(name), "%s%s%s", st.pkg, same ? ":" : "",
		 same ? st.arch : "");
	if (!tplfs_manifest_pkg_valid(name)) {
		snprintf(c->err, c->errlen, "dpkg status: bad package name %.64s", name);
		ret = -EINVAL;
		goto out;
	}
	if (!c->has_postinst(c->arg, name))
		goto out;
	if (tplfs_grow(&c->pkgs->v, &c->pkgs->cap, c->pkgs->n,
		       sizeof(*c->pkgs->v), 16)) {
		ret = -ENOMEM;
		goto out;
	}
	{
		struct pkg *p = &c->pkgs->v[c->pkgs->n];
		const char *dep = st.depends ? st.depends : "";
		const char *pre = st.pre_depends ? st.pre_depends : "";
		size_t dl = strlen(dep) + strlen(pre) + 2;

		memset(p, 0, sizeof(*p));
		p->name = strdup(name);
		p->bare = strdup(st.pkg);
		p->deps = malloc(dl);
		if (!p->name || !p->bare || !p->deps) {
			free(p->name);
			free(p->bare);
			free(p->deps);
			ret = -ENOMEM;
			goto out;
		}
		snprintf(p->deps, dl, "%s,%s", dep, pre);
		c->pkgs->n++;
	}
out:
	stanza_free(&st);
	return ret;
}

/* Does the dependency list @deps name package @bare (any alternative)? */
static bool depends_on(const char *deps, const char *bare)
{
	size_t blen = strlen(bare);

	for (const char *p = deps; *p; ) {
		size_t skip = strspn(p, " ,|"), len;

		p += skip;
		len = strcspn(p, " ,|(:[");
		if (len == blen && !strncmp(p, bare, len))
			return true;
		p += len;
		/* the rest of this alternative: version, arch qualifier */
		p += strcspn(p, ",|");
	}
	return false;
}

static int by_name(const void *a, const void *b)
{
	return strcmp(((const struct pkg *)a)->name, ((const struct pkg *)b)->name);
}

int tplfs_postinst_order(const char *base_status, size_t base_len,
			 const char *status, size_t len,
			 bool (*has_postinst)(void *arg, const char *name),
			 void *arg, char ***out, size_t *n,
			 char *err, size_t errlen)
{
	struct pkgs pkgs = { 0 };
	struct collect c = {
		.base = base_status, .base_len = base_len,
		.has_postinst = has_postinst, .arg = arg, .pkgs = &pkgs,
		.err = err, .errlen = errlen,
	};
	char **names = NULL;
	size_t done = 0;
	int ret;

	*out = NULL;
	*n = 0;
	ret = each_stanza(status, len, collect_one, &c);
	if (!ret && pkgs.n && !(names = calloc(pkgs.n, sizeof(*names))))
		ret = -ENOMEM;
	if (ret)
		goto out;
	qsort(pkgs.v, pkgs.n, sizeof(*pkgs.v), by_name);
	/* each round: the first by name whose dependencies among them are
	 * done; none (a cycle): the first by name not done */
	while (done < pkgs.n) {
		size_t pick = pkgs.n;

		for (size_t i = 0; i < pkgs.n && pick == pkgs.n; i++) {
			bool ready = !pkgs.v[i].done;

			for (size_t j = 0; ready && j < pkgs.n; j++)
				if (j != i && !pkgs.v[j].done &&
				    depends_on(pkgs.v[i].deps, pkgs.v[j].bare))
					ready = false;
			if (ready)
				pick = i;
		}
		for (size_t i = 0; pick == pkgs.n && i < pkgs.n; i++)
			if (!pkgs.v[i].done)
				pick = i;
		pkgs.v[pick].done = true;
		names[done++] = pkgs.v[pick].name;
		pkgs.v[pick].name = NULL;
	}
	*out = names;
	*n = done;
	names = NULL;
out:
	if (ret == -ENOMEM)
		snprintf(err, errlen, "out of memory");
	for (size_t i = 0; i < pkgs.n; i++) {
		free(pkgs.v[i].name);
		free(pkgs.v[i].bare);
		free(pkgs.v[i].deps);
	}
	free(pkgs.v);
	free(names);
	return ret;
}

void tplfs_postinst_free(char **names, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(names[i]);
	free(names);
}
