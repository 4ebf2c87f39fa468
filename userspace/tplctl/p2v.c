// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * tplctl ct p2v (doc/p2v.md): the transfers are the client's, run here
 * with the operator's own ssh (keys, agent, ~/.ssh/config, RSYNC_RSH), as
 * the root who typed the command; the daemon owns the staging area they
 * write into and what it becomes (ct.p2v.stage, ct.p2v.final). Then, with
 * --template, ct.relink makes stubs of what the server has in common with
 * the template.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "client.h"
#include "output.h"
#include "p2v.h"
#include "p2vplan.h"
#include "rsyncout.h"

extern char **environ;

/* rsync's "some files vanished before they could be transferred" */
#define RSYNC_VANISHED	24

static void show_progress(void *arg, json_object *msg)
{
	(void)arg;
	print_progress(msg);
}

/*
 * @verb with @args (taken) on a connection of its own (a transfer may
 * outlast the daemon's idle timeout). The reply, or NULL after saying
 * why; its "ok" is the caller's to look at.
 */
static json_object *call(const struct p2v_opts *o, const char *verb,
			 json_object *args)
{
	json_object *reply = NULL;
	char err[512];
	int fd, ret;

	fd = tplfs_client_connect(o->socket, err, sizeof(err));
	if (fd < 0) {
		json_object_put(args);
		fprintf(stderr, "tplctl: cannot reach tplfsd: %s\n", err);
		return NULL;
	}
	ret = tplfs_client_call(fd, verb, args, o->json || !o->progress ?
				NULL : show_progress, NULL, &reply);
	close(fd);
	if (ret) {
		fprintf(stderr, "tplctl: %s: %s\n", verb, strerror(-ret));
		return NULL;
	}
	return reply;
}

/* The result of a reply that says ok, or NULL after printing its error. */
static json_object *result_of(json_object *reply, bool json)
{
	json_object *ok = NULL, *r = NULL;

	if (!reply)
		return NULL;
	json_object_object_get_ex(reply, "ok", &ok);
	if (!json_object_get_boolean(ok)) {
		if (!json)
			print_error(reply);
		return NULL;
	}
	json_object_object_get_ex(reply, "result", &r);
	return r;
}

struct transfer {
	struct tplfs_rsync_progress p;
	const char *path;
	struct timespec said;
	bool show;
};

static void say_progress(struct transfer *t)
{
	struct timespec now;
	char b[32];

	clock_gettime(CLOCK_MONOTONIC, &now);
	if (now.tv_sec == t->said.tv_sec)
		return;		/* at most one line a second */
	t->said = now;
	fprintf(stderr, "transfer %s: %u%% %s, files %" PRIu64 "/%" PRIu64 "\n",
		t->path, t->p.percent, human_size(t->p.bytes, b, sizeof(b)),
		t->p.files_total - t->p.files_left, t->p.files_total);
}

/* Read rsync's output at @fd to its end, line by line. */
static void read_output(int fd, struct transfer *t)
{
	char buf[8192], line[1024];
	size_t len = 0;
	ssize_t n;

	while ((n = read(fd, buf, sizeof(buf))) > 0 || (n < 0 && errno == EINTR)) {
		for (ssize_t i = 0; i < n; i++) {
			if (buf[i] != '\r' && buf[i] != '\n') {
				if (len < sizeof(line) - 1)
					line[len++] = buf[i];
				continue;
			}
			line[len] = '\0';
			len = 0;
			if (tplfs_rsync_line(&t->p, line) && t->show)
				say_progress(t);
		}
	}
}

/*
 * Run @argv (rsync), its output read for progress and stats. Its exit
 * status (0..255), minus the signal that killed it, or INT_MIN if it
 * could not be run.
 */
