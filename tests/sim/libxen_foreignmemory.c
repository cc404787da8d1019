// SPDX-License-Identifier: MIT
/*
 * tests/sim/libxen_foreignmemory.c: libxenforeignmemory over the simulated
 * hypervisor: resources (the ioreq page) and guest RAM are memfds it passes
 * to us, mapped MAP_SHARED so both sides see every store.
 */
#include <errno.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <unistd.h>
#include <xenforeignmemory.h>

#include "tests/sim/libxen_conn.h"

#define SIM_PAGE_SIZE 4096UL

struct xenforeignmemory_handle {
	int ram_fd;		/* -1 until the first map */
	uint64_t ram_base_gfn;
	uint64_t ram_pages;
};

struct xenforeignmemory_resource_handle {
	void *addr;
	size_t size;
};

xenforeignmemory_handle *xenforeignmemory_open(struct xentoollog_logger *logger,
					       unsigned int open_flags)
{
	xenforeignmemory_handle *fmem = calloc(1, sizeof(*fmem));

	(void)logger;
	(void)open_flags;
	if (fmem)
		fmem->ram_fd = -1;
	return fmem;
}

int xenforeignmemory_close(xenforeignmemory_handle *fmem)
{
	if (!fmem)
		return 0;
	if (fmem->ram_fd >= 0)
		close(fmem->ram_fd);
	free(fmem);
	return 0;
}

xenforeignmemory_resource_handle *xenforeignmemory_map_resource(
	xenforeignmemory_handle *fmem, domid_t domid, unsigned int type, unsigned int id,
	unsigned long frame, unsigned long nr_frames, void **paddr, int prot, int flags)
{
	struct sim_request req = { .op = SIM_OP_MAP_RESOURCE,
				   .arg = { domid, type, id, frame, nr_frames } };
	xenforeignmemory_resource_handle *res;
	struct sim_reply reply;
	int fd, saved;

	(void)fmem;
	if (sim_call(&req, &reply, &fd) < 0)
		return NULL;
	res = calloc(1, sizeof(*res));
	if (!res) {
		close(fd);
		errno = ENOMEM;
		return NULL;
	}
	res->size = nr_frames * SIM_PAGE_SIZE;
	res->addr = mmap(*paddr, res->size, prot, MAP_SHARED | flags, fd, 0);
	saved = errno;
	close(fd);
	if (res->addr == MAP_FAILED) {
		free(res);
		errno = saved;
		return NULL;
	}
	*paddr = res->addr;
	return res;
}

int xenforeignmemory_unmap_resource(xenforeignmemory_handle *fmem,
				    xenforeignmemory_resource_handle *fres)
{
	(void)fmem;
	if (!fres)
		return 0;
	munmap(fres->addr, fres->size);
	free(fres);
	return 0;
}

static int fetch_guest_ram(xenforeignmemory_handle *fmem, uint32_t dom)
{
	struct sim_request req = { .op = SIM_OP_GUEST_RAM, .arg = { dom } };
	struct sim_reply reply;
	int fd;

	if (fmem->ram_fd >= 0)
		return 0;
	if (sim_call(&req, &reply, &fd) < 0)
		return -1;
	fmem->ram_fd = fd;
	fmem->ram_base_gfn = reply.val[0];
	fmem->ram_pages = reply.val[1];
	return 0;
}

/* Map the run of @count guest-consecutive frames starting at index @i of @arr. */
static int map_run(xenforeignmemory_handle *fmem, char *addr, int prot, const xen_pfn_t *arr,
		   size_t i, size_t count)
{
	off_t offset = (off_t)((arr[i] - fmem->ram_base_gfn) * SIM_PAGE_SIZE);

	if (mmap(addr + i * SIM_PAGE_SIZE, count * SIM_PAGE_SIZE, prot, MAP_SHARED | MAP_FIXED,
		 fmem->ram_fd, offset) == MAP_FAILED)
		return -errno;
	return 0;
}

static int frame_in_ram(const xenforeignmemory_handle *fmem, xen_pfn_t gfn)
{
	return gfn >= fmem->ram_base_gfn && gfn - fmem->ram_base_gfn < fmem->ram_pages;
}

void *xenforeignmemory_map(xenforeignmemory_handle *fmem, uint32_t dom, int prot, size_t num,
			   const xen_pfn_t arr[], int err[])
{
	char *addr;
	size_t i = 0;
	int failed = 0;

	if (num == 0 || fetch_guest_ram(fmem, dom)) {
		if (num == 0)
			errno = EINVAL;
		return NULL;
	}
	/* Reserve the whole span, then put each run of consecutive frames in it. */
	addr = mmap(NULL, num * SIM_PAGE_SIZE, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (addr == MAP_FAILED)
		return NULL;
	while (i < num) {
		size_t run = 1;
		int ret;

		if (!frame_in_ram(fmem, arr[i])) {
			if (err)
				err[i] = -EINVAL;
			failed = 1;
			i++;
			continue;
		}
		while (i + run < num && arr[i + run] == arr[i] + run && frame_in_ram(fmem, arr[i + run]))
			run++;
		ret = map_run(fmem, addr, prot, arr, i, run);
		for (size_t j = i; j < i + run; j++)
			if (err)
				err[j] = ret;
		failed |= ret != 0;
		i += run;
	}
	if (failed && !err) {
		munmap(addr, num * SIM_PAGE_SIZE);
		errno = EINVAL;
		return NULL;
	}
	return addr;
}

int xenforeignmemory_unmap(xenforeignmemory_handle *fmem, void *addr, size_t pages)
{
	(void)fmem;
	return munmap(addr, pages * SIM_PAGE_SIZE);
}
