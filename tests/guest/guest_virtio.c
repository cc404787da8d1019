// SPDX-License-Identifier: MIT
/*
 * tests/guest/guest_virtio.c: a guest's modern virtio-pci driver, for tests,
 * written from the virtio 1.2 specification: the capability walk and the
 * common configuration of 4.1.4, the initialization sequence of 3.1.1, split
 * virtqueues (2.7) with indirect descriptors and EVENT_IDX. Every register
 * access is issued by the simulated vCPU; rings and buffers live in the
 * simulated guest RAM the daemon maps.
 */
#include "tests/guest/guest_virtio.h"

#include <endian.h>
#include <errno.h>
#include <string.h>
#include <time.h>

#include "tests/sim/hypervisor.h"

/* PCI Local Bus 3.0, 6.1 and 6.7: type 0 header and capability list. */
#define REG_COMMAND		0x04
#define REG_STATUS		0x06
#define REG_BAR0		0x10
#define REG_CAPABILITIES	0x34
#define REG_INTERRUPT_PIN	0x3d
#define COMMAND_MEMORY		0x0002
#define COMMAND_BUS_MASTER	0x0004
#define STATUS_CAPABILITIES	0x0010
#define PCI_CAP_ID_VNDR		0x09
#define CAP_LIST_MAX		48	/* (256 - 64) / 4: more entries means a loop */

/* 4.1.4: struct virtio_pci_cap and its cfg_type values. */
#define VIRTIO_PCI_CAP_COMMON_CFG	1
#define VIRTIO_PCI_CAP_NOTIFY_CFG	2
#define VIRTIO_PCI_CAP_ISR_CFG		3
#define VIRTIO_PCI_CAP_DEVICE_CFG	4
#define VIRTIO_PCI_CAP_PCI_CFG		5
#define CAP_VNDR		0
#define CAP_NEXT		1
#define CAP_LEN			2
#define CAP_CFG_TYPE		3
#define CAP_BAR			4
#define CAP_OFFSET		8
#define CAP_LENGTH		12
#define CAP_SIZE		16
#define NOTIFY_CAP_MULTIPLIER	16	/* struct virtio_pci_notify_cap */
#define NOTIFY_CAP_SIZE		20
#define PCI_CFG_CAP_DATA	16	/* struct virtio_pci_cfg_cap: pci_cfg_data[4] */
#define PCI_CFG_CAP_SIZE	20

/* 4.1.4.3: struct virtio_pci_common_cfg. */
#define COMMON_DEVICE_FEATURE_SELECT	0x00
#define COMMON_DEVICE_FEATURE		0x04
#define COMMON_DRIVER_FEATURE_SELECT	0x08
#define COMMON_DRIVER_FEATURE		0x0c
#define COMMON_NUM_QUEUES		0x12
#define COMMON_DEVICE_STATUS		0x14
#define COMMON_CONFIG_GENERATION	0x15
#define COMMON_QUEUE_SELECT		0x16
#define COMMON_QUEUE_SIZE		0x18
#define COMMON_QUEUE_ENABLE		0x1c
#define COMMON_QUEUE_NOTIFY_OFF		0x1e
#define COMMON_QUEUE_DESC		0x20
#define COMMON_QUEUE_DRIVER		0x28
#define COMMON_QUEUE_DEVICE		0x30
#define COMMON_CFG_SIZE			0x38

/* 2.7.5, 2.7.6, 2.7.8: split virtqueue layout. */
#define VIRTQ_DESC_F_NEXT	1
#define VIRTQ_DESC_F_WRITE	2
#define VIRTQ_DESC_F_INDIRECT	4
#define VRING_USED_F_NO_NOTIFY	1
#define VRING_AVAIL_F_NO_INTERRUPT 1

struct virtq_desc {
	uint64_t addr;
	uint32_t len;
	uint16_t flags;
	uint16_t next;
};

struct virtq_used_elem {
	uint32_t id;
	uint32_t len;
};

#define RESET_TIMEOUT_MS	10000
#define TOKEN_SLOTS		(sizeof(((struct guest_virtq *)0)->tokens) / sizeof(void *))

/* ---- guest RAM */

void guest_ram_init(struct guest_ram *ram, struct sim_hv *hv, uint64_t base, uint64_t size)
{
	ram->hv = hv;
	ram->next = base;
	ram->end = base + size;
}

