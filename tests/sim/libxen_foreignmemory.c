// SPDX-License-Identifier: MIT
/*
 * tests/sim/libxen_foreignmemory.c: libxenforeignmemory over the simulated
 * hypervisor: resources (the ioreq page) and guest RAM are memfds it passes
 * to us, mapped MAP_SHARED so both sides see every store, with the
 * protection asked for. Every map and unmap of guest RAM is reported to the
 * hypervisor (tests/sim/hv_memory.c), which counts what stays mapped.
 */
#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>
#include <xenforeignmemory.h>

#include "tests/sim/libxen_conn.h"

#define SIM_PAGE_SIZE 4096UL

/* One xenforeignmemory_map() of guest RAM, remembered so its unmap can be reported. */
struct ram_mapping {
	struct ram_mapping *next;
	void *addr;
	size_t num;
	uint32_t dom;
	bool writable;
	xen_pfn_t *gfns;
};

struct xenforeignmemory_handle {
	struct sim_conn conn;	/* its /dev/xen/privcmd */
	struct sim_toolcore_handle tc;
	struct ram_mapping *mappings;
	int ram_fd;		/* -1 until the first map */
	uint64_t ram_base_gfn;
	uint64_t ram_pages;
	const uint64_t *p2m;	/* offset in ram_fd of each guest page */
};

struct xenforeignmemory_resource_handle {
	void *addr;
	size_t size;
};

static int restrict_fmem(struct sim_toolcore_handle *tc, domid_t domid)
{
	xenforeignmemory_handle *fmem = (xenforeignmemory_handle *)((char *)tc -
						offsetof(xenforeignmemory_handle, tc));

	return xenforeignmemory_restrict(fmem, domid);
}

xenforeignmemory_handle *xenforeignmemory_open(struct xentoollog_logger *logger,
					       unsigned int open_flags)
{
	xenforeignmemory_handle *fmem = calloc(1, sizeof(*fmem));

	(void)logger;
	(void)open_flags;
	if (!fmem)
		return NULL;
	fmem->ram_fd = -1;
	if (sim_conn_open(&fmem->conn, SIM_CONN_PRIVCMD)) {
		free(fmem);
		return NULL;
	}
	/* tools/libs/foreignmemory/core.c: restrict_all restricts the handle's fd. */
	fmem->tc.restrict_callback = restrict_fmem;
	sim_toolcore_register(&fmem->tc);
	return fmem;
}

/* IOCTL_PRIVCMD_RESTRICT on the handle's fd (foreignmemory/linux.c). */
int xenforeignmemory_restrict(xenforeignmemory_handle *fmem, domid_t domid)
{
	return sim_call_args(&fmem->conn, SIM_OP_RESTRICT, domid, 0, 0, 0, 0, NULL) < 0 ? -1 : 0;
}

int xenforeignmemory_close(xenforeignmemory_handle *fmem)
{
	if (!fmem)
		return 0;
	if (fmem->ram_fd >= 0)
		close(fmem->ram_fd);
	if (fmem->p2m)
		munmap((void *)fmem->p2m, fmem->ram_pages * sizeof(uint64_t));
	while (fmem->mappings) {
		struct ram_mapping *m = fmem->mappings;

		fmem->mappings = m->next;
		free(m->gfns);
		free(m);
	}
	sim_toolcore_deregister(&fmem->tc);
	sim_conn_close(&fmem->conn);
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

	if (sim_call(&fmem->conn, &req, &reply, &fd) < 0)
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
	void *p2m;
	int fd, p2m_fd;

	if (fmem->ram_fd >= 0)
		return 0;
	if (sim_call(&fmem->conn, &req, &reply, &fd) < 0)
		return -1;
	req.op = SIM_OP_GUEST_P2M;
	if (sim_call(&fmem->conn, &req, &(struct sim_reply){ 0 }, &p2m_fd) < 0) {
		close(fd);
		return -1;
	}
	p2m = mmap(NULL, reply.val[1] * sizeof(uint64_t), PROT_READ, MAP_SHARED, p2m_fd, 0);
	close(p2m_fd);
	if (p2m == MAP_FAILED) {
		close(fd);
		return -1;
	}
	fmem->ram_fd = fd;
	fmem->ram_base_gfn = reply.val[0];
	fmem->ram_pages = reply.val[1];
	fmem->p2m = p2m;
	return 0;
}

static uint64_t machine_offset(const xenforeignmemory_handle *fmem, xen_pfn_t gfn)
{
	return fmem->p2m[gfn - fmem->ram_base_gfn];
}

