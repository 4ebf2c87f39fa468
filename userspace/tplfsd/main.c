// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * tplfsd: the tplfs daemon. Start-up (configuration, privileges, journal
 * recovery, the socket), the signals and the timer, and the orderly stop.
 * doc/tplfsd.md describes it.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <unistd.h>

#include "caps.h"
#include "devcmd.h"
#include "jobs.h"
#include "journal.h"
#include "kchan.h"
#include "log.h"
#include "opjob.h"
#include "store.h"
#include "sdnotify.h"
#include "tplfsd.h"
#include "version.h"

#define TICK_SEC	1
#define BULK_WORKERS	2
#define QUICK_WORKERS	2

static struct daemon daemon_state;
static int sig_fd;
static struct signalfd_siginfo sig_info;
static struct loop_op sig_op;
static struct loop_op tick_op;
static struct __kernel_timespec tick_ts = { .tv_sec = TICK_SEC };
static int ready_pipe = -1;	/* to the parent that waits for us to start */

static void usage(FILE *f)
{
	fprintf(f,
"Usage: tplfsd [OPTION]...\n"
"The tplfs daemon: serves tplctl on a unix socket, follows the tplfs kernel\n"
"module through /dev/tplfs, mounts and unmounts containers.\n"
"\n"
"  --config FILE   settings file (default " TPLFS_CONFIG_DEFAULT ")\n"
"  --root DIR      host-local state: private/, root/, journal/\n"
"                  (default " TPLFS_ROOT_DEFAULT ")\n"
"  --store DIR     the template store (default " TPLFS_STORE_DEFAULT ")\n"
"  --socket PATH   control socket (default " TPLFS_SOCKET_DEFAULT ")\n"
"  --foreground    stay in the foreground (implied under systemd)\n"
"  --help          this text\n"
"  --version       the version\n"
"\n"
"Needs root (the capabilities it keeps are in doc/tplfsd.md). Logs go to\n"
"stderr; in the background, to syslog once it serves. SIGTERM stops it\n"
"after the operations under way are done. SIGHUP reads FILE again and takes\n"
"max_clients, max_clients_per_uid, idle_timeout and read_group at once;\n"
"root, store and socket change only at a restart.\n");
}

/*
 * The loop's idle hook, after each batch of completions: a daemon that is
 * stopping leaves once nothing is under way.
 */
static void daemon_check_exit(struct loop *loop)
{
	struct daemon *d = &daemon_state;

	if (d->stopping && server_idle(d) && !jobs_pending(d) &&
	    kchan_idle(d))
		loop->stop = true;
}

static void daemon_stop(struct daemon *d, const char *why)
{
	if (d->stopping)
		return;
	log_info("stopping (%s): finishing %u operation(s)", why,
		 jobs_pending(d));
	d->stopping = true;
	tplfs_sd_notify("STOPPING=1");
	server_stop(d);
	kchan_stop(d);
}

static void sig_arm(struct daemon *d);

static void sig_done(struct loop_op *op, int res, unsigned int flags)
{
	struct daemon *d = &daemon_state;

	(void)op;
	(void)flags;
	if (res == (int)sizeof(sig_info)) {
		if (sig_info.ssi_signo == SIGHUP)
			daemon_reload(d);
		else
			daemon_stop(d, strsignal((int)sig_info.ssi_signo));
	}
	sig_arm(d);
}

static void sig_arm(struct daemon *d)
{
	struct io_uring_sqe *sqe = loop_sqe(&d->loop, &sig_op);

	io_uring_prep_read(sqe, sig_fd, &sig_info, sizeof(sig_info), 0);
}

static void tick_arm(struct daemon *d);

static void tick_done(struct loop_op *op, int res, unsigned int flags)
{
	struct daemon *d = &daemon_state;
	char status[128];

	(void)op;
	(void)res;
	(void)flags;
	if (d->stopping)
		return;
	kchan_open(d);
	kchan_tick(d);
	server_tick(d);
	opjob_progress_tick(d);
	ctquota_tick(d);
	refs_tick(d);
	snprintf(status, sizeof(status),
		 "STATUS=%u client(s), %u job(s), kernel channel %s",
		 d->nclients, jobs_pending(d),
		 kchan_available(d) ? "open" : "not available");
	tplfs_sd_notify(status);
	tick_arm(d);
}

static void tick_arm(struct daemon *d)
{
	struct io_uring_sqe *sqe = loop_sqe(&d->loop, &tick_op);

	io_uring_prep_timeout(sqe, &tick_ts, 0, 0);
}