uint64_t guest_ram_alloc(struct guest_ram *ram, uint64_t size, uint64_t align)
{
	uint64_t gpa;
	void *host;

	if (align == 0)
		align = 1;
	gpa = (ram->next + align - 1) & ~(align - 1);
	if (size == 0 || gpa < ram->next || gpa + size > ram->end || gpa + size < gpa)
		return 0;
	host = sim_hv_guest_ram(ram->hv, gpa, size);
	if (!host)
		return 0;
	memset(host, 0, size);
	ram->next = gpa + size;
	return gpa;
}

void *guest_ram_ptr(struct guest_ram *ram, uint64_t gpa, uint64_t len)
{
	return sim_hv_guest_ram(ram->hv, gpa, len);
}

/* ---- register access through the vCPU */

static uint32_t config_read(struct guest_virtio *vd, unsigned int reg, unsigned int size)
{
	return guest_pci_read(vd->pci, vd->fn.bus, vd->fn.devfn, reg, size);
}

static void config_write(struct guest_virtio *vd, unsigned int reg, unsigned int size,
			 uint32_t value)
{
	guest_pci_write(vd->pci, vd->fn.bus, vd->fn.devfn, reg, size, value);
}

static uint64_t mmio_read(struct guest_virtio *vd, uint64_t gpa, unsigned int size)
{
	uint64_t value;

	if (sim_vcpu_mmio_read(vd->pci->hv, vd->pci->vcpu, gpa, size, &value) < 0) {
		vd->pci->errors++;
		return size >= 8 ? ~0ULL : (1ULL << (8 * size)) - 1;
	}
	return value;
}

static void mmio_write(struct guest_virtio *vd, uint64_t gpa, unsigned int size, uint64_t value)
{
	if (sim_vcpu_mmio_write(vd->pci->hv, vd->pci->vcpu, gpa, size, value) < 0)
		vd->pci->errors++;
}

static uint32_t common_read(struct guest_virtio *vd, unsigned int off, unsigned int size)
{
	return (uint32_t)mmio_read(vd, vd->common_gpa + off, size);
}

static void common_write(struct guest_virtio *vd, unsigned int off, unsigned int size,
			 uint32_t value)
{
	mmio_write(vd, vd->common_gpa + off, size, value);
}

/* 4.1.3.1: 64-bit fields as two 32-bit accesses, low half first (as Linux's vp_iowrite64_twopart). */
static void common_write64(struct guest_virtio *vd, unsigned int off, uint64_t value)
{
	common_write(vd, off, 4, (uint32_t)value);
	common_write(vd, off + 4, 4, (uint32_t)(value >> 32));
}

/* ---- capabilities (4.1.4) */

struct virtio_caps {
	uint8_t at[VIRTIO_PCI_CAP_PCI_CFG + 1];	/* config offset of the first cap of each type */
};

/*
 * Walk the capability list and note the first vendor capability of each
 * virtio type whose bar is 0..5 (4.1.4.1: the driver ignores a cap with a
 * reserved bar value and uses the first one it can). -ENODEV if the list is
 * malformed.
 */
static int find_virtio_caps(struct guest_virtio *vd, struct virtio_caps *caps)
{
	unsigned int pos, visited = 0;

	memset(caps, 0, sizeof(*caps));
	if (!(config_read(vd, REG_STATUS, 2) & STATUS_CAPABILITIES))
		return -ENODEV;
	/* PCI 3.0, 6.7: the bottom two bits of a capability pointer are reserved. */
	for (pos = config_read(vd, REG_CAPABILITIES, 1) & ~3u; pos;
	     pos = config_read(vd, pos + CAP_NEXT, 1) & ~3u) {
		unsigned int type;

		if (pos < 0x40 || pos > 0xfc || ++visited > CAP_LIST_MAX)
			return -ENODEV;
		if (config_read(vd, pos + CAP_VNDR, 1) != PCI_CAP_ID_VNDR)
			continue;
		type = config_read(vd, pos + CAP_CFG_TYPE, 1);
		if (type < VIRTIO_PCI_CAP_COMMON_CFG || type > VIRTIO_PCI_CAP_PCI_CFG || caps->at[type])
			continue;
		if (config_read(vd, pos + CAP_BAR, 1) > 5)
			continue;
		caps->at[type] = (uint8_t)pos;
	}
	return 0;
}

