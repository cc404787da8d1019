// SPDX-License-Identifier: MIT
/*
 * tests/fuzz/fuzz_virtqueue.c: the split virtqueue (virtio/virtqueue.h) over
 * guest RAM the fuzzer wrote: descriptor table, avail ring, indirect tables
 * and buffers, with any queue size, ring addresses and features.
 *
 * Input: size exponent (1 byte), flags (1 byte, FLAG_*), the three ring
 * offsets into RAM (3 x le32), then what the driver wrote into RAM, as
 * chunks: offset (le32, modulo the RAM size), length (le16), bytes.
 *
 * The queue is started and popped until it says 0 or -EPROTO, without
 * pushing; then every chain is pushed, the driver offers them again, and
 * the queue is served as a device would (pop, read, write, push) while the
 * replies may rewrite the rings they overlap. Every popped chain must lie in
 * guest RAM and add up; pop must take exactly what the avail index offers,
 * and a refusal must leave the queue where it was. A descriptor table at
 * the end of RAM makes any read beyond it an ASan report.
 */
#include <endian.h>
#include <errno.h>

#include "lib/log.h"
#include "tests/fuzz/fuzz.h"
#include "tests/fuzz/guest_ram.h"
#include "virtio/virtqueue.h"

#define FLAG_INDIRECT	0x01
#define FLAG_EVENT_IDX	0x02
#define FLAG_MOVE	0x04	/* Xen replaces the mapping after the first pop */
#define FLAG_UNPOP	0x08	/* give the first chain back and pop it again */
#define FLAG_RAW	0x10	/* ring addresses as given: unaligned, outside RAM */
#define FLAG_REVOKE	0x20	/* Xen takes guest RAM away after the first pop */
#define MAX_POPS	512	/* of the first phase */
#define MAX_SERVED	256	/* of the last phase */

static struct {
	struct virtqueue vq;
	struct virtq_chain chain;
	uint16_t heads[MAX_POPS];
	uint64_t in_bytes[MAX_POPS];
} s;

static uint16_t ram16(uint64_t gpa)
{
	uint16_t v;

	memcpy(&v, guest_ram_at(gpa), sizeof(v));
	return le16toh(v);
}

static uint32_t ram32(uint64_t gpa)
{
	uint32_t v;

	memcpy(&v, guest_ram_at(gpa), sizeof(v));
	return le32toh(v);
}