static int setup_signals(void)
{
	sigset_t set;

	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGHUP);
	if (sigprocmask(SIG_BLOCK, &set, NULL) < 0)
		return -errno;
	signal(SIGPIPE, SIG_IGN);
	sig_fd = signalfd(-1, &set, SFD_CLOEXEC);
	return sig_fd < 0 ? -errno : 0;
}

/*
 * Without --foreground and outside systemd, go to the background: the
 * parent exits 0 once the child is serving, or 1 if it failed to start.
 */
static void background(void)
{
	int fds[2];
	char c = 1;
	pid_t pid;

	if (pipe2(fds, O_CLOEXEC) < 0) {
		perror("tplfsd: pipe");
		exit(1);
	}
	pid = fork();
	if (pid < 0) {
		perror("tplfsd: fork");
		exit(1);
	}
	if (pid > 0) {
		close(fds[1]);
		exit(read(fds[0], &c, 1) == 1 && c == 0 ? 0 : 1);
	}
	close(fds[0]);
	ready_pipe = fds[1];
	setsid();
	/* Until it serves, its errors go where the command was run. */
}

/* Serving in the background: stdio to /dev/null, logs to syslog. */
static void detach_stdio(void)
{
	int fd = open("/dev/null", O_RDWR | O_CLOEXEC);

	if (fd >= 0) {
		dup3(fd, STDIN_FILENO, 0);
		dup3(fd, STDOUT_FILENO, 0);
		dup3(fd, STDERR_FILENO, 0);
		if (fd > STDERR_FILENO)
			close(fd);
	}
	log_to_syslog();
}

/*
 * Hold an exclusive lock on @path for the life of the daemon: one daemon
 * per root and per socket. The lock goes with the process, even on
 * kill -9 (a socket may outlive it a moment: its ring is torn down after
 * the process is gone).
 */
int daemon_lock_file(const char *path)
{
	char pid[32] = "";
	int fd, n;

	fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
	if (fd < 0) {
		log_err("%s: %s", path, strerror(errno));
		return -1;
	}
	if (flock(fd, LOCK_EX | LOCK_NB) < 0) {
		n = (int)pread(fd, pid, sizeof(pid) - 1, 0);
		pid[n > 0 ? n : 0] = '\0';
		pid[strcspn(pid, "\n")] = '\0';
		log_err("another tplfsd (pid %s) holds %s", pid[0] ? pid : "?",
			path);
		close(fd);
		return -1;
	}
	n = snprintf(pid, sizeof(pid), "%d\n", getpid());
	if (ftruncate(fd, 0) < 0 || pwrite(fd, pid, (size_t)n, 0) != n)
		log_warn("%s: %s", path, strerror(errno));
	return fd;	/* kept open: the lock lasts as long as we do */
}

static void tell_parent_ready(void)
{
	char c = 0;

	if (ready_pipe < 0)
		return;
	if (write(ready_pipe, &c, 1) < 0)
		log_warn("cannot tell the parent we started: %s",
			 strerror(errno));
	close(ready_pipe);
	ready_pipe = -1;
	detach_stdio();
}