/* Where the structure of @cap lies in its BAR; -ENODEV unless it fits in @vd->bar's size. */
static int cap_region(struct guest_virtio *vd, unsigned int cap, unsigned int min_cap_len,
		      uint32_t min_length, uint32_t *offset, uint32_t *length)
{
	const struct guest_pci_bar *bar;

	if (config_read(vd, cap + CAP_LEN, 1) < min_cap_len)
		return -ENODEV;
	if (config_read(vd, cap + CAP_BAR, 1) != vd->bar)
		return -ENODEV;	/* this driver places one BAR: all structures must share it */
	bar = &vd->fn.bars[vd->bar];
	*offset = config_read(vd, cap + CAP_OFFSET, 4);
	*length = config_read(vd, cap + CAP_LENGTH, 4);
	if (*length < min_length || (uint64_t)*offset + *length > bar->size)
		return -ENODEV;
	return 0;
}

/* PCI 3.0, 6.2.5.1: program the BAR's base address, both halves of a 64-bit one. */
static int place_bar(struct guest_virtio *vd, uint64_t bar_gpa)
{
	const struct guest_pci_bar *bar = &vd->fn.bars[vd->bar];
	unsigned int reg = REG_BAR0 + 4 * vd->bar;
	uint16_t command;

	if (bar->size == 0 || bar->is_io)
		return -ENODEV;
	if (bar_gpa & (bar->size - 1))
		return -EINVAL;
	if (!bar->is_64bit && bar_gpa + bar->size > 0x100000000ULL)
		return -EINVAL;
	config_write(vd, reg, 4, (uint32_t)bar_gpa);
	if (bar->is_64bit)
		config_write(vd, reg + 4, 4, (uint32_t)(bar_gpa >> 32));
	command = (uint16_t)config_read(vd, REG_COMMAND, 2);
	config_write(vd, REG_COMMAND, 2, command | COMMAND_MEMORY | COMMAND_BUS_MASTER);
	vd->bar_gpa = bar_gpa;
	return 0;
}

int guest_virtio_probe(struct guest_virtio *vd, struct guest_pci *pci,
		       const struct guest_pci_function *fn, struct guest_ram *ram,
		       uint64_t bar_gpa, unsigned int intx_spi_base)
{
	uint32_t common_off, common_len, notify_off, notify_len, isr_off, isr_len;
	uint32_t device_off = 0, device_len = 0;
	struct virtio_caps caps;
	unsigned int pin, device;
	int ret;

	memset(vd, 0, sizeof(*vd));
	vd->pci = pci;
	vd->fn = *fn;
	vd->ram = ram;

	ret = find_virtio_caps(vd, &caps);
	if (ret)
		return ret;
	/* 4.1.4.3, 4.1.4.4, 4.1.4.5: a device presents at least one of each of these. */
	if (!caps.at[VIRTIO_PCI_CAP_COMMON_CFG] || !caps.at[VIRTIO_PCI_CAP_NOTIFY_CFG] ||
	    !caps.at[VIRTIO_PCI_CAP_ISR_CFG])
		return -ENODEV;
	vd->bar = config_read(vd, caps.at[VIRTIO_PCI_CAP_COMMON_CFG] + CAP_BAR, 1);
	guest_pci_size_bars(pci, &vd->fn);

	if (cap_region(vd, caps.at[VIRTIO_PCI_CAP_COMMON_CFG], CAP_SIZE, COMMON_CFG_SIZE,
		       &common_off, &common_len) ||
	    cap_region(vd, caps.at[VIRTIO_PCI_CAP_NOTIFY_CFG], NOTIFY_CAP_SIZE, 2,
		       &notify_off, &notify_len) ||
	    cap_region(vd, caps.at[VIRTIO_PCI_CAP_ISR_CFG], CAP_SIZE, 1, &isr_off, &isr_len))
		return -ENODEV;
	/* 4.1.4.6: only device types with a device-specific configuration have one. */
	if (caps.at[VIRTIO_PCI_CAP_DEVICE_CFG] &&
	    cap_region(vd, caps.at[VIRTIO_PCI_CAP_DEVICE_CFG], CAP_SIZE, 0, &device_off, &device_len))
		return -ENODEV;
	/* 4.1.4.9: the window's cap.bar/offset/length are the driver's to write; only its size matters. */
	if (caps.at[VIRTIO_PCI_CAP_PCI_CFG]) {
		if (config_read(vd, caps.at[VIRTIO_PCI_CAP_PCI_CFG] + CAP_LEN, 1) < PCI_CFG_CAP_SIZE)
			return -ENODEV;
		vd->pci_cfg_cap = caps.at[VIRTIO_PCI_CAP_PCI_CFG];
	}

	ret = place_bar(vd, bar_gpa);
	if (ret)
		return ret;
	vd->common_gpa = bar_gpa + common_off;
	vd->notify_gpa = bar_gpa + notify_off;
	vd->isr_gpa = bar_gpa + isr_off;
	vd->device_gpa = caps.at[VIRTIO_PCI_CAP_DEVICE_CFG] ? bar_gpa + device_off : 0;
	vd->device_cfg_len = device_len;
	vd->notify_off_multiplier =
		config_read(vd, caps.at[VIRTIO_PCI_CAP_NOTIFY_CFG] + NOTIFY_CAP_MULTIPLIER, 4);
	vd->num_queues = (uint16_t)common_read(vd, COMMON_NUM_QUEUES, 2);

	/* The standard swizzle of a device's INTx pin onto the host bridge's INTA..INTD. */
	pin = config_read(vd, REG_INTERRUPT_PIN, 1);
	device = vd->fn.devfn >> 3;
	vd->fn.interrupt_pin = (uint8_t)pin;
	vd->spi = pin >= 1 && pin <= 4 ? intx_spi_base + (device + pin - 1) % 4 : 0;
	return 0;
}

