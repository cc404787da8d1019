// SPDX-License-Identifier: MIT
/*
 * tests/fuzz/fuzz_virtio_pci.c: the virtio-pci transport (virtio/pci.h)
 * against a driver that accesses its BAR and configuration space at any
 * offset with any size and value, in any order: status writes, feature
 * negotiation, queue programming, notifications, the PCI configuration
 * access window, while guest RAM changes under it.
 *
 * The device sits on an ECAM host bridge, so configuration accesses take
 * the daemon's path (ecam_host_read/write and the function's hooks); BAR
 * accesses go to the function's bar_read/bar_write as a routed ioreq does,
 * naturally or not aligned but always inside the BAR. The backend counts
 * its calls, pops and pushes what is notified, and checks the transport
 * only notifies ready queues; after every operation the device state must
 * obey virtio 1.2, 2.1 and 3.1.1 (see check_state).
 */
#include <errno.h>

#include "ecam/ecam.h"
#include "tests/fuzz/fuzz.h"
#include "tests/fuzz/guest_ram.h"
#include "virtio/virtio_pci_private.h"

#define MAX_OPS		2048
#define POPS_PER_NOTIFY	64
#define DEVFN		PCI_DEVFN(1, 0)
#define VERSION_1	(1ULL << VIRTIO_F_VERSION_1)

static const struct ecam_host_config host_config = {
	.ecam = { 0x10000000, ECAM_BUS_SIZE },
	.bar_windows = { { 0x20000000, 0x1000000 } },
	.nr_bar_windows = 1,
};

static struct {
	struct virtio_device *vdev;
	struct virtio_device_info info;
	struct ecam_host *host;
	uint64_t device_features;
	uint8_t config[VIRTIO_BAR_REGION_SIZE];
	bool busy;			/* requests in flight: not quiesced */
	unsigned int resets;
	bool asserted;			/* the INTx pin, as the platform was told */
	struct virtq_chain chain;
} s;

/* ---- the backend */

static uint64_t backend_features(struct virtio_device *vdev)
{
	(void)vdev;
	return s.device_features;
}

static void check_config_access(uint32_t off, uint32_t len)
{
	FUZZ_CHECK(len == 1 || len == 2 || len == 4 || len == 8);
	FUZZ_CHECK(off < s.info.config_size && len <= s.info.config_size - off);
}

static void backend_config_read(struct virtio_device *vdev, uint32_t off, void *buf, uint32_t len)
{
	FUZZ_CHECK(vdev == s.vdev);
	check_config_access(off, len);
	memcpy(buf, s.config + off, len);
}

static void backend_config_write(struct virtio_device *vdev, uint32_t off, const void *buf,
				 uint32_t len)
{
	FUZZ_CHECK(vdev == s.vdev);
	check_config_access(off, len);
	memcpy(s.config + off, buf, len);
}

static void check_chain(const struct virtq_chain *chain, uint16_t size)
{
	uint64_t out = 0, in = 0;

	FUZZ_CHECK(chain->head < size && chain->nr_out + chain->nr_in <= size);
	for (unsigned int i = 0; i < chain->nr_out; i++) {
		FUZZ_CHECK(guest_ram_contains(chain->out[i].iov_base, chain->out[i].iov_len, false));
		out += chain->out[i].iov_len;
	}
	for (unsigned int i = 0; i < chain->nr_in; i++) {
		FUZZ_CHECK(guest_ram_contains(chain->in[i].iov_base, chain->in[i].iov_len, true));
		in += chain->in[i].iov_len;
	}
	FUZZ_CHECK(out == chain->out_bytes && in == chain->in_bytes);
}

/* What a device does when kicked: serve every available chain, as rng.c does. */
static void backend_queue_notify(struct virtio_device *vdev, unsigned int index)
{
	static const uint8_t reply[64] = "fuzz";
	struct virtqueue *vq = virtio_queue(vdev, index);

	uint16_t command = pci_config_get16(&vdev->fn.config, PCI_COMMAND);

	/* 4.1.4.3.2, 2.1 (FAILED) and PCI 3.0 6.2.2: only an enabled queue of a live, bus-mastering device. */
	FUZZ_CHECK(vdev == s.vdev && vq && vq->started && vdev->queues[index].enabled);
	FUZZ_CHECK((vdev->status & VIRTIO_CONFIG_S_DRIVER_OK) &&
		   !(vdev->status & (VIRTIO_CONFIG_S_NEEDS_RESET | VIRTIO_CONFIG_S_FAILED)) &&
		   (command & PCI_COMMAND_MASTER));
	for (unsigned int n = 0; n < POPS_PER_NOTIFY; n++) {
		int ret = virtq_pop(vq, &s.chain, "fuzz");
		uint64_t written;

		if (ret < 0) {
			FUZZ_CHECK(ret == -EPROTO || ret == -EFAULT);
			virtio_device_needs_reset(vdev, ret == -EFAULT ? "rings left guest RAM" : NULL);
			return;
		}
		if (ret == 0)
			break;
		check_chain(&s.chain, vq->size);
		written = virtq_chain_write(&s.chain, 0, reply, sizeof(reply));
		FUZZ_CHECK(written == (s.chain.in_bytes < sizeof(reply) ? s.chain.in_bytes : sizeof(reply)));
		virtq_push(vq, s.chain.head, (uint32_t)written);
	}
	virtio_queue_interrupt(vdev, index);
}

