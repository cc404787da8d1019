/* SPDX-License-Identifier: MIT */
/*
 * daemon/net_connect.h: one stream socket connected without blocking the
 * event loop, within a deadline: to a unix socket's path, or to a TCP
 * host and port (the name looked up with libevent's evdns, which reads
 * /etc/hosts and /etc/resolv.conf; each address tried in turn).
 */
#ifndef XVP_DAEMON_NET_CONNECT_H
#define XVP_DAEMON_NET_CONNECT_H

struct event_base;
struct evdns_base;
struct net_connect;

/*
 * The end: a connected socket (close-on-exec, non-blocking; the callee's)
 * or -errno, with @why saying what failed ("" on success). Called once,
 * from the loop, never from within net_connect_start(); the connect is
 * freed when it returns.
 */
typedef void net_connect_fn(void *opaque, int fd_or_error, const char *why);

/*
 * Connect to the unix socket @path (@host NULL) or to @host and @port (TCP,
 * names looked up through @dns), within @timeout_ms. NULL if out of memory.
 */
struct net_connect *net_connect_start(struct event_base *base, struct evdns_base *dns,
				      const char *path, const char *host, const char *port,
				      int timeout_ms, net_connect_fn *done, void *opaque);

/* Stop a connect whose @done has not been called; it never will be. */
void net_connect_cancel(struct net_connect *c);

#endif
