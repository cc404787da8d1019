// SPDX-License-Identifier: MIT
/*
 * tests/sim/hv_memory.c: the simulated guest's RAM as Xen changes it under
 * the daemon, and what the daemon keeps mapped of it.
 *
 * Guest RAM is a memfd, guest page i at p2m[i] in it (SIM_P2M_ABSENT: no
 * RAM there). Xen tells IOREQ servers when it takes a RAM page away
 * (xen/arch/arm/p2m.c, p2m_free_entry(): ioreq_request_mapcache_invalidate()
 * for a RAM entry, sent as IOREQ_TYPE_INVALIDATE by xen/common/ioreq.c), but
 * not when it adds one: populate_physmap() in xen/common/memory.c ends in
 * guest_physmap_add_page() and nothing else. The three calls a test has
 * follow that: replace a page (invalidate), balloon one out (invalidate),
 * populate one (no invalidate).
 *
 * The daemon's side (tests/sim/libxen_foreignmemory.c) reports every
 * foreign map and unmap of guest RAM: the pages each call takes (Linux's
 * privcmd backs the whole range with ballooned dom0 frames, failed entries
 * included), and which guest pages are mapped read-only or writable.
 */
#include "tests/sim/hv_internal.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>

int hv_memory_init(struct sim_domain *d)
{
	uint64_t pages = d->config.ram_size / PAGE_SIZE_4K;

	d->foreign_read_only = calloc(pages, sizeof(*d->foreign_read_only));
	d->foreign_writable = calloc(pages, sizeof(*d->foreign_writable));
	return d->foreign_read_only && d->foreign_writable ? 0 : -ENOMEM;
}

void hv_memory_free(struct sim_domain *d)
{
	free(d->foreign_read_only);
	free(d->foreign_writable);
	d->foreign_read_only = d->foreign_writable = NULL;
}

void *sim_hv_guest_ram(struct sim_hv *hv, uint64_t gpa, size_t len)
{
	const struct sim_domain *d = hv->guest;

	if (gpa < d->config.ram_base || len > d->config.ram_size ||
	    gpa - d->config.ram_base > d->config.ram_size - len)
		return NULL;
	return d->ram + (gpa - d->config.ram_base);
}

bool sim_hv_guest_ram_refuses_direct_io(struct sim_hv *hv)
{
	return hv->guest->ram_refuses_direct_io;
}

/* Back guest page @index with a fresh zeroed spare page, in the p2m and in the guest's view. */
static int back_with_spare_page(struct sim_hv *hv, struct sim_domain *d, uint64_t index)
{
	uint64_t offset;
	void *page;

	if (d->spare_used == SIM_SPARE_PAGES)
		return -ENOSPC;
	offset = d->config.ram_size + d->spare_used++ * PAGE_SIZE_4K;
	pthread_mutex_lock(&hv->lock);
	d->p2m[index] = offset;
	page = mmap(d->ram + index * PAGE_SIZE_4K, PAGE_SIZE_4K, PROT_READ | PROT_WRITE,
		    MAP_SHARED | MAP_FIXED, d->ram_fd, (off_t)offset);
	pthread_mutex_unlock(&hv->lock);
	if (page == MAP_FAILED)
		return -errno;
	memset(page, 0, PAGE_SIZE_4K);
	return 0;
}

static int page_index(struct sim_hv *hv, uint64_t gpa, uint64_t *index)
{
	if (!sim_hv_guest_ram(hv, gpa, 1))
		return -EINVAL;
	*index = (gpa - hv->guest->config.ram_base) / PAGE_SIZE_4K;
	return 0;
}

/* What Xen does after taking a RAM page out of the guest's p2m: tell every IOREQ server. */
static int send_invalidate(struct sim_hv *hv, unsigned int vcpu)
{
	ioreq_t invalidate = { .type = IOREQ_TYPE_INVALIDATE, .size = 4, .count = 1,
			       .dir = IOREQ_WRITE, .data = ~0ULL };

	return sim_vcpu_send_raw(hv, vcpu, &invalidate);
}

int sim_hv_replace_guest_page(struct sim_hv *hv, unsigned int vcpu, uint64_t gpa)
{
	uint64_t index;
	int ret = page_index(hv, gpa, &index);

	if (!ret)
		ret = back_with_spare_page(hv, hv->guest, index);
	return ret ? ret : send_invalidate(hv, vcpu);
}

int sim_hv_balloon_out(struct sim_hv *hv, unsigned int vcpu, uint64_t gpa)
{
	uint64_t index;
	int ret = page_index(hv, gpa, &index);

	if (ret)
		return ret;
	pthread_mutex_lock(&hv->lock);
	hv->guest->p2m[index] = SIM_P2M_ABSENT;
	pthread_mutex_unlock(&hv->lock);
	return send_invalidate(hv, vcpu);
}