static int run_rsync(char **argv, struct transfer *t)
{
	posix_spawn_file_actions_t fa;
	int pipefd[2], status, ret;
	pid_t pid;

	if (pipe2(pipefd, O_CLOEXEC) < 0)
		return INT_MIN;
	posix_spawn_file_actions_init(&fa);
	/* rsync reads nothing of ours; ssh asks for a password on the tty */
	posix_spawn_file_actions_addopen(&fa, STDIN_FILENO, "/dev/null",
					 O_RDONLY, 0);
	posix_spawn_file_actions_adddup2(&fa, pipefd[1], STDOUT_FILENO);
	ret = posix_spawnp(&pid, argv[0], &fa, NULL, argv, environ);
	posix_spawn_file_actions_destroy(&fa);
	close(pipefd[1]);
	if (ret) {
		close(pipefd[0]);
		fprintf(stderr, "tplctl: cannot run %s: %s%s\n", argv[0],
			strerror(ret), ret == ENOENT ?
			" (install rsync on this host, and on the source)" : "");
		return INT_MIN;
	}
	read_output(pipefd[0], t);
	close(pipefd[0]);
	while (waitpid(pid, &status, 0) < 0)
		if (errno != EINTR)
			return INT_MIN;
	return WIFEXITED(status) ? WEXITSTATUS(status) : -WTERMSIG(status);
}

static json_object *transfer_json(const struct transfer *t, bool remote,
				  int status)
{
	json_object *o = json_object_new_object();

	json_object_object_add(o, "path", json_object_new_string(t->path));
	json_object_object_add(o, "files", json_object_new_uint64(t->p.files));
	json_object_object_add(o, "transferred",
			       json_object_new_uint64(t->p.transferred));
	json_object_object_add(o, "bytes", json_object_new_uint64(t->p.size));
	/* what crossed the wire: received from a remote sender, sent locally */
	json_object_object_add(o, "wire_bytes", json_object_new_uint64(
			       remote ? t->p.received : t->p.sent));
	json_object_object_add(o, "rsync_status", json_object_new_int(status));
	return o;
}

/* syncfs of the staging's filesystem (rsync syncs nothing itself). */
static void sync_staging(const char *staging)
{
	int fd = open(staging, O_RDONLY | O_DIRECTORY | O_CLOEXEC);

	if (fd >= 0) {
		if (syncfs(fd) < 0)
			fprintf(stderr, "tplctl: syncfs %s: %s\n", staging,
				strerror(errno));
		close(fd);
	}
}

/*
 * Every pass of @plan into @staging, under the staging's lock @lock.
 * Their reports into @out; 0, or 1 after saying what failed.
 */
static int transfer_all(const struct p2v_opts *o,
			const struct tplfs_p2v_plan *plan, const char *staging,
			json_object *out)
{
	for (size_t i = 0; i < tplfs_p2v_passes(plan); i++) {
		struct transfer t = { .path = tplfs_p2v_pass_path(plan, i),
				      .show = o->progress && !o->json };
		char **argv = tplfs_p2v_rsync_argv(plan, i, staging);
		int st;

		if (!argv) {
			fprintf(stderr, "tplctl: out of memory\n");
			return 1;
		}
		st = run_rsync(argv, &t);
		tplfs_p2v_argv_free(argv);
		json_object_array_add(out, transfer_json(&t, plan->remote, st));
		if (st == INT_MIN)
			return 1;
		/* what a pass brought is on disk before it is called done */
		sync_staging(staging);
		if (st != 0 && st != RSYNC_VANISHED) {
			fprintf(stderr, "tplctl: the transfer of %s from %s did not complete (rsync %s %d); run the same command again to go on from where it stopped\n",
				t.path, plan->from, st < 0 ? "killed by signal" :
				"exit status", st < 0 ? -st : st);
			return 1;
		}
		if (!o->json) {
			char b[32], w[32];

			printf("transfer %s: %" PRIu64 " files, %s; %" PRIu64
			       " sent now, %s over the wire%s\n", t.path,
			       t.p.files, human_size(t.p.size, b, sizeof(b)),
			       t.p.transferred, human_size(plan->remote ?
			       t.p.received : t.p.sent, w, sizeof(w)),
			       st == RSYNC_VANISHED ?
			       " (some files vanished on the source meanwhile)" : "");
		}
	}
	return 0;
}

static json_object *strings(const char *const *v, size_t n)
{
	json_object *a = json_object_new_array();

	for (size_t i = 0; i < n; i++)
		json_object_array_add(a, json_object_new_string(v[i]));
	return a;
}

