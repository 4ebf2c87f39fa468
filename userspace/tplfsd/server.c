// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The control socket: accept, recvmsg and send through the event loop, one
 * request at a time per connection, clients authorised by SO_PEERCRED.
 * See doc/protocol.md.
 */
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "log.h"
#include "tplfsd.h"

/*
 * What a client may leave unread: a client that sends requests and never
 * reads the replies is dropped past this, instead of growing the daemon.
 * Sixteen messages of the largest size, thousands of ordinary replies.
 */
#define CLIENT_OUT_MAX	(16 * TPLFS_MSG_MAX)

struct outmsg {
	struct outmsg *next;
	size_t len;
	char text[];
};

struct client {
	struct daemon *d;
	struct client *next;
	int fd;
	struct ucred cred;
	bool can_read;
	bool can_write;
	bool gone;		/* peer closed, error, or daemon stopping */
	bool recv_armed;
	bool sending;
	bool hangup_when_sent;	/* end the connection once the queue is sent */
	json_object *refusal;	/* the answer to a client that is refused */
	unsigned int refs;	/* ops in flight + the current request */
	struct req *current;
	struct loop_op recv_op;
	struct loop_op send_op;
	struct outmsg *outq;
	struct outmsg **outtail;
	size_t outbytes;	/* queued, not yet sent */
	unsigned int idle_ticks;	/* ticks with nothing under way */
	struct iovec iov;
	struct msghdr msg;
	char *rbuf;
};

static struct loop_op accept_op;
static struct loop_op cancel_op;
static struct daemon *accept_d;
static bool accept_armed;
static bool accept_paused;	/* out of descriptors: again at the tick */
static unsigned long accept_refusals;
static bool socket_activated;

static void client_arm_recv(struct client *c);
static void client_put(struct client *c);

/* Is @gid among the peer's groups (primary or supplementary)? */
static bool peer_in_group(int fd, const struct ucred *cred, gid_t gid)
{
	gid_t groups[256];
	socklen_t len = sizeof(groups);

	if (cred->gid == gid)
		return true;
	if (getsockopt(fd, SOL_SOCKET, SO_PEERGROUPS, groups, &len) < 0)
		return false;
	for (size_t i = 0; i < len / sizeof(gid_t); i++)
		if (groups[i] == gid)
			return true;
	return false;
}

static json_object *refusal_denied(const struct client *c)
{
	return tplfs_reply_error(TPLFS_E_DENIED, EACCES,
		"uid %u may not use tplfsd (root, or a member of its read_group)",
		(unsigned int)c->cred.uid);
}

/*
 * Defence in depth: only root and read_group can even connect to a socket
 * of the daemon's own (systemd's has the unit's SocketGroup=, SocketMode=).
 */
static void socket_access(const struct daemon *d)
{
	const char *path = d->cfg.socket;

	if (socket_activated)
		return;
	if (d->cfg.has_read_group) {
		if (chown(path, 0, d->cfg.read_gid) < 0 ||
		    chmod(path, 0660) < 0)
			log_warn("%s: %s", path, strerror(errno));
	} else if (chmod(path, 0600) < 0) {
		log_warn("%s: %s", path, strerror(errno));
	}
}

static void client_unlink(struct client *c)
{
	struct client **pp;

	for (pp = &c->d->clients; *pp; pp = &(*pp)->next) {
		if (*pp == c) {
			*pp = c->next;
			c->d->nclients--;
			return;
		}
	}
}

static void client_put(struct client *c)
{
	struct outmsg *m;

	if (--c->refs)
		return;
	client_unlink(c);
	while ((m = c->outq)) {
		c->outq = m->next;
		free(m);
	}
	close(c->fd);
	free(c->rbuf);
	json_object_put(c->refusal);
	free(c);
}

/* Stop reading; the connection closes once nothing is in flight. */
static void client_hangup(struct client *c)
{
	if (c->gone)
		return;
	c->gone = true;
	shutdown(c->fd, SHUT_RDWR);	/* completes a pending recvmsg */
}

static void send_done(struct loop_op *op, int res, unsigned int flags);

/* The peer went away or is dropped: what is queued and not sending goes. */
static void client_drop_queue(struct client *c)
{
	struct outmsg *m, **pp = &c->outq;

	if (c->sending && *pp)		/* the kernel has that one */
		pp = &(*pp)->next;
	while ((m = *pp)) {
		*pp = m->next;
		c->outbytes -= m->len;
		free(m);
	}
	c->outtail = pp;
}

