// SPDX-License-Identifier: MIT
/*
 * tests/unit/test_virtqueue.c: the split virtqueue against a guest driver
 * written here from the spec (virtio 1.2, 2.7), over 1 MiB of plain memory
 * standing in for guest RAM. The driver is sometimes correct and sometimes
 * hostile; a hostile ring must give -EPROTO and leave the queue where it was.
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

#include "virtio/virtqueue.h"

/* Guest-physical layout. */
#define RAM_BASE	0x40000000ull
#define RAM_SIZE	0x100000ull
#define DESC_GPA	(RAM_BASE + 0x00000)
#define AVAIL_GPA	(RAM_BASE + 0x10000)
#define USED_GPA	(RAM_BASE + 0x20000)
#define TABLE_GPA	(RAM_BASE + 0x30000)	/* indirect tables */
#define BUF_GPA		(RAM_BASE + 0x40000)	/* buffers */
#define HOLE_GPA	(RAM_BASE + 0xe0000)	/* inside the range, but not RAM */
#define HOLE_SIZE	0x10000ull
#define ROM_GPA		(RAM_BASE + 0xf0000)	/* RAM we may read but not write */
#define ROM_SIZE	0x10000ull
#define QUEUE_SIZE	8

#define F_NEXT		VRING_DESC_F_NEXT
#define F_WRITE		VRING_DESC_F_WRITE
#define F_INDIRECT	VRING_DESC_F_INDIRECT

/* What owns guest memory: a mapping that can move, holes, read-only parts. */
struct test_mem {
	uint8_t *ram;			/* where guest RAM is mapped now */
	uint64_t generation;
	bool refuse_all;
	uint64_t busy_gpa;		/* translations of this address say "not now" (-EAGAIN) */
	unsigned int translations;
	unsigned int waits;		/* wait() calls */
	unsigned int releases;		/* non-empty sets released */
	void (*on_translate)(uint64_t gpa);	/* another vCPU, racing us */
};

static struct test_mem tm;
static uint8_t *ram_a, *ram_b;
static struct virtqueue vq;
static struct virtq_chain chain;
static uint16_t driver_avail_idx;	/* the driver's private copy of avail idx */

static bool overlaps(uint64_t a, uint64_t a_len, uint64_t b, uint64_t b_len)
{
	return a < b + b_len && b < a + a_len;
}

static int mem_translate(void *opaque, uint64_t gpa, uint64_t len, bool writable,
			 struct virtio_mem_refs *refs, void **ptr)
{
	struct test_mem *m = opaque;

	m->translations++;
	refs->count++;
	if (m->on_translate)
		m->on_translate(gpa);
	if (m->refuse_all || len == 0 || len - 1 > UINT64_MAX - gpa)
		return -EFAULT;
	if (m->busy_gpa && gpa == m->busy_gpa)
		return -EAGAIN;
	if (gpa < RAM_BASE || gpa - RAM_BASE >= RAM_SIZE || len > RAM_SIZE - (gpa - RAM_BASE))
		return -EFAULT;
	if (overlaps(gpa, len, HOLE_GPA, HOLE_SIZE))
		return -EFAULT;
	if (writable && overlaps(gpa, len, ROM_GPA, ROM_SIZE))
		return -EFAULT;
	*ptr = m->ram + (gpa - RAM_BASE);
	return 0;
}

static uint64_t mem_generation(void *opaque)
{
	return ((struct test_mem *)opaque)->generation;
}

static void mem_release(void *opaque, struct virtio_mem_refs *refs)
{
	((struct test_mem *)opaque)->releases += refs->count > 0;
}

static void mem_wait(void *opaque, struct virtio_mem_waiter *waiter)
{
	(void)waiter;
	((struct test_mem *)opaque)->waits++;
}

static const struct virtio_mem_ops test_mem_ops = {
	.translate = mem_translate,
	.release = mem_release,
	.generation = mem_generation,
	.wait = mem_wait,
};

static const struct virtio_mem test_mem = { .ops = &test_mem_ops, .opaque = &tm };

/* The guest driver's view: little-endian stores and loads at guest-physical addresses. */
static uint8_t *gpa_ptr(uint64_t gpa)
{
	return tm.ram + (gpa - RAM_BASE);
}

static void put16(uint64_t gpa, uint16_t v)
{
	v = htole16(v);
	memcpy(gpa_ptr(gpa), &v, sizeof(v));
}

static void put32(uint64_t gpa, uint32_t v)
{
	v = htole32(v);
	memcpy(gpa_ptr(gpa), &v, sizeof(v));
}

static void put64(uint64_t gpa, uint64_t v)
{
	v = htole64(v);
	memcpy(gpa_ptr(gpa), &v, sizeof(v));
}

static uint16_t get16(uint64_t gpa)
{
	uint16_t v;

	memcpy(&v, gpa_ptr(gpa), sizeof(v));
	return le16toh(v);
}

static uint32_t get32(uint64_t gpa)
{
	uint32_t v;

	memcpy(&v, gpa_ptr(gpa), sizeof(v));
	return le32toh(v);
}

/* 2.7.5: struct virtq_desc { le64 addr; le32 len; le16 flags; le16 next; } */
static void write_desc(uint64_t table, unsigned int i, uint64_t addr, uint32_t len, uint16_t flags,
		       uint16_t next)
{
	uint64_t at = table + 16ull * i;

	put64(at, addr);
	put32(at + 8, len);
	put16(at + 12, flags);
	put16(at + 14, next);
}

static void desc(unsigned int i, uint64_t addr, uint32_t len, uint16_t flags, uint16_t next)
{
	write_desc(DESC_GPA, i, addr, len, flags, next);
}

/* 2.7.13: place the head in the next avail ring slot, then publish the new idx. */
static void offer(uint16_t head)
{
	put16(AVAIL_GPA + 4 + 2ull * (driver_avail_idx % vq.size), head);
	driver_avail_idx++;
	put16(AVAIL_GPA + 2, driver_avail_idx);
}

static void set_avail_idx(uint16_t idx)
{
	driver_avail_idx = idx;
	put16(AVAIL_GPA + 2, idx);
}

