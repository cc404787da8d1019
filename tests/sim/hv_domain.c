// SPDX-License-Identifier: MIT
/*
 * tests/sim/hv_domain.c: the simulated host's guest domains: creation with
 * their RAM (and its physical-to-machine map), destruction as Xen does it
 * (servers and ranges go with the domain, xenstore fires @releaseDomain),
 * and what a test inspects of each: RAM, SPIs, servers.
 */
#include "tests/sim/hv_internal.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

/* ---- lookup */

struct sim_domain *hv_find_domain(struct sim_hv *hv, uint64_t domid)
{
	for (int i = 0; i < SIM_MAX_DOMAINS; i++) {
		struct sim_domain *d = &hv->domains[i];

		if (d->used && !d->destroyed && d->config.domid == domid)
			return d;
	}
	return NULL;
}

struct sim_domain *hv_domain_dying_or_live(struct sim_hv *hv, uint64_t domid)
{
	struct sim_domain *live = hv_find_domain(hv, domid);

	for (int i = 0; i < SIM_MAX_DOMAINS && !live; i++)
		if (hv->domains[i].used && hv->domains[i].config.domid == domid)
			return &hv->domains[i];
	return live;
}

struct sim_domain *hv_next_domain(struct sim_hv *hv, uint64_t domid)
{
	struct sim_domain *next = NULL;

	for (int i = 0; i < SIM_MAX_DOMAINS; i++) {
		struct sim_domain *d = &hv->domains[i];

		if (!d->used || d->destroyed || d->config.domid < domid)
			continue;
		if (!next || d->config.domid < next->config.domid)
			next = d;
	}
	return next;
}

/* ---- creation */

static void apply_defaults(struct sim_hv_config *config)
{
	if (!config->domid)
		config->domid = 1;
	if (!config->nr_vcpus)
		config->nr_vcpus = 2;
	if (config->nr_vcpus > SIM_MAX_VCPUS)
		config->nr_vcpus = SIM_MAX_VCPUS;
	if (!config->ram_base)
		config->ram_base = 0x40000000ULL;
	if (!config->ram_size)
		config->ram_size = 64ULL << 20;
	if (!config->nr_spis)
		config->nr_spis = 64;
	if (config->nr_spis > SIM_MAX_SPI - 32)
		config->nr_spis = SIM_MAX_SPI - 32;
}

static uint64_t p2m_size(const struct sim_domain *d)
{
	return d->config.ram_size / PAGE_SIZE_4K * sizeof(uint64_t);
}

/* RAM plus the spare pages page replacement hands out. */
static off_t ram_file_size(const struct sim_domain *d)
{
	return (off_t)(d->config.ram_size + SIM_SPARE_PAGES * PAGE_SIZE_4K);
}

/*
 * Xen's foreign mappings are VM_PFNMAP: O_DIRECT (anything that pins user
 * pages) cannot target them, buffered I/O can. Secret memory behaves the
 * same way, so the daemon meets the same refusal here. It takes one
 * ftruncate only, and counts against the memlock limit when mapped.
 */
static int map_secret_ram(struct sim_domain *d)
{
	d->ram_fd = (int)syscall(SYS_memfd_secret, O_CLOEXEC);
	if (d->ram_fd < 0)
		return -1;
	d->ram = MAP_FAILED;
	if (!ftruncate(d->ram_fd, ram_file_size(d)))
		d->ram = mmap(NULL, d->config.ram_size, PROT_READ | PROT_WRITE, MAP_SHARED,
			      d->ram_fd, 0);
	if (d->ram != MAP_FAILED)
		return 0;
	close(d->ram_fd);
	d->ram_fd = -1;
	return -1;
}

/* Without secret memory (old kernel, secretmem off, memlock limit): plain shared memory. */
static int map_plain_ram(struct sim_domain *d)
{
	d->ram_fd = memfd_create("sim-guest-ram", MFD_CLOEXEC);
	if (d->ram_fd < 0 || ftruncate(d->ram_fd, ram_file_size(d)))
		return -1;
	d->ram = mmap(NULL, d->config.ram_size, PROT_READ | PROT_WRITE, MAP_SHARED, d->ram_fd, 0);
	return d->ram == MAP_FAILED ? -1 : 0;
}

