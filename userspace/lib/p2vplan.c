// SPDX-License-Identifier: LGPL-2.1-or-later
/* What a p2v copies and the rsync that copies it: see p2vplan.h. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "p2vplan.h"

/*
 * Pseudo filesystems and what does not outlive a boot; the directories
 * themselves stay (mount points). A swap file is not a file to keep.
 */
const char *const tplfs_p2v_volatile[] = {
	"/proc/*", "/sys/*", "/dev/*", "/run/*", "/tmp/*", "/var/run/*",
	"/var/lock/*", "/lost+found", "/swapfile", "/swap.img", NULL
};

/* xattr prefixes the host uses; never copied from a source */
static const char *const host_xattrs[] = {
	"trusted.tplfs.", "trusted.overlay.", NULL
};

bool tplfs_p2v_host_xattr(const char *name)
{
	for (size_t i = 0; host_xattrs[i]; i++)
		if (!strncmp(name, host_xattrs[i], strlen(host_xattrs[i])))
			return true;
	return false;
}

static int fail(char *err, size_t errlen, const char *fmt, const char *what)
{
	snprintf(err, errlen, fmt, what);
	return -EINVAL;
}

static bool has_control(const char *s)
{
	for (; *s; s++)
		if ((unsigned char)*s < 0x20 || *s == 0x7f)
			return true;
	return false;
}

/*
 * Normalise absolute path @in into @out (@size): no "//", no trailing
 * '/' but for "/" itself; "." and ".." components refused.
 */
static int norm_path(const char *in, char *out, size_t size, const char *what,
		     char *err, size_t errlen)
{
	size_t o = 0;
	const char *s = in;

	if (in[0] != '/') {
		snprintf(err, errlen, "%s \"%s\": not an absolute path", what, in);
		return -EINVAL;
	}
	if (has_control(in) || in[strlen(in) - 1] == ' ') {
		snprintf(err, errlen, "%s: a control character in a path, or a space at its end",
			 what);
		return -EINVAL;
	}
	while (*s) {
		const char *e;
		size_t len;

		while (*s == '/')
			s++;
		if (!*s)
			break;
		e = strchrnul(s, '/');
		len = e - s;
		if ((len == 1 && s[0] == '.') ||
		    (len == 2 && s[0] == '.' && s[1] == '.')) {
			snprintf(err, errlen, "%s \"%s\": \".\" or \"..\" in the path",
				 what, in);
			return -EINVAL;
		}
		if (o + 1 + len + 1 > size) {
			snprintf(err, errlen, "%s: path too long", what);
			return -ENAMETOOLONG;
		}
		out[o++] = '/';
		memcpy(out + o, s, len);
		o += len;
		s = e;
	}
	if (!o)
		out[o++] = '/';
	out[o] = '\0';
	return 0;
}

/* "[USER@]HOST": names and IPv4, none that ssh could take for an option */
static bool host_valid(const char *h)
{
	const char *at = strchr(h, '@');
	const char *name = at ? at + 1 : h;

	if (at) {
		if (at == h || strchr(name, '@'))
			return false;
		for (const char *c = h; c < at; c++)
			if (!strchr("abcdefghijklmnopqrstuvwxyz"
				    "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-", *c))
				return false;
		if (h[0] == '-')
			return false;
	}
	if (!name[0] || name[0] == '-' || name[0] == '.')
		return false;
	for (const char *c = name; *c; c++)
		if (!strchr("abcdefghijklmnopqrstuvwxyz"
			    "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.-", *c))
			return false;
	return true;
}