static void set_avail_flags(uint16_t flags)
{
	put16(AVAIL_GPA, flags);
}

static void set_used_event(uint16_t event)
{
	put16(AVAIL_GPA + 4 + 2ull * vq.size, event);
}

static uint16_t used_flags(void)
{
	return get16(USED_GPA);
}

static uint16_t used_idx(void)
{
	return get16(USED_GPA + 2);
}

static uint32_t used_id(uint16_t idx)
{
	return get32(USED_GPA + 4 + 8ull * (idx % vq.size));
}

static uint32_t used_len(uint16_t idx)
{
	return get32(USED_GPA + 8 + 8ull * (idx % vq.size));
}

static uint16_t avail_event(void)
{
	return get16(USED_GPA + 4 + 8ull * vq.size);
}

static int setup(void **state)
{
	(void)state;
	ram_a = aligned_alloc(4096, RAM_SIZE);
	ram_b = aligned_alloc(4096, RAM_SIZE);
	assert_non_null(ram_a);
	assert_non_null(ram_b);
	memset(ram_a, 0, RAM_SIZE);
	memset(ram_b, 0, RAM_SIZE);
	tm = (struct test_mem){ .ram = ram_a, .generation = 1 };
	vq = (struct virtqueue){
		.size = QUEUE_SIZE,
		.desc_addr = DESC_GPA,
		.avail_addr = AVAIL_GPA,
		.used_addr = USED_GPA,
		.indirect = true,
		.mem = &test_mem,
	};
	driver_avail_idx = 0;
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	free(ram_a);
	free(ram_b);
	return 0;
}

static void start_queue(void)
{
	assert_int_equal(virtq_start(&vq), 0);
	assert_true(vq.started);
}

static int setup_started(void **state)
{
	setup(state);
	start_queue();
	return 0;
}

static void pop_one(void)
{
	assert_int_equal(virtq_pop(&vq, &chain, "test"), 1);
}

/* The guest broke a rule: -EPROTO, and the queue did not move. */
static void assert_refused(void)
{
	uint16_t last_avail_idx = vq.last_avail_idx;
	uint64_t popped = vq.chains_popped;

	assert_int_equal(virtq_pop(&vq, &chain, "test"), -EPROTO);
	assert_int_equal(vq.last_avail_idx, last_avail_idx);
	assert_int_equal(vq.chains_popped, popped);
}

/* The driver offers @head, and the chain it starts breaks a rule. */
static void assert_offer_refused(uint16_t head)
{
	offer(head);
	assert_refused();
}

static void assert_iov(const struct iovec *iov, uint64_t gpa, size_t len)
{
	assert_ptr_equal(iov->iov_base, gpa_ptr(gpa));
	assert_int_equal(iov->iov_len, len);
}

/* --- starting the queue --- */

static void test_start_refuses_size_not_power_of_two(void **state)
{
	static const uint16_t sizes[] = { 0, 3, 6, 12, 100, 32767, 65535 };
	unsigned int i;

	(void)state;
	for (i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		vq.size = sizes[i];
		assert_int_equal(virtq_start(&vq), -EINVAL);
		assert_false(vq.started);
	}
}

static void test_start_accepts_sizes_1_and_32768(void **state)
{
	(void)state;
	vq.size = 1;
	start_queue();
	/* 32768 entries: 512 KiB of descriptors, then the two rings behind them. */
	vq.size = 32768;
	vq.avail_addr = RAM_BASE + 0x80000;
	vq.used_addr = RAM_BASE + 0x90008;
	start_queue();
}

static void test_start_refuses_misaligned_rings(void **state)
{
	(void)state;
	vq.desc_addr = DESC_GPA + 8;
	assert_int_equal(virtq_start(&vq), -EINVAL);
	vq.desc_addr = DESC_GPA;
	vq.avail_addr = AVAIL_GPA + 1;
	assert_int_equal(virtq_start(&vq), -EINVAL);
	vq.avail_addr = AVAIL_GPA;
	vq.used_addr = USED_GPA + 2;
	assert_int_equal(virtq_start(&vq), -EINVAL);
	assert_false(vq.started);
	/* The weakest alignment 2.7 allows is enough. */
	vq.desc_addr = DESC_GPA + 16;
	vq.avail_addr = AVAIL_GPA + 2;
	vq.used_addr = USED_GPA + 4;
	start_queue();
}

static void test_start_refuses_rings_outside_ram(void **state)
{
	(void)state;
	vq.desc_addr = HOLE_GPA;
	assert_int_equal(virtq_start(&vq), -EFAULT);
	vq.desc_addr = RAM_BASE - 0x1000;
	assert_int_equal(virtq_start(&vq), -EFAULT);
	vq.desc_addr = DESC_GPA;
	vq.avail_addr = RAM_BASE + RAM_SIZE - 8;	/* starts in RAM, ends outside */
	assert_int_equal(virtq_start(&vq), -EFAULT);
	vq.avail_addr = AVAIL_GPA;
	vq.used_addr = ROM_GPA;				/* the device writes the used ring */
	assert_int_equal(virtq_start(&vq), -EFAULT);
	assert_false(vq.started);
	assert_null(vq.desc);
	/* The driver's rings are only read. */
	vq.used_addr = USED_GPA;
	vq.desc_addr = ROM_GPA;
	vq.avail_addr = ROM_GPA + 0x1000;
	start_queue();
}

static void test_start_records_generation_and_zero_indices(void **state)
{
	(void)state;
	tm.generation = 42;
	vq.last_avail_idx = 5;
	vq.used_idx = 7;
	start_queue();
	assert_int_equal(vq.mem_generation, 42);
	assert_int_equal(vq.last_avail_idx, 0);
	assert_int_equal(vq.used_idx, 0);
	assert_ptr_equal(vq.desc, gpa_ptr(DESC_GPA));
	assert_ptr_equal(vq.avail, gpa_ptr(AVAIL_GPA));
	assert_ptr_equal(vq.used, gpa_ptr(USED_GPA));
}

/* --- well-formed chains --- */