static void backend_reset(struct virtio_device *vdev)
{
	FUZZ_CHECK(vdev == s.vdev);
	s.resets++;
}

static bool backend_quiesced(struct virtio_device *vdev)
{
	FUZZ_CHECK(vdev == s.vdev);
	return !s.busy;
}

/* ---- the platform under the host bridge */

static int platform_map_bar(void *opaque, struct pci_function *fn, unsigned int bar,
			    uint64_t base, uint64_t size)
{
	(void)opaque;
	FUZZ_CHECK(fn == &s.vdev->fn && bar == VIRTIO_BAR_INDEX && size == VIRTIO_BAR_SIZE);
	FUZZ_CHECK(base % size == 0);
	return 0;
}

static void platform_unmap_bar(void *opaque, struct pci_function *fn, unsigned int bar,
			       uint64_t base, uint64_t size)
{
	(void)opaque;
	(void)base;
	FUZZ_CHECK(fn == &s.vdev->fn && bar == VIRTIO_BAR_INDEX && size == VIRTIO_BAR_SIZE);
}

static void platform_intx_changed(void *opaque, struct pci_function *fn, bool asserted)
{
	(void)opaque;
	FUZZ_CHECK(fn == &s.vdev->fn && fn->intx_asserted == s.asserted);
	FUZZ_CHECK(asserted ? fn->intx_pending : s.asserted);
	s.asserted = asserted;
}

/* ---- invariants */

static void check_state(uint8_t old_status, uint64_t old_features, unsigned int old_resets)
{
	const struct virtio_device *vdev = s.vdev;
	uint8_t status = vdev->status;
	bool reset = s.resets != old_resets;
	uint16_t command = pci_config_get16(&vdev->fn.config, PCI_COMMAND);

	/* 3.1.1: FEATURES_OK only for a subset of what was offered, with VERSION_1. */
	if (status & VIRTIO_CONFIG_S_FEATURES_OK)
		FUZZ_CHECK(!(vdev->guest_features & ~vdev->host_features) &&
			   (vdev->guest_features & VERSION_1));
	/* DRIVER_OK without FEATURES_OK is a driver error the device answers with NEEDS_RESET. */
	if ((status & VIRTIO_CONFIG_S_DRIVER_OK) && !(status & VIRTIO_CONFIG_S_FEATURES_OK))
		FUZZ_CHECK(status & VIRTIO_CONFIG_S_NEEDS_RESET);
	/* 2.1.2: status bits are only cleared by a reset; features are fixed after FEATURES_OK. */
	if (!reset) {
		FUZZ_CHECK((status & old_status) == old_status);
		if (old_status & VIRTIO_CONFIG_S_FEATURES_OK)
			FUZZ_CHECK(vdev->guest_features == old_features);
	}
	/* 4.1.4.3.2: writing 0 resets everything the driver set (only that write resets). */
	if (reset) {
		FUZZ_CHECK(!status && !vdev->guest_features && !vdev->queue_select && !vdev->isr);
		for (unsigned int i = 0; i < s.info.num_queues; i++)
			FUZZ_CHECK(!vdev->queues[i].enabled && vdev->queues[i].vq.size == s.info.queue_size);
	}
	FUZZ_CHECK(vdev->host_features == (s.device_features | VERSION_1 |
					   1ULL << VIRTIO_F_INDIRECT_DESC | 1ULL << VIRTIO_F_EVENT_IDX));
	for (unsigned int i = 0; i < s.info.num_queues; i++) {
		const struct virtio_queue_slot *q = &vdev->queues[i];

		FUZZ_CHECK(q->enabled == q->vq.started);
		/* 3.1.1: queues are enabled only once the features are final. */
		if (q->enabled)
			FUZZ_CHECK(status & VIRTIO_CONFIG_S_FEATURES_OK);
		if (q->enabled)
			FUZZ_CHECK(q->vq.size && !(q->vq.size & (q->vq.size - 1)) &&
				   q->vq.size <= s.info.queue_size);
	}
	/* 4.1.4.5: the interrupt is pending exactly while ISR status is not 0. */
	FUZZ_CHECK(vdev->fn.intx_pending == (vdev->isr != 0));
	FUZZ_CHECK(s.asserted == (vdev->fn.intx_pending && !(command & PCI_COMMAND_INTX_DISABLE)));
}

