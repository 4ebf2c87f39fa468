// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * How does tplfsd's control socket hold up under many clients? CLIENTS
 * connections, a thread each, send the same request back to back for
 * SECONDS, each waiting for its reply (past any progress messages) before
 * the next; every request's latency is kept. Prints one JSON object:
 *
 *   {"verb":"daemon.status","clients":16,"seconds":2.000417,
 *    "requests":41730,"rps":20860.1,"p50_ms":0.702,"p99_ms":2.311,
 *    "max_ms":9.870,"errors":0}
 *
 * requests, rps and the latencies count the requests answered "ok";
 * errors counts connections that failed to connect, replies that were
 * not "ok" and exchanges that broke, which end their connection (unless
 * the daemon closed it after an error reply, as it does past max_clients:
 * one error). The first error is described on stderr. Exits 1 if no
 * request succeeded. Every reply is parsed (json-c) unless it is, byte
 * for byte, the connection's last "ok" reply.
 *
 *   ctl-load SOCKET CLIENTS SECONDS [VERB [ARGS]]
 *
 * VERB defaults to daemon.status; ARGS is a JSON object ('{"id":"web1"}').
 */
#include <err.h>
#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "client.h"
#include "proto.h"

#define STACK_SIZE	(256 << 10)

struct client {
	pthread_t thread;
	int id, fd;		/* fd < 0: never connected */
	uint64_t *lat;		/* ns, of each request answered "ok" */
	size_t n, cap;
	uint64_t errors;
	bool refused;		/* the last reply was an error */
};

/* What every client sends, and until when (set before the start). */
static const char *request;
static size_t request_len;
static uint64_t deadline;
static pthread_barrier_t start;

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000 + (uint64_t)ts.tv_nsec;
}

/* Count an error; describe the first one of all on stderr. */
static void failed(struct client *c, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static void failed(struct client *c, const char *fmt, ...)
{
	static atomic_flag told = ATOMIC_FLAG_INIT;
	va_list ap;

	c->errors++;
	if (atomic_flag_test_and_set(&told))
		return;
	fprintf(stderr, "ctl-load: client %d: ", c->id);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

static void record(struct client *c, uint64_t ns)
{
	if (c->n == c->cap) {
		c->cap = c->cap ? 2 * c->cap : 4096;
		c->lat = realloc(c->lat, c->cap * sizeof(*c->lat));
		if (!c->lat)
			err(1, "latencies");
	}
	c->lat[c->n++] = ns;
}

static const char *member(json_object *o, const char *key)
{
	json_object *v;

	return json_object_object_get_ex(o, key, &v) ?
	       json_object_get_string(v) : "";
}

/*
 * The last "ok" reply of a connection: a reply byte for byte the same
 * (ct.list of a catalogue that does not change) is that reply again,
 * without parsing it. json-c parsing 13 kB of ct.list took more CPU than
 * tplfsd spent answering it, and the load measured the client.
 */
struct last_reply {
	char *text;
	size_t len;
};

static bool same_reply(const struct last_reply *l, const char *buf, size_t n)
{
	return l->text && l->len == n && !memcmp(l->text, buf, n);
}

static void keep_reply(struct last_reply *l, const char *buf, size_t n)
{
	char *t = realloc(l->text, n);

	if (!t)
		err(1, "reply");
	memcpy(t, buf, n);
	l->text = t;
	l->len = n;
}

/*
 * Wait for the reply to the request just sent, parsing with @tok into @buf
 * unless it is @last again: 1 if it is "ok", 0 if not, -1 if the
 * connection broke.
 */
static int await_reply(struct client *c, json_tokener *tok, char *buf,
		       struct last_reply *last)
{
	for (;;) {
		json_object *msg, *v = NULL;
		ssize_t n;
		int ok;

		n = recv(c->fd, buf, TPLFS_MSG_MAX, 0);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			if (!c->refused)
				failed(c, "recv: %s", n ? strerror(errno) :
				       "the daemon closed the connection");
			return -1;
		}
		if (same_reply(last, buf, (size_t)n))
			return 1;
		json_tokener_reset(tok);
		msg = json_tokener_parse_ex(tok, buf, (int)n);
		if (!msg || !json_object_is_type(msg, json_type_object)) {
			failed(c, "not a JSON object: %.*s", (int)n, buf);
			json_object_put(msg);
			return -1;
		}
		if (strcmp(member(msg, "type"), "reply")) {
			json_object_put(msg);	/* progress */
			continue;
		}
		ok = json_object_object_get_ex(msg, "ok", &v) &&
		     json_object_get_boolean(v);
		c->refused = !ok;
		if (!ok) {
			json_object_object_get_ex(msg, "error", &v);
			failed(c, "%s: %s", member(v, "code"),
			       member(v, "message"));
		} else {
			keep_reply(last, buf, (size_t)n);
		}
		json_object_put(msg);
		return ok;
	}
}

static void *run_client(void *arg)
{
	struct client *c = arg;
	json_tokener *tok = json_tokener_new();
	char *buf = malloc(TPLFS_MSG_MAX);
	struct last_reply last = { NULL, 0 };
	uint64_t t1;

	if (!tok || !buf)
		err(1, "client %d", c->id);
	pthread_barrier_wait(&start);
	do {
		uint64_t t0 = now_ns();
		ssize_t n;
		int ok;

		n = send(c->fd, request, request_len, MSG_NOSIGNAL);
		if (n != (ssize_t)request_len) {
			if (!c->refused)
				failed(c, "send: %s", n < 0 ? strerror(errno) :
				       "short send");
			break;
		}
		ok = await_reply(c, tok, buf, &last);
		t1 = now_ns();
		if (ok < 0)
			break;
		if (ok)
			record(c, t1 - t0);
	} while (t1 < deadline);
	json_tokener_free(tok);
	free(last.text);
	free(buf);
	return NULL;
}

static int by_value(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return (x > y) - (x < y);
}

/* The latency at percentile @p of the sorted @v, in ms (nearest rank). */
static double percentile_ms(const uint64_t *v, size_t n, unsigned int p)
{
	size_t rank = (n * p + 99) / 100;

	return n ? (double)v[rank ? rank - 1 : 0] / 1e6 : 0;
}

/* Print the result: returns how many requests succeeded. */
static size_t report(const char *verb, struct client *cl, int clients,
		     double seconds)
{
	uint64_t errors = 0, *all;
	size_t n = 0;

	for (int i = 0; i < clients; i++)
		n += cl[i].n;
	all = malloc((n ? n : 1) * sizeof(*all));
	if (!all)
		err(1, "latencies");
	n = 0;
	for (int i = 0; i < clients; i++) {
		memcpy(all + n, cl[i].lat, cl[i].n * sizeof(*all));
		n += cl[i].n;
		errors += cl[i].errors;
	}
	qsort(all, n, sizeof(*all), by_value);
	printf("{\"verb\":\"%s\",\"clients\":%d,\"seconds\":%.6f,"
	       "\"requests\":%zu,\"rps\":%.1f,\"p50_ms\":%.3f,"
	       "\"p99_ms\":%.3f,\"max_ms\":%.3f,\"errors\":%ju}\n",
	       verb, clients, seconds, n, (double)n / seconds,
	       percentile_ms(all, n, 50), percentile_ms(all, n, 99),
	       percentile_ms(all, n, 100), (uintmax_t)errors);
	free(all);
	return n;
}

/* Enough descriptors for @clients connections. */
static void raise_fd_limit(int clients)
{
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 &&
	    rl.rlim_cur < (rlim_t)clients + 16) {
		rl.rlim_cur = rl.rlim_max;
		setrlimit(RLIMIT_NOFILE, &rl);
	}
}