/* mkdir -p @path (0755): its missing parents too. */
static int make_dirs(const char *path)
{
	char buf[PATH_MAX], c;
	size_t len = strlen(path);

	if (len >= sizeof(buf))
		return -ENAMETOOLONG;
	memcpy(buf, path, len + 1);
	for (char *p = buf + 1; ; p++) {
		if (*p != '/' && *p != '\0')
			continue;
		c = *p;
		*p = '\0';
		if (mkdir(buf, 0755) < 0 && errno != EEXIST) {
			int err = -errno;

			log_err("--root %s: cannot make %s: %s", path, buf,
				strerror(errno));
			return err;
		}
		*p = c;
		if (!c)
			return 0;
	}
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "root", required_argument, NULL, 'r' },
		{ "store", required_argument, NULL, 's' },
		{ "socket", required_argument, NULL, 'S' },
		{ "foreground", no_argument, NULL, 'f' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 }
	};
	const char *config = NULL, *root = NULL, *store = NULL, *sock = NULL;
	struct daemon *d = &daemon_state;
	bool foreground = false;
	char err[1024], jdir[PATH_MAX], lock[PATH_MAX + 16];
	int opt, ret, listen_fd;

	while ((opt = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (opt) {
		case 'c': config = optarg; break;
		case 'r': root = optarg; break;
		case 's': store = optarg; break;
		case 'S': sock = optarg; break;
		case 'f': foreground = true; break;
		case 'h': usage(stdout); return 0;
		case 'V': printf("tplfsd %s\n", TPLFS_VERSION); return 0;
		default: usage(stderr); return 2;
		}
	}
	/*
	 * Nothing inherited stays open but stdio and the socket systemd
	 * passed (fd 3): a descriptor of whoever started us is not ours to
	 * hold (a lock, a pipe that never sees EOF, a file of the caller's).
	 */
	listen_fd = tplfs_sd_listen_fd();
	close_range(listen_fd >= 0 ? 4 : 3, ~0U, 0);
	if (optind < argc) {
		fprintf(stderr, "tplfsd: unexpected argument \"%s\"\n",
			argv[optind]);
		usage(stderr);
		return 2;
	}

	d->config_path = config ? config : TPLFS_CONFIG_DEFAULT;
	d->config_optional = !config;
	tplfs_config_defaults(&d->cfg);
	ret = tplfs_config_read(&d->cfg, d->config_path, d->config_optional,
				err, sizeof(err));
	if (ret) {
		fprintf(stderr, "tplfsd: %s\n", err);
		return 1;
	}
	d->file_cfg = d->cfg;
	if ((root && snprintf(d->cfg.root, PATH_MAX, "%s", root) >= PATH_MAX) ||
	    (store && snprintf(d->cfg.store, PATH_MAX, "%s", store) >= PATH_MAX) ||
	    (sock && snprintf(d->cfg.socket, PATH_MAX, "%s", sock) >= PATH_MAX)) {
		fprintf(stderr, "tplfsd: path too long\n");
		return 1;
	}
	if (d->cfg.root[0] != '/' || d->cfg.store[0] != '/' ||
	    d->cfg.socket[0] != '/') {
		fprintf(stderr, "tplfsd: --root, --store and --socket take absolute paths\n");
		return 1;
	}

	ret = tplfs_caps_restrict(err, sizeof(err));
	if (ret == -EPERM) {
		fprintf(stderr, "tplfsd: missing capabilities: %s\n"
			"tplfsd: run it as root (it keeps only %s)\n",
			err, tplfs_caps_kept());
		return 1;
	}
	if (ret) {
		fprintf(stderr, "tplfsd: %s\n", err[0] ? err : strerror(-ret));
		return 1;
	}

	if (!foreground && !getenv("NOTIFY_SOCKET"))
		background();
	daemon_raise_nofile(&d->cfg);
	clock_gettime(CLOCK_MONOTONIC, &d->started);

	umask(022);
	if (make_dirs(d->cfg.root))
		return 1;
	if ((size_t)snprintf(jdir, sizeof(jdir), "%s/journal", d->cfg.root) >=
	    sizeof(jdir)) {
		log_err("%s: path too long", d->cfg.root);
		return 1;
	}
	if ((size_t)snprintf(lock, sizeof(lock), "%s/tplfsd.lock",
			     d->cfg.root) >= sizeof(lock) ||
	    daemon_lock_file(lock) < 0)
		return 1;
	d->journal_fd = tplfs_journal_open(jdir);
	if (d->journal_fd < 0) {
		log_err("%s: %s", jdir, strerror(-d->journal_fd));
		return 1;
	}
	d->store_fd = tplfs_store_open(d->cfg.store);
	if (d->store_fd < 0) {
		log_err("%s: %s", d->cfg.store, strerror(-d->store_fd));
		return 1;
	}
	if (server_listen(d, listen_fd))
		return 1;
	if (daemon_recover(d))
		log_err("some journal records could not be recovered (see above); they are kept");
	ct_rescan(d);
	ret = catalog_load(d);
	if (ret) {
		log_err("%s/private: %s", d->cfg.root, strerror(-ret));
		return 1;
	}
	refs_init(d);
	refs_start(d);

	ret = loop_init(&d->loop, 256);
	if (ret) {
		log_err("io_uring: %s", strerror(-ret));
		return 1;
	}
	d->loop.idle = daemon_check_exit;
	ret = setup_signals();
	if (!ret)
		ret = jobs_start(d, BULK_WORKERS, QUICK_WORKERS);
	if (ret) {
		log_err("start: %s", strerror(-ret));
		return 1;
	}
	sig_op.done = sig_done;
	tick_op.done = tick_done;
	sig_arm(d);
	tick_arm(d);
	kchan_open(d);
	server_start(d);

	/* in the background, from here on to syslog */
	tell_parent_ready();
	log_info("%s ready on %s (root %s, store %s)", TPLFS_VERSION,
		 listen_fd >= 0 ? "the socket systemd passed" : d->cfg.socket,
		 d->cfg.root, d->cfg.store);
	tplfs_sd_notify("READY=1\nSTATUS=serving");

	ret = loop_run(&d->loop);
	jobs_stop(d);
	tplfs_dev_close();
	loop_exit(&d->loop);
	log_info("stopped");
	return ret ? 1 : 0;
}
