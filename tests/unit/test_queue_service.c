// SPDX-License-Identifier: MIT
/*
 * tests/unit/test_queue_service.c: serving a queue in passes
 * (virtio/queue_service.c) on a real virtio-pci device over plain memory,
 * with a fake event loop that only counts what it is asked to schedule.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <endian.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "virtio/queue_service.h"
#include "virtio/virtio_pci_private.h"

#define RAM_BASE	0x40000000ull
#define RAM_SIZE	0x100000ull
#define DESC_GPA	(RAM_BASE + 0x00000)
#define AVAIL_GPA	(RAM_BASE + 0x10000)
#define USED_GPA	(RAM_BASE + 0x20000)
#define BUF_GPA		(RAM_BASE + 0x40000)
#define QUEUE_SIZE	256
#define FULL_RING	200	/* three passes and a bit */

static uint8_t *ram;
static bool memory_full;	/* translations of buffers say "not now" */

static int translate(void *opaque, uint64_t gpa, uint64_t len, bool writable,
		     struct virtio_mem_refs *refs, void **ptr)
{
	(void)opaque;
	(void)writable;
	(void)refs;
	if (gpa < RAM_BASE || len > RAM_SIZE || gpa - RAM_BASE > RAM_SIZE - len)
		return -EFAULT;
	if (memory_full && gpa >= BUF_GPA)
		return -EAGAIN;
	*ptr = ram + (gpa - RAM_BASE);
	return 0;
}

static uint64_t generation(void *opaque)
{
	(void)opaque;
	return 1;
}

static const struct virtio_mem_ops mem_ops = { .translate = translate, .generation = generation };
static const struct virtio_mem mem = { .ops = &mem_ops };

/* ---- a device that serves every chain at once, and a loop that counts */

struct device {
	struct virtio_device *vdev;
	struct queue_service qs;
	struct virtq_chain chain;
	unsigned int served;
	unsigned int room;		/* chains it may still take; UINT32_MAX: no limit */
	unsigned int passes_done;
};

static unsigned int scheduled, cancelled;

static uint64_t no_features(struct virtio_device *vdev)
{
	(void)vdev;
	return 0;
}

static void no_config(struct virtio_device *vdev, uint32_t off, void *buf, uint32_t len)
{
	(void)vdev;
	(void)off;
	memset(buf, 0, len);
}

static void no_config_write(struct virtio_device *vdev, uint32_t off, const void *buf, uint32_t len)
{
	(void)vdev;
	(void)off;
	(void)buf;
	(void)len;
}

static void no_notify(struct virtio_device *vdev, unsigned int index)
{
	(void)vdev;
	(void)index;
}

static void no_reset(struct virtio_device *vdev)
{
	(void)vdev;
}

static const struct virtio_device_ops device_ops = {
	.features = no_features,
	.config_read = no_config,
	.config_write = no_config_write,
	.queue_notify = no_notify,
	.reset = no_reset,
};

static bool has_room(struct queue_service *qs)
{
	struct device *d = qs->opaque;

	return d->room > 0;
}

static bool serve(struct queue_service *qs, struct virtq_chain *chain)
{
	struct device *d = qs->opaque;

	d->served++;
	d->room--;
	queue_service_push(qs, chain->head, 1);
	return true;
}

static void pass_done(struct queue_service *qs)
{
	((struct device *)qs->opaque)->passes_done++;
}

static const struct queue_service_ops service_ops = {
	.has_room = has_room,
	.serve = serve,
	.pass_done = pass_done,
};

static void schedule(struct queue_service *qs)
{
	(void)qs;
	scheduled++;
}

static void cancel(struct queue_service *qs)
{
	(void)qs;
	cancelled++;
}

static const struct queue_service_loop fake_loop = { .schedule = schedule, .cancel = cancel };

/* The same loop with a clock the test moves: idle rings are watched. */
static uint64_t fake_now = 1000000;

static uint64_t now_ns(void)
{
	return fake_now;
}

static const struct queue_service_loop polling_loop = {
	.schedule = schedule, .cancel = cancel, .now_ns = now_ns,
};

/* ---- the guest's side: a ring of one-buffer chains, made available at once */

static void put16(uint64_t gpa, uint16_t v)
{
	v = htole16(v);
	memcpy(ram + (gpa - RAM_BASE), &v, sizeof(v));
}

static uint16_t get16(uint64_t gpa)
{
	uint16_t v;

	memcpy(&v, ram + (gpa - RAM_BASE), sizeof(v));
	return le16toh(v);
}

static void make_available(unsigned int n)
{
	for (unsigned int i = 0; i < n; i++) {
		uint64_t addr = htole64(BUF_GPA + 16 * i);
		uint32_t len = htole32(16);
		uint16_t flags = htole16(VRING_DESC_F_WRITE);
		uint8_t *desc = ram + (DESC_GPA - RAM_BASE) + 16 * i;

		memcpy(desc, &addr, 8);
		memcpy(desc + 8, &len, 4);
		memcpy(desc + 12, &flags, 2);
		put16(AVAIL_GPA + 4 + 2 * i, (uint16_t)i);
	}
	put16(AVAIL_GPA + 2, (uint16_t)n);
}