/* ---- the operations */

static uint64_t pick_bar_offset(struct fuzz_input *in, unsigned int size)
{
	uint8_t how = fuzz_u8(in);
	uint64_t off;

	if (how & 0x80)
		off = fuzz_u16(in) % VIRTIO_BAR_SIZE;
	else
		off = (uint64_t)(how & 3) * VIRTIO_BAR_REGION_SIZE + fuzz_u8(in);
	return off > VIRTIO_BAR_SIZE - size ? VIRTIO_BAR_SIZE - size : off;
}

static uint64_t bar_read(uint64_t off, unsigned int size)
{
	return s.vdev->fn.ops->bar_read(&s.vdev->fn, VIRTIO_BAR_INDEX, off, size);
}

static void bar_write(uint64_t off, unsigned int size, uint64_t value)
{
	s.vdev->fn.ops->bar_write(&s.vdev->fn, VIRTIO_BAR_INDEX, off, size, value);
}

static void op_bar_read(struct fuzz_input *in)
{
	unsigned int size = fuzz_access_size(in);
	uint64_t off = pick_bar_offset(in, size);
	const struct virtio_device *vdev = s.vdev;
	uint8_t status = vdev->reset_status && s.busy ? vdev->reset_status : vdev->status;
	uint64_t got = bar_read(off, size);

	if (size == 2 && off == 0x12)
		FUZZ_CHECK(got == s.info.num_queues);
	if (size == 1 && off == 0x14)	/* 4.1.4.3.2: not 0 until the reset is complete */
		FUZZ_CHECK(got == status);
	if (size < 8)
		FUZZ_CHECK(got <= ecam_all_ones(size));
}

static uint16_t pick_config_reg(struct fuzz_input *in)
{
	uint8_t how = fuzz_u8(in);

	if (how & 0x80)		/* around VIRTIO_PCI_CAP_PCI_CFG */
		return (uint16_t)(s.vdev->pci_cfg_cap + fuzz_u8(in) % 24);
	if (how & 0x40)
		return fuzz_u8(in) % 0x40;	/* the header */
	return fuzz_u16(in) % PCI_CONFIG_SPACE_SIZE;
}

static uint64_t ecam_offset(uint16_t reg)
{
	return (uint64_t)DEVFN << 12 | reg;
}

/* What a driver does: size, rings anywhere in RAM (16-byte aligned), enable. */
static void op_setup_queue(struct fuzz_input *in)
{
	uint16_t index = fuzz_u8(in) % (s.info.num_queues + 1);
	uint16_t size = (uint16_t)(1u << (fuzz_u8(in) % 16));
	uint64_t desc = GUEST_RAM_BASE + (uint64_t)fuzz_u16(in) * 16 % GUEST_RAM_SIZE;
	uint64_t avail = GUEST_RAM_BASE + (uint64_t)fuzz_u16(in) * 16 % GUEST_RAM_SIZE;
	uint64_t used = GUEST_RAM_BASE + (uint64_t)fuzz_u16(in) * 16 % GUEST_RAM_SIZE;

	bar_write(0x16, 2, index);
	bar_write(0x18, 2, size);
	bar_write(0x20, 8, desc);
	bar_write(0x28, 8, avail);
	bar_write(0x30, 8, used);
	bar_write(0x1c, 2, 1);
}

/* What a driver does: ACKNOWLEDGE, DRIVER, features, FEATURES_OK, DRIVER_OK. */
static void op_negotiate(struct fuzz_input *in)
{
	uint64_t features = s.vdev->host_features & fuzz_u64(in);
	uint8_t steps = fuzz_u8(in);

	bar_write(0x14, 1, VIRTIO_CONFIG_S_ACKNOWLEDGE | VIRTIO_CONFIG_S_DRIVER);
	bar_write(0x08, 4, 0);
	bar_write(0x0c, 4, (uint32_t)features);
	bar_write(0x08, 4, 1);
	bar_write(0x0c, 4, (uint32_t)(features >> 32));
	bar_write(0x14, 1, VIRTIO_CONFIG_S_ACKNOWLEDGE | VIRTIO_CONFIG_S_DRIVER |
		  VIRTIO_CONFIG_S_FEATURES_OK);
	if (steps & 1)
		bar_write(0x14, 1, VIRTIO_CONFIG_S_ACKNOWLEDGE | VIRTIO_CONFIG_S_DRIVER |
			  VIRTIO_CONFIG_S_FEATURES_OK | VIRTIO_CONFIG_S_DRIVER_OK);
	if (steps & 2)	/* Memory Space and Bus Master */
		ecam_host_write(s.host, ecam_offset(PCI_COMMAND), 2, 0x0006);
}

