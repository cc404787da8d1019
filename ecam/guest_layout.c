// SPDX-License-Identifier: MIT
/*
 * ecam/guest_layout.c: validation of the host bridge's windows against the
 * Arm guest memory map that Xen builds (xen/include/public/arch-arm.h,
 * Xen 4.17 to 4.21: the values below have not changed in that range).
 */
#include "ecam/guest_layout.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>

#define MiB (1ULL << 20)
#define GiB (1ULL << 30)

struct reserved_range {
	uint64_t base;
	uint64_t size;
	const char *what;
};

/* What Xen puts in every Arm guest's physical address space (arch-arm.h). */
static const struct reserved_range reserved_ranges[] = {
	{ 0x02000000ULL, 0x00100000ULL, "the virtio-mmio window (GUEST_VIRTIO_MMIO)" },
	{ 0x03001000ULL, 0x00010000ULL, "the guest GIC distributor (GUEST_GICV3_GICD)" },
	{ 0x03020000ULL, 0x01000000ULL, "the guest GIC redistributors (GUEST_GICV3_GICR0)" },
	{ 0x20000000ULL, 0x02000000ULL, "the ACPI tables area (GUEST_ACPI)" },
	{ 0x22000000ULL, 0x00001000ULL, "the emulated PL011 (GUEST_PL011)" },
	{ 0x38000000ULL, 0x01000000ULL, "the grant-table area (GUEST_GNTTAB)" },
	{ 0x39000000ULL, 0x01000000ULL, "the magic pages (GUEST_MAGIC)" },
	{ 0x40000000ULL, 0xc0000000ULL, "guest RAM bank 0 (GUEST_RAM0)" },
	{ 0x200000000ULL, 0xfe00000000ULL, "guest RAM bank 1 (GUEST_RAM1)" },
};

/* SPIs Xen itself gives Arm guests (arch-arm.h GUEST_VPL011_SPI, GUEST_VIRTIO_MMIO_SPI_*). */
#define RESERVED_SPI_FIRST 32
#define RESERVED_SPI_LAST  43

void guest_layout_default(struct guest_layout *layout)
{
	layout->ecam = (struct guest_window){ GUEST_LAYOUT_ECAM_BASE, GUEST_LAYOUT_ECAM_SIZE };
	layout->mmio = (struct guest_window){ GUEST_LAYOUT_MMIO_BASE, GUEST_LAYOUT_MMIO_SIZE };
	layout->mmio64 = (struct guest_window){ GUEST_LAYOUT_MMIO64_BASE, GUEST_LAYOUT_MMIO64_SIZE };
	layout->intx_spi = GUEST_LAYOUT_INTX_SPI;
}

unsigned int guest_layout_bus_count(const struct guest_layout *layout)
{
	return (unsigned int)(layout->ecam.size / MiB);
}

static bool ranges_overlap(uint64_t a_base, uint64_t a_size, uint64_t b_base, uint64_t b_size)
{
	/* Both ranges are known not to wrap. */
	return a_base < b_base + b_size && b_base < a_base + a_size;
}

struct named_window {
	const char *option;
	const struct guest_window *window;
};

static int check_shape(const struct named_window *w, char *why, size_t why_len)
{
	uint64_t base = w->window->base, size = w->window->size;

	if (size == 0) {
		snprintf(why, why_len, "%s 0x%llx,0x%llx: the size is zero", w->option,
			 (unsigned long long)base, (unsigned long long)size);
		return -EINVAL;
	}
	if ((base | size) & 0xfff) {
		snprintf(why, why_len, "%s 0x%llx,0x%llx: base and size must be multiples of 4 KiB",
			 w->option, (unsigned long long)base, (unsigned long long)size);
		return -EINVAL;
	}
	if (base + size < base || base + size > GUEST_LAYOUT_IPA_LIMIT) {
		snprintf(why, why_len, "%s 0x%llx,0x%llx: ends beyond the 48-bit guest physical address space",
			 w->option, (unsigned long long)base, (unsigned long long)size);
		return -EINVAL;
	}
	return 0;
}