/* ---- status and features (2.1, 2.2, 3.1.1) */

uint8_t guest_virtio_get_status(struct guest_virtio *vd)
{
	return (uint8_t)common_read(vd, COMMON_DEVICE_STATUS, 1);
}

void guest_virtio_set_status(struct guest_virtio *vd, uint8_t status)
{
	common_write(vd, COMMON_DEVICE_STATUS, 1, status);
}

static uint64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

int guest_virtio_reset(struct guest_virtio *vd)
{
	uint64_t deadline = now_ms() + RESET_TIMEOUT_MS;

	for (unsigned int i = 0; i < GUEST_VIRTQ_MAX_QUEUES; i++)
		vd->queues[i].ready = false;
	guest_virtio_set_status(vd, 0);
	/* 4.1.4.3.2: the driver waits for device_status to read 0 before reinitializing. */
	while (guest_virtio_get_status(vd) != 0) {
		if (now_ms() > deadline)
			return -ETIMEDOUT;
		nanosleep(&(struct timespec){ .tv_nsec = 1000000 }, NULL);
	}
	return 0;
}

static int negotiate(struct guest_virtio *vd, uint64_t features, bool exact)
{
	uint8_t status = VIRTIO_STATUS_ACKNOWLEDGE;
	int ret = guest_virtio_reset(vd);

	if (ret)
		return ret;
	guest_virtio_set_status(vd, status);
	status |= VIRTIO_STATUS_DRIVER;
	guest_virtio_set_status(vd, status);

	/* 4.1.4.3: feature bits 32 at a time, selected by device_feature_select. */
	common_write(vd, COMMON_DEVICE_FEATURE_SELECT, 4, 0);
	vd->device_features = common_read(vd, COMMON_DEVICE_FEATURE, 4);
	common_write(vd, COMMON_DEVICE_FEATURE_SELECT, 4, 1);
	vd->device_features |= (uint64_t)common_read(vd, COMMON_DEVICE_FEATURE, 4) << 32;

	/* 6.1: a driver accepts VIRTIO_F_VERSION_1 when offered, and only offered features. */
	if (!exact)
		features = (features | 1ULL << VIRTIO_F_VERSION_1) & vd->device_features;
	common_write(vd, COMMON_DRIVER_FEATURE_SELECT, 4, 0);
	common_write(vd, COMMON_DRIVER_FEATURE, 4, (uint32_t)features);
	common_write(vd, COMMON_DRIVER_FEATURE_SELECT, 4, 1);
	common_write(vd, COMMON_DRIVER_FEATURE, 4, (uint32_t)(features >> 32));
	vd->driver_features = features;
	vd->use_indirect = features & 1ULL << VIRTIO_F_INDIRECT_DESC;
	vd->event_idx = features & 1ULL << VIRTIO_F_EVENT_IDX;

	/*
	 * 3.1.1 steps 5-6: FEATURES_OK, then read it back; a device that does
	 * not accept the subset leaves it clear. Setting FAILED is the caller's
	 * decision (a test may want to look at the status first).
	 */
	status |= VIRTIO_STATUS_FEATURES_OK;
	guest_virtio_set_status(vd, status);
	if (!(guest_virtio_get_status(vd) & VIRTIO_STATUS_FEATURES_OK))
		return -EPROTO;
	return 0;
}

