// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * tplctl: the command line of tplfs. It talks only to tplfsd (the protocol
 * in doc/protocol.md) and prints its replies for people, or as JSON with
 * --json.
 */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "client.h"
#include "ct.h"
#include "output.h"
#include "p2v.h"
#include "postinst.h"
#include "rebase_all.h"
#include "proto.h"
#include "units.h"
#include "version.h"

/* Exit codes */
#define EX_FAILED	1	/* the daemon refused or failed the request */
#define EX_USAGE	2
#define EX_NODAEMON	3	/* tplfsd is not running */

static void usage(FILE *f)
{
	fprintf(f,
"Usage: tplctl [--socket PATH] [--json] [--progress] COMMAND\n"
"The command line of tplfs; it asks tplfsd to do the work.\n"
"\n"
"Templates:\n"
"  template import NAME@VERSION --from DIR|TARBALL [--private PATH]...\n"
"            [--layer-of NAME@VERSION [--run-postinst]]\n"
"                         import a tree or a tarball (.tar, .gz, .xz, .zst);\n"
"                         --private: the paths containers get a copy of\n"
"                         (default /etc/hostname /etc/hosts /etc/machine-id);\n"
"                         --layer-of: an application template, stored as\n"
"                         what the tree changes from that version;\n"
"                         --run-postinst (with --layer-of): containers run the\n"
"                         postinst of the packages it installs after ct app\n"
"                         add (doc/apps.md)\n"
"  template list          versions, sizes, containers using them\n"
"  template show NAME@VERSION\n"
"                         one version: files, bytes, objects, its\n"
"                         always-private paths, the containers made from it\n"
"  template maintain NAME@VERSION [--ct ID]\n"
"                         maintenance mode: a container of that version\n"
"                         (ID, made if it does not exist; default\n"
"                         NAME-maint) where the next version is made, by\n"
"                         running an update in it; ct create --template NAME\n"
"                         (no version) is refused until it is published\n"
"  template maintain NAME --abort\n"
"                         leave maintenance; the container is kept\n"
"  template publish NAME@VERSION --from-ct ID [--rebase none|all|ID,...]\n"
"            [--layer-of NAME@VERSION [--run-postinst]]\n"
"                         a new version from an unmounted container made\n"
"                         from a template (the maintenance container): its\n"
"                         stubs are taken as their objects, unread; only the\n"
"                         files it changed are hashed and stored; its\n"
"                         identity (machine-id, ssh host keys) and\n"
"                         always-private files stay the template's; ends the\n"
"                         maintenance; --rebase: then rebase all the\n"
"                         containers of the version it was made from, or\n"
"                         those named (default none); --layer-of: an\n"
"                         application template of what the container\n"
"                         changed from that version (its template);\n"
"                         --run-postinst: as for template import\n"
"  template export NAME@VERSION FILE\n"
"                         write the template cache, a .tar.zst\n"
"  template rm NAME@VERSION\n"
"                         remove a version no container uses\n"
"  store gc [--dry-run]   remove the objects no template names (refused\n"
"                         while a container's template cannot be told);\n"
"                         --dry-run: list them, remove nothing\n"
"  store refs [--prune]   the references every host's containers keep in\n"
"                         the store (template, container, host, age);\n"
"                         --prune: remove those of other hosts not renewed\n"
"                         for 7 days (a host that is gone)\n"
"  store verify           hash every object and check every manifest's\n"
"                         objects; lists what is wrong, repairs nothing\n"
"                         (exit 1 if anything is)\n"
"Containers:\n"
"  ct create ID --template NAME[@VERSION] [--volatile] [--quota SOFT[:HARD]]\n"
"            [--inodes SOFT[:HARD]] [--grace DURATION]\n"
"            [--clone linked|full] [--app NAME@VERSION]...\n"
"            [--userns BASE:COUNT]\n"
"                         NAME alone: its highest version (refused while\n"
"                         NAME is in maintenance); --clone full: private\n"
"                         copies of every file (reflinked where the\n"
"                         filesystem can), none read from the store;\n"
"                         --app: with these application templates, in order;\n"
"                         --userns: its ids shifted for a user namespace,\n"
"                         the template's N written as BASE+N (doc/userns.md)\n"
"  ct mount ID            mount it on <root>/root/ID\n"
"  ct umount ID [--force] unmount it (--force: detach even if busy)\n"
"  ct destroy ID [--force]\n"
"                         remove it (--force: even while mounted)\n"
"  ct list [-o FIELDS]    the containers; FIELDS, comma-separated, of id,\n"
"                         template, volatile, root, disk, inodes, quota,\n"
"                         iquota, grace, from (default id,template,root;\n"
"                         disk, inodes: what the quota counts, from the\n"
"                         kernel or as last saved: see from, * not exact)\n"
"  ct status ID [--scan]  one container, with the disk it uses: what its\n"
"                         quota counts, or (--scan) a walk of it now\n"
"  ct stats ID            the kernel's counters of a mounted container\n"
"  ct set ID [--volatile|--no-volatile] [--quota SOFT[:HARD]]\n"
"            [--inodes SOFT[:HARD]] [--grace DURATION]\n"
"                         change its settings in ct.conf; limits reach a\n"
"                         mounted container at once, volatile at its next\n"
"                         mount\n"
"  ct p2v ID --from [USER@]HOST:/PATH|DIR [--mount PATH]... [--exclude PATTERN]...\n"
"            [--template NAME@VERSION] [--quota SOFT[:HARD]]\n"
"            [--inodes SOFT[:HARD]] [--grace DURATION] [--final]\n"
"                         a physical server into container ID: its tree\n"
"                         copied by rsync (over ssh, or from a mounted disk)\n"
"                         with hard links, ACLs, xattrs, capabilities, holes,\n"
"                         numeric ids and devices, into a staging area; each\n"
"                         --mount (a filesystem of the server) joined into\n"
"                         the one tree; /proc, /sys, /dev, /run, /tmp and swap\n"
"                         files left out; run again to resume; --final: a last\n"
"                         transfer (stop the services first), then the\n"
"                         container, with one quota (default: what the server\n"
"                         used, with headroom) and, with --template, its files\n"
"                         equal to the template's made stubs (doc/p2v.md)\n"
"  ct p2v ID --abort      drop what is staged\n"
"  ct relink ID [--against NAME@VERSION]... [--dry-run]\n"
"                         private files equal to an object of its template\n"
"                         (or of those named, recorded in its ct.conf as\n"
"                         used) become stubs again, mounted or not; files\n"
"                         open or changed meanwhile are left and counted;\n"
"                         --dry-run: list them, change nothing\n"
"  ct rebase ID --to NAME@VERSION [--dry-run]\n"
"                         move it to another version of its template,\n"
"                         mounted or not, keeping what it changed: a path\n"
"                         changed in both is kept and listed as a conflict;\n"
"                         dpkg's status is merged by package; the report is\n"
"                         kept in its private area (rebase.report)\n"
"  ct rebase --all --from NAME@VERSION --to NAME@VERSION [--dry-run]\n"
"                         the same for every container of --from, one after\n"
"                         the other (exit 1 if any failed)\n"
"  ct app add ID NAME@VERSION [--dry-run] [--keep-mine] [--no-postinst]\n"
"                         add an application template (a layer of its\n"
"                         template), mounted or not; refused, naming them,\n"
"                         if it changes paths the container changed, unless\n"
"                         --keep-mine (the container's are kept, listed);\n"
"                         dpkg's status is merged by package; then, if the\n"
"                         template was imported --run-postinst and the\n"
"                         container is mounted, its packages' postinst run\n"
"                         in it (systemd-nspawn -U), unless --no-postinst\n"
"  ct app postinst ID NAME\n"
"                         run app NAME's postinst in the mounted container\n"
"                         (again, or after an add to an unmounted one)\n"
"  ct app rm ID NAME [--dry-run]\n"
"                         remove it: what is still as it brought it goes\n"
"                         back to the template's; the rest is kept, listed\n"
"  ct app list ID         its template and application templates\n"
"  ct unlink ID           a linked clone made a full one: every stub a\n"
"                         private copy, mounted or not (a running\n"
"                         program's file is left, counted busy)\n"
"  ct quota ID [--set SOFT[:HARD]] [--inodes SOFT[:HARD]] [--grace DURATION]\n"
"                         its disk quota: usage, limits, state; the options\n"
"                         change the limits (at once if it is mounted)\n"
"Quota: sizes in bytes or with K, M, G, T (powers of 1024), SOFT:HARD as\n"
"vzctl's (SOFT alone: HARD = SOFT; 0: no limit); DURATION like 7d, 1h30m,\n"
"90s (the grace period over a soft limit, default 7d).\n"
"Daemon:\n"
"  daemon status          the daemon, its kernel channel, mounted containers\n"
"\n"
"Options:\n"
"  --socket PATH   tplfsd's socket (default " TPLFS_SOCKET_DEFAULT ",\n"
"                  or $TPLFS_SOCKET)\n"
"  --json          print the daemon's reply as JSON\n"
"  --progress      tell a long operation's progress on stderr even when\n"
"                  stderr is not a terminal (it is told on a terminal)\n"
"  --help, --version\n"
"\n"
"Exit status: 0 done, 1 refused or failed, 2 usage, 3 tplfsd not running.\n");
}