static void test_pop_on_empty_ring_returns_nothing(void **state)
{
	(void)state;
	assert_int_equal(virtq_pop(&vq, &chain, "test"), 0);
	assert_int_equal(vq.last_avail_idx, 0);
}

static void test_single_readable_buffer(void **state)
{
	(void)state;
	desc(0, BUF_GPA, 100, 0, 0);
	offer(0);
	pop_one();
	assert_int_equal(chain.head, 0);
	assert_int_equal(chain.nr_out, 1);
	assert_int_equal(chain.nr_in, 0);
	assert_iov(&chain.out[0], BUF_GPA, 100);
	assert_int_equal(chain.out_bytes, 100);
	assert_int_equal(chain.in_bytes, 0);
	assert_int_equal(vq.last_avail_idx, 1);
	assert_int_equal(vq.chains_popped, 1);
	assert_int_equal(virtq_pop(&vq, &chain, "test"), 0);
}

static void test_readable_then_writable_chain(void **state)
{
	(void)state;
	/* A block request: header, data, status byte, scattered over the table. */
	desc(3, BUF_GPA, 16, F_NEXT, 5);
	desc(5, BUF_GPA + 0x100, 512, F_NEXT, 1);
	desc(1, BUF_GPA + 0x1000, 1, F_WRITE, 0);
	offer(3);
	pop_one();
	assert_int_equal(chain.head, 3);
	assert_int_equal(chain.nr_out, 2);
	assert_int_equal(chain.nr_in, 1);
	assert_iov(&chain.out[0], BUF_GPA, 16);
	assert_iov(&chain.out[1], BUF_GPA + 0x100, 512);
	assert_iov(&chain.in[0], BUF_GPA + 0x1000, 1);
	assert_int_equal(chain.out_bytes, 528);
	assert_int_equal(chain.in_bytes, 1);
}

static void test_chain_as_long_as_the_queue_is_accepted(void **state)
{
	unsigned int i;

	(void)state;
	for (i = 0; i < QUEUE_SIZE; i++)
		desc(i, BUF_GPA + 0x10 * i, 0x10, i + 1 < QUEUE_SIZE ? F_NEXT : 0, i + 1);
	offer(0);
	pop_one();
	assert_int_equal(chain.nr_out, QUEUE_SIZE);
	assert_int_equal(chain.out_bytes, 0x10 * QUEUE_SIZE);
}

static void test_indirect_table_with_several_entries(void **state)
{
	/* 2.7.5.3 sets no alignment for a table: put this one off by 4. */
	const uint64_t table = TABLE_GPA + 4;

	(void)state;
	/* 2.7.5.3.2: the WRITE flag of the descriptor naming a table is ignored. */
	desc(2, table, 4 * 16, F_INDIRECT | F_WRITE, 0);
	write_desc(table, 0, BUF_GPA, 16, F_NEXT, 2);
	write_desc(table, 2, BUF_GPA + 0x100, 100, F_NEXT, 1);
	write_desc(table, 1, BUF_GPA + 0x200, 200, F_WRITE | F_NEXT, 3);
	write_desc(table, 3, BUF_GPA + 0x300, 1, F_WRITE, 0);
	offer(2);
	pop_one();
	assert_int_equal(chain.head, 2);
	assert_int_equal(chain.nr_out, 2);
	assert_int_equal(chain.nr_in, 2);
	assert_iov(&chain.out[0], BUF_GPA, 16);
	assert_iov(&chain.out[1], BUF_GPA + 0x100, 100);
	assert_iov(&chain.in[0], BUF_GPA + 0x200, 200);
	assert_iov(&chain.in[1], BUF_GPA + 0x300, 1);
	assert_int_equal(chain.out_bytes, 116);
	assert_int_equal(chain.in_bytes, 201);
}

static void test_direct_descriptors_before_an_indirect_table(void **state)
{
	(void)state;
	/* 2.7.5.3.2: "zero or more normal chained descriptors followed by a single" indirect one. */
	desc(0, BUF_GPA, 16, F_NEXT, 4);
	desc(4, TABLE_GPA, 16, F_INDIRECT, 0);
	write_desc(TABLE_GPA, 0, BUF_GPA + 0x100, 8, F_WRITE, 0);
	offer(0);
	pop_one();
	assert_int_equal(chain.nr_out, 1);
	assert_int_equal(chain.nr_in, 1);
	assert_iov(&chain.out[0], BUF_GPA, 16);
	assert_iov(&chain.in[0], BUF_GPA + 0x100, 8);
}

static void test_indirect_table_as_long_as_the_queue_is_accepted(void **state)
{
	unsigned int i;

	(void)state;
	desc(0, TABLE_GPA, QUEUE_SIZE * 16, F_INDIRECT, 0);
	for (i = 0; i < QUEUE_SIZE; i++)
		write_desc(TABLE_GPA, i, BUF_GPA + i, 1, i + 1 < QUEUE_SIZE ? F_NEXT : 0, i + 1);
	offer(0);
	pop_one();
	assert_int_equal(chain.nr_out, QUEUE_SIZE);
}

static void test_readable_buffer_in_read_only_memory_is_accepted(void **state)
{
	(void)state;
	desc(0, ROM_GPA, 64, 0, 0);
	offer(0);
	pop_one();
	assert_iov(&chain.out[0], ROM_GPA, 64);
}

static void test_max_segments_each_way_are_accepted(void **state)
{
	unsigned int i, n = 2 * VIRTQ_CHAIN_MAX_SEGMENTS;

	(void)state;
	vq.size = (uint16_t)n;
	start_queue();
	for (i = 0; i < n; i++)
		desc(i, BUF_GPA + i, 1, (i + 1 < n ? F_NEXT : 0) |
		     (i >= VIRTQ_CHAIN_MAX_SEGMENTS ? F_WRITE : 0), (uint16_t)(i + 1));
	offer(0);
	pop_one();
	assert_int_equal(chain.nr_out, VIRTQ_CHAIN_MAX_SEGMENTS);
	assert_int_equal(chain.nr_in, VIRTQ_CHAIN_MAX_SEGMENTS);
}