static void client_send_next(struct client *c)
{
	struct outmsg *m = c->outq;
	struct io_uring_sqe *sqe;

	if (c->sending || !m)
		return;
	c->sending = true;
	c->refs++;
	sqe = loop_sqe(&c->d->loop, &c->send_op);
	io_uring_prep_send(sqe, c->fd, m->text, m->len, MSG_NOSIGNAL);
}

static void send_done(struct loop_op *op, int res, unsigned int flags)
{
	struct client *c = (struct client *)((char *)op -
					     offsetof(struct client, send_op));
	struct outmsg *m = c->outq;

	(void)flags;
	c->sending = false;
	c->outq = m->next;
	if (!c->outq)
		c->outtail = &c->outq;
	c->outbytes -= m->len;
	free(m);
	if (res < 0) {
		client_drop_queue(c);
		client_hangup(c);
	} else if (c->outq) {
		client_send_next(c);
	} else if (c->hangup_when_sent) {
		client_hangup(c);
	}
	client_put(c);
}

static void client_queue_text(struct client *c, const char *text, size_t len)
{
	struct outmsg *m;

	if (c->gone)
		return;
	if (c->outbytes + len > CLIENT_OUT_MAX) {
		log_warn("client pid %d uid %u leaves %zu bytes of replies unread: dropped",
			 (int)c->cred.pid, (unsigned int)c->cred.uid,
			 c->outbytes);
		client_drop_queue(c);
		client_hangup(c);
		return;
	}
	m = malloc(sizeof(*m) + len);
	if (!m) {
		client_hangup(c);
		return;
	}
	m->next = NULL;
	m->len = len;
	memcpy(m->text, text, len);
	*c->outtail = m;
	c->outtail = &m->next;
	c->outbytes += len;
	client_send_next(c);
}

static void client_queue(struct client *c, json_object *msg)
{
	const char *text;
	size_t len;
	json_object *e;

	text = tplfs_msg_text(msg, &len);
	if (text) {
		client_queue_text(c, text, len);
		return;
	}
	/* Say so rather than leave the client waiting for a reply. */
	log_err("reply of more than %d bytes not sent", TPLFS_MSG_MAX);
	e = tplfs_reply_error(TPLFS_E_SYSTEM, EMSGSIZE,
			      "the reply would be over %d bytes", TPLFS_MSG_MAX);
	text = tplfs_msg_text(e, &len);
	if (text)
		client_queue_text(c, text, len);
	json_object_put(e);
}

void req_progress(struct req *rq, json_object *progress)
{
	if (rq->client)
		client_queue(rq->client, progress);
	json_object_put(progress);
}

/* The reply is queued (or not, the client gone): the request is done. */
static void req_done(struct req *rq)
{
	struct client *c = rq->client;
	struct daemon *d = rq->d;

	d->requests++;
	if (c) {
		c->current = NULL;
		if (!d->stopping && !c->refusal)
			client_arm_recv(c);
		else if (c->outq || c->sending)
			c->hangup_when_sent = true;
		else
			client_hangup(c);
		client_put(c);
	}
	tplfs_request_free(&rq->msg);
	free(rq);
}

void req_reply(struct req *rq, json_object *reply)
{
	if (rq->client)
		client_queue(rq->client, reply);
	json_object_put(reply);
	req_done(rq);
}

void req_reply_text(struct req *rq, const char *text, size_t len)
{
	if (rq->client)
		client_queue_text(rq->client, text, len);
	req_done(rq);
}

/* Serve one received message. */
static void client_request(struct client *c, size_t len)
{
	const char *why = NULL;
	struct req *rq;

	rq = calloc(1, sizeof(*rq));
	if (!rq) {
		client_hangup(c);
		return;
	}
	rq->d = c->d;
	rq->client = c;
	rq->can_write = c->can_write;
	c->current = rq;
	c->refs++;
	if (c->refusal) {
		/* Answer whatever it asked with why it may not ask, and end. */
		req_reply(rq, json_object_get(c->refusal));
		return;
	}
	if (c->msg.msg_flags & MSG_TRUNC) {
		req_reply(rq, tplfs_reply_error(TPLFS_E_BAD_REQUEST, 0,
			  "message larger than %d bytes", TPLFS_MSG_MAX));
		return;
	}
	if (tplfs_request_parse(c->rbuf, len, &rq->msg, &why)) {
		req_reply(rq, tplfs_reply_error(TPLFS_E_BAD_REQUEST, 0, "%s",
						why));
		return;
	}
	if (c->d->stopping) {
		req_reply(rq, tplfs_reply_error(TPLFS_E_STOPPING, 0,
			  "tplfsd is stopping"));
		return;
	}
	verbs_dispatch(rq);
}