struct opts {
	const char *from, *template;
	const char *quota, *inodes, *grace;	/* --quota or --set, ... */
	bool quota_is_set;			/* given as --set */
	bool force, is_volatile, no_volatile, dry_run, scan, prune;
	const char *fields;	/* -o FIELDS of ct list */
	bool usage;		/* ct list: a column needs the usage */
	json_object *private;	/* --private PATH... */
	json_object *against;	/* --against NAME@VERSION... */
	json_object *apps;	/* ct create --app NAME@VERSION... */
	const char *to;		/* ct rebase --to */
	const char *from_ct;	/* template publish --from-ct */
	const char *rebase;	/* template publish --rebase */
	const char *ct;		/* template maintain --ct */
	bool abort;		/* template maintain --abort */
	const char *clone;	/* ct create --clone */
	const char *userns;	/* ct create --userns */
	bool all;		/* ct rebase --all */
	const char *layer_of;	/* template import, publish --layer-of */
	bool keep_mine;		/* ct app add --keep-mine */
	bool no_postinst;	/* ct app add --no-postinst */
	bool run_postinst;	/* template import, publish --run-postinst */
};

enum arg_kind { NONE, ID, TEMPLATE, TEMPLATE_FILE, ID_APP };

struct cmd {
	const char *noun, *verb;	/* tplctl NOUN VERB [SUB] */
	const char *proto_verb;		/* the protocol's verb */
	enum arg_kind args;
	void (*print)(json_object *result);
	const char *sub;		/* ct app add|rm|list */
};

