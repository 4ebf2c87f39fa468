// SPDX-License-Identifier: LGPL-2.1-or-later
/* The client side of the tplfsd protocol: see client.h. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "client.h"
#include "proto.h"

int tplfs_client_connect(const char *path, char *err, size_t errlen)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int fd, ret;

	if (strlen(path) >= sizeof(sa.sun_path)) {
		snprintf(err, errlen, "%s: socket path too long", path);
		return -ENAMETOOLONG;
	}
	strcpy(sa.sun_path, path);
	fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		ret = -errno;
		snprintf(err, errlen, "socket: %s", strerror(errno));
		return ret;
	}
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		ret = -errno;
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		close(fd);
		return ret;
	}
	return fd;
}

static int send_msg(int fd, json_object *msg)
{
	const char *text;
	size_t len;
	ssize_t n;

	text = tplfs_msg_text(msg, &len);
	if (!text)
		return -EMSGSIZE;
	do {
		n = send(fd, text, len, MSG_NOSIGNAL);
	} while (n < 0 && errno == EINTR);
	if (n < 0)
		return -errno;
	return (size_t)n == len ? 0 : -EIO;
}

static int recv_msg(int fd, char *buf, json_object **msg)
{
	ssize_t n;

	do {
		n = recv(fd, buf, TPLFS_MSG_MAX, 0);
	} while (n < 0 && errno == EINTR);
	if (n < 0)
		return -errno;
	if (n == 0)
		return -ECONNRESET;	/* the daemon closed the connection */
	buf[n] = '\0';
	*msg = json_tokener_parse(buf);
	if (!*msg || !json_object_is_type(*msg, json_type_object)) {
		json_object_put(*msg);
		return -EPROTO;
	}
	return 0;
}

int tplfs_client_call(int fd, const char *verb, json_object *args,
		      tplfs_progress_fn progress, void *arg,
		      json_object **reply)
{
	json_object *req = tplfs_request_new(verb, args), *msg = NULL, *type;
	char *buf;
	int ret;

	*reply = NULL;
	ret = send_msg(fd, req);
	json_object_put(req);
	if (ret)
		return ret;
	buf = malloc(TPLFS_MSG_MAX + 1);
	if (!buf)
		return -ENOMEM;
	for (;;) {
		const char *t;

		ret = recv_msg(fd, buf, &msg);
		if (ret)
			break;
		t = json_object_object_get_ex(msg, "type", &type) ?
		    json_object_get_string(type) : "";
		if (!strcmp(t, "reply")) {
			*reply = msg;
			break;
		}
		if (!strcmp(t, "progress") && progress)
			progress(arg, msg);
		json_object_put(msg);
	}
	free(buf);
	return ret;
}