int sim_hv_populate(struct sim_hv *hv, uint64_t gpa)
{
	uint64_t index;
	int ret = page_index(hv, gpa, &index);

	if (ret)
		return ret;
	if (hv->guest->p2m[index] != SIM_P2M_ABSENT)
		return -EEXIST;
	/* populate_physmap(): a new page in the p2m, and no INVALIDATE. */
	return back_with_spare_page(hv, hv->guest, index);
}

void sim_hv_foreign_mappings(struct sim_hv *hv, uint64_t gpa, unsigned int *read_only,
			     unsigned int *writable)
{
	uint64_t index;

	*read_only = *writable = 0;
	if (page_index(hv, gpa, &index))
		return;
	pthread_mutex_lock(&hv->lock);
	*read_only = hv->guest->foreign_read_only[index];
	*writable = hv->guest->foreign_writable[index];
	pthread_mutex_unlock(&hv->lock);
}

void sim_hv_limit_foreign_pages(struct sim_hv *hv, unsigned long pages)
{
	pthread_mutex_lock(&hv->lock);
	hv->foreign_page_limit = pages;
	pthread_mutex_unlock(&hv->lock);
}

int hv_op_foreign_map_count(struct call *c)
{
	struct sim_hv_state *stats = &c->hv->stats;
	unsigned long limit = c->hv->foreign_page_limit;

	/* A map that dom0 has no empty pages for fails whole (sim_hv_limit_foreign_pages()). */
	if (c->req->arg[0] && limit && stats->foreign_mapped_pages + c->req->arg[2] > limit)
		return hv_fail(c, ENOMEM);
	/* The mapping is made; its caller waits for the hypercall to return. */
	c->held = c->req->arg[0] && c->hv->hold_maps;
	stats->foreign_map_calls += c->req->arg[0];
	stats->foreign_unmap_calls += c->req->arg[1];
	stats->foreign_mapped_pages += c->req->arg[2];
	stats->foreign_mapped_pages -= c->req->arg[3];
	stats->foreign_maps_with_holes += c->req->arg[0] && c->req->arg[4];
	if (stats->foreign_mapped_pages > stats->foreign_mapped_pages_peak)
		stats->foreign_mapped_pages_peak = stats->foreign_mapped_pages;
	return 0;
}

int hv_op_foreign_mapped(struct call *c)
{
	struct sim_domain *d = hv_domain_dying_or_live(c->hv, c->req->arg[0]);
	uint64_t first = c->req->arg[1], count = c->req->arg[2];
	uint64_t base = d ? d->config.ram_base / PAGE_SIZE_4K : 0;
	uint64_t pages = d ? d->config.ram_size / PAGE_SIZE_4K : 0;
	uint16_t *counts;

	if (!d || first < base || count > pages || first - base > pages - count)
		return 0;	/* frames outside RAM were never mapped */
	counts = c->req->arg[3] ? d->foreign_writable : d->foreign_read_only;
	for (uint64_t i = first - base; i < first - base + count; i++)
		counts[i] += c->req->arg[4] ? 1 : -1;
	return 0;
}

/* ---- foreign maps that take their time (sim_hv_hold_foreign_maps()) */

void hv_hold_reply(struct call *c)
{
	struct held_reply *h = &c->hv->held[c->conn];

	/* A connection's calls are synchronous: at most one of its answers waits. */
	*h = (struct held_reply){ c->conn, c->hv->conns[c->conn], *c->reply };
	c->hv->maps_held++;
}

void hv_drop_held_reply(struct sim_hv *hv, int conn)
{
	hv->held[conn].conn = -1;
}

void sim_hv_hold_foreign_maps(struct sim_hv *hv)
{
	pthread_mutex_lock(&hv->lock);
	hv->hold_maps = true;
	pthread_mutex_unlock(&hv->lock);
}

void sim_hv_release_foreign_maps(struct sim_hv *hv)
{
	pthread_mutex_lock(&hv->lock);
	hv->hold_maps = false;
	for (int i = 0; i < SIM_MAX_CONNS; i++) {
		struct held_reply *h = &hv->held[i];

		if (h->conn < 0)
			continue;
		if (hv->conns[i] == h->fd)
			send(h->fd, &h->reply, sizeof(h->reply), MSG_NOSIGNAL);
		h->conn = -1;
	}
	pthread_mutex_unlock(&hv->lock);
}

int sim_hv_wait_foreign_map_held(struct sim_hv *hv, unsigned long seen, int timeout_ms)
{
	struct timespec deadline;
	int ret = 0;

	hv_deadline(&deadline, timeout_ms);
	pthread_mutex_lock(&hv->lock);
	while (hv->maps_held <= seen && ret == 0)
		ret = pthread_cond_timedwait(&hv->changed, &hv->lock, &deadline);
	pthread_mutex_unlock(&hv->lock);
	return ret ? -ETIMEDOUT : 0;
}

unsigned long sim_hv_foreign_maps_held(struct sim_hv *hv)
{
	unsigned long held;

	pthread_mutex_lock(&hv->lock);
	held = hv->maps_held;
	pthread_mutex_unlock(&hv->lock);
	return held;
}