int guest_virtio_negotiate(struct guest_virtio *vd, uint64_t wanted)
{
	return negotiate(vd, wanted, false);
}

int guest_virtio_negotiate_exact(struct guest_virtio *vd, uint64_t features)
{
	return negotiate(vd, features, true);
}

void guest_virtio_driver_ok(struct guest_virtio *vd)
{
	guest_virtio_set_status(vd, guest_virtio_get_status(vd) | VIRTIO_STATUS_DRIVER_OK);
}

/* ---- split virtqueues (2.7) */

static struct virtq_desc *desc_table(struct guest_virtio *vd, struct guest_virtq *q)
{
	return guest_ram_ptr(vd->ram, q->desc_gpa, (uint64_t)q->size * sizeof(struct virtq_desc));
}

/* struct virtq_avail: le16 flags, le16 idx, le16 ring[size], le16 used_event. */
static uint16_t *avail_field(struct guest_virtio *vd, struct guest_virtq *q, unsigned int slot)
{
	return guest_ram_ptr(vd->ram, q->avail_gpa + 2 * (uint64_t)slot, 2);
}

#define AVAIL_FLAGS		0
#define AVAIL_IDX		1
#define AVAIL_RING(i)		(2 + (i))
#define AVAIL_USED_EVENT(q)	(2 + (q)->size)

/* struct virtq_used: le16 flags, le16 idx, struct virtq_used_elem ring[size], le16 avail_event. */
static uint16_t *used_flags(struct guest_virtio *vd, struct guest_virtq *q)
{
	return guest_ram_ptr(vd->ram, q->used_gpa, 2);
}

static uint16_t *used_idx(struct guest_virtio *vd, struct guest_virtq *q)
{
	return guest_ram_ptr(vd->ram, q->used_gpa + 2, 2);
}

static struct virtq_used_elem *used_elem(struct guest_virtio *vd, struct guest_virtq *q,
					 uint16_t i)
{
	return guest_ram_ptr(vd->ram, q->used_gpa + 4 + 8 * (uint64_t)(i % q->size), 8);
}

static uint16_t *avail_event(struct guest_virtio *vd, struct guest_virtq *q)
{
	return guest_ram_ptr(vd->ram, q->used_gpa + 4 + 8 * (uint64_t)q->size, 2);
}

static uint16_t load16(const uint16_t *field)
{
	return le16toh(__atomic_load_n(field, __ATOMIC_RELAXED));
}

static void store16(uint16_t *field, uint16_t value)
{
	__atomic_store_n(field, htole16(value), __ATOMIC_RELAXED);
}

/* The notify cap's length, to check a queue's notify address lies inside it (4.1.4.4). */
static int notify_cap_length(struct guest_virtio *vd, uint32_t *length)
{
	struct virtio_caps caps;
	uint32_t offset;
	int ret = find_virtio_caps(vd, &caps);

	if (ret)
		return ret;
	if (!caps.at[VIRTIO_PCI_CAP_NOTIFY_CFG])
		return -ENODEV;
	return cap_region(vd, caps.at[VIRTIO_PCI_CAP_NOTIFY_CFG], NOTIFY_CAP_SIZE, 2, &offset,
			  length);
}

/*
 * 4.1.5.1.3: select the queue, read its maximum size, allocate the three
 * parts, program their addresses and enable it. A @size of 0 takes the
 * device's maximum, capped at what q->tokens can track.
 */
