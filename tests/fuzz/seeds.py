#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""tests/fuzz/seeds.py: write the hand-made seed inputs of each fuzz target
under tests/fuzz/corpus/<target>/seed-*, so that fuzzing starts from valid
operations. Each input follows the format its target's header comment
describes. Run from anywhere; it rewrites only seed-* files.
"""
import os
import struct

HERE = os.path.dirname(os.path.abspath(__file__))
RAM = 0x40000000


def u8(v): return struct.pack('<B', v)
def u16(v): return struct.pack('<H', v)
def u32(v): return struct.pack('<I', v)
def u64(v): return struct.pack('<Q', v)


# ---- fuzz_ecam: op bytes, see run_op(); offsets see pick_offset()

def how(which, header=False):
    """pick_offset() selector: function @which (4: the bridge), bit 7 clear."""
    for h in range(0x80):
        if h % 5 == which and bool(h & 0x40) == header:
            return h
    raise ValueError


def e_write(which, reg, size, value):
    return u8(0) + u8(how(which)) + u16(reg) + u8(size - 1) + u64(value)


def e_read(which, reg, size):
    return u8(1) + u8(how(which)) + u16(reg) + u8(size - 1)


def e_add(fn, bus, devfn): return u8(2) + u8(fn) + u8(bus) + u8(devfn)
def e_remove(fn): return u8(3) + u8(fn)
def e_intx(fn, pending): return u8(4) + u8(fn) + u8(pending)
def e_program(fn, bar, window, slot): return u8(5) + u8(fn) + u8(bar) + u8(window) + u16(slot)


ECAM = {
    # A driver enumerates, sizes and places BARs, takes interrupts; a function leaves.
    'seed-enumerate': e_add(0, 0, 0x08) + e_add(1, 0, 0x09) + e_add(3, 1, 0x00) +
        e_read(4, 0, 4) + e_read(0, 0, 4) + e_read(0, 0x0e, 1) + e_read(1, 0x34, 1) +
        e_write(0, 0x10, 4, 0xffffffff) + e_read(0, 0x10, 4) +
        e_program(0, 0, 0, 1) + e_program(0, 2, 1, 3) + e_program(1, 0, 1, 1) +
        e_program(3, 3, 0, 9) + e_read(1, 0x60, 4) + e_intx(0, 1) + e_intx(0, 1) +
        e_write(0, 0x04, 2, 0x0406) + e_intx(0, 0) + e_remove(1) + u8(7),
    # BARs on top of each other and of the ECAM window, failed routing, odd accesses.
    'seed-overlap': e_add(0, 0, 0x10) + e_add(3, 0, 0x18) +
        e_program(0, 0, 0, 0x100) + e_program(3, 3, 0, 0x100) + e_program(0, 1, 0, 0x10) +
        u8(6) + u8(1) + e_write(3, 0x1c, 4, 0x20000000) + u8(7) +
        e_write(0, 0x13, 1, 0xff) + e_write(0, 0x10, 8, 0x30000000) + e_read(0, 0x02, 3) +
        e_remove(0) + e_add(0, 2, 0x00) + e_add(2, 0, 0x00) + e_add(2, 0, 0x11),
}

# ---- fuzz_virtio_pci: device header, then op bytes, see run_op()

COMMON, ISR, DEVICE, NOTIFY = 0, 1, 2, 3
SIZE_CODE = {1: 0, 2: 1, 4: 2, 8: 3}


def v_device(queues=1, size_exp=3, config_size=8, features=0x1, high=0):
    return u8(queues - 1) + u8(size_exp) + u16(config_size) + u32(features) + u8(high)


def v_write(region, off, size, value):
    return u8(0) + u8(SIZE_CODE[size]) + u8(region) + u8(off) + u64(value)


def v_read(region, off, size):
    return u8(1) + u8(SIZE_CODE[size]) + u8(region) + u8(off)


def v_cfg_write(cap_off, size, value):   # relative to VIRTIO_PCI_CAP_PCI_CFG
    return u8(2) + u8(0x80) + u8(cap_off) + u8(SIZE_CODE[size]) + u32(value)


def v_cfg_read(cap_off, size):
    return u8(3) + u8(0x80) + u8(cap_off) + u8(SIZE_CODE[size])


def v_poke(off, data): return u8(4) + u32(off) + u8(len(data)) + data
def v_setup(index, size_exp, desc, avail, used):
    return u8(7) + u8(index) + u8(size_exp) + u16(desc // 16) + u16(avail // 16) + u16(used // 16)
def v_negotiate(features, steps): return u8(8) + u64(features) + u8(steps)
def v_notify(index): return u8(9) + u8(index)


def desc(addr, length, flags, nxt=0): return u64(addr) + u32(length) + u16(flags) + u16(nxt)


RING = v_poke(0x1000, desc(RAM + 0x8000, 64, 2)) + v_poke(0x2000, u16(0) + u16(1) + u16(0))
VIRTIO = {
    # Linux's order: negotiate, set up the queue, DRIVER_OK, a request, the interrupt, reset.
    'seed-driver': v_device() + v_negotiate(1 << 32, 2) + v_setup(0, 3, 0x1000, 0x2000, 0x3000) +
        v_write(COMMON, 0x14, 1, 0x0f) + RING + v_notify(0) + v_read(ISR, 0, 1) +
        v_read(COMMON, 0x14, 1) + v_read(DEVICE, 0, 4) + v_write(DEVICE, 4, 4, 7) +
        u8(6) + u8(1) + v_write(COMMON, 0x14, 1, 0) + v_read(COMMON, 0x14, 1) +
        u8(6) + u8(0) + v_read(COMMON, 0x14, 1),
    # The same request through the VIRTIO_PCI_CAP_PCI_CFG window, memory moving meanwhile.
    'seed-pci-cfg': v_device(2, 4, 0) + v_negotiate((1 << 32) | (1 << 28) | (1 << 29), 3) +
        v_setup(1, 2, 0x1000, 0x2000, 0x3000) + RING + u8(5) +
        v_cfg_write(4, 1, 0) + v_cfg_write(8, 4, 0x3004) + v_cfg_write(12, 4, 2) +
        v_cfg_write(16, 4, 0) + v_cfg_write(8, 4, 0x0012) + v_cfg_read(16, 4),
    # A driver that breaks the rules: features not offered, DRIVER_OK first, bad queues.
    'seed-hostile': v_device(1, 8, 64, 0xffffff, 0x0c) + v_write(COMMON, 0x14, 1, 3) +
        v_write(COMMON, 0x08, 4, 1) + v_write(COMMON, 0x0c, 4, 0xffffffff) +
        v_write(COMMON, 0x14, 1, 0x0b) + v_read(COMMON, 0x14, 1) + v_write(COMMON, 0x14, 1, 0x07) +
        v_setup(0, 15, 0xff000, 0xe0000, 0xf0000) + v_write(COMMON, 0x15, 2, 1) +
        v_write(COMMON, 0x20, 8, RAM + 1) + v_notify(5) + u8(10) + u8(0),
}

# ---- fuzz_virtqueue: size exponent, flags, three ring offsets, RAM

F_NEXT, F_WRITE, F_INDIRECT = 1, 2, 4


def ram(layout):
    """@layout: {offset: bytes}, as chunks: offset, length, bytes."""
    return b''.join(u32(off) + u16(len(b)) + b for off, b in layout.items())


def vq(size_exp, flags, layout, rings=(0x000, 0x040, 0x080)):
    return u8(size_exp) + u8(flags) + b''.join(u32(r) for r in rings) + ram(layout)


def avail(*heads, used_event=0):
    return u16(0) + u16(len(heads)) + b''.join(u16(h) for h in heads) + u16(used_event)


CHAINS = {
    0x000: desc(RAM + 0x100, 16, F_NEXT, 1) + desc(RAM + 0x200, 512, F_NEXT | F_WRITE, 2) +
           desc(RAM + 0x110, 1, F_WRITE) + desc(RAM + 0x400, 64, F_WRITE),
    0x040: avail(0, 3), 0x100: u32(0) + u32(0) + u64(8)}
VIRTQUEUE = {
    # Two block-like chains: header, data, status; then a lone writable buffer.
    'seed-chains': vq(2, 0, CHAINS),
    # The same, and Xen takes guest RAM away after the first.
    'seed-revoked': vq(2, 0x20, CHAINS),
    # An indirect table, EVENT_IDX, the mapping moves, a chain given back.
    'seed-indirect': vq(3, 0x0f, {
        0x000: desc(RAM + 0x0c0, 48, F_INDIRECT) + desc(RAM + 0x300, 8, 0),
        0x080: avail(0, 1, used_event=1),
        0x0c0: desc(RAM + 0x100, 16, F_NEXT, 1) + desc(RAM + 0x200, 256, F_NEXT | F_WRITE, 2) +
               desc(RAM + 0x110, 1, F_WRITE)}, rings=(0x000, 0x080, 0x800)),
    # Broken rings: a loop, then (raw addresses) a used ring in read-only RAM.
    'seed-loop': vq(2, 0, {0x000: desc(RAM + 0x100, 16, F_NEXT, 0), 0x040: avail(0)}),
    'seed-rom-used': vq(2, 0x10, {0x000: b'\0'}, rings=(0x100, 0x140, 0xf0100)),
    # Buffers beyond the queue size through an indirect table.
    'seed-too-long': vq(1, 0x01, {
        0x000: desc(RAM + 0x100, 16, F_NEXT, 1) + desc(RAM + 0x0c0, 32, F_INDIRECT),
        0x040: avail(0, 0),
        0x0c0: desc(RAM + 0x110, 16, F_NEXT, 1) + desc(RAM + 0x120, 1, F_WRITE)}),
    # The descriptor table at the very end of RAM, its buffers in read-only RAM.
    'seed-ram-end': vq(1, 0, {
        0xfffe0: desc(RAM + 0xf0000, 16, F_NEXT, 1) + desc(RAM + 0xf0010, 16, 0),
        0x40: avail(0)}, rings=(0xfffe0, 0x040, 0x080)),
}

# ---- fuzz_blk_request: limits, buffer counts, buffers, an iov_slice query


def limits(capacity=2048, readonly=False, align_shift=0, seg_max=8, discard=64, zeroes=64):
    return (u8((0x40 if readonly else 0) | align_shift) + u16(capacity) + u8(seg_max - 1) +
            u32(discard) + u32(zeroes))


def buf(data, length=None):
    length = length or len(data)
    return u16(length - 1) + data[:64].ljust(min(length, 64), b'\0')


def header(kind, sector): return u32(kind) + u32(0) + u64(sector)


def blk(lim, outs, ins, query=(0, 64, 4)):
    return (lim + u8(len(outs)) + u8(len(ins)) + b''.join(outs) + b''.join(ins) +
            u16(query[0]) + u16(query[1]) + u8(query[2]))


STATUS = buf(b'\xff')
BLK = {
    'seed-read': blk(limits(), [buf(header(0, 8))], [buf(b'', 512), buf(b'', 512), STATUS]),
    'seed-write': blk(limits(align_shift=1), [buf(header(1, 16)), buf(b'x' * 64, 4096)], [STATUS],
                      query=(16, 100, 1)),
    'seed-discard': blk(limits(), [buf(header(11, 0)), buf(u64(100) + u32(8) + u32(0))], [STATUS]),
    'seed-write-zeroes': blk(limits(readonly=False), [buf(header(13, 0) + u64(5) + u32(3) + u32(1))],
                             [STATUS]),
    'seed-get-id': blk(limits(readonly=True), [buf(header(8, 0))], [buf(b'', 20), STATUS]),
    'seed-flush': blk(limits(), [buf(header(4, 0))], [STATUS]),
}

def worker(from_worker, version, type_, request, value, seq=0, payload=b'', nfds=0, length=None):
    length = len(payload) if length is None else length
    return (u8(from_worker | nfds << 1) + u16(version) + u16(type_) + u32(request) + u64(value) +
            u32(seq) + u32(length) + payload)


WORKER = {
    'seed-clear-stale': worker(1, 2, 1, 0, 0),
    'seed-server-created': worker(1, 2, 2, 0, 7),
    'seed-functions-changed': worker(1, 2, 3, 0, 0),
    'seed-stopping': worker(1, 2, 4, 0, 0),
    'seed-ack': worker(0, 2, 5, 1, 16),
    'seed-ack-from-worker': worker(1, 2, 5, 1, 0),
    'seed-too-long': worker(1, 2, 1, 0, 0, payload=b'\0', length=0),
    'seed-short': u8(1) + u16(2) + u16(1),
    'seed-nbd-connect': worker(1, 2, 7, 0, 3, seq=1),
    'seed-nbd-connect-answer': worker(0, 2, 6, 7, 0, seq=1, nfds=1),
    'seed-payload': worker(1, 2, 4, 0, 0, payload=b'spec', nfds=2),
    'seed-version-1': worker(1, 1, 1, 0, 0),
}


def main():
    for target, seeds in (('fuzz_ecam', ECAM), ('fuzz_virtio_pci', VIRTIO),
                          ('fuzz_virtqueue', VIRTQUEUE), ('fuzz_blk_request', BLK),
                          ('fuzz_worker_protocol', WORKER)):
        directory = os.path.join(HERE, 'corpus', target)
        os.makedirs(directory, exist_ok=True)
        for name, data in seeds.items():
            with open(os.path.join(directory, name), 'wb') as f:
                f.write(data)


if __name__ == '__main__':
    main()