static int check_ecam(const struct guest_window *ecam, char *why, size_t why_len)
{
	/* PCIe Base 5.0, 7.2.2: one bus is 1 MiB of ECAM, at most 256 buses. */
	if ((ecam->base | ecam->size) & (MiB - 1) || ecam->size > 256 * MiB) {
		snprintf(why, why_len,
			 "--ecam 0x%llx,0x%llx: base and size must be multiples of 1 MiB and the size at most 256 MiB (256 buses)",
			 (unsigned long long)ecam->base, (unsigned long long)ecam->size);
		return -EINVAL;
	}
	return 0;
}

static int check_reserved(const struct named_window *w, char *why, size_t why_len)
{
	for (size_t i = 0; i < sizeof(reserved_ranges) / sizeof(reserved_ranges[0]); i++) {
		const struct reserved_range *r = &reserved_ranges[i];

		if (!ranges_overlap(w->window->base, w->window->size, r->base, r->size))
			continue;
		snprintf(why, why_len, "%s 0x%llx,0x%llx overlaps %s at 0x%llx-0x%llx",
			 w->option, (unsigned long long)w->window->base,
			 (unsigned long long)w->window->size, r->what,
			 (unsigned long long)r->base, (unsigned long long)(r->base + r->size - 1));
		return -EINVAL;
	}
	return 0;
}

static int check_spis(unsigned int first, char *why, size_t why_len)
{
	/* 64-bit, so that a huge @first cannot wrap past the upper bound. */
	uint64_t last = (uint64_t)first + GUEST_LAYOUT_INTX_LINES - 1;

	if (first < GUEST_LAYOUT_SPI_MIN || last > GUEST_LAYOUT_SPI_MAX) {
		snprintf(why, why_len, "--intx-spi %u: the four INTx SPIs %u..%llu must lie in %u..%u",
			 first, first, (unsigned long long)last, GUEST_LAYOUT_SPI_MIN,
			 GUEST_LAYOUT_SPI_MAX);
		return -EINVAL;
	}
	if (first <= RESERVED_SPI_LAST && last >= RESERVED_SPI_FIRST) {
		snprintf(why, why_len,
			 "--intx-spi %u: SPIs %u..%llu overlap %u..%u, which Xen gives the guest's PL011 and virtio-mmio devices",
			 first, first, (unsigned long long)last, RESERVED_SPI_FIRST, RESERVED_SPI_LAST);
		return -EINVAL;
	}
	return 0;
}

int guest_layout_validate(const struct guest_layout *layout, char *why, size_t why_len)
{
	const struct named_window windows[] = {
		{ "--ecam", &layout->ecam },
		{ "--mmio", &layout->mmio },
		{ "--mmio64", &layout->mmio64 },
	};
	const size_t n = sizeof(windows) / sizeof(windows[0]);
	int ret;

	for (size_t i = 0; i < n; i++) {
		ret = check_shape(&windows[i], why, why_len);
		if (ret)
			return ret;
	}
	ret = check_ecam(&layout->ecam, why, why_len);
	if (ret)
		return ret;
	/* 32-bit BARs and the 0x02000000 ranges entry can only address the low 4 GiB. */
	if (layout->mmio.base + layout->mmio.size > 4 * GiB) {
		snprintf(why, why_len, "--mmio 0x%llx,0x%llx: the 32-bit window must end at or below 4 GiB",
			 (unsigned long long)layout->mmio.base, (unsigned long long)layout->mmio.size);
		return -EINVAL;
	}
	for (size_t i = 0; i < n; i++) {
		for (size_t j = i + 1; j < n; j++) {
			if (!ranges_overlap(windows[i].window->base, windows[i].window->size,
					    windows[j].window->base, windows[j].window->size))
				continue;
			snprintf(why, why_len, "%s 0x%llx,0x%llx overlaps %s 0x%llx,0x%llx",
				 windows[i].option, (unsigned long long)windows[i].window->base,
				 (unsigned long long)windows[i].window->size, windows[j].option,
				 (unsigned long long)windows[j].window->base,
				 (unsigned long long)windows[j].window->size);
			return -EINVAL;
		}
		ret = check_reserved(&windows[i], why, why_len);
		if (ret)
			return ret;
	}
	return check_spis(layout->intx_spi, why, why_len);
}