int guest_virtio_setup_queue(struct guest_virtio *vd, uint16_t index, uint16_t size)
{
	struct guest_virtq *q;
	struct virtq_desc *desc;
	uint16_t max, notify_off;
	uint32_t notify_len;
	uint64_t notify_at;

	if (index >= GUEST_VIRTQ_MAX_QUEUES || index >= vd->num_queues)
		return -ENOENT;
	q = &vd->queues[index];
	common_write(vd, COMMON_QUEUE_SELECT, 2, index);
	max = (uint16_t)common_read(vd, COMMON_QUEUE_SIZE, 2);
	if (max == 0)
		return -ENOENT;	/* 4.1.4.3: a queue size of 0 means the queue is unavailable */
	if (size == 0)
		size = max < TOKEN_SLOTS ? max : TOKEN_SLOTS;
	/* 2.7: a split queue's size is a power of 2, at most 32768 and the device's maximum. */
	if (size > max || size > TOKEN_SLOTS || (size & (size - 1)))
		return -EINVAL;

	memset(q, 0, sizeof(*q));
	q->index = index;
	q->size = size;
	/* 2.7: alignment 16, 2 and 4; a page each keeps them apart and simple. */
	q->desc_gpa = guest_ram_alloc(vd->ram, 16ULL * size, 4096);
	q->avail_gpa = guest_ram_alloc(vd->ram, 6 + 2ULL * size, 4096);
	q->used_gpa = guest_ram_alloc(vd->ram, 6 + 8ULL * size, 4096);
	if (!q->desc_gpa || !q->avail_gpa || !q->used_gpa)
		return -ENOMEM;
	desc = desc_table(vd, q);
	for (uint16_t i = 0; i + 1 < size; i++)
		desc[i].next = htole16(i + 1);
	q->free_head = 0;
	q->num_free = size;

	common_write(vd, COMMON_QUEUE_SIZE, 2, size);
	common_write64(vd, COMMON_QUEUE_DESC, q->desc_gpa);
	common_write64(vd, COMMON_QUEUE_DRIVER, q->avail_gpa);
	common_write64(vd, COMMON_QUEUE_DEVICE, q->used_gpa);

	/* 4.1.4.4: cap.offset + queue_notify_off * notify_off_multiplier, inside cap.length. */
	notify_off = (uint16_t)common_read(vd, COMMON_QUEUE_NOTIFY_OFF, 2);
	notify_at = (uint64_t)notify_off * vd->notify_off_multiplier;
	if (notify_cap_length(vd, &notify_len) || notify_at + 2 > notify_len)
		return -EINVAL;
	q->notify_gpa = vd->notify_gpa + notify_at;

	common_write(vd, COMMON_QUEUE_ENABLE, 2, 1);
	q->ready = true;
	return 0;
}

static void write_desc(struct virtq_desc *d, uint64_t addr, uint32_t len, uint16_t flags,
		       uint16_t next)
{
	d->addr = htole64(addr);
	d->len = htole32(len);
	d->flags = htole16(flags);
	d->next = htole16(next);
}