static uint16_t used_idx(void)
{
	return get16(USED_GPA + 2);
}

static int setup(void **state)
{
	struct device *d = calloc(1, sizeof(*d));
	struct virtio_device_info info = { .name = "test0", .device_type = 4, .num_queues = 1,
					   .queue_size = QUEUE_SIZE };
	struct virtqueue *vq;

	ram = calloc(1, RAM_SIZE);
	assert_int_equal(virtio_pci_create(&d->vdev, &info, &device_ops, d, &mem), 0);
	/* What a driver leaves after 3.1.1: DRIVER_OK, Bus Master, the queue enabled. */
	vq = virtio_queue(d->vdev, 0);
	vq->desc_addr = DESC_GPA;
	vq->avail_addr = AVAIL_GPA;
	vq->used_addr = USED_GPA;
	assert_int_equal(virtq_start(vq), 0);
	d->vdev->queues[0].enabled = true;
	d->vdev->status = VIRTIO_CONFIG_S_ACKNOWLEDGE | VIRTIO_CONFIG_S_DRIVER |
			  VIRTIO_CONFIG_S_FEATURES_OK | VIRTIO_CONFIG_S_DRIVER_OK;
	pci_config_set16(&d->vdev->fn.config, PCI_COMMAND, PCI_COMMAND_MASTER);
	queue_service_init(&d->qs, d->vdev, 0, &service_ops, d, &d->chain);
	d->qs.loop = &fake_loop;
	d->room = UINT32_MAX;
	scheduled = cancelled = 0;
	memory_full = false;
	*state = d;
	return 0;
}

static int teardown(void **state)
{
	struct device *d = *state;

	virtio_pci_destroy(d->vdev);
	free(d);
	free(ram);
	return 0;
}

static void test_a_full_ring_is_served_one_budget_per_pass(void **state)
{
	struct device *d = *state;

	make_available(FULL_RING);
	queue_service_run(&d->qs);
	assert_int_equal(d->served, QUEUE_SERVICE_BUDGET);
	assert_int_equal(used_idx(), QUEUE_SERVICE_BUDGET);
	assert_int_equal(scheduled, 1);
	assert_true(d->qs.scheduled);
	/* Each pass ends as a pass does: interrupt decided, the device's own step. */
	assert_int_equal(d->passes_done, 1);
	assert_true(d->vdev->isr & 1);

	/* A notify while the next pass waits in the loop does not jump ahead of it. */
	queue_service_run(&d->qs);
	assert_int_equal(d->served, QUEUE_SERVICE_BUDGET);

	while (d->qs.scheduled) {
		assert_true(scheduled <= FULL_RING / QUEUE_SERVICE_BUDGET + 1);
		queue_service_resume(&d->qs);
	}
	assert_int_equal(d->served, FULL_RING);
	assert_int_equal(used_idx(), FULL_RING);
	assert_int_equal(scheduled, FULL_RING / QUEUE_SERVICE_BUDGET);
	assert_int_equal(d->qs.yields, scheduled);
	/* The last pass found the ring empty and asked for notifications again. */
	assert_int_equal(get16(USED_GPA) & VRING_USED_F_NO_NOTIFY, 0);
}

static void test_no_room_ends_the_pass_without_scheduling(void **state)
{
	struct device *d = *state;

	make_available(FULL_RING);
	d->room = 10;
	queue_service_run(&d->qs);
	assert_int_equal(d->served, 10);
	assert_int_equal(scheduled, 0);
	/* The device runs the queue again when it has room: no notification needed meanwhile. */
	assert_true(get16(USED_GPA) & VRING_USED_F_NO_NOTIFY);
}

static void test_without_a_loop_a_pass_is_not_bounded(void **state)
{
	struct device *d = *state;

	d->qs.loop = NULL;
	make_available(FULL_RING);
	queue_service_run(&d->qs);
	assert_int_equal(d->served, FULL_RING);
	assert_int_equal(d->qs.yields, 0);
}

static void test_a_queue_not_ready_is_not_served(void **state)
{
	struct device *d = *state;

	make_available(FULL_RING);
	/* Bus Master Enable off (PCI 3.0, 6.2.2): the device must not touch guest memory. */
	pci_config_set16(&d->vdev->fn.config, PCI_COMMAND, 0);
	queue_service_run(&d->qs);
	assert_int_equal(d->served, 0);
	assert_int_equal(d->passes_done, 0);
}

