/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The systemd service protocols, spoken directly (they are small, stable
 * and documented: sd_notify(3), sd_listen_fds(3)), so that the daemon needs
 * no libsystemd.
 */
#ifndef TPLFS_SDNOTIFY_H
#define TPLFS_SDNOTIFY_H

/*
 * Send @state ("READY=1", "STATUS=...") to $NOTIFY_SOCKET. Returns 1 if
 * sent, 0 if not run by systemd, or a negative errno.
 */
int tplfs_sd_notify(const char *state);

/*
 * The socket passed by socket activation ($LISTEN_FDS=1 for this pid): its
 * fd (3), or -1 if none was passed. The variables are removed from the
 * environment.
 */
int tplfs_sd_listen_fd(void);

#endif /* TPLFS_SDNOTIFY_H */
