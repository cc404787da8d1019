// SPDX-License-Identifier: MIT
/*
 * tests/sim/libxen_toolcore.c: libxentoolcore, as tools/libs/toolcore/handlereg.c
 * implements it: a list of every open handle of every Xen library, and
 * xentoolcore_restrict_all() calling each one's restrict callback, stopping
 * at the first failure.
 */
#include <fcntl.h>
#include <pthread.h>
#include <unistd.h>
#include <xentoolcore.h>

#include "tests/sim/libxen_conn.h"

static pthread_mutex_t handles_lock = PTHREAD_MUTEX_INITIALIZER;
static struct sim_toolcore_handle *handles;

void sim_toolcore_register(struct sim_toolcore_handle *handle)
{
	pthread_mutex_lock(&handles_lock);
	handle->next = handles;
	handles = handle;
	pthread_mutex_unlock(&handles_lock);
}

void sim_toolcore_deregister(struct sim_toolcore_handle *handle)
{
	pthread_mutex_lock(&handles_lock);
	for (struct sim_toolcore_handle **link = &handles; *link; link = &(*link)->next) {
		if (*link == handle) {
			*link = handle->next;
			break;
		}
	}
	pthread_mutex_unlock(&handles_lock);
}

int xentoolcore_restrict_all(domid_t domid)
{
	int ret = 0;

	pthread_mutex_lock(&handles_lock);
	for (struct sim_toolcore_handle *h = handles; h && !ret; h = h->next)
		ret = h->restrict_callback(h, domid);
	pthread_mutex_unlock(&handles_lock);
	return ret;
}

/*
 * handlereg.c: "We neuter the fd by dup'ing /dev/null onto it. This is
 * better than closing it, because it does not involve locking against
 * concurrent uses of it in other threads." Later calls on it fail.
 */
int sim_toolcore_dup2_null(int fd)
{
	int null_fd, ret;

	if (fd < 0)
		return 0;
	null_fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
	if (null_fd < 0)
		return -1;
	ret = dup2(null_fd, fd) < 0 ? -1 : 0;
	close(null_fd);
	return ret;
}