static void recv_done(struct loop_op *op, int res, unsigned int flags)
{
	struct client *c = (struct client *)((char *)op -
					     offsetof(struct client, recv_op));

	(void)flags;
	c->recv_armed = false;
	if (res > 0 && !c->gone)
		client_request(c, (size_t)res);
	else
		client_hangup(c);	/* 0: the peer closed; < 0: error */
	client_put(c);
}

static void client_arm_recv(struct client *c)
{
	struct io_uring_sqe *sqe;

	if (c->recv_armed || c->gone)
		return;
	c->recv_armed = true;
	c->refs++;
	memset(&c->msg, 0, sizeof(c->msg));
	c->iov.iov_base = c->rbuf;
	c->iov.iov_len = TPLFS_MSG_MAX;
	c->msg.msg_iov = &c->iov;
	c->msg.msg_iovlen = 1;
	sqe = loop_sqe(&c->d->loop, &c->recv_op);
	io_uring_prep_recvmsg(sqe, c->fd, &c->msg, 0);
}

/* Connections of users other than root: of @uid, and of all of them. */
static void uid_count(const struct daemon *d, uid_t uid, unsigned int *same,
		      unsigned int *all)
{
	*same = *all = 0;
	for (const struct client *c = d->clients; c; c = c->next) {
		if (c->cred.uid == 0 || c->gone)
			continue;
		(*all)++;
		if (c->cred.uid == uid)
			(*same)++;
	}
}

static void client_new(struct daemon *d, int fd)
{
	socklen_t len = sizeof(struct ucred);
	unsigned int same_uid = 0, others = 0;
	struct client *c;

	c = calloc(1, sizeof(*c));
	if (c)
		c->rbuf = malloc(TPLFS_MSG_MAX);
	if (!c || !c->rbuf ||
	    getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &c->cred, &len) < 0) {
		log_err("dropping a client: %s", strerror(errno ? errno : ENOMEM));
		if (c)
			free(c->rbuf);
		free(c);
		close(fd);
		return;
	}
	c->d = d;
	c->fd = fd;
	c->refs = 1;		/* dropped when the connection ends */
	c->outtail = &c->outq;
	c->recv_op.done = recv_done;
	c->send_op.done = send_done;
	c->can_write = c->cred.uid == 0;
	c->can_read = c->can_write || (d->cfg.has_read_group &&
			peer_in_group(fd, &c->cred, d->cfg.read_gid));
	/* root (and so the units) always gets through: others are counted */
	if (c->cred.uid != 0)
		uid_count(d, c->cred.uid, &same_uid, &others);
	c->next = d->clients;
	d->clients = c;
	d->nclients++;

	if (!c->can_read)
		c->refusal = refusal_denied(c);
	else if (c->cred.uid != 0 && others >= d->cfg.max_clients)
		c->refusal = tplfs_reply_error(TPLFS_E_BUSY, EAGAIN,
			"too many clients (max_clients = %u)",
			d->cfg.max_clients);
	else if (c->cred.uid != 0 && same_uid >= d->cfg.max_clients_per_uid)
		c->refusal = tplfs_reply_error(TPLFS_E_BUSY, EAGAIN,
			"too many connections of uid %u (max_clients_per_uid = %u)",
			(unsigned int)c->cred.uid, d->cfg.max_clients_per_uid);
	client_arm_recv(c);
	client_put(c);	/* the connection's reference: ops hold their own */
}

static void accept_arm(struct daemon *d);

static void accept_done(struct loop_op *op, int res, unsigned int flags)
{
	struct daemon *d = accept_d;

	(void)op;
	(void)flags;
	accept_armed = false;
	if (res >= 0) {
		if (d->stopping)
			close(res);
		else
			client_new(d, res);
	} else if (res == -EMFILE || res == -ENFILE || res == -ENOBUFS ||
		   res == -ENOMEM) {
		/* Re-arming at once would spin: try again at the next tick,
		 * and say so once. */
		if (!accept_refusals++)
			log_warn("accept: %s: new connections wait (LimitNOFILE, max_clients)",
				 strerror(-res));
		accept_paused = true;
		return;
	} else if (res != -EINTR && res != -ECONNABORTED && !d->stopping) {
		log_warn("accept: %s", strerror(-res));
	}
	if (!d->stopping)
		accept_arm(d);
}

static void accept_arm(struct daemon *d)
{
	struct io_uring_sqe *sqe;

	accept_armed = true;
	sqe = loop_sqe(&d->loop, &accept_op);
	io_uring_prep_accept(sqe, d->listen_fd, NULL, NULL, SOCK_CLOEXEC);
}