static int setup_guest_ram(struct sim_domain *d)
{
	uint64_t pages = d->config.ram_size / PAGE_SIZE_4K;

	d->ram_refuses_direct_io = !d->config.plain_ram && map_secret_ram(d) == 0;
	if (!d->ram_refuses_direct_io && map_plain_ram(d))
		return -1;
	/* The physical-to-machine map, shared with the daemon side: identity at first. */
	d->p2m_fd = memfd_create("sim-guest-p2m", MFD_CLOEXEC);
	if (d->p2m_fd < 0 || ftruncate(d->p2m_fd, (off_t)p2m_size(d)))
		return -1;
	d->p2m = mmap(NULL, p2m_size(d), PROT_READ | PROT_WRITE, MAP_SHARED, d->p2m_fd, 0);
	if (d->p2m == MAP_FAILED)
		return -1;
	for (uint64_t i = 0; i < pages; i++)
		d->p2m[i] = i * PAGE_SIZE_4K;
	return 0;
}

static struct sim_domain *free_slot(struct sim_hv *hv)
{
	for (int i = 0; i < SIM_MAX_DOMAINS; i++)
		if (!hv->domains[i].used)
			return &hv->domains[i];
	return NULL;
}

int hv_domain_create(struct sim_hv *hv, const struct sim_hv_config *config)
{
	struct sim_domain *d;
	int ret = 0;

	pthread_mutex_lock(&hv->lock);
	d = free_slot(hv);
	if (!d || hv_find_domain(hv, config->domid ? config->domid : 1)) {
		ret = d ? -EEXIST : -ENOSPC;
		goto unlock;
	}
	memset(d, 0, sizeof(*d));
	d->config = *config;
	apply_defaults(&d->config);
	if (config->name)
		snprintf(d->name, sizeof(d->name), "%s", config->name);
	d->config.name = config->name ? d->name : NULL;
	for (unsigned int v = 0; v < SIM_MAX_VCPUS; v++) {
		pthread_cond_init(&d->vcpus[v].answered, NULL);
		d->vcpus[v].queued_server = -1;
	}
	if (setup_guest_ram(d) || hv_memory_init(d)) {
		ret = -errno;
		goto unlock;
	}
	d->used = true;
	if (!hv->guest)
		hv->guest = d;
	if (!hv->config.no_xenstore)
		hv_xenstore_add_domain(hv, d);
	pthread_cond_broadcast(&hv->changed);
unlock:
	pthread_mutex_unlock(&hv->lock);
	return ret;
}

int sim_hv_create_domain(struct sim_hv *hv, const struct sim_hv_config *config)
{
	struct sim_hv_config copy = *config;

	copy.no_xenstore = hv->config.no_xenstore;
	return hv_domain_create(hv, &copy);
}

/* ---- destruction */

void hv_server_release(struct sim_server *srv)
{
	munmap((void *)srv->page, PAGE_SIZE_4K);
	close(srv->page_fd);
	srv->used = false;
}

void hv_domains_free(struct sim_hv *hv)
{
	for (int i = 0; i < SIM_MAX_DOMAINS; i++) {
		struct sim_domain *d = &hv->domains[i];

		if (!d->used)
			continue;
		for (int s = 0; s < SIM_MAX_SERVERS; s++)
			if (d->servers[s].used)
				hv_server_release(&d->servers[s]);
		munmap(d->ram, d->config.ram_size);
		close(d->ram_fd);
		munmap(d->p2m, p2m_size(d));
		close(d->p2m_fd);
		hv_memory_free(d);
		d->used = false;
	}
}

int sim_hv_destroy_domain_id(struct sim_hv *hv, uint32_t domid)
{
	struct sim_domain *d;

	pthread_mutex_lock(&hv->lock);
	d = hv_find_domain(hv, domid);
	if (d) {
		d->destroyed = true;
		/* Xen destroys the domain's IOREQ servers, and their ranges, with it. */
		for (int id = 0; id < SIM_MAX_SERVERS; id++)
			if (d->servers[id].used)
				hv_server_release(&d->servers[id]);
		/* A vCPU waiting for an answer learns that there will be none. */
		for (unsigned int v = 0; v < d->config.nr_vcpus; v++)
			pthread_cond_broadcast(&d->vcpus[v].answered);
		if (!hv->config.no_xenstore)
			hv_xenstore_remove_domain(hv, d);
		pthread_cond_broadcast(&hv->changed);
	}
	pthread_mutex_unlock(&hv->lock);
	return d ? 0 : -ESRCH;
}