static const struct cmd cmds[] = {
	{ "daemon", "status", "daemon.status", NONE, print_daemon_status, NULL },
	{ "template", "import", "template.import", TEMPLATE, print_template_import, NULL },
	{ "template", "list", "template.list", NONE, print_template_list, NULL },
	{ "template", "show", "template.show", TEMPLATE, print_template_show, NULL },
	{ "template", "export", "template.export", TEMPLATE_FILE, print_done, NULL },
	{ "template", "publish", "template.publish", TEMPLATE, print_template_publish, NULL },
	{ "template", "maintain", "template.maintain", TEMPLATE, print_template_maintain, NULL },
	{ "template", "rm", "template.rm", TEMPLATE, print_done, NULL },
	{ "store", "gc", "store.gc", NONE, print_store_gc, NULL },
	{ "store", "verify", "store.verify", NONE, print_store_verify, NULL },
	{ "store", "refs", "store.refs", NONE, print_store_refs, NULL },
	{ "ct", "create", "ct.create", ID, print_ct_create, NULL },
	{ "ct", "mount", "ct.mount", ID, print_ct_done, NULL },
	{ "ct", "umount", "ct.umount", ID, print_ct_done, NULL },
	{ "ct", "destroy", "ct.destroy", ID, print_done, NULL },
	{ "ct", "list", "ct.list", NONE, print_ct_list, NULL },
	{ "ct", "status", "ct.status", ID, print_ct_status, NULL },
	{ "ct", "stats", "ct.stats", ID, print_ct_stats, NULL },
	{ "ct", "quota", "ct.quota", ID, print_ct_quota, NULL },
	{ "ct", "set", "ct.set", ID, print_ct_set, NULL },
	{ "ct", "relink", "ct.relink", ID, print_ct_relink, NULL },
	{ "ct", "rebase", "ct.rebase", ID, print_ct_rebase, NULL },
	{ "ct", "unlink", "ct.unlink", ID, print_ct_unlink, NULL },
	/* the client's own: rsync, then ct.p2v.stage, .final, ct.relink */
	{ "ct", "p2v", "p2v", ID, NULL, NULL },
	{ "ct", "app", "ct.app.add", ID_APP, print_ct_rebase, "add" },
	{ "ct", "app", "ct.app.rm", ID_APP, print_ct_rebase, "rm" },
	{ "ct", "app", "ct.app.list", ID, print_ct_app_list, "list" },
	/* the client's own: ct.app.list, template.show and ct.status, then
	 * systemd-nspawn (postinst.c) */
	{ "ct", "app", "postinst", ID_APP, NULL, "postinst" },
};

static void show_progress(void *arg, json_object *msg)
{
	(void)arg;
	print_progress(msg);
}

/* @path made absolute (the daemon has its own working directory). */
static json_object *abs_path(const char *path, bool must_exist)
{
	char buf[PATH_MAX], dir[PATH_MAX], *d, *b;

	if (path[0] == '/')
		return json_object_new_string(path);
	if (must_exist)
		return json_object_new_string(realpath(path, buf) ? buf : path);
	snprintf(dir, sizeof(dir), "%s", path);
	d = dirname(dir);
	if (!realpath(d, buf))
		return json_object_new_string(path);	/* the daemon says why */
	snprintf(dir, sizeof(dir), "%s", path);
	b = basename(dir);
	strncat(buf, "/", sizeof(buf) - strlen(buf) - 1);
	strncat(buf, b, sizeof(buf) - strlen(buf) - 1);
	return json_object_new_string(buf);
}

/* Sizes and durations are checked here too: a typo is a usage error. */
static bool quota_options_valid(const struct opts *o)
{
	uint64_t a, b;

	if (o->quota && tplfs_parse_limits(o->quota, &a, &b)) {
		fprintf(stderr, "tplctl: %s %s: not SOFT[:HARD] with SOFT <= HARD (sizes like 10G, 512M:1G; 0 for none)\n",
			o->quota_is_set ? "--set" : "--quota", o->quota);
		return false;
	}
	if (o->inodes && tplfs_parse_limits(o->inodes, &a, &b)) {
		fprintf(stderr, "tplctl: --inodes %s: not SOFT[:HARD] with SOFT <= HARD (like 100000 or 100K:120K)\n",
			o->inodes);
		return false;
	}
	if (o->grace && tplfs_parse_duration(o->grace, &a)) {
		fprintf(stderr, "tplctl: --grace %s: not a duration (like 7d, 1h30m, 90s)\n",
			o->grace);
		return false;
	}
	return true;
}