/*
 * Remove what is at @path if it is a socket (one left by a daemon that
 * died: the caller holds the socket's lock). Anything else is not ours.
 */
static int remove_stale_socket(const char *path)
{
	struct stat st;

	if (lstat(path, &st) < 0)
		return errno == ENOENT ? 0 : -errno;
	if (!S_ISSOCK(st.st_mode)) {
		log_err("%s exists and is not a socket: not removed", path);
		return -EEXIST;
	}
	if (unlink(path) < 0 && errno != ENOENT) {
		log_err("%s: %s", path, strerror(errno));
		return -errno;
	}
	return 0;
}

int server_listen(struct daemon *d, int activated_fd)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	const char *path = d->cfg.socket;
	int type = 0, fd, ret;
	socklen_t len = sizeof(type);
	char dir[PATH_MAX], lock[PATH_MAX + 8], *slash;

	if (activated_fd >= 0) {
		if (getsockopt(activated_fd, SOL_SOCKET, SO_TYPE, &type,
			       &len) < 0 || type != SOCK_SEQPACKET) {
			log_err("the socket passed by systemd is not a SOCK_SEQPACKET socket (ListenSequentialPacket=)");
			return -EINVAL;
		}
		d->listen_fd = activated_fd;
		socket_activated = true;
		return 0;
	}
	if (strlen(path) >= sizeof(sa.sun_path)) {
		log_err("%s: socket path longer than %zu bytes", path,
			sizeof(sa.sun_path) - 1);
		return -ENAMETOOLONG;
	}
	strcpy(sa.sun_path, path);
	strcpy(dir, path);
	slash = strrchr(dir, '/');
	if (slash && slash != dir) {
		*slash = '\0';
		if (mkdir(dir, 0755) < 0 && errno != EEXIST) {
			log_err("%s: %s", dir, strerror(errno));
			return -errno;
		}
	}
	/* One daemon per socket; a socket left by one that died is stale. */
	if ((size_t)snprintf(lock, sizeof(lock), "%s.lock", path) >=
	    sizeof(lock) || daemon_lock_file(lock) < 0)
		return -EADDRINUSE;
	ret = remove_stale_socket(path);
	if (ret)
		return ret;
	fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
	if (fd < 0 || bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 ||
	    listen(fd, 512) < 0) {
		log_err("%s: %s", path, strerror(errno));
		if (fd >= 0)
			close(fd);
		return -errno;
	}
	socket_access(d);
	d->listen_fd = fd;
	return 0;
}

void server_reconfigure(struct daemon *d)
{
	struct client *c;

	socket_access(d);
	/* A user who may no longer read is told so at its next request. */
	for (c = d->clients; c; c = c->next) {
		if (c->can_write || c->refusal)
			continue;
		c->can_read = d->cfg.has_read_group &&
			peer_in_group(c->fd, &c->cred, d->cfg.read_gid);
		if (!c->can_read)
			c->refusal = refusal_denied(c);
	}
}

static void cancel_done(struct loop_op *op, int res, unsigned int flags)
{
	(void)op;
	(void)res;
	(void)flags;
}

void server_start(struct daemon *d)
{
	accept_d = d;
	accept_op.done = accept_done;
	cancel_op.done = cancel_done;
	accept_arm(d);
}

/*
 * Once a second: accept again after running out of descriptors, and end
 * connections that sent nothing for idle_timeout seconds.
 */
void server_tick(struct daemon *d)
{
	if (accept_paused && !d->stopping) {
		accept_paused = false;
		accept_arm(d);
	} else if (accept_refusals && accept_armed) {
		log_info("accepting connections again (%lu refused for want of descriptors)",
			 accept_refusals);
		accept_refusals = 0;
	}
	for (struct client *c = d->clients; c; c = c->next) {
		if (c->current || c->sending || c->gone) {
			c->idle_ticks = 0;
			continue;
		}
		if (++c->idle_ticks > d->cfg.idle_timeout)
			client_hangup(c);
	}
}

void server_stop(struct daemon *d)
{
	/* Cancel the pending accept, then end idle connections. */
	if (accept_armed) {
		struct io_uring_sqe *sqe = loop_sqe(&d->loop, &cancel_op);

		io_uring_prep_cancel(sqe, &accept_op, 0);
	}
	if (!socket_activated)
		remove_stale_socket(d->cfg.socket);
	for (struct client *c = d->clients; c; c = c->next)
		if (!c->current)
			client_hangup(c);
}

bool server_idle(struct daemon *d)
{
	return !accept_armed && !d->clients;
}
