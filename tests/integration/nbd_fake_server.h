/* SPDX-License-Identifier: MIT */
/*
 * tests/integration/nbd_fake_server.h: a small NBD server in a thread of
 * the test, for what real servers do not do on demand: cut a reply short
 * and close, or answer garbage. It speaks the fixed newstyle handshake
 * (NBD_OPT_GO, NBD_OPT_EXPORT_NAME; every other option is unsupported, so
 * libnbd falls back to simple replies) and serves READ, WRITE and FLUSH
 * from memory, one connection at a time, as the NBD project's
 * doc/proto.md lays them out (big-endian).
 */
#ifndef XVP_TESTS_INTEGRATION_NBD_FAKE_SERVER_H
#define XVP_TESTS_INTEGRATION_NBD_FAKE_SERVER_H

#include <endian.h>
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

enum nbd_fake_mode {
	NBD_FAKE_CUT_FIRST_READ,	/* the first connection's first read: half a reply, then close */
	NBD_FAKE_GARBAGE,		/* every read: a reply with a wrong magic */
};

struct nbd_fake {
	char path[64];
	int listen_fd;
	pthread_t thread;
	atomic_bool stop;
	enum nbd_fake_mode mode;
	uint8_t *disk;
	uint64_t size;
	atomic_uint connections;	/* accepted so far */
	atomic_uint broken;		/* replies cut or garbled */
};

#define NBD_FAKE_MAGIC		0x4e42444d41474943ULL	/* "NBDMAGIC" */
#define NBD_FAKE_IHAVEOPT	0x49484156454f5054ULL
#define NBD_FAKE_REP_MAGIC	0x3e889045565a9ULL
#define NBD_FAKE_REQ_MAGIC	0x25609513u
#define NBD_FAKE_SIMPLE_MAGIC	0x67446698u

/* @len bytes, or false (closed, failed, or the server is stopping). */
static inline bool nbd_fake_read(struct nbd_fake *s, int fd, void *buf, size_t len)
{
	for (size_t done = 0; done < len;) {
		struct pollfd p = { fd, POLLIN, 0 };
		ssize_t got;

		if (atomic_load(&s->stop))
			return false;
		if (poll(&p, 1, 100) <= 0)
			continue;
		got = recv(fd, (char *)buf + done, len - done, 0);
		if (got <= 0)
			return false;
		done += (size_t)got;
	}
	return true;
}

static inline bool nbd_fake_write(int fd, const void *buf, size_t len)
{
	return send(fd, buf, len, MSG_NOSIGNAL) == (ssize_t)len;
}

static inline bool nbd_fake_option_reply(int fd, uint32_t option, uint32_t type, const void *data,
					 uint32_t len)
{
	struct __attribute__((packed)) {
		uint64_t magic;
		uint32_t option, type, len;
	} reply = { htobe64(NBD_FAKE_REP_MAGIC), htobe32(option), htobe32(type), htobe32(len) };

	return nbd_fake_write(fd, &reply, sizeof(reply)) && (!len || nbd_fake_write(fd, data, len));
}

/* The handshake up to transmission: true once the client chose the export. */
static inline bool nbd_fake_handshake(struct nbd_fake *s, int fd)
{
	/* HAS_FLAGS | SEND_FLUSH; the handshake flags: FIXED_NEWSTYLE | NO_ZEROES. */
	const uint16_t tflags = htobe16(1 | 4);
	struct __attribute__((packed)) { uint64_t magic, opt; uint16_t flags; } hello = {
		htobe64(NBD_FAKE_MAGIC), htobe64(NBD_FAKE_IHAVEOPT), htobe16(1 | 2) };
	struct __attribute__((packed)) { uint16_t type; uint64_t size; uint16_t flags; } info = {
		0, htobe64(s->size), tflags };
	uint32_t client_flags;

	if (!nbd_fake_write(fd, &hello, sizeof(hello)) ||
	    !nbd_fake_read(s, fd, &client_flags, sizeof(client_flags)))
		return false;
	for (;;) {
		struct __attribute__((packed)) { uint64_t magic; uint32_t option, len; } opt;
		char data[4096 + 64];
		uint32_t option, len;

		if (!nbd_fake_read(s, fd, &opt, sizeof(opt)))
			return false;
		option = be32toh(opt.option);
		len = be32toh(opt.len);
		if (be64toh(opt.magic) != NBD_FAKE_IHAVEOPT || len > sizeof(data) ||
		    !nbd_fake_read(s, fd, data, len))
			return false;
		if (option == 1) {	/* EXPORT_NAME: size and flags, no zeroes */
			uint64_t size = htobe64(s->size);

			return nbd_fake_write(fd, &size, 8) && nbd_fake_write(fd, &tflags, 2);
		}
		if (option == 7)	/* GO: INFO_EXPORT, then ACK */
			return nbd_fake_option_reply(fd, option, 3, &info, sizeof(info)) &&
			       nbd_fake_option_reply(fd, option, 1, NULL, 0);
		if (option == 2)	/* ABORT */
			return false;
		if (!nbd_fake_option_reply(fd, option, 0x80000001u, NULL, 0))	/* ERR_UNSUP */
			return false;
	}
}