/* --rebase none|all|ID,...: a usage message if it is none of those. */
static bool rebase_list_valid(const char *list)
{
	char buf[4096], *save = NULL;

	if (!strcmp(list, "none") || !strcmp(list, "all"))
		return true;
	snprintf(buf, sizeof(buf), "%s", list);
	for (char *id = strtok_r(buf, ",", &save); id;
	     id = strtok_r(NULL, ",", &save)) {
		if (!tplfs_ct_id_valid(id)) {
			fprintf(stderr, "tplctl: --rebase %s: \"%s\" is not a container id (none, all, or ID,...)\n",
				list, id);
			return false;
		}
	}
	if (!list[0] || strlen(list) >= sizeof(buf)) {
		fprintf(stderr, "tplctl: --rebase: none, all, or ID,...\n");
		return false;
	}
	return true;
}

/*
 * template publish --rebase: the containers to rebase onto the version
 * just published (result @r): all of the version it was made from, or
 * those named. Their replies are added to @r as "rebased"; false if any
 * failed.
 */
static bool publish_rebase(int fd, const char *list, json_object *r,
			   bool json)
{
	json_object *ids, *args, *v, *replies;
	size_t failed;

	if (!strcmp(list, "none"))
		return true;
	if (!strcmp(list, "all")) {
		ids = json_object_object_get_ex(r, "from", &v) ?
		      containers_of(fd, json_object_get_string(v)) : NULL;
		if (!ids)
			return false;
	} else {
		char buf[4096], *save = NULL;

		ids = json_object_new_array();
		snprintf(buf, sizeof(buf), "%s", list);
		for (char *id = strtok_r(buf, ",", &save); id;
		     id = strtok_r(NULL, ",", &save))
			json_object_array_add(ids, json_object_new_string(id));
	}
	args = json_object_new_object();
	json_object_object_get_ex(r, "template", &v);
	json_object_object_add(args, "to", json_object_get(v));
	replies = rebase_each(fd, ids, args, json, &failed);
	if (!json)
		printf("%zu containers rebased onto %s, %zu failed\n",
		       json_object_array_length(ids) - failed,
		       json_object_get_string(v), failed);
	json_object_object_add(r, "rebased", replies);
	json_object_put(args);
	json_object_put(ids);
	return !failed;
}

