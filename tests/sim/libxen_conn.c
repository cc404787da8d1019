// SPDX-License-Identifier: MIT
/*
 * tests/sim/libxen_conn.c: connect to the simulated hypervisor named by
 * $XENSIM_SOCKET and make synchronous calls on it.
 */
#include "tests/sim/libxen_conn.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

static int connect_hypervisor(void)
{
	const char *path = getenv(SIM_SOCKET_ENV);
	struct sockaddr_un addr = { .sun_family = AF_UNIX };
	int fd;

	if (!path || strlen(path) >= sizeof(addr.sun_path)) {
		fprintf(stderr, "simulated libxen: %s is not set: this build talks to the "
			"simulated hypervisor of the tests, not to Xen\n", SIM_SOCKET_ENV);
		errno = ENOENT;
		return -1;
	}
	strcpy(addr.sun_path, path);
	fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -1;
	if (connect(fd, (struct sockaddr *)&addr, sizeof(addr))) {
		int saved = errno;

		close(fd);
		errno = saved;
		return -1;
	}
	return fd;
}

static int receive_reply(int fd, struct sim_reply *reply, struct sim_payload *out, int *passed_fd)
{
	char control[CMSG_SPACE(sizeof(int))];
	struct iovec iov[2] = { { reply, sizeof(*reply) } };
	struct msghdr msg = {
		.msg_iov = iov, .msg_iovlen = 1,
		.msg_control = control, .msg_controllen = sizeof(control),
	};
	struct cmsghdr *cmsg;
	ssize_t n;

	if (out) {
		iov[1] = (struct iovec){ out->data, out->size };
		msg.msg_iovlen = 2;
	}
	do
		n = recvmsg(fd, &msg, MSG_CMSG_CLOEXEC);
	while (n < 0 && errno == EINTR);
	if (n < (ssize_t)sizeof(*reply) || (msg.msg_flags & MSG_TRUNC)) {
		errno = n < 0 ? errno : EPROTO;
		return -1;
	}
	if (out)
		out->len = (size_t)n - sizeof(*reply);
	cmsg = CMSG_FIRSTHDR(&msg);
	if (cmsg && cmsg->cmsg_level == SOL_SOCKET && cmsg->cmsg_type == SCM_RIGHTS) {
		int received;

		memcpy(&received, CMSG_DATA(cmsg), sizeof(received));
		if (passed_fd)
			*passed_fd = received;
		else
			close(received);
	}
	return 0;
}

static int send_request(int fd, const struct sim_request *req, const struct sim_payload *in)
{
	struct iovec iov[2] = { { (void *)req, sizeof(*req) } };
	struct msghdr msg = { .msg_iov = iov, .msg_iovlen = 1 };
	size_t total = sizeof(*req);

	if (in && in->len) {
		iov[1] = (struct iovec){ in->data, in->len };
		msg.msg_iovlen = 2;
		total += in->len;
	}
	return sendmsg(fd, &msg, MSG_NOSIGNAL) == (ssize_t)total ? 0 : -1;
}

int sim_call_payload(struct sim_conn *conn, const struct sim_request *req,
		     const struct sim_payload *in, struct sim_reply *reply,
		     struct sim_payload *out, int *fd)
{
	int ret = -1;

	if (fd)
		*fd = -1;
	pthread_mutex_lock(&conn->lock);
	if (send_request(conn->fd, req, in))
		goto unlock;
	if (receive_reply(conn->fd, reply, out, fd))
		goto unlock;
	ret = reply->ret;
	if (ret < 0)
		errno = reply->error;
unlock:
	pthread_mutex_unlock(&conn->lock);
	return ret;
}

int sim_call(struct sim_conn *conn, const struct sim_request *req, struct sim_reply *reply,
	     int *fd)
{
	return sim_call_payload(conn, req, NULL, reply, NULL, fd);
}

int sim_call_args(struct sim_conn *conn, uint32_t op, uint64_t a0, uint64_t a1, uint64_t a2,
		  uint64_t a3, uint64_t a4, struct sim_reply *reply)
{
	struct sim_request req = { .op = op, .arg = { a0, a1, a2, a3, a4 } };
	struct sim_reply ignored;

	return sim_call(conn, &req, reply ? reply : &ignored, NULL);
}

/*
 * The hypervisor learns the kind of device and our end's inode, so that a
 * test that finds this socket among a process's fds can ask what it is.
 */
int sim_conn_open(struct sim_conn *conn, enum sim_conn_kind kind)
{
	struct stat st;

	conn->fd = connect_hypervisor();
	if (conn->fd < 0)
		return -1;
	pthread_mutex_init(&conn->lock, NULL);
	if (fstat(conn->fd, &st) ||
	    sim_call_args(conn, SIM_OP_HELLO, kind, st.st_ino, 0, 0, 0, NULL) < 0) {
		sim_conn_close(conn);
		return -1;
	}
	return 0;
}

void sim_conn_close(struct sim_conn *conn)
{
	if (conn->fd < 0)
		return;
	close(conn->fd);
	conn->fd = -1;
	pthread_mutex_destroy(&conn->lock);
}