/* --- the used ring --- */

static void test_push_fills_used_ring(void **state)
{
	(void)state;
	desc(6, BUF_GPA, 16, F_NEXT, 7);
	desc(7, BUF_GPA + 0x100, 64, F_WRITE, 0);
	desc(2, BUF_GPA + 0x200, 64, F_WRITE, 0);
	offer(6);
	offer(2);
	pop_one();
	virtq_push(&vq, chain.head, 33);
	assert_int_equal(used_idx(), 1);
	assert_int_equal(used_id(0), 6);
	assert_int_equal(used_len(0), 33);
	pop_one();
	virtq_push(&vq, chain.head, 64);
	assert_int_equal(used_idx(), 2);
	assert_int_equal(used_id(1), 2);
	assert_int_equal(used_len(1), 64);
	assert_int_equal(vq.used_idx, 2);
}

/*
 * A frame in three mergeable buffers (5.1.6.4): the driver must see all
 * three used entries at once, never the first alone (Linux drops a frame
 * whose num_buffers are not all there: receive_mergeable, "rx error").
 */
static void test_filled_entries_publish_together_at_flush(void **state)
{
	uint16_t heads[3];

	(void)state;
	for (uint16_t i = 0; i < 3; i++) {
		desc(i, BUF_GPA + 0x100u * i, 64, F_WRITE, 0);
		offer(i);
	}
	for (unsigned int i = 0; i < 3; i++) {
		pop_one();
		heads[i] = chain.head;
	}
	for (unsigned int i = 0; i < 3; i++) {
		virtq_fill(&vq, i, heads[i], 64 - (uint32_t)i);
		assert_int_equal(used_idx(), 0);
	}
	virtq_flush(&vq, 3);
	assert_int_equal(used_idx(), 3);
	for (uint16_t i = 0; i < 3; i++) {
		assert_int_equal(used_id(i), heads[i]);
		assert_int_equal(used_len(i), 64 - i);
	}
	assert_int_equal(vq.used_idx, 3);
}

static void test_indices_wrap_around_16_bits(void **state)
{
	unsigned int n, i;

	(void)state;
	for (i = 0; i < QUEUE_SIZE; i++)
		desc(i, BUF_GPA + 0x100 * i, 0x100, 0, 0);
	/* One chain at a time up to just short of the wrap, heads in a pattern the slots do not share. */
	for (n = 0; n < 65532; n++) {
		uint16_t head = (uint16_t)((n * 3) % QUEUE_SIZE);

		offer(head);
		pop_one();
		assert_int_equal(chain.head, head);
		virtq_push(&vq, chain.head, n);
		assert_int_equal(used_id((uint16_t)n), head);
		assert_int_equal(used_len((uint16_t)n), n);
	}
	assert_int_equal(vq.last_avail_idx, 65532);
	assert_int_equal(used_idx(), 65532);
	/* A full ring whose indices go from 65532 through 65535 to 3. */
	for (i = 0; i < QUEUE_SIZE; i++)
		offer((uint16_t)i);
	assert_int_equal(driver_avail_idx, 4);
	for (i = 0; i < QUEUE_SIZE; i++) {
		pop_one();
		assert_int_equal(chain.head, i);
		assert_iov(&chain.out[0], BUF_GPA + 0x100 * i, 0x100);
		virtq_push(&vq, chain.head, 1000 + i);
	}
	assert_int_equal(virtq_pop(&vq, &chain, "test"), 0);
	assert_int_equal(vq.last_avail_idx, 4);
	assert_int_equal(vq.used_idx, 4);
	assert_int_equal(used_idx(), 4);
	for (i = 0; i < QUEUE_SIZE; i++) {
		assert_int_equal(used_id((uint16_t)(65532 + i)), i);
		assert_int_equal(used_len((uint16_t)(65532 + i)), 1000 + i);
	}
	assert_int_equal(vq.chains_popped, 65532 + QUEUE_SIZE);
}

/* --- hostile rings --- */

static void test_head_out_of_range_is_refused(void **state)
{
	(void)state;
	assert_offer_refused(QUEUE_SIZE);
}

static void test_next_out_of_range_is_refused(void **state)
{
	(void)state;
	desc(0, BUF_GPA, 16, F_NEXT, QUEUE_SIZE);
	assert_offer_refused(0);
}

static void test_descriptor_loop_is_refused(void **state)
{
	(void)state;
	desc(0, BUF_GPA, 16, F_NEXT, 1);
	desc(1, BUF_GPA, 16, F_NEXT, 2);
	desc(2, BUF_GPA, 16, F_NEXT, 0);
	assert_offer_refused(0);
}

static void test_loop_behind_the_head_is_refused(void **state)
{
	(void)state;
	desc(0, BUF_GPA, 16, F_NEXT, 1);
	desc(1, BUF_GPA, 16, F_NEXT, 1);
	assert_offer_refused(0);
}

static void test_next_and_indirect_together_are_refused(void **state)
{
	(void)state;
	desc(0, TABLE_GPA, 16, F_INDIRECT | F_NEXT, 1);
	desc(1, BUF_GPA, 16, 0, 0);
	write_desc(TABLE_GPA, 0, BUF_GPA, 16, 0, 0);
	assert_offer_refused(0);
}

static void test_indirect_without_feature_is_refused(void **state)
{
	(void)state;
	vq.indirect = false;
	start_queue();
	desc(0, TABLE_GPA, 16, F_INDIRECT, 0);
	write_desc(TABLE_GPA, 0, BUF_GPA, 16, 0, 0);
	assert_offer_refused(0);
}

static void test_indirect_inside_indirect_is_refused(void **state)
{
	(void)state;
	desc(0, TABLE_GPA, 16, F_INDIRECT, 0);
	write_desc(TABLE_GPA, 0, TABLE_GPA + 0x100, 16, F_INDIRECT, 0);
	write_desc(TABLE_GPA + 0x100, 0, BUF_GPA, 16, 0, 0);
	assert_offer_refused(0);
}