void sim_hv_destroy_domain(struct sim_hv *hv)
{
	sim_hv_destroy_domain_id(hv, hv->guest->config.domid);
}

/* ---- the test's view */

int sim_hv_irq_level(struct sim_hv *hv, unsigned int spi)
{
	int level;

	pthread_mutex_lock(&hv->lock);
	level = spi < SIM_MAX_SPI ? hv->guest->irq_level[spi] : 0;
	pthread_mutex_unlock(&hv->lock);
	return level;
}

unsigned long sim_hv_irq_raises(struct sim_hv *hv, unsigned int spi)
{
	unsigned long raises;

	pthread_mutex_lock(&hv->lock);
	raises = spi < SIM_MAX_SPI ? hv->guest->irq_raises[spi] : 0;
	pthread_mutex_unlock(&hv->lock);
	return raises;
}

unsigned long sim_hv_irq_lowers(struct sim_hv *hv, unsigned int spi)
{
	unsigned long lowers;

	pthread_mutex_lock(&hv->lock);
	/* Every message sent before this call counts (the irq socket is one-way). */
	hv_drain_irq_messages(hv);
	lowers = spi < SIM_MAX_SPI ? hv->guest->irq_lowers[spi] : 0;
	pthread_mutex_unlock(&hv->lock);
	return lowers;
}

int sim_hv_wait_irq(struct sim_hv *hv, unsigned int spi, unsigned long seen, int timeout_ms)
{
	struct timespec deadline;
	int ret = 0;

	if (spi >= SIM_MAX_SPI)
		return -EINVAL;
	hv_deadline(&deadline, timeout_ms);
	pthread_mutex_lock(&hv->lock);
	while (hv->guest->irq_raises[spi] <= seen && ret == 0)
		ret = pthread_cond_timedwait(&hv->changed, &hv->lock, &deadline);
	pthread_mutex_unlock(&hv->lock);
	return ret ? -ETIMEDOUT : 0;
}

static void count_servers(const struct sim_domain *d, struct sim_hv_state *state)
{
	for (int s = 0; s < SIM_MAX_SERVERS; s++) {
		if (!d->servers[s].used)
			continue;
		state->servers++;
		state->servers_enabled += d->servers[s].enabled;
		state->ranges += d->servers[s].nr_ranges;
	}
}

void sim_hv_get_state(struct sim_hv *hv, struct sim_hv_state *state)
{
	pthread_mutex_lock(&hv->lock);
	*state = hv->stats;
	state->servers = state->servers_enabled = state->ranges = 0;
	state->ports_bound = state->evtchn_handles = 0;
	for (int i = 0; i < SIM_MAX_DOMAINS; i++)
		if (hv->domains[i].used)
			count_servers(&hv->domains[i], state);
	for (int i = 0; i < SIM_MAX_PORTS; i++)
		state->ports_bound += hv->ports[i].used;
	for (int h = 0; h < SIM_MAX_HANDLES; h++)
		state->evtchn_handles += hv->handles[h].used;
	pthread_mutex_unlock(&hv->lock);
}

int sim_hv_get_domain_state(struct sim_hv *hv, uint32_t domid, struct sim_hv_domain_state *state)
{
	struct sim_hv_state counts = { 0 };
	struct sim_domain *d;

	memset(state, 0, sizeof(*state));
	pthread_mutex_lock(&hv->lock);
	d = hv_find_domain(hv, domid);
	if (d) {
		count_servers(d, &counts);
		state->servers = counts.servers;
		state->servers_enabled = counts.servers_enabled;
		for (int s = 0; s < SIM_MAX_SERVERS; s++)
			if (d->servers[s].used && d->servers[s].enabled && !state->serving_pid)
				state->serving_pid = d->servers[s].creator;
	}
	pthread_mutex_unlock(&hv->lock);
	return d ? 0 : -ESRCH;
}