static void print_final(json_object *f)
{
	json_object *l = NULL, *notes = NULL;
	char a[32];

	json_object_object_get_ex(f, "limits", &l);
	json_object_object_get_ex(f, "notes", &notes);
	printf("%s: a container now, from %s (it used %s in %" PRIu64 " inodes)\n",
	       reply_str(f, "ct"), reply_str(f, "from"),
	       human_size(reply_u64(f, "source_bytes"), a, sizeof(a)),
	       reply_u64(f, "source_inodes"));
	if (l) {
		char b[32], c[32];

		printf("quota: %s soft, %s hard; %" PRIu64 " inodes soft, %" PRIu64
		       " hard%s\n", human_size(reply_u64(l, "bytes_soft"), b, sizeof(b)),
		       human_size(reply_u64(l, "bytes_hard"), c, sizeof(c)),
		       reply_u64(l, "inodes_soft"), reply_u64(l, "inodes_hard"),
		       reply_bool(f, "limits_default") ?
		       " (what the source used, with headroom, where not given)" : "");
	}
	for (size_t i = 0; notes && i < json_object_array_length(notes); i++)
		printf("%s %s\n", i ? "     " : "check:",
		       json_object_get_string(json_object_array_get_idx(notes, i)));
}

/* With a template: its objects become stubs (ct.relink), and the figures. */
static int relink_after(const struct p2v_opts *o, const char *id,
			json_object *out)
{
	json_object *args = json_object_new_object(), *reply, *r, *st;

	json_object_object_add(args, "id", json_object_new_string(id));
	reply = call(o, "ct.relink", args);
	r = result_of(reply, o->json);
	if (!r) {
		if (reply)
			json_object_object_add(out, "relink", reply);
		fprintf(stderr, "tplctl: the container %s is made, but the relink against its template did not finish: run tplctl ct relink %s\n",
			id, id);
		return 1;
	}
	json_object_object_add(out, "relink", json_object_get(r));
	args = json_object_new_object();
	json_object_object_add(args, "id", json_object_new_string(id));
	st = call(o, "ct.status", args);
	r = result_of(st, o->json);
	if (r)
		json_object_object_add(out, "status", json_object_get(r));
	if (!o->json) {
		char a[32];
		json_object *rl;

		json_object_object_get_ex(out, "relink", &rl);
		printf("shared with %s: %" PRIu64 " files, %s now read from the template\n",
		       o->template, reply_u64(rl, "relinked"),
		       human_size(reply_u64(rl, "bytes"), a, sizeof(a)));
		if (r)
			printf("private area: %s in %" PRIu64 " inodes\n",
			       human_size(reply_u64(r, "disk_bytes"), a, sizeof(a)),
			       reply_u64(r, "inodes"));
	}
	json_object_put(st);
	json_object_put(reply);
	return 0;
}

/* @key: @val in @args, if there is one */
static void add_string(json_object *args, const char *key, const char *val)
{
	if (val)
		json_object_object_add(args, key, json_object_new_string(val));
}

static int finish(const struct p2v_opts *o, const char *id, json_object *out)
{
	json_object *args = json_object_new_object(), *reply, *r;

	json_object_object_add(args, "id", json_object_new_string(id));
	add_string(args, "template", o->template);
	add_string(args, "quota", o->quota);
	add_string(args, "inodes", o->inodes);
	add_string(args, "grace", o->grace);
	reply = call(o, "ct.p2v.final", args);
	r = result_of(reply, o->json);
	if (!r) {
		if (reply)
			json_object_object_add(out, "final", reply);
		return 1;
	}
	json_object_object_add(out, "final", json_object_get(r));
	if (!o->json)
		print_final(r);
	json_object_put(reply);
	return o->template ? relink_after(o, id, out) : 0;
}

/* Hold the staging's lock for the transfers: one at a time. */
static int lock_staging(json_object *stage)
{
	const char *path = reply_str(stage, "lock");
	int fd = open(path, O_RDWR | O_NOFOLLOW | O_CLOEXEC);

	if (fd < 0) {
		fprintf(stderr, "tplctl: %s: %s\n", path, strerror(errno));
		return -1;
	}
	if (flock(fd, LOCK_EX | LOCK_NB) < 0) {
		fprintf(stderr, "tplctl: another transfer into the p2v of %s is under way\n",
			reply_str(stage, "ct"));
		close(fd);
		return -1;
	}
	return fd;
}