static void test_indirect_table_of_length_zero_is_refused(void **state)
{
	(void)state;
	desc(0, TABLE_GPA, 0, F_INDIRECT, 0);
	assert_offer_refused(0);
}

static void test_indirect_table_length_not_multiple_of_16_is_refused(void **state)
{
	(void)state;
	desc(0, TABLE_GPA, 24, F_INDIRECT, 0);
	write_desc(TABLE_GPA, 0, BUF_GPA, 16, 0, 0);
	assert_offer_refused(0);
}

static void test_indirect_table_longer_than_queue_is_refused(void **state)
{
	(void)state;
	desc(0, TABLE_GPA, (QUEUE_SIZE + 1) * 16, F_INDIRECT, 0);
	write_desc(TABLE_GPA, 0, BUF_GPA, 16, 0, 0);
	assert_offer_refused(0);
}

static void test_chain_with_indirect_longer_than_queue_is_refused(void **state)
{
	unsigned int i;

	(void)state;
	/* 2 direct + 7 indirect buffers: 9 in a queue of 8 (2.7.5.3.1). */
	desc(0, BUF_GPA, 16, F_NEXT, 1);
	desc(1, BUF_GPA, 16, F_NEXT, 2);
	desc(2, TABLE_GPA, 7 * 16, F_INDIRECT, 0);
	for (i = 0; i < 7; i++)
		write_desc(TABLE_GPA, i, BUF_GPA, 16, i < 6 ? F_NEXT : 0, i + 1);
	assert_offer_refused(0);
}

static void test_indirect_loop_is_refused(void **state)
{
	(void)state;
	desc(0, TABLE_GPA, 4 * 16, F_INDIRECT, 0);
	write_desc(TABLE_GPA, 0, BUF_GPA, 16, F_NEXT, 1);
	write_desc(TABLE_GPA, 1, BUF_GPA, 16, F_NEXT, 0);
	assert_offer_refused(0);
}

static void test_indirect_next_beyond_table_is_refused(void **state)
{
	(void)state;
	/* Entry 2 exists in memory, but the table is only 2 entries long. */
	desc(0, TABLE_GPA, 2 * 16, F_INDIRECT, 0);
	write_desc(TABLE_GPA, 0, BUF_GPA, 16, F_NEXT, 2);
	write_desc(TABLE_GPA, 2, BUF_GPA, 16, 0, 0);
	assert_offer_refused(0);
}

static void test_indirect_table_outside_ram_is_refused(void **state)
{
	(void)state;
	desc(0, HOLE_GPA, 16, F_INDIRECT, 0);
	assert_offer_refused(0);
}

static void test_zero_length_buffer_is_refused(void **state)
{
	(void)state;
	desc(0, BUF_GPA, 16, F_NEXT, 1);
	desc(1, BUF_GPA, 0, F_WRITE, 0);
	assert_offer_refused(0);
}

static void test_zero_length_indirect_buffer_is_refused(void **state)
{
	(void)state;
	desc(0, TABLE_GPA, 16, F_INDIRECT, 0);
	write_desc(TABLE_GPA, 0, BUF_GPA, 0, 0, 0);
	assert_offer_refused(0);
}

static void test_wrapping_buffer_is_refused(void **state)
{
	(void)state;
	desc(0, UINT64_MAX - 0xfff, 0x2000, 0, 0);
	assert_offer_refused(0);
}

static void test_buffer_outside_ram_is_refused(void **state)
{
	(void)state;
	desc(0, BUF_GPA, 16, F_NEXT, 1);
	desc(1, HOLE_GPA - 8, 16, F_WRITE, 0);	/* the last 8 bytes are not RAM */
	assert_offer_refused(0);
}

static void test_writable_buffer_in_read_only_memory_is_refused(void **state)
{
	(void)state;
	desc(0, ROM_GPA, 64, F_WRITE, 0);
	assert_offer_refused(0);
}

/*
 * The device asks for write access only where it writes (the used ring and
 * device-writable buffers): what it only reads may be read-only to it.
 */
static void test_read_only_memory_holds_what_the_device_only_reads(void **state)
{
	const uint64_t table = ROM_GPA + 0x2000, header = ROM_GPA + 0x3000;

	(void)state;
	vq.desc_addr = ROM_GPA;
	vq.avail_addr = ROM_GPA + 0x1000;
	start_queue();
	write_desc(ROM_GPA, 0, header, 16, F_NEXT, 1);
	write_desc(ROM_GPA, 1, table, 2 * 16, F_INDIRECT, 0);
	write_desc(table, 0, header + 16, 512, F_NEXT, 1);
	write_desc(table, 1, BUF_GPA, 1, F_WRITE, 0);
	put16(vq.avail_addr + 4, 0);
	put16(vq.avail_addr + 2, 1);
	pop_one();
	assert_int_equal(chain.nr_out, 2);
	assert_int_equal(chain.nr_in, 1);
	virtq_push(&vq, chain.head, 1);
	assert_int_equal(used_idx(), 1);
}

static void test_used_ring_in_read_only_memory_is_refused(void **state)
{
	(void)state;
	vq.used_addr = ROM_GPA;
	assert_int_equal(virtq_start(&vq), -EFAULT);
}

static void test_readable_after_writable_is_refused(void **state)
{
	(void)state;
	desc(0, BUF_GPA, 16, F_WRITE | F_NEXT, 1);
	desc(1, BUF_GPA + 0x100, 16, 0, 0);
	assert_offer_refused(0);
}

static void test_readable_after_writable_across_indirect_is_refused(void **state)
{
	(void)state;
	desc(0, BUF_GPA, 16, F_WRITE | F_NEXT, 1);
	desc(1, TABLE_GPA, 16, F_INDIRECT, 0);
	write_desc(TABLE_GPA, 0, BUF_GPA + 0x100, 16, 0, 0);
	assert_offer_refused(0);
}

static void test_too_many_segments_is_refused(void **state)
{
	unsigned int i, n = VIRTQ_CHAIN_MAX_SEGMENTS + 1;

	(void)state;
	vq.size = 2 * VIRTQ_CHAIN_MAX_SEGMENTS;
	start_queue();
	for (i = 0; i < n; i++)
		desc(i, BUF_GPA + i, 1, i + 1 < n ? F_NEXT : 0, (uint16_t)(i + 1));
	assert_offer_refused(0);
}

