// SPDX-License-Identifier: LGPL-2.1-or-later
/* Maintainer scripts of an app template run in a container: postinst.h. */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "client.h"
#include "output.h"
#include "postinst.h"

/*
 * systemd-nspawn --pipe on @root, in a user namespace (-U: for a container
 * of shifted ids its own range, read from its root directory; for one of
 * the host's an idmapped mount of its tree), so that the container's own
 * /bin/sh and scripts never run as the host's root. Under systemd nspawn
 * makes a scope of its own; without it (no bus), --keep-unit.
 */
static int run_nspawn(const char *root, json_object *pkgs)
{
	static const char script[] =
		"set -e; for p; do echo \"postinst: $p\"; "
		"/var/lib/dpkg/info/\"$p\".postinst configure; done";
	size_t n = json_object_array_length(pkgs), i = 0;
	const char **argv = calloc(n + 24, sizeof(*argv));
	struct stat sb;
	int status;
	pid_t pid;

	if (!argv)
		return -ENOMEM;
	argv[i++] = "systemd-nspawn";
	argv[i++] = "--quiet";
	argv[i++] = "--register=no";
	if (stat("/run/systemd/system", &sb))
		argv[i++] = "--keep-unit";
	argv[i++] = "--pipe";
	argv[i++] = "-U";
	argv[i++] = "--resolv-conf=off";
	argv[i++] = "--timezone=off";
	argv[i++] = "--link-journal=no";
	argv[i++] = "--setenv=DEBIAN_FRONTEND=noninteractive";
	argv[i++] = "-D";
	argv[i++] = root;
	argv[i++] = "--";
	argv[i++] = "/bin/sh";
	argv[i++] = "-c";
	argv[i++] = script;
	argv[i++] = "postinst";
	for (size_t k = 0; k < n; k++)
		argv[i++] = json_object_get_string(json_object_array_get_idx(pkgs, k));
	argv[i] = NULL;
	fflush(stdout);
	pid = fork();
	if (pid < 0) {
		free(argv);
		return -errno;
	}
	if (pid == 0) {
		execvp(argv[0], (char *const *)argv);
		fprintf(stderr, "tplctl: systemd-nspawn: %s (package systemd-container)\n",
			strerror(errno));
		_exit(127);
	}
	free(argv);
	while (waitpid(pid, &status, 0) < 0)
		if (errno != EINTR)
			return -errno;
	return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

static void names(json_object *pkgs, char *out, size_t len)
{
	size_t used = 0;

	out[0] = '\0';
	for (size_t k = 0; k < json_object_array_length(pkgs) && used < len; k++)
		used += (size_t)snprintf(out + used, len - used, "%s%s", k ? " " : "",
			json_object_get_string(json_object_array_get_idx(pkgs, k)));
}

/* Run @pkgs in container @id (@root, @mounted), for app @app. */
static int run(const char *id, const char *app, const char *root,
	       bool mounted, json_object *pkgs)
{
	char list[1024];
	int rc;

	names(pkgs, list, sizeof(list));
	if (!mounted) {
		printf("%s: the postinst of %s not run: it is not mounted (after ct mount %s: tplctl ct app postinst %s %s)\n",
		       id, list, id, id, app);
		return 0;
	}
	rc = run_nspawn(root, pkgs);
	if (rc) {
		fprintf(stderr, "tplctl: %s: the postinst of %s failed (%s %d); run them again with: tplctl ct app postinst %s %s\n",
			id, list, rc < 0 ? strerror(-rc) : "exit", rc < 0 ? 0 : rc,
			id, app);
		return 1;
	}
	printf("%s: the postinst of %s run in it\n", id, list);
	return 0;
}

int postinst_after_add(json_object *result)
{
	json_object *pkgs;
	char app[256], *at;

	if (!json_object_object_get_ex(result, "postinst", &pkgs) ||
	    !json_object_array_length(pkgs) || reply_bool(result, "dry_run"))
		return 0;
	snprintf(app, sizeof(app), "%s", reply_str(result, "app"));
	at = strchr(app, '@');
	if (at)
		*at = '\0';
	return run(reply_str(result, "ct"), app, reply_str(result, "root"),
		   reply_bool(result, "mounted"), pkgs);
}

/* The result of @verb with @args (the call takes them), or NULL after
 * saying why. */
static json_object *ask(int fd, const char *verb, json_object *args)
{
	json_object *reply = NULL, *ok, *r;
	int ret = tplfs_client_call(fd, verb, args, NULL, NULL, &reply);

	if (ret) {
		fprintf(stderr, "tplctl: %s: %s\n", verb, strerror(-ret));
		return NULL;
	}
	if (!json_object_object_get_ex(reply, "ok", &ok) ||
	    !json_object_get_boolean(ok) ||
	    !json_object_object_get_ex(reply, "result", &r)) {
		json_object *e, *m;

		fprintf(stderr, "tplctl: %s: %s\n", verb,
			json_object_object_get_ex(reply, "error", &e) &&
			json_object_object_get_ex(e, "message", &m) ?
			json_object_get_string(m) : "failed");
		json_object_put(reply);
		return NULL;
	}
	json_object_get(r);
	json_object_put(reply);
	return r;
}

static json_object *args_of(const char *key, const char *val)
{
	json_object *a = json_object_new_object();

	json_object_object_add(a, key, json_object_new_string(val));
	return a;
}

int postinst_of_app(int fd, const char *id, const char *name)
{
	json_object *list, *apps, *show = NULL, *st = NULL, *pkgs;
	const char *app = NULL;
	size_t len = strlen(name);
	int rc = 1;

	list = ask(fd, "ct.app.list", args_of("id", id));
	if (!list)
		return 1;
	json_object_object_get_ex(list, "apps", &apps);
	for (size_t k = 0; apps && k < json_object_array_length(apps); k++) {
		const char *a = json_object_get_string(json_object_array_get_idx(apps, k));

		if (!strncmp(a, name, len) && a[len] == '@')
			app = a;
	}
	if (!app) {
		fprintf(stderr, "tplctl: %s has no application template %s\n", id, name);
		goto out;
	}
	show = ask(fd, "template.show", args_of("template", app));
	st = show ? ask(fd, "ct.status", args_of("id", id)) : NULL;
	if (!st)
		goto out;
	if (!json_object_object_get_ex(show, "postinst", &pkgs) ||
	    !json_object_array_length(pkgs)) {
		printf("%s: %s runs no postinst (imported without --run-postinst)\n",
		       id, app);
		rc = 0;
		goto out;
	}
	rc = run(id, name, reply_str(st, "root"), reply_bool(st, "mounted"), pkgs);
out:
	json_object_put(list);
	json_object_put(show);
	json_object_put(st);
	return rc;
}
