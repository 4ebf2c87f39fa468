// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The daemon's settings after start: the descriptor limit that max_clients
 * needs, and SIGHUP, which reads the configuration file again. What the
 * running daemon can take is taken at once (max_clients,
 * max_clients_per_uid, idle_timeout, read_group: the socket's group and
 * who may read, for connections already open too); root, store and socket
 * are where its state lives and change only at a restart, which the log
 * says. A file that does not read leaves every setting as it was.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>

#include "log.h"
#include "sdnotify.h"
#include "tplfsd.h"

void daemon_raise_nofile(const struct tplfs_config *cfg)
{
	/* users' connections, as many of root's, and the daemon's own */
	rlim_t need = 2 * (rlim_t)cfg->max_clients + 256;
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) < 0 || rl.rlim_cur >= need)
		return;
	rl.rlim_cur = rl.rlim_max < need ? rl.rlim_max : need;
	if (setrlimit(RLIMIT_NOFILE, &rl) < 0 || rl.rlim_cur < need)
		log_warn("%llu descriptors at most (RLIMIT_NOFILE), %llu wanted for max_clients = %u: new connections wait when they run out",
			 (unsigned long long)rl.rlim_cur,
			 (unsigned long long)need, cfg->max_clients);
}

/* Append "KEY OLD -> NEW" to @buf (of @len) if the values differ. */
static void note_uint(char *buf, size_t len, const char *key,
		      unsigned int old, unsigned int new)
{
	size_t used = strlen(buf);

	if (old != new && used < len)
		snprintf(buf + used, len - used, "%s%s %u -> %u",
			 used ? ", " : "", key, old, new);
}

static void group_text(const struct tplfs_config *c, char *buf, size_t len)
{
	if (c->has_read_group)
		snprintf(buf, len, "%u", (unsigned int)c->read_gid);
	else
		snprintf(buf, len, "none");
}

/* A path setting the file changed: it waits for a restart. */
static void fixed_at_start(const char *path, const char *key,
			   const char *was, const char *now, const char *running)
{
	if (strcmp(was, now))
		log_warn("SIGHUP: %s: %s = %s takes effect at the next start; the daemon keeps %s",
			 path, key, now, running);
}

void daemon_reload(struct daemon *d)
{
	struct tplfs_config n, *c = &d->cfg;
	char err[1024], changed[512] = "", og[16], ng[16];
	bool group_changed;

	tplfs_sd_notify("RELOADING=1");
	tplfs_config_defaults(&n);
	if (tplfs_config_read(&n, d->config_path, d->config_optional, err,
			      sizeof(err))) {
		log_err("SIGHUP: %s; every setting stays as it was", err);
		goto out;
	}
	fixed_at_start(d->config_path, "root", d->file_cfg.root, n.root,
		       c->root);
	fixed_at_start(d->config_path, "store", d->file_cfg.store, n.store,
		       c->store);
	fixed_at_start(d->config_path, "socket", d->file_cfg.socket, n.socket,
		       c->socket);
	d->file_cfg = n;

	note_uint(changed, sizeof(changed), "max_clients", c->max_clients,
		  n.max_clients);
	note_uint(changed, sizeof(changed), "max_clients_per_uid",
		  c->max_clients_per_uid, n.max_clients_per_uid);
	note_uint(changed, sizeof(changed), "idle_timeout", c->idle_timeout,
		  n.idle_timeout);
	group_text(c, og, sizeof(og));
	group_text(&n, ng, sizeof(ng));
	group_changed = strcmp(og, ng) != 0;
	if (group_changed) {
		size_t used = strlen(changed);

		snprintf(changed + used, sizeof(changed) - used,
			 "%sread_group %s -> %s", used ? ", " : "", og, ng);
	}
	if (strcmp(c->verity, n.verity)) {
		size_t used = strlen(changed);

		snprintf(changed + used, sizeof(changed) - used,
			 "%sverity %s -> %s (at each container's next mount)",
			 used ? ", " : "", c->verity, n.verity);
		strcpy(c->verity, n.verity);
	}
	c->max_clients = n.max_clients;
	c->max_clients_per_uid = n.max_clients_per_uid;
	c->idle_timeout = n.idle_timeout;
	c->read_gid = n.read_gid;
	c->has_read_group = n.has_read_group;
	daemon_raise_nofile(c);
	if (group_changed)
		server_reconfigure(d);
	log_info("SIGHUP: %s read again: %s", d->config_path,
		 changed[0] ? changed : "nothing changed");
out:
	tplfs_sd_notify("READY=1");
}