static void test_avail_idx_too_far_ahead_is_refused(void **state)
{
	(void)state;
	desc(0, BUF_GPA, 16, 0, 0);
	set_avail_idx(QUEUE_SIZE + 1);
	assert_refused();
	/* Exactly a full ring is fine. */
	set_avail_idx(QUEUE_SIZE);
	pop_one();
}

static void test_avail_idx_going_back_is_refused(void **state)
{
	(void)state;
	desc(0, BUF_GPA, 16, 0, 0);
	offer(0);
	offer(0);
	pop_one();
	pop_one();
	/* 2.7.6.1: "A driver MUST NOT decrement the available idx". */
	set_avail_idx(1);
	assert_refused();
}

/*
 * Another vCPU rewrites the descriptor while we translate its buffer: the
 * chain must hold what was validated, not what the guest wrote afterwards.
 */
static void rewrite_descriptor_0(uint64_t gpa)
{
	if (gpa == BUF_GPA)
		desc(0, HOLE_GPA, 0x100000, F_WRITE, 0);
}

static void test_descriptor_is_read_once(void **state)
{
	(void)state;
	desc(0, BUF_GPA, 64, 0, 0);
	offer(0);
	tm.on_translate = rewrite_descriptor_0;
	pop_one();
	assert_int_equal(get32(DESC_GPA + 8), 0x100000);	/* the guest did rewrite it */
	assert_int_equal(chain.nr_out, 1);
	assert_int_equal(chain.nr_in, 0);
	assert_iov(&chain.out[0], BUF_GPA, 64);
	assert_int_equal(chain.out_bytes, 64);
}

/* --- guest memory changing under the queue --- */

/*
 * The mapping budget is full: the chain is not taken (it stays in the
 * avail ring, nothing it translated stays referenced), the queue waits to
 * be told, and the same chain comes once memory is there.
 */
static void test_not_now_leaves_the_chain_in_the_ring(void **state)
{
	(void)state;
	desc(0, BUF_GPA, 16, F_NEXT, 1);
	desc(1, BUF_GPA + 0x2000, 16, F_WRITE, 0);
	offer(0);
	chain.refs = (struct virtio_mem_refs){ 0 };
	tm.busy_gpa = BUF_GPA + 0x2000;
	assert_int_equal(virtq_pop(&vq, &chain, "test"), -EAGAIN);
	assert_int_equal(tm.waits, 1);
	assert_int_equal(tm.releases, 1);	/* the first buffer's reference went back */
	assert_int_equal(chain.refs.count, 0);
	assert_int_equal(vq.last_avail_idx, 0);
	assert_int_equal(vq.chains_popped, 0);
	tm.busy_gpa = 0;
	pop_one();
	assert_int_equal(chain.head, 0);
	assert_int_equal(chain.nr_out, 1);
	assert_int_equal(chain.nr_in, 1);
}

static void test_generation_change_translates_rings_again(void **state)
{
	(void)state;
	desc(0, BUF_GPA, 16, 0, 0);
	offer(0);
	pop_one();
	virtq_push(&vq, chain.head, 0);
	/* Xen replaced the mapping: same guest contents at a new host address. */
	memcpy(ram_b, ram_a, RAM_SIZE);
	memset(ram_a, 0xff, RAM_SIZE);
	tm.ram = ram_b;
	tm.generation++;
	offer(0);
	pop_one();
	assert_ptr_equal(vq.avail, gpa_ptr(AVAIL_GPA));
	assert_iov(&chain.out[0], BUF_GPA, 16);
	virtq_push(&vq, chain.head, 5);
	assert_int_equal(used_idx(), 2);
	assert_int_equal(used_len(1), 5);
	assert_int_equal(vq.mem_generation, tm.generation);
}

static void test_same_generation_does_not_translate_again(void **state)
{
	unsigned int translations;

	(void)state;
	translations = tm.translations;
	assert_int_equal(virtq_pop(&vq, &chain, "test"), 0);
	virtq_push(&vq, 0, 0);
	virtq_should_interrupt(&vq);
	virtq_enable_notification(&vq);
	assert_int_equal(tm.translations, translations);
}

static void test_rings_no_longer_in_ram_give_efault(void **state)
{
	(void)state;
	desc(0, BUF_GPA, 16, 0, 0);
	offer(0);
	tm.refuse_all = true;
	tm.generation++;
	assert_int_equal(virtq_pop(&vq, &chain, "test"), -EFAULT);
	/* Nothing else may touch the rings meanwhile, nor fail loudly. */
	virtq_push(&vq, 0, 1);
	assert_int_equal(vq.used_idx, 0);
	assert_int_equal(used_idx(), 0);
	assert_false(virtq_should_interrupt(&vq));
	assert_false(virtq_enable_notification(&vq));
	/* Once the memory is back, so is the queue. */
	tm.refuse_all = false;
	pop_one();
}

/* --- notification suppression --- */

static void push_one(void)
{
	virtq_push(&vq, 0, 0);
}

static void test_event_idx_interrupts_only_when_crossing_used_event(void **state)
{
	(void)state;
	vq.event_idx = true;
	start_queue();
	set_used_event(0);
	push_one();					/* used idx 1: crosses 0 */
	assert_true(virtq_should_interrupt(&vq));
	set_used_event(2);
	push_one();					/* 2: entry 1 written, not 2 */
	assert_false(virtq_should_interrupt(&vq));
	push_one();					/* 3: entry 2 written */
	assert_true(virtq_should_interrupt(&vq));
	push_one();					/* 4: already past used_event */
	assert_false(virtq_should_interrupt(&vq));
	assert_false(virtq_should_interrupt(&vq));	/* no push, no interrupt */
	assert_int_equal(vq.interrupts_requested, 2);
}