/* The request's arguments, or NULL after a usage message. */
static json_object *build_args(const struct cmd *cmd, char **pos, int npos,
			       const struct opts *o)
{
	bool rebase = !strcmp(cmd->proto_verb, "ct.rebase");
	bool app = !strcmp(cmd->proto_verb, "ct.app.add") ||
		   !strcmp(cmd->proto_verb, "ct.app.rm");
	int want = cmd->args == NONE || (rebase && o->all) ? 0 :
		   cmd->args == TEMPLATE_FILE || cmd->args == ID_APP ? 2 : 1;
	json_object *args;

	if (npos != want) {
		fprintf(stderr, "tplctl: %s %s%s%s takes %s\n", cmd->noun, cmd->verb,
			cmd->sub ? " " : "", cmd->sub ? cmd->sub : "",
			cmd->args == NONE ? "no argument" :
			cmd->args == ID ? "one container ID" :
			cmd->args == TEMPLATE ? "one NAME@VERSION" :
			cmd->args == ID_APP ? (!strcmp(cmd->sub, "add") ?
			"a container ID and NAME@VERSION" :
			"a container ID and an application template's NAME") :
			"NAME@VERSION and FILE");
		return NULL;
	}
	if ((o->layer_of && strcmp(cmd->proto_verb, "template.import") &&
	     strcmp(cmd->proto_verb, "template.publish")) ||
	    (o->keep_mine && strcmp(cmd->proto_verb, "ct.app.add"))) {
		fprintf(stderr, "tplctl: %s is for %s\n",
			o->layer_of ? "--layer-of" : "--keep-mine",
			o->layer_of ? "template import and template publish" :
			"ct app add");
		return NULL;
	}
	if ((o->run_postinst && !o->layer_of) ||
	    (o->no_postinst && strcmp(cmd->proto_verb, "ct.app.add"))) {
		fprintf(stderr, "tplctl: %s\n", o->run_postinst ?
			"--run-postinst is for template import and publish with --layer-of" :
			"--no-postinst is for ct app add");
		return NULL;
	}
	if ((o->force && strcmp(cmd->proto_verb, "ct.umount") &&
	     strcmp(cmd->proto_verb, "ct.destroy")) ||
	    (o->from && strcmp(cmd->proto_verb, "template.import") &&
	     !(rebase && o->all)) ||
	    (o->private && strcmp(cmd->proto_verb, "template.import")) ||
	    ((o->to || o->all) && !rebase) ||
	    ((o->from_ct || o->rebase) &&
	     strcmp(cmd->proto_verb, "template.publish")) ||
	    ((o->ct || o->abort) && strcmp(cmd->proto_verb, "template.maintain")) ||
	    ((o->template || o->clone || o->apps || o->userns) &&
	     strcmp(cmd->proto_verb, "ct.create")) ||
	    (o->is_volatile && strcmp(cmd->proto_verb, "ct.create") &&
	     strcmp(cmd->proto_verb, "ct.set")) ||
	    (o->no_volatile && strcmp(cmd->proto_verb, "ct.set")) ||
	    (o->against && strcmp(cmd->proto_verb, "ct.relink")) ||
	    (o->fields && strcmp(cmd->proto_verb, "ct.list"))) {
		fprintf(stderr, "tplctl: an option %s %s does not take\n",
			cmd->noun, cmd->verb);
		return NULL;
	}
	if (o->prune && strcmp(cmd->proto_verb, "store.refs")) {
		fprintf(stderr, "tplctl: --prune is for store refs\n");
		return NULL;
	}
	if (o->scan && strcmp(cmd->proto_verb, "ct.status")) {
		fprintf(stderr, "tplctl: --scan is for ct status\n");
		return NULL;
	}
	if (o->dry_run && strcmp(cmd->proto_verb, "store.gc") &&
	    strcmp(cmd->proto_verb, "ct.relink") && !rebase && !app) {
		fprintf(stderr, "tplctl: --dry-run is for store gc, ct relink, ct rebase, ct app add and ct app rm\n");
		return NULL;
	}
	if (!strcmp(cmd->proto_verb, "template.publish") && !o->from_ct) {
		fprintf(stderr, "tplctl: template publish needs --from-ct ID\n");
		return NULL;
	}
	if (o->clone && strcmp(o->clone, "linked") && strcmp(o->clone, "full")) {
		fprintf(stderr, "tplctl: --clone linked or --clone full\n");
		return NULL;
	}
	if (o->ct && o->abort) {
		fprintf(stderr, "tplctl: template maintain --abort takes no --ct\n");
		return NULL;
	}
	if (o->rebase && !rebase_list_valid(o->rebase))
		return NULL;
	if (rebase && (!o->to || (o->all && !o->from))) {
		fprintf(stderr, "tplctl: ct rebase needs --to NAME@VERSION (and, with --all, --from NAME@VERSION)\n");
		return NULL;
	}
	if ((o->quota || o->inodes || o->grace) &&
	    strcmp(cmd->proto_verb, "ct.create") &&
	    strcmp(cmd->proto_verb, "ct.quota") &&
	    strcmp(cmd->proto_verb, "ct.set")) {
		fprintf(stderr, "tplctl: --quota, --set, --inodes and --grace are for ct create, ct set and ct quota\n");
		return NULL;
	}
	if (o->quota && o->quota_is_set != !strcmp(cmd->proto_verb, "ct.quota")) {
		fprintf(stderr, "tplctl: the byte limits are --quota for ct create and ct set, --set for ct quota\n");
		return NULL;
	}
	if (o->is_volatile && o->no_volatile) {
		fprintf(stderr, "tplctl: --volatile or --no-volatile, not both\n");
		return NULL;
	}
	if (!strcmp(cmd->proto_verb, "ct.set") && !o->quota && !o->inodes &&
	    !o->grace && !o->is_volatile && !o->no_volatile) {
		fprintf(stderr, "tplctl: ct set needs what to set: --volatile, --no-volatile, --quota, --inodes, --grace\n");
		return NULL;
	}
	if (!quota_options_valid(o))
		return NULL;
	if (!strcmp(cmd->proto_verb, "template.import") && !o->from) {
		fprintf(stderr, "tplctl: template import needs --from DIR|TARBALL\n");
		return NULL;
	}
	if (!strcmp(cmd->proto_verb, "ct.create") && !o->template) {
		fprintf(stderr, "tplctl: ct create needs --template NAME@VERSION\n");
		return NULL;
	}
	args = json_object_new_object();
	if ((cmd->args == ID || cmd->args == ID_APP) && want)
		json_object_object_add(args, "id", json_object_new_string(pos[0]));
	if (cmd->args == ID_APP)
		json_object_object_add(args, "app", json_object_new_string(pos[1]));
	if (o->layer_of)
		json_object_object_add(args, "layer_of",
				       json_object_new_string(o->layer_of));
	if (o->keep_mine)
		json_object_object_add(args, "keep_mine", json_object_new_boolean(1));
	if (o->run_postinst)
		json_object_object_add(args, "run_postinst", json_object_new_boolean(1));
	if (o->to)
		json_object_object_add(args, "to", json_object_new_string(o->to));
	if (o->from_ct)
		json_object_object_add(args, "from_ct", json_object_new_string(o->from_ct));
	if (cmd->args == TEMPLATE || cmd->args == TEMPLATE_FILE)
		json_object_object_add(args, "template",
				       json_object_new_string(pos[0]));
	if (cmd->args == TEMPLATE_FILE)
		json_object_object_add(args, "file", abs_path(pos[1], false));
	if (o->from && !rebase)
		json_object_object_add(args, "from", abs_path(o->from, true));
	if (o->private)
		json_object_object_add(args, "private", json_object_get(o->private));
	if (o->against)
		json_object_object_add(args, "against", json_object_get(o->against));
	if (o->apps)
		json_object_object_add(args, "apps", json_object_get(o->apps));
	if (o->template)
		json_object_object_add(args, "template",
				       json_object_new_string(o->template));
	if (o->ct)
		json_object_object_add(args, "ct", json_object_new_string(o->ct));
	if (o->clone)
		json_object_object_add(args, "clone", json_object_new_string(o->clone));
	if (o->userns)
		json_object_object_add(args, "userns", json_object_new_string(o->userns));
	if (o->abort)
		json_object_object_add(args, "abort", json_object_new_boolean(1));
	if (o->force)
		json_object_object_add(args, "force", json_object_new_boolean(1));
	if (o->dry_run)
		json_object_object_add(args, "dry_run", json_object_new_boolean(1));
	if (o->scan)
		json_object_object_add(args, "scan", json_object_new_boolean(1));
	if (o->prune)
		json_object_object_add(args, "prune", json_object_new_boolean(1));
	if (o->is_volatile || o->no_volatile)
		json_object_object_add(args, "volatile",
				       json_object_new_boolean(o->is_volatile));
	if (o->usage)
		json_object_object_add(args, "usage", json_object_new_boolean(1));
	if (o->quota)
		json_object_object_add(args, "quota", json_object_new_string(o->quota));
	if (o->inodes)
		json_object_object_add(args, "inodes", json_object_new_string(o->inodes));
	if (o->grace)
		json_object_object_add(args, "grace", json_object_new_string(o->grace));
	return args;
}