static void op_poke(struct fuzz_input *in)
{
	uint64_t off = fuzz_u32(in) % GUEST_RAM_SIZE;
	size_t len = fuzz_u8(in);

	if (len > GUEST_RAM_SIZE - off)
		len = GUEST_RAM_SIZE - off;
	fuzz_bytes(in, guest_ram_at(GUEST_RAM_BASE + off), len);
}

static void run_op(struct fuzz_input *in)
{
	unsigned int size;
	uint16_t reg;

	switch (fuzz_u8(in) % 11) {
	case 0:
		size = fuzz_access_size(in);
		reg = (uint16_t)pick_bar_offset(in, size);
		bar_write(reg, size, fuzz_u64(in));
		break;
	case 1:
		op_bar_read(in);
		break;
	case 2:
		reg = pick_config_reg(in);
		size = fuzz_access_size(in);
		ecam_host_write(s.host, ecam_offset(reg), size, fuzz_u32(in));
		break;
	case 3:
		reg = pick_config_reg(in);
		ecam_host_read(s.host, ecam_offset(reg), fuzz_access_size(in));
		break;
	case 4:
		op_poke(in);
		break;
	case 5:
		guest_ram_move();
		break;
	case 6:
		s.busy = fuzz_u8(in) & 1;
		break;
	case 7:
		op_setup_queue(in);
		break;
	case 8:
		op_negotiate(in);
		break;
	case 9:
		bar_write(VIRTIO_BAR_NOTIFY + 4 * (fuzz_u8(in) % (s.info.num_queues + 1u)), 2, 0);
		break;
	default:
		if (fuzz_u8(in) & 1)
			virtio_config_changed(s.vdev);
		else
			virtio_device_needs_reset(s.vdev, "fuzz");
		break;
	}
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	log_set_level(LOG_LEVEL_ERROR);
	return 0;
}

/* The device from the first bytes: queues, their size, features, configuration size. */
static void create_device(struct fuzz_input *in)
{
	static const struct virtio_device_ops ops = {
		.features = backend_features,
		.config_read = backend_config_read,
		.config_write = backend_config_write,
		.queue_notify = backend_queue_notify,
		.reset = backend_reset,
		.quiesced = backend_quiesced,
	};
	static const struct ecam_platform_ops platform = {
		.map_bar = platform_map_bar,
		.unmap_bar = platform_unmap_bar,
		.intx_changed = platform_intx_changed,
	};

	s.info = (struct virtio_device_info){
		.name = "fuzz0",
		.device_type = 4,
		.class_code = 0xff0000,
		.num_queues = (uint16_t)(1 + fuzz_u8(in) % 8),
		.queue_size = (uint16_t)(1u << (fuzz_u8(in) % 16)),
		.config_size = fuzz_u16(in) % (VIRTIO_BAR_REGION_SIZE + 1),
	};
	/* Device-specific bits (0-23) and a few beyond the transport's. */
	s.device_features = (fuzz_u32(in) & 0xffffff) | (uint64_t)(fuzz_u8(in) & 0x0c) << 32;
	for (unsigned int i = 0; i < sizeof(s.config); i++)
		s.config[i] = (uint8_t)i;
	FUZZ_CHECK(virtio_pci_create(&s.vdev, &s.info, &ops, NULL, &guest_ram) == 0);
	FUZZ_CHECK(ecam_host_create(&s.host, &host_config, &platform, NULL) == 0);
	FUZZ_CHECK(ecam_host_add_function(s.host, &s.vdev->fn, 0, DEVFN) == 0);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fuzz_input in = { .data = data, .size = size };
	unsigned int resets;

	memset(&s, 0, sizeof(s));
	guest_ram_reset();
	create_device(&in);
	for (unsigned int n = 0; n < MAX_OPS && !fuzz_done(&in); n++) {
		uint8_t status = s.vdev->status;
		uint64_t features = s.vdev->guest_features;

		resets = s.resets;
		run_op(&in);
		check_state(status, features, resets);
	}
	ecam_host_remove_function(s.host, &s.vdev->fn);
	FUZZ_CHECK(!s.asserted);
	ecam_host_destroy(s.host);
	resets = s.resets;
	virtio_pci_destroy(s.vdev);
	FUZZ_CHECK(s.resets == resets + 1);
	return 0;
}