static void test_event_idx_batch_crossing_used_event_interrupts_once(void **state)
{
	(void)state;
	vq.event_idx = true;
	start_queue();
	set_used_event(0);
	push_one();
	assert_true(virtq_should_interrupt(&vq));
	/* Entries 1..4 written in one go; the driver asked about entry 3. */
	set_used_event(3);
	push_one();
	push_one();
	push_one();
	push_one();
	assert_true(virtq_should_interrupt(&vq));
	/* Entries 5..6; the driver wants to hear at 10 only. */
	set_used_event(10);
	push_one();
	push_one();
	assert_false(virtq_should_interrupt(&vq));
	assert_int_equal(vq.signalled_used, 7);
	assert_int_equal(vq.interrupts_requested, 2);
}

static void test_event_idx_ignores_no_interrupt_flag(void **state)
{
	(void)state;
	vq.event_idx = true;
	start_queue();
	/* 2.7.7.2: with EVENT_IDX "The device MUST ignore the lower bit of flags". */
	set_avail_flags(VRING_AVAIL_F_NO_INTERRUPT);
	set_used_event(0);
	push_one();
	assert_true(virtq_should_interrupt(&vq));
}

static void test_used_idx_all_the_way_round_interrupts_again(void **state)
{
	unsigned int n;

	(void)state;
	vq.event_idx = true;
	start_queue();
	set_used_event(0xffff);
	push_one();
	assert_true(virtq_should_interrupt(&vq));	/* the first one always does */
	/* 65536 pushes unchecked: used idx is back where it was signalled. */
	for (n = 0; n < 65536; n++)
		push_one();
	assert_int_equal(vq.used_idx, 1);
	assert_true(virtq_should_interrupt(&vq));
}

static void test_no_interrupt_flag_is_respected(void **state)
{
	(void)state;
	set_used_event(0);	/* ignored without EVENT_IDX */
	set_avail_flags(VRING_AVAIL_F_NO_INTERRUPT);
	push_one();
	assert_false(virtq_should_interrupt(&vq));
	set_avail_flags(0);
	push_one();
	assert_true(virtq_should_interrupt(&vq));
	push_one();
	assert_true(virtq_should_interrupt(&vq));
	assert_int_equal(vq.interrupts_requested, 2);
}

static void test_enable_notification_writes_avail_event(void **state)
{
	(void)state;
	vq.event_idx = true;
	start_queue();
	desc(0, BUF_GPA, 16, 0, 0);
	offer(0);
	offer(0);
	pop_one();
	pop_one();
	assert_false(virtq_enable_notification(&vq));
	assert_int_equal(avail_event(), 2);
	assert_int_equal(used_flags(), 0);
}

static void test_enable_notification_reports_buffers_added_meanwhile(void **state)
{
	(void)state;
	vq.event_idx = true;
	start_queue();
	desc(0, BUF_GPA, 16, 0, 0);
	offer(0);
	pop_one();
	offer(0);	/* before the device asked to hear about it */
	assert_true(virtq_enable_notification(&vq));
	assert_int_equal(avail_event(), 1);
	pop_one();
	assert_false(virtq_enable_notification(&vq));
	assert_int_equal(avail_event(), 2);
}

static void test_enable_notification_without_event_idx_clears_no_notify(void **state)
{
	(void)state;
	put16(USED_GPA, VRING_USED_F_NO_NOTIFY);
	put16(USED_GPA + 4 + 8 * QUEUE_SIZE, 0xabcd);
	assert_false(virtq_enable_notification(&vq));
	assert_int_equal(used_flags(), 0);
	assert_int_equal(avail_event(), 0xabcd);
	desc(0, BUF_GPA, 16, 0, 0);
	offer(0);
	assert_true(virtq_enable_notification(&vq));
}

/* --- copying in and out of chains --- */

static void test_chain_write_spans_buffers_from_an_offset(void **state)
{
	(void)state;
	desc(0, BUF_GPA, 4, F_NEXT, 1);
	desc(1, BUF_GPA + 0x100, 3, F_WRITE | F_NEXT, 2);
	desc(2, BUF_GPA + 0x200, 5, F_WRITE | F_NEXT, 3);
	desc(3, BUF_GPA + 0x300, 8, F_WRITE, 0);
	offer(0);
	pop_one();
	assert_int_equal(virtq_chain_write(&chain, 2, "abcdefghij", 10), 10);
	assert_memory_equal(gpa_ptr(BUF_GPA + 0x102), "a", 1);
	assert_memory_equal(gpa_ptr(BUF_GPA + 0x200), "bcdef", 5);
	assert_memory_equal(gpa_ptr(BUF_GPA + 0x300), "ghij", 4);
	assert_int_equal(gpa_ptr(BUF_GPA + 0x304)[0], 0);
	assert_int_equal(gpa_ptr(BUF_GPA)[0], 0);	/* readable buffers are never written */
	/* Bounded by the buffers: 16 bytes in all. */
	assert_int_equal(virtq_chain_write(&chain, 14, "xyz", 3), 2);
	assert_memory_equal(gpa_ptr(BUF_GPA + 0x306), "xy", 2);
	assert_int_equal(virtq_chain_write(&chain, 16, "xyz", 3), 0);
	assert_int_equal(virtq_chain_write(&chain, UINT64_MAX, "xyz", 3), 0);
}

static void test_chain_read_spans_buffers_from_an_offset(void **state)
{
	char buf[16] = { 0 };

	(void)state;
	memcpy(gpa_ptr(BUF_GPA), "0123", 4);
	memcpy(gpa_ptr(BUF_GPA + 0x100), "456789", 6);
	memcpy(gpa_ptr(BUF_GPA + 0x200), "AB", 2);
	desc(0, BUF_GPA, 4, F_NEXT, 1);
	desc(1, BUF_GPA + 0x100, 6, F_NEXT, 2);
	desc(2, BUF_GPA + 0x200, 2, F_NEXT, 3);
	desc(3, BUF_GPA + 0x300, 8, F_WRITE, 0);
	offer(0);
	pop_one();
	assert_int_equal(virtq_chain_read(&chain, 3, buf, 8), 8);
	assert_memory_equal(buf, "3456789A", 8);
	assert_int_equal(virtq_chain_read(&chain, 0, buf, sizeof(buf)), 12);
	assert_memory_equal(buf, "0123456789AB", 12);
	assert_int_equal(virtq_chain_read(&chain, 12, buf, 1), 0);
}