/* One READ's reply, as the mode says: whole, cut (false: close), or garbled. */
static inline bool nbd_fake_read_reply(struct nbd_fake *s, int fd, uint64_t cookie,
				       uint64_t offset, uint32_t len, bool *first_read)
{
	struct __attribute__((packed)) { uint32_t magic, error; uint64_t cookie; } reply = {
		htobe32(NBD_FAKE_SIMPLE_MAGIC), 0, cookie };
	bool cut = s->mode == NBD_FAKE_CUT_FIRST_READ && *first_read &&
		   atomic_load(&s->connections) == 1;

	*first_read = false;
	if (offset > s->size || len > s->size - offset)
		reply.error = htobe32(22);	/* EINVAL */
	if (s->mode == NBD_FAKE_GARBAGE) {
		reply.magic = htobe32(0xdeadbeefu);
		atomic_fetch_add(&s->broken, 1);
	}
	if (!nbd_fake_write(fd, &reply, sizeof(reply)))
		return false;
	if (reply.error)
		return true;
	if (cut) {
		nbd_fake_write(fd, s->disk + offset, len / 2);
		atomic_fetch_add(&s->broken, 1);
		return false;
	}
	return nbd_fake_write(fd, s->disk + offset, len);
}

/* Transmission until the client disconnects, the mode closes, or the server stops. */
static inline void nbd_fake_serve(struct nbd_fake *s, int fd)
{
	bool first_read = true;

	if (!nbd_fake_handshake(s, fd))
		return;
	for (;;) {
		struct __attribute__((packed)) {
			uint32_t magic;
			uint16_t flags, type;
			uint64_t cookie, offset;
			uint32_t len;
		} req;
		struct __attribute__((packed)) { uint32_t magic, error; uint64_t cookie; } ok;
		uint64_t offset;
		uint32_t len;

		if (!nbd_fake_read(s, fd, &req, sizeof(req)) || be32toh(req.magic) != NBD_FAKE_REQ_MAGIC)
			return;
		offset = be64toh(req.offset);
		len = be32toh(req.len);
		ok = (typeof(ok)){ htobe32(NBD_FAKE_SIMPLE_MAGIC), 0, req.cookie };
		switch (be16toh(req.type)) {
		case 0:
			if (!nbd_fake_read_reply(s, fd, req.cookie, offset, len, &first_read))
				return;
			break;
		case 1:
			if (offset > s->size || len > s->size - offset ||
			    !nbd_fake_read(s, fd, s->disk + offset, len) ||
			    !nbd_fake_write(fd, &ok, sizeof(ok)))
				return;
			break;
		case 2:		/* DISC */
			return;
		default:	/* FLUSH: nothing to write back */
			if (!nbd_fake_write(fd, &ok, sizeof(ok)))
				return;
		}
	}
}

static inline void *nbd_fake_thread(void *arg)
{
	struct nbd_fake *s = arg;

	while (!atomic_load(&s->stop)) {
		struct pollfd p = { s->listen_fd, POLLIN, 0 };
		int fd;

		if (poll(&p, 1, 100) <= 0)
			continue;
		fd = accept(s->listen_fd, NULL, NULL);
		if (fd < 0)
			continue;
		atomic_fetch_add(&s->connections, 1);
		nbd_fake_serve(s, fd);
		close(fd);
	}
	return NULL;
}

/* Listen on a fresh unix socket with a disk of @size bytes (@content, copied); 0 or -errno. */
static inline int nbd_fake_start(struct nbd_fake *s, enum nbd_fake_mode mode, const void *content,
				 uint64_t size)
{
	struct sockaddr_un addr = { .sun_family = AF_UNIX };

	memset(s, 0, sizeof(*s));
	s->mode = mode;
	s->size = size;
	s->disk = malloc(size);
	if (!s->disk)
		return -ENOMEM;
	memcpy(s->disk, content, size);
	snprintf(s->path, sizeof(s->path), "/tmp/xvp-nbd-fake-%d.sock", (int)getpid());
	strcpy(addr.sun_path, s->path);
	unlink(s->path);
	s->listen_fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (s->listen_fd < 0 || bind(s->listen_fd, (struct sockaddr *)&addr, sizeof(addr)) ||
	    listen(s->listen_fd, 64))
		return -errno;
	return -pthread_create(&s->thread, NULL, nbd_fake_thread, s);
}

static inline void nbd_fake_stop(struct nbd_fake *s)
{
	atomic_store(&s->stop, true);
	pthread_join(s->thread, NULL);
	close(s->listen_fd);
	unlink(s->path);
	free(s->disk);
}

#endif