static void check_chain(const struct virtq_chain *chain)
{
	uint64_t out = 0, in = 0;

	FUZZ_CHECK(chain->head < s.vq.size);
	FUZZ_CHECK(chain->nr_out <= VIRTQ_CHAIN_MAX_SEGMENTS && chain->nr_in <= VIRTQ_CHAIN_MAX_SEGMENTS);
	/* 2.7.5.3.1: no chain longer than the queue, indirect buffers included. */
	FUZZ_CHECK(chain->nr_out + chain->nr_in <= s.vq.size);
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

/* Reading the request copies what the readable buffers hold, and nothing more. */
static void check_read(const struct virtq_chain *chain)
{
	static uint8_t bytes[256];
	uint64_t want = chain->out_bytes < sizeof(bytes) ? chain->out_bytes : sizeof(bytes);

	FUZZ_CHECK(virtq_chain_read(chain, 0, bytes, sizeof(bytes)) == want);
	if (chain->nr_out)
		FUZZ_CHECK(!memcmp(bytes, chain->out[0].iov_base,
				   chain->out[0].iov_len < want ? chain->out[0].iov_len : want));
}

/* Would virtio_mem translate [gpa, gpa + len)? The rings' rule, computed here. */
static bool ring_ok(uint64_t gpa, uint64_t len, bool writable)
{
	uint64_t end = gpa + len;

	if (gpa < GUEST_RAM_BASE || end < gpa || end > GUEST_RAM_BASE + GUEST_RAM_SIZE)
		return false;
	if (gpa < GUEST_HOLE + GUEST_HOLE_SIZE && GUEST_HOLE < end)
		return false;
	return !(writable && gpa < GUEST_ROM + GUEST_ROM_SIZE && GUEST_ROM < end);
}

static bool layout_ok(const struct virtqueue *vq)
{
	return ring_ok(vq->desc_addr, 16ULL * vq->size, false) &&
	       ring_ok(vq->avail_addr, 6 + 2ULL * vq->size, false) &&
	       ring_ok(vq->used_addr, 6 + 8ULL * vq->size, true);
}

static void push(uint16_t head, uint32_t written)
{
	uint64_t elem = s.vq.used_addr + 4 + 8ULL * (s.vq.used_idx & (s.vq.size - 1));
	uint16_t used_idx = s.vq.used_idx;

	virtq_push(&s.vq, head, written);
	if (guest_ram_revoked()) {
		/* Nothing to write to: the push is dropped, and nobody is interrupted. */
		FUZZ_CHECK(s.vq.used_idx == used_idx && !virtq_should_interrupt(&s.vq));
		return;
	}
	FUZZ_CHECK(ram16(s.vq.used_addr + 2) == s.vq.used_idx);
	FUZZ_CHECK(ram32(elem) == head && ram32(elem + 4) == written);
}

/* Pop without pushing: exactly what the avail index offers, at most the queue size. */
static unsigned int pop_all(uint8_t flags, int *result)
{
	uint16_t offered = ram16(s.vq.avail_addr + 2);
	unsigned int n = 0;
	int ret;

	while ((ret = virtq_pop(&s.vq, &s.chain, "fuzz")) == 1) {
		check_chain(&s.chain);
		check_read(&s.chain);
		FUZZ_CHECK(n < s.vq.size && n < offered && s.vq.last_avail_idx == n + 1);
		s.heads[n] = s.chain.head;
		s.in_bytes[n] = s.chain.in_bytes;
		if (n == 0 && (flags & FLAG_UNPOP)) {
			unsigned int nr_out = s.chain.nr_out, nr_in = s.chain.nr_in;

			virtq_unpop(&s.vq);
			FUZZ_CHECK(virtq_pop(&s.vq, &s.chain, "fuzz") == 1);
			FUZZ_CHECK(s.chain.head == s.heads[0] && s.chain.nr_out == nr_out &&
				   s.chain.nr_in == nr_in && s.chain.in_bytes == s.in_bytes[0]);
		}
		if (n == 0 && (flags & FLAG_MOVE))
			guest_ram_move();
		if (n == 0 && (flags & FLAG_REVOKE))
			guest_ram_revoke();
		if (++n == MAX_POPS)
			break;
	}
	*result = ret;
	if (ret == 0)
		FUZZ_CHECK(n == offered);
	if (ret < 0 && guest_ram_revoked()) {
		FUZZ_CHECK(ret == -EFAULT && s.vq.last_avail_idx == n);
	} else if (ret < 0) {
		/* Nothing moved, and the same ring is refused again. */
		FUZZ_CHECK(ret == -EPROTO && s.vq.last_avail_idx == n);
		FUZZ_CHECK(virtq_pop(&s.vq, &s.chain, "fuzz") == -EPROTO);
	}
	return n;
}

/* What a driver does with buffers it got back: make them available again. */
static void offer_again(unsigned int popped)
{
	uint64_t avail = s.vq.avail_addr;
	uint16_t idx = ram16(avail + 2);

	for (unsigned int i = 0; i < popped; i++, idx++) {
		uint16_t head = htole16(s.heads[i]);

		memcpy(guest_ram_at(avail + 4 + 2ULL * (idx & (s.vq.size - 1))), &head, 2);
	}
	idx = htole16(idx);
	memcpy(guest_ram_at(avail + 2), &idx, 2);
}

/*
 * What a device does: pop, read the request, write the reply, push, maybe
 * interrupt. The replies may land on the rings (the guest laid them out).
 */
static void serve(void)
{
	static const uint8_t reply[256] = "reply";

	for (unsigned int n = 0; n < MAX_SERVED; n++) {
		uint64_t got, want;
		int ret = virtq_pop(&s.vq, &s.chain, "fuzz");

		if (ret != 1) {
			FUZZ_CHECK(ret == 0 || ret == -EPROTO);
			break;
		}
		check_chain(&s.chain);
		check_read(&s.chain);
		want = s.chain.in_bytes < sizeof(reply) ? s.chain.in_bytes : sizeof(reply);
		got = virtq_chain_write(&s.chain, 0, reply, sizeof(reply));
		FUZZ_CHECK(got == want);
		push(s.chain.head, (uint32_t)got);
		virtq_should_interrupt(&s.vq);
	}
	virtq_enable_notification(&s.vq);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	log_set_level(LOG_LEVEL_ERROR);
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fuzz_input in = { .data = data, .size = size };
	uint16_t queue_size = (uint16_t)(1u << (fuzz_u8(&in) % 16));
	uint8_t flags = fuzz_u8(&in);
	uint64_t addr[3];
	unsigned int popped;
	int ret;

	for (int i = 0; i < 3; i++) {
		addr[i] = fuzz_u32(&in);
		/* Raw: a little below RAM to far beyond it; else aligned, inside RAM. */
		if (flags & FLAG_RAW)
			addr[i] = GUEST_RAM_BASE - 0x100 + addr[i];
		else
			addr[i] = GUEST_RAM_BASE + (addr[i] % GUEST_RAM_SIZE & ~15ULL);
	}
	guest_ram_reset();
	while (!fuzz_done(&in)) {
		uint64_t off = fuzz_u32(&in) % GUEST_RAM_SIZE;
		uint64_t len = fuzz_u16(&in);

		fuzz_bytes(&in, guest_ram_at(GUEST_RAM_BASE + off),
			   len < GUEST_RAM_SIZE - off ? len : GUEST_RAM_SIZE - off);
	}

	s.vq = (struct virtqueue){
		.size = queue_size,
		.desc_addr = addr[0],
		.avail_addr = addr[1],
		.used_addr = addr[2],
		.indirect = flags & FLAG_INDIRECT,
		.event_idx = flags & FLAG_EVENT_IDX,
		.mem = &guest_ram,
	};
	ret = virtq_start(&s.vq);
	if (addr[0] % 16 || addr[1] % 2 || addr[2] % 4) {
		FUZZ_CHECK(ret == -EINVAL);
		return 0;
	}
	FUZZ_CHECK(ret == (layout_ok(&s.vq) ? 0 : -EFAULT));
	if (ret)
		return 0;

	popped = pop_all(flags, &ret);
	for (unsigned int i = 0; i < popped; i++) {
		push(s.heads[i], (uint32_t)(s.in_bytes[i] < 4096 ? s.in_bytes[i] : 4096));
		virtq_should_interrupt(&s.vq);
	}
	virtq_disable_notification(&s.vq);
	if (guest_ram_revoked()) {
		FUZZ_CHECK(!virtq_enable_notification(&s.vq));
	} else if (ret == 0) {
		offer_again(popped);
		serve();
	}
	virtq_stop(&s.vq);
	FUZZ_CHECK(virtq_pop(&s.vq, &s.chain, "fuzz") == 0);
	return 0;
}