/* --- giving back, stopping --- */

static void test_unpop_redelivers_same_chain(void **state)
{
	(void)state;
	desc(4, BUF_GPA, 16, 0, 0);
	desc(5, BUF_GPA + 0x100, 16, 0, 0);
	offer(4);
	offer(5);
	pop_one();
	assert_int_equal(chain.head, 4);
	virtq_unpop(&vq);
	assert_int_equal(vq.last_avail_idx, 0);
	assert_int_equal(vq.chains_popped, 0);
	pop_one();
	assert_int_equal(chain.head, 4);
	assert_iov(&chain.out[0], BUF_GPA, 16);
	pop_one();
	assert_int_equal(chain.head, 5);
	assert_int_equal(vq.chains_popped, 2);
}

static void test_stop_forgets_state_keeps_configuration(void **state)
{
	(void)state;
	vq.event_idx = true;
	start_queue();
	desc(0, BUF_GPA, 16, 0, 0);
	offer(0);
	pop_one();
	virtq_push(&vq, 0, 0);
	assert_true(virtq_should_interrupt(&vq));
	virtq_stop(&vq);
	assert_false(vq.started);
	assert_int_equal(vq.last_avail_idx, 0);
	assert_int_equal(vq.used_idx, 0);
	assert_int_equal(vq.signalled_used, 0);
	assert_false(vq.signalled_used_valid);
	assert_null(vq.desc);
	assert_null(vq.avail);
	assert_null(vq.used);
	assert_int_equal(vq.size, QUEUE_SIZE);
	assert_int_equal(vq.desc_addr, DESC_GPA);
	assert_int_equal(vq.avail_addr, AVAIL_GPA);
	assert_int_equal(vq.used_addr, USED_GPA);
	assert_true(vq.event_idx);
	assert_true(vq.indirect);
	/* A stopped queue has nothing and does nothing. */
	assert_int_equal(virtq_pop(&vq, &chain, "test"), 0);
	virtq_push(&vq, 0, 0);
	assert_int_equal(used_idx(), 1);
	assert_false(virtq_should_interrupt(&vq));
}

/* T: a queue configured but not started; S: the same queue, started. */
#define T(name) cmocka_unit_test_setup_teardown(name, setup, teardown)
#define S(name) cmocka_unit_test_setup_teardown(name, setup_started, teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_start_refuses_size_not_power_of_two),
		T(test_start_accepts_sizes_1_and_32768),
		T(test_start_refuses_misaligned_rings),
		T(test_start_refuses_rings_outside_ram),
		T(test_start_records_generation_and_zero_indices),
		S(test_pop_on_empty_ring_returns_nothing),
		S(test_single_readable_buffer),
		S(test_readable_then_writable_chain),
		S(test_chain_as_long_as_the_queue_is_accepted),
		S(test_indirect_table_with_several_entries),
		S(test_direct_descriptors_before_an_indirect_table),
		S(test_indirect_table_as_long_as_the_queue_is_accepted),
		S(test_readable_buffer_in_read_only_memory_is_accepted),
		T(test_max_segments_each_way_are_accepted),
		S(test_filled_entries_publish_together_at_flush),
		S(test_push_fills_used_ring),
		S(test_indices_wrap_around_16_bits),
		S(test_head_out_of_range_is_refused),
		S(test_next_out_of_range_is_refused),
		S(test_descriptor_loop_is_refused),
		S(test_loop_behind_the_head_is_refused),
		S(test_next_and_indirect_together_are_refused),
		T(test_indirect_without_feature_is_refused),
		S(test_indirect_inside_indirect_is_refused),
		S(test_indirect_table_of_length_zero_is_refused),
		S(test_indirect_table_length_not_multiple_of_16_is_refused),
		S(test_indirect_table_longer_than_queue_is_refused),
		S(test_chain_with_indirect_longer_than_queue_is_refused),
		S(test_indirect_loop_is_refused),
		S(test_indirect_next_beyond_table_is_refused),
		S(test_indirect_table_outside_ram_is_refused),
		S(test_zero_length_buffer_is_refused),
		S(test_zero_length_indirect_buffer_is_refused),
		S(test_wrapping_buffer_is_refused),
		S(test_buffer_outside_ram_is_refused),
		S(test_writable_buffer_in_read_only_memory_is_refused),
		cmocka_unit_test_setup_teardown(test_read_only_memory_holds_what_the_device_only_reads, setup, teardown),
		cmocka_unit_test_setup_teardown(test_used_ring_in_read_only_memory_is_refused, setup, teardown),
		S(test_readable_after_writable_is_refused),
		S(test_readable_after_writable_across_indirect_is_refused),
		T(test_too_many_segments_is_refused),
		S(test_avail_idx_too_far_ahead_is_refused),
		S(test_avail_idx_going_back_is_refused),
		S(test_descriptor_is_read_once),
		S(test_not_now_leaves_the_chain_in_the_ring),
		S(test_generation_change_translates_rings_again),
		S(test_same_generation_does_not_translate_again),
		S(test_rings_no_longer_in_ram_give_efault),
		T(test_event_idx_interrupts_only_when_crossing_used_event),
		T(test_event_idx_batch_crossing_used_event_interrupts_once),
		T(test_event_idx_ignores_no_interrupt_flag),
		T(test_used_idx_all_the_way_round_interrupts_again),
		S(test_no_interrupt_flag_is_respected),
		T(test_enable_notification_writes_avail_event),
		T(test_enable_notification_reports_buffers_added_meanwhile),
		S(test_enable_notification_without_event_idx_clears_no_notify),
		S(test_chain_write_spans_buffers_from_an_offset),
		S(test_chain_read_spans_buffers_from_an_offset),
		S(test_unpop_redelivers_same_chain),
		T(test_stop_forgets_state_keeps_configuration),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
