// SPDX-License-Identifier: MIT
/* daemon/worker_wire.c: messages with payloads and descriptors on a SOCK_SEQPACKET socket. */
#include "daemon/worker_wire.h"

#include <errno.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

int worker_wire_send(int fd, struct worker_message m, const void *payload, size_t len,
		     const int *fds, unsigned int nfds)
{
	char control[CMSG_SPACE(sizeof(int) * WORKER_MAX_FDS)] = { 0 };
	struct iovec iov[2] = { { &m, sizeof(m) }, { (void *)payload, len } };
	struct msghdr msg = { .msg_iov = iov, .msg_iovlen = len ? 2 : 1 };
	ssize_t n;

	if (len > WORKER_PAYLOAD_MAX || nfds > WORKER_MAX_FDS)
		return -EINVAL;
	m.length = (uint32_t)len;
	if (nfds) {
		struct cmsghdr *c;

		msg.msg_control = control;
		msg.msg_controllen = CMSG_SPACE(sizeof(int) * nfds);
		c = CMSG_FIRSTHDR(&msg);
		c->cmsg_level = SOL_SOCKET;
		c->cmsg_type = SCM_RIGHTS;
		c->cmsg_len = CMSG_LEN(sizeof(int) * nfds);
		memcpy(CMSG_DATA(c), fds, sizeof(int) * nfds);
	}
	do
		n = sendmsg(fd, &msg, MSG_NOSIGNAL | MSG_DONTWAIT);
	while (n < 0 && errno == EINTR);
	if (n < 0)
		return errno == EWOULDBLOCK ? -EAGAIN : -errno;
	return n == (ssize_t)(sizeof(m) + len) ? 0 : -EPROTO;
}

void worker_received_close_fds(struct worker_received *r)
{
	for (unsigned int i = 0; i < r->nfds; i++)
		if (r->fds[i] >= 0)
			close(r->fds[i]);
	r->nfds = 0;
}

/* Take every descriptor that came, however many: more than WORKER_MAX_FDS refuses the message. */
static bool take_fds(struct msghdr *msg, struct worker_received *r)
{
	bool too_many = false;

	for (struct cmsghdr *c = CMSG_FIRSTHDR(msg); c; c = CMSG_NXTHDR(msg, c)) {
		size_t n;

		if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS)
			continue;
		n = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
		for (size_t i = 0; i < n; i++) {
			int fd;

			memcpy(&fd, CMSG_DATA(c) + i * sizeof(int), sizeof(fd));
			if (r->nfds < WORKER_MAX_FDS)
				r->fds[r->nfds++] = fd;
			else {
				close(fd);
				too_many = true;
			}
		}
	}
	return !too_many;
}

int worker_wire_receive(int fd, bool from_worker, struct worker_received *r, const char **why)
{
	/* Room for one descriptor too many and one byte too many: both are then refused. */
	char control[CMSG_SPACE(sizeof(int) * (WORKER_MAX_FDS + 1))];
	struct iovec iov = { r->buf, sizeof(r->buf) };
	struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1,
			      .msg_control = control, .msg_controllen = sizeof(control) };
	ssize_t n;
	bool fds_fit;

	r->nfds = 0;
	do
		n = recvmsg(fd, &msg, MSG_DONTWAIT | MSG_CMSG_CLOEXEC | MSG_TRUNC);
	while (n < 0 && errno == EINTR);
	if (n < 0)
		return errno == EWOULDBLOCK ? -EAGAIN : -errno;
	fds_fit = take_fds(&msg, r);
	if (n == 0 && !r->nfds)
		return 0;
	*why = NULL;
	if (!fds_fit || (msg.msg_flags & MSG_CTRUNC))
		*why = "too many descriptors";
	else if ((size_t)n > sizeof(r->buf) || (msg.msg_flags & MSG_TRUNC))
		*why = "message too long";
	else if (worker_message_parse(r->buf, (size_t)n, r->nfds, from_worker, &r->header,
				      &r->payload, why) == 0)
		return 1;
	worker_received_close_fds(r);
	return -EPROTO;
}