static int parse_from(struct tplfs_p2v_plan *p, const char *from, char *err,
		      size_t errlen)
{
	const char *colon = strchr(from, ':');
	const char *slash = strchr(from, '/');
	const char *path = from;
	int ret;

	if (colon && (!slash || colon < slash)) {
		size_t hl = colon - from;

		if (hl > TPLFS_P2V_HOST_MAX)
			return fail(err, errlen, "--from %s: host name too long", from);
		memcpy(p->host, from, hl);
		p->host[hl] = '\0';
		if (!host_valid(p->host))
			return fail(err, errlen, "--from %s: not [USER@]HOST:/PATH (a host name or an IPv4 address, not starting with '-')",
				    from);
		p->remote = true;
		path = colon + 1;
	}
	ret = norm_path(path, p->root, sizeof(p->root), "--from", err, errlen);
	if (ret)
		return ret;
	snprintf(p->from, sizeof(p->from), "%s%s%s", p->host,
		 p->remote ? ":" : "", p->root);
	return 0;
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static int add_mounts(struct tplfs_p2v_plan *p, const char *const *mounts,
		      size_t n, char *err, size_t errlen)
{
	char buf[PATH_MAX];

	if (n > TPLFS_P2V_MOUNTS_MAX) {
		snprintf(err, errlen, "at most %d --mount", TPLFS_P2V_MOUNTS_MAX);
		return -EINVAL;
	}
	for (size_t i = 0; i < n; i++) {
		int ret = norm_path(mounts[i], buf, sizeof(buf), "--mount", err,
				    errlen);

		if (ret)
			return ret;
		if (!strcmp(buf, "/"))
			return fail(err, errlen, "--mount %s: the root is always copied",
				    mounts[i]);
		p->mounts[i] = strdup(buf);
		if (!p->mounts[i])
			return -ENOMEM;
		p->nmounts = i + 1;
	}
	qsort(p->mounts, p->nmounts, sizeof(p->mounts[0]), cmp_str);
	for (size_t i = 1; i < p->nmounts; i++)
		if (!strcmp(p->mounts[i], p->mounts[i - 1]))
			return fail(err, errlen, "--mount %s given twice",
				    p->mounts[i]);
	return 0;
}

static int add_excludes(struct tplfs_p2v_plan *p, const char *const *ex,
			size_t n, char *err, size_t errlen)
{
	if (n > TPLFS_P2V_EXCLUDES_MAX) {
		snprintf(err, errlen, "at most %d --exclude",
			 TPLFS_P2V_EXCLUDES_MAX);
		return -EINVAL;
	}
	for (size_t i = 0; i < n; i++) {
		const char *e = ex[i];

		for (size_t m = 0; m < p->nmounts; m++)
			if (!strcmp(e, p->mounts[m]) ||
			    (!strncmp(e, p->mounts[m], strlen(p->mounts[m])) &&
			     !strcmp(e + strlen(p->mounts[m]), "/")))
				return fail(err, errlen, "--exclude %s is a --mount: leave the --mount out instead",
					    e);

		/* rsync reads "- x", "+ x" and "!" in --exclude as rules */
		if (!e[0] || has_control(e) || e[0] == '!' || e[0] == ' ' ||
		    e[strlen(e) - 1] == ' ' ||
		    ((e[0] == '+' || e[0] == '-') && e[1] == ' ') ||
		    strlen(e) >= PATH_MAX)
			return fail(err, errlen, "--exclude \"%s\": not a pattern (empty, a control character, a space at an end, or a leading \"+ \", \"- \" or \"!\")",
				    e);
		p->excludes[i] = strdup(e);
		if (!p->excludes[i])
			return -ENOMEM;
		p->nexcludes = i + 1;
	}
	return 0;
}

int tplfs_p2v_plan_init(struct tplfs_p2v_plan *p, const char *from,
			const char *const *mounts, size_t nmounts,
			const char *const *excludes, size_t nexcludes,
			char *err, size_t errlen)
{
	int ret;

	memset(p, 0, sizeof(*p));
	ret = parse_from(p, from, err, errlen);
	if (!ret)
		ret = add_mounts(p, mounts, nmounts, err, errlen);
	if (!ret)
		ret = add_excludes(p, excludes, nexcludes, err, errlen);
	if (ret)
		tplfs_p2v_plan_free(p);
	if (ret == -ENOMEM)
		snprintf(err, errlen, "out of memory");
	return ret;
}

void tplfs_p2v_plan_free(struct tplfs_p2v_plan *p)
{
	for (size_t i = 0; i < p->nmounts; i++)
		free(p->mounts[i]);
	for (size_t i = 0; i < p->nexcludes; i++)
		free(p->excludes[i]);
	p->nmounts = 0;
	p->nexcludes = 0;
}

size_t tplfs_p2v_passes(const struct tplfs_p2v_plan *p)
{
	return 1 + p->nmounts;
}

const char *tplfs_p2v_pass_path(const struct tplfs_p2v_plan *p, size_t i)
{
	return i ? p->mounts[i - 1] : "/";
}

/* Is @path @dir or below it? ("/" holds everything.) */
static bool below(const char *path, const char *dir)
{
	size_t n = strlen(dir);

	if (!strcmp(dir, "/"))
		return true;
	return !strncmp(path, dir, n) && (!path[n] || path[n] == '/');
}

/* The pass (0 root, else 1 + mount) whose filesystem holds @path. */
static size_t pass_of(const struct tplfs_p2v_plan *p, const char *path)
{
	size_t best = 0;

	for (size_t i = 0; i < p->nmounts; i++)
		if (below(path, p->mounts[i]) &&
		    (!best || strlen(p->mounts[i]) > strlen(p->mounts[best - 1])))
			best = i + 1;
	return best;
}

/* @path made relative to pass @i's top ("/home/x" in /home: "/x"). */
static const char *in_pass(const struct tplfs_p2v_plan *p, size_t i,
			   const char *path)
{
	return i ? path + strlen(p->mounts[i - 1]) : path;
}

struct argv {
	char **v;
	size_t n, cap;
	bool failed;
};

static void add(struct argv *a, const char *fmt, const char *s1,
		const char *s2)
{
	char *s;

	if (a->failed)
		return;
	if (a->n + 2 > a->cap) {
		size_t cap = a->cap ? 2 * a->cap : 64;
		char **v = realloc(a->v, cap * sizeof(*v));

		if (!v) {
			a->failed = true;
			return;
		}
		a->v = v;
		a->cap = cap;
	}
	if (asprintf(&s, fmt, s1, s2) < 0) {
		a->failed = true;
		return;
	}
	a->v[a->n++] = s;
	a->v[a->n] = NULL;
}

char **tplfs_p2v_rsync_argv(const struct tplfs_p2v_plan *p, size_t i,
			    const char *dest)
{
	const char *top = tplfs_p2v_pass_path(p, i);
	struct argv a = { 0 };
	char src[PATH_MAX + 2], dst[PATH_MAX + 2];
	char host[TPLFS_P2V_HOST_MAX + 2];

	if (i >= tplfs_p2v_passes(p))
		return NULL;
	/* the pass's directory on each side, its contents ("DIR/") */
	if (snprintf(src, sizeof(src), "%s%s/", strcmp(p->root, "/") ?
		     p->root : "", i ? top : "") >= (int)sizeof(src) ||
	    snprintf(dst, sizeof(dst), "%s%s/", dest, i ? top : "") >=
	    (int)sizeof(dst))
		return NULL;
	add(&a, "rsync", NULL, NULL);
	/* -a -H -A -X -S: archive, hard links, ACLs, xattrs, holes */
	add(&a, "-aHAXS", NULL, NULL);
	add(&a, "--numeric-ids", NULL, NULL);
	add(&a, "--one-file-system", NULL, NULL);
	add(&a, "--delete", NULL, NULL);
	add(&a, "--partial", NULL, NULL);
	add(&a, "--mkpath", NULL, NULL);
	/* whole totals from the start, for the progress */
	add(&a, "--no-inc-recursive", NULL, NULL);
	add(&a, "--info=progress2", NULL, NULL);
	add(&a, "--stats", NULL, NULL);
	/* a link that carries nothing for this long is dead, not slow */
	add(&a, "--timeout=900", NULL, NULL);
	if (p->remote)
		add(&a, "--compress", NULL, NULL);
	/*
	 * Once one xattr rule is given rsync's default of leaving system.*
	 * out is gone: say it too (ACLs travel with -A, not as xattrs).
	 */
	for (size_t k = 0; host_xattrs[k]; k++)
		add(&a, "--filter=-x %s*", host_xattrs[k], NULL);
	add(&a, "--filter=-x system.*", NULL, NULL);
	if (!i)
		for (size_t k = 0; tplfs_p2v_volatile[k]; k++)
			add(&a, "--exclude=%s", tplfs_p2v_volatile[k], NULL);
	else
		add(&a, "--exclude=/lost+found", NULL, NULL);
	/* the mounts below this one: theirs (and kept from --delete) */
	for (size_t m = 0; m < p->nmounts; m++)
		if (m + 1 != i && below(p->mounts[m], top) &&
		    strcmp(p->mounts[m], top))
			add(&a, "--exclude=%s/*", in_pass(p, i, p->mounts[m]),
			    NULL);
	for (size_t e = 0; e < p->nexcludes; e++) {
		const char *x = p->excludes[e];

		if (x[0] != '/')
			add(&a, "--exclude=%s", x, NULL);
		else if (pass_of(p, x) == i && strcmp(x, top))
			add(&a, "--exclude=%s", in_pass(p, i, x), NULL);
	}
	/* the source is one argument: "HOST:PATH/" or "PATH/" */
	snprintf(host, sizeof(host), "%s%s", p->host, p->remote ? ":" : "");
	add(&a, "%s%s", host, src);
	add(&a, "%s", dst, NULL);
	if (a.failed) {
		tplfs_p2v_argv_free(a.v);
		return NULL;
	}
	return a.v;
}

void tplfs_p2v_argv_free(char **argv)
{
	if (!argv)
		return;
	for (size_t i = 0; argv[i]; i++)
		free(argv[i]);
	free(argv);
}