static int p2v_abort(const struct p2v_opts *o, const char *id)
{
	json_object *args = json_object_new_object(), *reply, *r;

	json_object_object_add(args, "id", json_object_new_string(id));
	reply = call(o, "ct.p2v.abort", args);
	r = result_of(reply, o->json);
	if (o->json && reply)
		printf("%s\n", json_object_to_json_string_ext(reply,
		       JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_NOSLASHESCAPE));
	else if (r)
		printf("%s: the p2v staged is dropped\n", id);
	json_object_put(reply);
	return r ? 0 : 1;
}

/* A local source made absolute (the plan wants it so). */
static const char *absolute_from(const char *from, char *buf)
{
	const char *colon = strchr(from, ':'), *slash = strchr(from, '/');

	if (from[0] == '/' || (colon && (!slash || colon < slash)))
		return from;
	return realpath(from, buf) ? buf : from;
}

int p2v_run(const struct p2v_opts *o, const char *id)
{
	struct tplfs_p2v_plan plan;
	json_object *args, *reply, *stage, *out, *transfers;
	char err[512], from[PATH_MAX];
	int ret, lock;

	if (o->abort)
		return p2v_abort(o, id);
	if (!o->from) {
		fprintf(stderr, "tplctl: ct p2v needs --from [USER@]HOST:/PATH or --from DIR\n");
		return 2;
	}
	if (geteuid()) {
		fprintf(stderr, "tplctl: ct p2v copies a whole system, owners and devices kept: root only\n");
		return 1;
	}
	ret = tplfs_p2v_plan_init(&plan, absolute_from(o->from, from), o->mounts,
				  o->nmounts, o->excludes, o->nexcludes, err,
				  sizeof(err));
	if (ret) {
		fprintf(stderr, "tplctl: %s\n", err);
		return 2;
	}
	args = json_object_new_object();
	json_object_object_add(args, "id", json_object_new_string(id));
	json_object_object_add(args, "from", json_object_new_string(plan.from));
	json_object_object_add(args, "mounts", strings(o->mounts, o->nmounts));
	json_object_object_add(args, "excludes", strings(o->excludes, o->nexcludes));
	reply = call(o, "ct.p2v.stage", args);
	stage = result_of(reply, o->json);
	out = json_object_new_object();
	transfers = json_object_new_array();
	json_object_object_add(out, "transfers", transfers);
	if (!stage) {
		ret = 1;
		if (reply)
			json_object_object_add(out, "stage", json_object_get(reply));
		goto out;
	}
	json_object_object_add(out, "stage", json_object_get(stage));
	if (reply_bool(stage, "finished")) {
		/* made before: what may be left is the relink */
		if (!o->json)
			printf("%s: the p2v of %s was finished before\n", id, plan.from);
		ret = o->final && o->template ? relink_after(o, id, out) : 0;
		goto out;
	}
	lock = lock_staging(stage);
	if (lock < 0) {
		ret = 1;
		goto out;
	}
	ret = transfer_all(o, &plan, reply_str(stage, "staging"), transfers);
	close(lock);
	if (!ret && !o->final && !o->json)
		printf("%s: staged (transfer %" PRIu64 "); stop the services on the source, then run the same command with --final\n",
		       id, reply_u64(stage, "transfers"));
	if (!ret && o->final)
		ret = finish(o, id, out);
out:
	if (o->json) {
		json_object *whole = json_object_new_object();

		json_object_object_add(whole, "ok", json_object_new_boolean(!ret));
		json_object_object_add(whole, "result", out);
		printf("%s\n", json_object_to_json_string_ext(whole,
		       JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_NOSLASHESCAPE));
		json_object_put(whole);
	} else {
		json_object_put(out);
	}
	json_object_put(reply);
	tplfs_p2v_plan_free(&plan);
	return ret;
}