int guest_virtio_add(struct guest_virtio *vd, uint16_t index, const struct guest_buf *bufs,
		     unsigned int n, void *token)
{
	bool indirect = vd->use_indirect && n > 1;
	struct virtq_desc *desc;
	struct guest_virtq *q;
	uint16_t head, i;

	if (index >= GUEST_VIRTQ_MAX_QUEUES || !vd->queues[index].ready)
		return -EINVAL;
	q = &vd->queues[index];
	if (n == 0 || n > q->size)
		return -EINVAL;
	/* 2.7.4.2: device-writable buffers come after every device-readable one. */
	for (unsigned int k = 1; k < n; k++)
		if (bufs[k - 1].device_writable && !bufs[k].device_writable)
			return -EINVAL;
	if (q->num_free < (indirect ? 1 : n))
		return -ENOSPC;

	desc = desc_table(vd, q);
	head = q->free_head;
	if (indirect) {
		/* 2.7.5.3: one descriptor in the ring points at a table holding the chain. */
		uint64_t table_gpa = guest_ram_alloc(vd->ram, 16ULL * n, 16);
		struct virtq_desc *table;

		if (!table_gpa)
			return -ENOSPC;
		table = guest_ram_ptr(vd->ram, table_gpa, 16ULL * n);
		for (unsigned int k = 0; k < n; k++)
			write_desc(&table[k], bufs[k].gpa, bufs[k].len,
				   (bufs[k].device_writable ? VIRTQ_DESC_F_WRITE : 0) |
				   (k + 1 < n ? VIRTQ_DESC_F_NEXT : 0), (uint16_t)(k + 1 < n ? k + 1 : 0));
		write_desc(&desc[head], table_gpa, 16 * n, VIRTQ_DESC_F_INDIRECT,
			   le16toh(desc[head].next));
		q->free_head = le16toh(desc[head].next);
		q->num_free--;
	} else {
		/* The free list is threaded through the next fields, as in Linux's virtio_ring. */
		i = head;
		for (unsigned int k = 0; k < n; k++) {
			uint16_t next = le16toh(desc[i].next);

			write_desc(&desc[i], bufs[k].gpa, bufs[k].len,
				   (bufs[k].device_writable ? VIRTQ_DESC_F_WRITE : 0) |
				   (k + 1 < n ? VIRTQ_DESC_F_NEXT : 0), next);
			i = next;
		}
		q->free_head = i;
		q->num_free -= n;
	}
	q->tokens[head] = token;

	/* 2.7.13: the ring entry, a write barrier, then idx (2.7.13.3.1). */
	store16(avail_field(vd, q, AVAIL_RING(q->avail_idx % q->size)), head);
	__atomic_thread_fence(__ATOMIC_RELEASE);
	q->avail_idx++;
	store16(avail_field(vd, q, AVAIL_IDX), q->avail_idx);
	return 0;
}

/* 2.7.10: has the device's event index been crossed between @old and @new_idx? */
static bool vring_need_event(uint16_t event_idx, uint16_t new_idx, uint16_t old)
{
	return (uint16_t)(new_idx - event_idx - 1) < (uint16_t)(new_idx - old);
}

void guest_virtio_notify(struct guest_virtio *vd, uint16_t index)
{
	/* 4.1.5.2: without VIRTIO_F_NOTIFICATION_DATA, the 16-bit queue index. */
	mmio_write(vd, vd->queues[index].notify_gpa, 2, index);
	vd->queues[index].kicks++;
}

bool guest_virtio_kick(struct guest_virtio *vd, uint16_t index)
{
	struct guest_virtq *q = &vd->queues[index];
	uint16_t old = q->kicked_avail_idx, new_idx = q->avail_idx;
	bool needed;

	/* 2.7.13.4: idx must be visible before the suppression field is read. */
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	q->kicked_avail_idx = new_idx;
	if (vd->event_idx)
		needed = vring_need_event(load16(avail_event(vd, q)), new_idx, old);
	else
		needed = !(load16(used_flags(vd, q)) & VRING_USED_F_NO_NOTIFY);
	if (!needed) {
		q->kicks_suppressed++;
		return false;
	}
	guest_virtio_notify(vd, index);
	return true;
}

int guest_virtio_get_used(struct guest_virtio *vd, uint16_t index, uint32_t *len, void **token)
{
	struct virtq_used_elem *elem;
	struct virtq_desc *desc;
	struct guest_virtq *q;
	uint32_t id, count = 1;
	uint16_t i;

	if (index >= GUEST_VIRTQ_MAX_QUEUES || !vd->queues[index].ready)
		return 0;
	q = &vd->queues[index];
	if (load16(used_idx(vd, q)) == q->last_used_idx)
		return 0;
	/* 2.7.14: read idx, then (after a read barrier) the entries it covers. */
	__atomic_thread_fence(__ATOMIC_ACQUIRE);
	elem = used_elem(vd, q, q->last_used_idx);
	id = le32toh(elem->id);
	if (id >= q->size)
		return -EIO;	/* the device returned a head we never gave it */

	desc = desc_table(vd, q);
	for (i = (uint16_t)id; le16toh(desc[i].flags) & VIRTQ_DESC_F_NEXT; count++) {
		i = le16toh(desc[i].next);
		if (i >= q->size || count >= q->size)
			return -EIO;
	}
	if (q->num_free + count > q->size)
		return -EIO;	/* more descriptors back than are out: a head used twice */
	desc[i].next = htole16(q->free_head);
	q->free_head = (uint16_t)id;
	q->num_free += count;

	*len = le32toh(elem->len);
	if (token)
		*token = q->tokens[id];
	q->tokens[id] = NULL;
	q->last_used_idx++;
	/*
	 * 2.7.10: with EVENT_IDX, ask for an interrupt at the next entry, and
	 * make that visible before the next look at used->idx (Linux does the
	 * same in virtqueue_get_buf_ctx_split).
	 */
	if (vd->event_idx && !q->callbacks_disabled) {
		store16(avail_field(vd, q, AVAIL_USED_EVENT(q)), q->last_used_idx);
		__atomic_thread_fence(__ATOMIC_SEQ_CST);
	}
	return 1;
}