static int usage(void)
{
	fprintf(stderr,
		"usage: ctl-load SOCKET CLIENTS SECONDS [VERB [ARGS]]\n"
		"  VERB defaults to daemon.status, ARGS is a JSON object\n");
	return 2;
}

int main(int argc, char **argv)
{
	const char *verb = argc > 4 ? argv[4] : "daemon.status";
	json_object *args = NULL, *req;
	int clients, connected = 0;
	struct client *cl;
	pthread_attr_t attr;
	size_t succeeded;
	double seconds;
	uint64_t t0;
	char *end;

	if (argc < 4 || argc > 6)
		return usage();
	clients = (int)strtol(argv[2], &end, 10);
	if (*end || clients < 1 || clients > 65536)
		return usage();
	seconds = strtod(argv[3], &end);
	if (*end || !(seconds > 0))
		return usage();
	if (argc > 5) {
		args = json_tokener_parse(argv[5]);
		if (!json_object_is_type(args, json_type_object)) {
			fprintf(stderr, "ctl-load: ARGS: not a JSON object: %s\n",
				argv[5]);
			return 2;
		}
	}
	req = tplfs_request_new(verb, args);
	request = tplfs_msg_text(req, &request_len);
	if (!request)
		errx(2, "the request is larger than %d bytes", TPLFS_MSG_MAX);

	raise_fd_limit(clients);
	cl = calloc(clients, sizeof(*cl));
	if (!cl)
		err(1, "%d clients", clients);
	for (int i = 0; i < clients; i++) {
		char msg[256];

		cl[i].id = i;
		cl[i].fd = tplfs_client_connect(argv[1], msg, sizeof(msg));
		if (cl[i].fd < 0)
			failed(&cl[i], "connect: %s", msg);
		else
			connected++;
	}

	pthread_barrier_init(&start, NULL, connected + 1);
	pthread_attr_init(&attr);
	pthread_attr_setstacksize(&attr, STACK_SIZE);
	for (int i = 0; i < clients; i++) {
		int ret;

		if (cl[i].fd < 0)
			continue;
		ret = pthread_create(&cl[i].thread, &attr, run_client, &cl[i]);
		if (ret) {
			errno = ret;
			err(1, "client %d: pthread_create", i);
		}
	}
	t0 = now_ns();
	deadline = t0 + (uint64_t)(seconds * 1e9);
	pthread_barrier_wait(&start);
	for (int i = 0; i < clients; i++) {
		if (cl[i].fd < 0)
			continue;
		pthread_join(cl[i].thread, NULL);
		close(cl[i].fd);
	}
	seconds = (double)(now_ns() - t0) / 1e9;

	succeeded = report(verb, cl, clients, seconds);
	for (int i = 0; i < clients; i++)
		free(cl[i].lat);
	free(cl);
	json_object_put(req);
	return succeeded ? 0 : 1;
}