/*
 * A ct.list longer than one message comes in parts, each saying where the
 * next begins (continue_after): ask for them all and make @reply whole.
 */
int list_rest(int fd, json_object *reply, bool usage)
{
	json_object *res, *all, *next, *part, *pres, *cts;

	if (!json_object_object_get_ex(reply, "result", &res) ||
	    !json_object_object_get_ex(res, "containers", &all))
		return 0;
	while (json_object_object_get_ex(res, "continue_after", &next)) {
		json_object *args = json_object_new_object();
		int ret;

		json_object_object_add(args, "after", json_object_get(next));
		if (usage)
			json_object_object_add(args, "usage",
					       json_object_new_boolean(1));
		json_object_object_del(res, "continue_after");
		ret = tplfs_client_call(fd, "ct.list", args, NULL, NULL, &part);
		if (ret)
			return ret;
		if (!json_object_object_get_ex(part, "result", &pres) ||
		    !json_object_object_get_ex(pres, "containers", &cts)) {
			json_object_put(part);
			return -EPROTO;
		}
		for (size_t i = 0; i < json_object_array_length(cts); i++)
			json_object_array_add(all, json_object_get(
				json_object_array_get_idx(cts, i)));
		if (json_object_object_get_ex(pres, "continue_after", &next))
			json_object_object_add(res, "continue_after",
					       json_object_get(next));
		json_object_put(part);
	}
	return 0;
}