static void test_memory_not_now_ends_the_pass_and_needs_no_reset(void **state)
{
	struct device *d = *state;

	make_available(FULL_RING);
	memory_full = true;
	queue_service_run(&d->qs);
	assert_int_equal(d->served, 0);
	assert_int_equal(scheduled, 0);
	assert_false(d->vdev->status & VIRTIO_CONFIG_S_NEEDS_RESET);
	/* Memory released: the queue goes on where it stopped. */
	memory_full = false;
	queue_service_run(&d->qs);
	assert_int_equal(d->served, QUEUE_SERVICE_BUDGET);
}

static void test_cancel_forgets_the_scheduled_pass(void **state)
{
	struct device *d = *state;

	make_available(FULL_RING);
	queue_service_run(&d->qs);
	queue_service_cancel(&d->qs);
	assert_int_equal(cancelled, 1);
	assert_false(d->qs.scheduled);
	/* The next notify serves at once again. */
	queue_service_run(&d->qs);
	assert_int_equal(d->served, 2 * QUEUE_SERVICE_BUDGET);
}

static void test_a_notification_schedules_a_pass_and_serves_nothing(void **state)
{
	struct device *d = *state;

	make_available(10);
	queue_service_notified(&d->qs);
	/* The trapped write is answered before any chain is popped. */
	assert_int_equal(d->served, 0);
	assert_int_equal(scheduled, 1);
	/* More notifications before the pass: that one pass serves them all. */
	queue_service_notified(&d->qs);
	assert_int_equal(scheduled, 1);
	assert_int_equal(d->qs.notifications, 2);
	queue_service_resume(&d->qs);
	assert_int_equal(d->served, 10);
	assert_false(d->qs.scheduled);
}

static void test_without_a_loop_a_notification_serves_at_once(void **state)
{
	struct device *d = *state;

	d->qs.loop = NULL;
	make_available(10);
	queue_service_notified(&d->qs);
	assert_int_equal(d->served, 10);
}

/*
 * Empty and idle after a batch, the ring is watched with notifications off:
 * chains the driver adds meanwhile are served without a notification, and
 * once a watch finds nothing for its window, notifications go back on.
 */
static void test_an_idle_ring_is_watched_before_notifications_go_back_on(void **state)
{
	struct device *d = *state;
	unsigned int looks = 0;

	d->qs.loop = &polling_loop;
	make_available(10);
	queue_service_run(&d->qs);
	assert_int_equal(d->served, 10);
	assert_true(d->qs.scheduled);
	assert_true(get16(USED_GPA) & VRING_USED_F_NO_NOTIFY);

	/* The driver refills without notifying (it may not: NO_NOTIFY); the watch finds them. */
	make_available(15);
	fake_now += 2000;
	queue_service_resume(&d->qs);
	assert_int_equal(d->served, 15);
	assert_int_equal(d->qs.poll.hits, 1);
	assert_true(d->qs.scheduled);

	/* Nothing more: the watch ends after its window, and the driver is asked to notify. */
	while (d->qs.scheduled) {
		assert_true(++looks < 1000);
		fake_now += 1000;
		queue_service_resume(&d->qs);
	}
	assert_int_equal(d->served, 15);
	assert_int_equal(get16(USED_GPA) & VRING_USED_F_NO_NOTIFY, 0);
	assert_true(d->qs.poll.watched_ns >= QUEUE_POLL_MAX_NS_DEFAULT);
	assert_int_equal(d->qs.poll.watches, 2);
}

/* No polling (a maximum of 0): the driver is asked to notify as soon as the ring is empty. */
static void test_a_zero_poll_maximum_asks_for_notifications_at_once(void **state)
{
	struct device *d = *state;

	d->qs.loop = &polling_loop;
	queue_service_set_poll_max(&d->qs, 0);
	make_available(3);
	queue_service_run(&d->qs);
	assert_int_equal(d->served, 3);
	assert_false(d->qs.scheduled);
	assert_int_equal(get16(USED_GPA) & VRING_USED_F_NO_NOTIFY, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_a_full_ring_is_served_one_budget_per_pass, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_no_room_ends_the_pass_without_scheduling, setup, teardown),
		cmocka_unit_test_setup_teardown(test_without_a_loop_a_pass_is_not_bounded, setup, teardown),
		cmocka_unit_test_setup_teardown(test_a_queue_not_ready_is_not_served, setup, teardown),
		cmocka_unit_test_setup_teardown(test_memory_not_now_ends_the_pass_and_needs_no_reset, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_cancel_forgets_the_scheduled_pass, setup, teardown),
		cmocka_unit_test_setup_teardown(test_a_notification_schedules_a_pass_and_serves_nothing,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_without_a_loop_a_notification_serves_at_once, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_an_idle_ring_is_watched_before_notifications_go_back_on,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_a_zero_poll_maximum_asks_for_notifications_at_once, setup,
						teardown),
	};

	return cmocka_run_group_tests_name("queue service", tests, NULL, NULL);
}