/* Map the run of @count guest-consecutive frames starting at index @i of @arr. */
static int map_run(xenforeignmemory_handle *fmem, char *addr, int prot, const xen_pfn_t *arr,
		   size_t i, size_t count)
{
	off_t offset = (off_t)machine_offset(fmem, arr[i]);

	if (mmap(addr + i * SIM_PAGE_SIZE, count * SIM_PAGE_SIZE, prot, MAP_SHARED | MAP_FIXED,
		 fmem->ram_fd, offset) == MAP_FAILED)
		return -errno;
	return 0;
}

/* A frame of the guest's RAM that has a page behind it (not ballooned out: UINT64_MAX). */
static int frame_in_ram(const xenforeignmemory_handle *fmem, xen_pfn_t gfn)
{
	return gfn >= fmem->ram_base_gfn && gfn - fmem->ram_base_gfn < fmem->ram_pages &&
	       fmem->p2m[gfn - fmem->ram_base_gfn] != UINT64_MAX;
}

/* Tell the hypervisor which guest pages @m covers, run by run of consecutive frames. */
static void report_pages(xenforeignmemory_handle *fmem, const struct ram_mapping *m, bool mapped)
{
	for (size_t i = 0, run; i < m->num; i += run) {
		for (run = 1; i + run < m->num && m->gfns[i + run] == m->gfns[i] + run; run++)
			;
		sim_call_args(&fmem->conn, SIM_OP_FOREIGN_MAPPED, m->dom, m->gfns[i], run, m->writable, mapped, NULL);
	}
}

/* Remember a successful map and report it; false if out of memory (then it is undone). */
static bool record_mapping(xenforeignmemory_handle *fmem, void *addr, uint32_t dom, int prot,
			   size_t num, const xen_pfn_t arr[], int failed)
{
	struct ram_mapping *m = calloc(1, sizeof(*m));

	if (m)
		m->gfns = malloc(num * sizeof(*m->gfns));
	if (!m || !m->gfns) {
		free(m);
		return false;
	}
	memcpy(m->gfns, arr, num * sizeof(*m->gfns));
	*m = (struct ram_mapping){ fmem->mappings, addr, num, dom, (prot & PROT_WRITE) != 0, m->gfns };
	/*
	 * Counted by the hypervisor, so tests need not trust the daemon's own
	 * figures; it refuses (ENOMEM) a map dom0 has no empty pages for.
	 */
	if (sim_call_args(&fmem->conn, SIM_OP_FOREIGN_MAP_COUNT, 1, 0, num, 0, failed, NULL) < 0) {
		free(m->gfns);
		free(m);
		return false;
	}
	fmem->mappings = m;
	report_pages(fmem, m, true);
	return true;
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
		/* One mmap per run of frames consecutive in both the guest and the backing file. */
		while (i + run < num && frame_in_ram(fmem, arr[i + run]) &&
		       machine_offset(fmem, arr[i + run]) == machine_offset(fmem, arr[i]) + run * SIM_PAGE_SIZE)
			run++;
		/*
		 * The host could not back the range (secret memory counts as
		 * locked memory, where Xen's VM_PFNMAP mappings count nothing):
		 * as privcmd when it gets no empty pages, the whole call fails;
		 * err[] carries only what Xen says of each frame.
		 */
		ret = map_run(fmem, addr, prot, arr, i, run);
		if (ret) {
			munmap(addr, num * SIM_PAGE_SIZE);
			errno = -ret == EAGAIN ? ENOMEM : -ret;
			return NULL;
		}
		i += run;
	}
	if (failed && !err) {
		munmap(addr, num * SIM_PAGE_SIZE);
		errno = EINVAL;
		return NULL;
	}
	if (!record_mapping(fmem, addr, dom, prot, num, arr, failed)) {
		munmap(addr, num * SIM_PAGE_SIZE);
		errno = ENOMEM;
		return NULL;
	}
	return addr;
}

int xenforeignmemory_unmap(xenforeignmemory_handle *fmem, void *addr, size_t pages)
{
	for (struct ram_mapping **link = &fmem->mappings; *link; link = &(*link)->next) {
		struct ram_mapping *m = *link;

		if (m->addr != addr)
			continue;
		report_pages(fmem, m, false);
		sim_call_args(&fmem->conn, SIM_OP_FOREIGN_MAP_COUNT, 0, 1, 0, m->num, 0, NULL);
		*link = m->next;
		free(m->gfns);
		free(m);
		break;
	}
	return munmap(addr, pages * SIM_PAGE_SIZE);
}
