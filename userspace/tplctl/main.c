// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * tplctl: the command line of tplfs. It talks only to tplfsd (the protocol
 * in doc/protocol.md) and prints its replies for people, or as JSON with
 * --json.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "client.h"
#include "output.h"
#include "proto.h"
#include "version.h"

/* Exit codes */
#define EX_FAILED	1	/* the daemon refused or failed the request */
#define EX_USAGE	2
#define EX_NODAEMON	3	/* tplfsd is not running */

static void usage(FILE *f)
{
	fprintf(f,
"Usage: tplctl [--socket PATH] [--json] COMMAND\n"
"The command line of tplfs; it asks tplfsd to do the work.\n"
"\n"
"Commands:\n"
"  daemon status          the daemon, its kernel channel, mounted containers\n"
"  ct stats ID            counters of a mounted container\n"
"  ct mount ID            mount container ID on <root>/root/ID\n"
"  ct umount ID [--force] unmount it (--force: detach even if busy)\n"
"\n"
"Options:\n"
"  --socket PATH   tplfsd's socket (default " TPLFS_SOCKET_DEFAULT ")\n"
"  --json          print the daemon's reply as JSON\n"
"  --help, --version\n"
"\n"
"Exit status: 0 done, 1 refused or failed, 2 usage, 3 tplfsd not running.\n");
}

struct cmd {
	const char *noun, *verb;	/* tplctl NOUN VERB */
	const char *proto_verb;		/* the protocol's verb */
	bool takes_id;
	void (*print)(json_object *result);
};

static const struct cmd cmds[] = {
	{ "daemon", "status", "daemon.status", false, print_daemon_status },
	{ "ct", "stats", "ct.stats", true, print_ct_stats },
	{ "ct", "mount", "ct.mount", true, print_ct_done },
	{ "ct", "umount", "ct.umount", true, print_ct_done },
};

static void show_progress(void *arg, json_object *msg)
{
	(void)arg;
	print_progress(msg);
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "socket", required_argument, NULL, 's' },
		{ "json", no_argument, NULL, 'j' },
		{ "force", no_argument, NULL, 'f' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 }
	};
	const char *sock = getenv("TPLFS_SOCKET");
	const struct cmd *cmd = NULL;
	bool json = false, force = false;
	json_object *args, *reply, *ok, *v;
	char err[512];
	int opt, fd, ret, nargs;

	while ((opt = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (opt) {
		case 's': sock = optarg; break;
		case 'j': json = true; break;
		case 'f': force = true; break;
		case 'h': usage(stdout); return 0;
		case 'V': printf("tplctl %s\n", TPLFS_VERSION); return 0;
		default: usage(stderr); return EX_USAGE;
		}
	}
	nargs = argc - optind;
	for (size_t i = 0; nargs >= 2 && i < sizeof(cmds) / sizeof(cmds[0]); i++)
		if (!strcmp(cmds[i].noun, argv[optind]) &&
		    !strcmp(cmds[i].verb, argv[optind + 1]))
			cmd = &cmds[i];
	if (!cmd) {
		if (nargs)
			fprintf(stderr, "tplctl: unknown command \"%s%s%s\"\n",
				argv[optind], nargs > 1 ? " " : "",
				nargs > 1 ? argv[optind + 1] : "");
		usage(stderr);
		return EX_USAGE;
	}
	if (nargs != 2 + cmd->takes_id) {
		fprintf(stderr, "tplctl: %s %s takes %s\n", cmd->noun, cmd->verb,
			cmd->takes_id ? "one container ID" : "no argument");
		return EX_USAGE;
	}
	if (force && strcmp(cmd->proto_verb, "ct.umount")) {
		fprintf(stderr, "tplctl: --force is for ct umount\n");
		return EX_USAGE;
	}

	args = json_object_new_object();
	if (cmd->takes_id)
		json_object_object_add(args, "id",
				       json_object_new_string(argv[optind + 2]));
	if (force)
		json_object_object_add(args, "force", json_object_new_boolean(1));

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
	ret = tplfs_client_call(fd, cmd->proto_verb, args,
				json ? NULL : show_progress, NULL, &reply);
	close(fd);
	if (ret) {
		fprintf(stderr, "tplctl: %s: %s\n", cmd->proto_verb,
			ret == -ECONNRESET ? "tplfsd closed the connection" :
			strerror(-ret));
		return EX_NODAEMON;
	}
	ok = NULL;
	json_object_object_get_ex(reply, "ok", &ok);
	if (json) {
		printf("%s\n", json_object_to_json_string_ext(reply,
		       JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_NOSLASHESCAPE));
	} else if (json_object_get_boolean(ok)) {
		json_object_object_get_ex(reply, "result", &v);
		cmd->print(v);
	} else {
		print_error(reply);
	}
	ret = json_object_get_boolean(ok) ? 0 : EX_FAILED;
	json_object_put(reply);
	return ret;
}
