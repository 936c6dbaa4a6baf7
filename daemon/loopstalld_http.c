// SPDX-License-Identifier: BSD-2-Clause
/*
 * /metrics with libmicrohttpd, on its own polling thread. The event thread
 * swaps in a finished exposition under the mutex; a request copies it under
 * the same mutex, which is only ever held for a pointer swap or a memcpy.
 */
#include <errno.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <microhttpd.h>
#include "loopstalld.h"

/* A scrape that has not sent its request by then is dropped. */
#define CONNECTION_TIMEOUT_S 10
#define MAX_CONNECTIONS 32

struct lsd_http {
	struct MHD_Daemon *mhd;
	pthread_mutex_t lock;
	char *text;
	size_t len;
	unsigned port;
	atomic_bool started; /* until then start-up errors are the caller's to report */
};

static const char index_page[] =
	"<html><head><title>loopstalld</title></head><body><h1>loopstalld</h1>"
	"<p><a href=\"/metrics\">Metrics</a></p></body></html>\n";

static void http_log(void *cls, const char *fmt, va_list ap)
{
	struct lsd_http *h = cls;

	if (!h->started)
		return;
	fputs("loopstalld: http: ", stderr);
	vfprintf(stderr, fmt, ap);
}

static enum MHD_Result reply(struct MHD_Connection *conn, unsigned status, const char *type,
			     void *body, size_t len, enum MHD_ResponseMemoryMode mode)
{
	struct MHD_Response *resp;
	enum MHD_Result ret;

	resp = MHD_create_response_from_buffer(len, body, mode);
	if (!resp) {
		if (mode == MHD_RESPMEM_MUST_FREE)
			free(body);
		return MHD_NO;
	}
	MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, type);
	if (status == MHD_HTTP_METHOD_NOT_ALLOWED)
		MHD_add_response_header(resp, MHD_HTTP_HEADER_ALLOW, "GET, HEAD");
	ret = MHD_queue_response(conn, status, resp);
	MHD_destroy_response(resp);
	return ret;
}

static enum MHD_Result handle(void *cls, struct MHD_Connection *conn, const char *url,
			      const char *method, const char *version, const char *upload_data,
			      size_t *upload_size, void **req_cls)
{
	struct lsd_http *h = cls;
	char *copy;
	size_t len;

	(void)version;
	(void)upload_data;
	(void)upload_size;
	(void)req_cls;
	if (strcmp(method, MHD_HTTP_METHOD_GET) && strcmp(method, MHD_HTTP_METHOD_HEAD))
		return reply(conn, MHD_HTTP_METHOD_NOT_ALLOWED, "text/plain", "GET or HEAD only\n",
			     17, MHD_RESPMEM_PERSISTENT);
	if (!strcmp(url, "/"))
		return reply(conn, MHD_HTTP_OK, "text/html", (void *)index_page,
			     sizeof(index_page) - 1, MHD_RESPMEM_PERSISTENT);
	if (strcmp(url, "/metrics"))
		return reply(conn, MHD_HTTP_NOT_FOUND, "text/plain", "not found\n", 10,
			     MHD_RESPMEM_PERSISTENT);

	pthread_mutex_lock(&h->lock);
	len = h->len;
	copy = malloc(len ? len : 1);
	if (copy && len)
		memcpy(copy, h->text, len);
	pthread_mutex_unlock(&h->lock);
	if (!copy)
		return MHD_NO;
	return reply(conn, MHD_HTTP_OK, LS_METRICS_CONTENT_TYPE, copy, len, MHD_RESPMEM_MUST_FREE);
}

int lsd_http__start(const struct sockaddr *addr, socklen_t addr_len, struct lsd_http **out)
{
	unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_ERROR_LOG;
	const union MHD_DaemonInfo *info;
	struct lsd_http *h;
	uint16_t port;

	(void)addr_len;
	h = calloc(1, sizeof(*h));
	if (!h)
		return -ENOMEM;
	pthread_mutex_init(&h->lock, NULL);
	if (addr->sa_family == AF_INET6) {
		flags |= MHD_USE_IPv6;
		port = ntohs(((const struct sockaddr_in6 *)addr)->sin6_port);
	} else {
		port = ntohs(((const struct sockaddr_in *)addr)->sin_port);
	}
	errno = 0;
	h->mhd = MHD_start_daemon(flags, port, NULL, NULL, handle, h, MHD_OPTION_SOCK_ADDR, addr,
				  MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)CONNECTION_TIMEOUT_S,
				  MHD_OPTION_CONNECTION_LIMIT, (unsigned)MAX_CONNECTIONS,
				  MHD_OPTION_EXTERNAL_LOGGER, http_log, h, MHD_OPTION_END);
	if (!h->mhd) {
		int err = errno ? -errno : -EADDRINUSE;

		pthread_mutex_destroy(&h->lock);
		free(h);
		return err;
	}
	info = MHD_get_daemon_info(h->mhd, MHD_DAEMON_INFO_BIND_PORT);
	h->port = info ? info->port : port;
	h->started = true;
	*out = h;
	return 0;
}

void lsd_http__publish(struct lsd_http *h, char *text, size_t len)
{
	char *old;

	pthread_mutex_lock(&h->lock);
	old = h->text;
	h->text = text;
	h->len = len;
	pthread_mutex_unlock(&h->lock);
	free(old);
}

unsigned lsd_http__port(const struct lsd_http *h)
{
	return h->port;
}

void lsd_http__stop(struct lsd_http *h)
{
	if (!h)
		return;
	MHD_stop_daemon(h->mhd);
	pthread_mutex_destroy(&h->lock);
	free(h->text);
	free(h);
}