void guest_virtio_disable_callbacks(struct guest_virtio *vd, uint16_t index)
{
	struct guest_virtq *q = &vd->queues[index];

	q->callbacks_disabled = true;
	/* 2.7.7: the flag is a hint with EVENT_IDX, which Linux sets too; used_event stays behind. */
	store16(avail_field(vd, q, AVAIL_FLAGS), VRING_AVAIL_F_NO_INTERRUPT);
}

bool guest_virtio_enable_callbacks(struct guest_virtio *vd, uint16_t index)
{
	struct guest_virtq *q = &vd->queues[index];

	q->callbacks_disabled = false;
	store16(avail_field(vd, q, AVAIL_FLAGS), 0);
	if (vd->event_idx)
		store16(avail_field(vd, q, AVAIL_USED_EVENT(q)), q->last_used_idx);
	/* 2.7.10: the request must be visible before used->idx is looked at again. */
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	return load16(used_idx(vd, q)) == q->last_used_idx;
}

/* ---- interrupts and configuration */

uint8_t guest_virtio_read_isr(struct guest_virtio *vd)
{
	return (uint8_t)mmio_read(vd, vd->isr_gpa, 1);
}

int guest_virtio_wait_interrupt(struct guest_virtio *vd, unsigned long seen, int timeout_ms)
{
	return sim_hv_wait_irq(vd->pci->hv, vd->spi, seen, timeout_ms);
}

unsigned long guest_virtio_interrupts(struct guest_virtio *vd)
{
	return sim_hv_irq_raises(vd->pci->hv, vd->spi);
}

uint32_t guest_virtio_config_read(struct guest_virtio *vd, unsigned int offset, unsigned int size)
{
	if (!vd->device_gpa)
		return size >= 4 ? 0xffffffffu : (1u << (8 * size)) - 1;
	return (uint32_t)mmio_read(vd, vd->device_gpa + offset, size);
}

uint8_t guest_virtio_config_generation(struct guest_virtio *vd)
{
	return (uint8_t)common_read(vd, COMMON_CONFIG_GENERATION, 1);
}

/*
 * 4.1.4.9: program the window (cap.bar, cap.offset, cap.length) in config
 * space; an access to pci_cfg_data then reaches the BAR.
 */
static void pci_cfg_window(struct guest_virtio *vd, uint32_t bar_offset, unsigned int size)
{
	config_write(vd, vd->pci_cfg_cap + CAP_BAR, 1, vd->bar);
	config_write(vd, vd->pci_cfg_cap + CAP_OFFSET, 4, bar_offset);
	config_write(vd, vd->pci_cfg_cap + CAP_LENGTH, 4, size);
}

uint32_t guest_virtio_pci_cfg_read(struct guest_virtio *vd, uint32_t bar_offset, unsigned int size)
{
	if (!vd->pci_cfg_cap)
		return size >= 4 ? 0xffffffffu : (1u << (8 * size)) - 1;
	pci_cfg_window(vd, bar_offset, size);
	return config_read(vd, vd->pci_cfg_cap + PCI_CFG_CAP_DATA, size);
}

void guest_virtio_pci_cfg_write(struct guest_virtio *vd, uint32_t bar_offset, unsigned int size,
				uint32_t value)
{
	if (!vd->pci_cfg_cap)
		return;
	pci_cfg_window(vd, bar_offset, size);
	config_write(vd, vd->pci_cfg_cap + PCI_CFG_CAP_DATA, size, value);
}