int main(int argc, char **argv)
{
	static const struct option lopts[] = {
		{ "socket", required_argument, NULL, 's' },
		{ "json", no_argument, NULL, 'j' },
		{ "progress", no_argument, NULL, 'P' },
		{ "force", no_argument, NULL, 'f' },
		{ "dry-run", no_argument, NULL, 'n' },
		{ "prune", no_argument, NULL, 'r' },
		{ "scan", no_argument, NULL, 'c' },
		{ "from", required_argument, NULL, 'F' },
		{ "template", required_argument, NULL, 't' },
		{ "volatile", no_argument, NULL, 'v' },
		{ "no-volatile", no_argument, NULL, 'N' },
		{ "output", required_argument, NULL, 'o' },
		{ "private", required_argument, NULL, 'p' },
		{ "against", required_argument, NULL, 'a' },
		{ "to", required_argument, NULL, 'T' },
		{ "from-ct", required_argument, NULL, 'C' },
		{ "rebase", required_argument, NULL, 'R' },
		{ "ct", required_argument, NULL, 'I' },
		{ "abort", no_argument, NULL, 'X' },
		{ "clone", required_argument, NULL, 'L' },
		{ "all", no_argument, NULL, 'A' },
		{ "layer-of", required_argument, NULL, 'Y' },
		{ "keep-mine", no_argument, NULL, 'K' },
		{ "app", required_argument, NULL, 'U' },
		{ "userns", required_argument, NULL, 'W' },
		{ "run-postinst", no_argument, NULL, 'Q' },
		{ "no-postinst", no_argument, NULL, 'Z' },
		{ "quota", required_argument, NULL, 'q' },
		{ "set", required_argument, NULL, 'S' },
		{ "inodes", required_argument, NULL, 'i' },
		{ "grace", required_argument, NULL, 'g' },
		{ "mount", required_argument, NULL, 'M' },
		{ "exclude", required_argument, NULL, 'E' },
		{ "final", no_argument, NULL, 'G' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 }
	};
	const char *sock = getenv("TPLFS_SOCKET");
	const struct cmd *cmd = NULL;
	struct opts o = { 0 };
	struct p2v_opts p2v = { 0 };
	bool json = false, progress = isatty(STDERR_FILENO);
	json_object *args, *reply, *ok, *v;
	bool rebased;
	char err[512];
	int opt, fd, ret, nargs;

	while ((opt = getopt_long(argc, argv, "o:", lopts, NULL)) != -1) {
		switch (opt) {
		case 's': sock = optarg; break;
		case 'j': json = true; break;
		case 'P': progress = true; break;
		case 'f': o.force = true; break;
		case 'n': o.dry_run = true; break;
		case 'r': o.prune = true; break;
		case 'c': o.scan = true; break;
		case 'F': o.from = optarg; break;
		case 't': o.template = optarg; break;
		case 'T': o.to = optarg; break;
		case 'C': o.from_ct = optarg; break;
		case 'R': o.rebase = optarg; break;
		case 'I': o.ct = optarg; break;
		case 'X': o.abort = true; break;
		case 'L': o.clone = optarg; break;
		case 'A': o.all = true; break;
		case 'Y': o.layer_of = optarg; break;
		case 'K': o.keep_mine = true; break;
		case 'W': o.userns = optarg; break;
		case 'Q': o.run_postinst = true; break;
		case 'Z': o.no_postinst = true; break;
		case 'v': o.is_volatile = true; break;
		case 'N': o.no_volatile = true; break;
		case 'o':
			o.fields = optarg;
			if (ct_list_columns(optarg, &o.usage))
				return EX_USAGE;
			break;
		case 'q': o.quota = optarg; o.quota_is_set = false; break;
		case 'S': o.quota = optarg; o.quota_is_set = true; break;
		case 'i': o.inodes = optarg; break;
		case 'g': o.grace = optarg; break;
		case 'M':
			if (p2v.nmounts == TPLFS_P2V_MOUNTS_MAX) {
				fprintf(stderr, "tplctl: at most %d --mount\n", TPLFS_P2V_MOUNTS_MAX);
				return EX_USAGE;
			}
			p2v.mounts[p2v.nmounts++] = optarg;
			break;
		case 'E':
			if (p2v.nexcludes == TPLFS_P2V_EXCLUDES_MAX) {
				fprintf(stderr, "tplctl: at most %d --exclude\n", TPLFS_P2V_EXCLUDES_MAX);
				return EX_USAGE;
			}
			p2v.excludes[p2v.nexcludes++] = optarg;
			break;
		case 'G': p2v.final = true; break;
		case 'p':
			if (!o.private)
				o.private = json_object_new_array();
			json_object_array_add(o.private, json_object_new_string(optarg));
			break;
		case 'U':
			if (!o.apps)
				o.apps = json_object_new_array();
			json_object_array_add(o.apps, json_object_new_string(optarg));
			break;
		case 'a':
			if (!o.against)
				o.against = json_object_new_array();
			json_object_array_add(o.against, json_object_new_string(optarg));
			break;
		case 'h': usage(stdout); return 0;
		case 'V': printf("tplctl %s\n", TPLFS_VERSION); return 0;
		default: usage(stderr); return EX_USAGE;
		}
	}
	nargs = argc - optind;
	for (size_t i = 0; nargs >= 2 && i < sizeof(cmds) / sizeof(cmds[0]); i++)
		if (!strcmp(cmds[i].noun, argv[optind]) &&
		    !strcmp(cmds[i].verb, argv[optind + 1]) &&
		    (!cmds[i].sub || (nargs >= 3 &&
				      !strcmp(cmds[i].sub, argv[optind + 2]))))
			cmd = &cmds[i];
	if (!cmd) {
		if (nargs)
			fprintf(stderr, "tplctl: unknown command \"%s%s%s\"\n",
				argv[optind], nargs > 1 ? " " : "",
				nargs > 1 ? argv[optind + 1] : "");
		usage(stderr);
		return EX_USAGE;
	}
	nargs -= cmd->sub ? 3 : 2;
	if ((p2v.nmounts || p2v.nexcludes || p2v.final) &&
	    strcmp(cmd->proto_verb, "p2v")) {
		fprintf(stderr, "tplctl: --mount, --exclude and --final are for ct p2v\n");
		return EX_USAGE;
	}
	if (!strcmp(cmd->proto_verb, "p2v")) {
		if (nargs != 1) {
			fprintf(stderr, "tplctl: ct p2v takes one container ID\n");
			return EX_USAGE;
		}
		if (o.quota_is_set || o.force || o.dry_run || o.scan || o.to ||
		    o.from_ct || o.rebase || o.ct || o.clone || o.all ||
		    o.layer_of || o.keep_mine || o.apps || o.userns ||
		    o.run_postinst || o.no_postinst || o.is_volatile ||
		    o.no_volatile || o.private || o.against || o.fields) {
			fprintf(stderr, "tplctl: an option ct p2v does not take\n");
			return EX_USAGE;
		}
		if (!quota_options_valid(&o))
			return EX_USAGE;
		p2v.socket = sock ? sock : TPLFS_SOCKET_DEFAULT;
		p2v.from = o.from;
		p2v.template = o.template;
		p2v.quota = o.quota;
		p2v.inodes = o.inodes;
		p2v.grace = o.grace;
		p2v.abort = o.abort;
		p2v.json = json;
		p2v.progress = progress;
		ret = p2v_run(&p2v, argv[optind + 2]);
		return ret == 2 ? EX_USAGE : ret ? EX_FAILED : 0;
	}
	args = build_args(cmd, argv + optind + (cmd->sub ? 3 : 2), nargs, &o);
	json_object_put(o.private);
	json_object_put(o.against);
	json_object_put(o.apps);
	if (!args)
		return EX_USAGE;

	if (!sock)
		sock = TPLFS_SOCKET_DEFAULT;
	fd = tplfs_client_connect(sock, err, sizeof(err));
	if (fd == -ENOENT || fd == -ECONNREFUSED) {
		fprintf(stderr,
			"tplctl: tplfsd is not running (%s)\n"
			"tplctl: start it with \"systemctl start tplfsd\", or \"tplfsd\" as root\n",
			err);
		json_object_put(args);
		return EX_NODAEMON;
	}
	if (fd < 0) {
		fprintf(stderr, "tplctl: cannot reach tplfsd: %s\n", err);
		json_object_put(args);
		return fd == -EACCES ? EX_FAILED : EX_NODAEMON;
	}
	if (!strcmp(cmd->proto_verb, "ct.rebase") && o.all) {
		ret = rebase_all(fd, o.from, args, json);
		close(fd);
		return ret;
	}
	if (!strcmp(cmd->proto_verb, "postinst")) {
		json_object_object_get_ex(args, "id", &v);
		json_object_object_get_ex(args, "app", &ok);
		ret = postinst_of_app(fd, json_object_get_string(v),
				      json_object_get_string(ok));
		json_object_put(args);
		close(fd);
		return ret ? EX_FAILED : 0;
	}
	ret = tplfs_client_call(fd, cmd->proto_verb, args,
				json || !progress ? NULL : show_progress,
				NULL, &reply);
	if (!ret && !strcmp(cmd->proto_verb, "ct.list")) {
		ret = list_rest(fd, reply, o.usage);
		if (ret)
			json_object_put(reply);
	}
	if (ret) {
		close(fd);
		fprintf(stderr, "tplctl: %s: %s\n", cmd->proto_verb,
			ret == -ECONNRESET ? "tplfsd closed the connection" :
			strerror(-ret));
		return EX_NODAEMON;
	}
	ok = NULL;
	json_object_object_get_ex(reply, "ok", &ok);
	/* the result first, then (publish --rebase) the rebases it asks for */
	if (!json && json_object_get_boolean(ok)) {
		json_object_object_get_ex(reply, "result", &v);
		cmd->print(v);
	} else if (!json) {
		print_error(reply);
	}
	rebased = true;
	if (o.rebase && json_object_get_boolean(ok) &&
	    json_object_object_get_ex(reply, "result", &v))
		rebased = publish_rebase(fd, o.rebase, v, json);
	close(fd);
	if (json)
		printf("%s\n", json_object_to_json_string_ext(reply,
		       JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_NOSLASHESCAPE));
	ret = json_object_get_boolean(ok) && rebased ? 0 : EX_FAILED;
	/* an app template's maintainer scripts, run here (doc/apps.md) */
	if (!ret && !strcmp(cmd->proto_verb, "ct.app.add") && !o.no_postinst &&
	    json_object_object_get_ex(reply, "result", &v)) {
		int out = -1;

		/* --json: stdout is the reply's alone */
		if (json) {
			fflush(stdout);
			out = dup(STDOUT_FILENO);
			dup2(STDERR_FILENO, STDOUT_FILENO);
		}
		if (postinst_after_add(v))
			ret = EX_FAILED;
		if (out >= 0) {
			fflush(stdout);
			dup2(out, STDOUT_FILENO);
			close(out);
		}
	}
	/* a store found damaged is a failure, though the request worked */
	if (!ret && !strcmp(cmd->proto_verb, "store.verify") &&
	    json_object_object_get_ex(reply, "result", &v) &&
	    json_object_object_get_ex(v, "problems", &v) &&
	    json_object_get_int64(v) > 0)
		ret = EX_FAILED;
	json_object_put(reply);
	return ret;
}
