// SPDX-License-Identifier: MIT
/*
 * ecam/bar_routing.c: which BARs decode, and asking the platform to route
 * them.
 *
 * The guest programs BAR addresses; it may put them anywhere, on top of each
 * other or of the ECAM window. A BAR is routed only where that cannot hurt:
 * with Memory Space Enable set (PCI 3.0, 6.2.2), wholly inside one BAR
 * window, clear of the ECAM window and of every other BAR that would
 * decode. Two BARs that overlap both stay unrouted, so the outcome does not
 * depend on which one the guest programmed first.
 */
#include <inttypes.h>
#include <string.h>

#include "ecam/host_bridge.h"
#include "lib/log.h"

enum bar_decision {
	BAR_DISABLED,		/* not implemented, or Memory Space off */
	BAR_DECODES,
	BAR_OUTSIDE_WINDOWS,
	BAR_OVER_ECAM,
	BAR_OVER_OTHER_BAR,
};

static const char *const refusal_reasons[] = {
	[BAR_OUTSIDE_WINDOWS] = "not wholly inside a BAR window",
	[BAR_OVER_ECAM] = "overlaps the ECAM window",
	[BAR_OVER_OTHER_BAR] = "overlaps another BAR",
};

/* Both ranges are non-empty and do not wrap. */
static bool ranges_overlap(uint64_t a, uint64_t a_size, uint64_t b, uint64_t b_size)
{
	return a <= b + (b_size - 1) && b <= a + (a_size - 1);
}

/* @window does not wrap (checked at create), so neither does a range inside it. */
static bool inside_window(const struct ecam_window *window, uint64_t base, uint64_t size)
{
	return base >= window->base && base - window->base < window->size &&
	       size <= window->size - (base - window->base);
}

static bool memory_enabled(const struct pci_function *fn)
{
	return pci_config_get16(&fn->config, PCI_COMMAND) & PCI_COMMAND_MEMORY;
}

/* Where @bar would decode if it were the only BAR. */
static enum bar_decision decide_alone(const struct ecam_host *host, const struct pci_function *fn,
				      unsigned int bar, uint64_t *base)
{
	const struct ecam_host_config *config = &host->config;
	uint64_t size = fn->bars[bar].size;
	bool inside = false;

	if (!size || !memory_enabled(fn))
		return BAR_DISABLED;
	*base = pci_function_bar_address(fn, bar);
	for (unsigned int i = 0; i < config->nr_bar_windows; i++)
		inside |= inside_window(&config->bar_windows[i], *base, size);
	if (!inside)
		return BAR_OUTSIDE_WINDOWS;
	if (ranges_overlap(*base, size, config->ecam.base, config->ecam.size))
		return BAR_OVER_ECAM;
	return BAR_DECODES;
}

static bool overlaps_other_bar(const struct ecam_host *host, const struct pci_function *fn,
			       unsigned int bar, uint64_t base)
{
	for (size_t i = 0; i < host->nr_functions; i++) {
		const struct pci_function *other = host->functions[i];

		for (unsigned int other_bar = 0; other_bar < PCI_NUM_BARS; other_bar++) {
			uint64_t other_base;

			if (other == fn && other_bar == bar)
				continue;
			if (decide_alone(host, other, other_bar, &other_base) == BAR_DECODES &&
			    ranges_overlap(base, fn->bars[bar].size,
					   other_base, other->bars[other_bar].size))
				return true;
		}
	}
	return false;
}

static enum bar_decision decide(const struct ecam_host *host, const struct pci_function *fn,
				unsigned int bar, uint64_t *base)
{
	enum bar_decision decision = decide_alone(host, fn, bar, base);

	if (decision == BAR_DECODES && overlaps_other_bar(host, fn, bar, *base))
		return BAR_OVER_OTHER_BAR;
	return decision;
}

static void unmap_bar(struct ecam_host *host, struct pci_function *fn, unsigned int bar)
{
	struct pci_bar *b = &fn->bars[bar];

	host->ops->unmap_bar(host->opaque, fn, bar, b->mapped_base, b->size);
	b->mapped = false;
}

static void map_bar(struct ecam_host *host, struct pci_function *fn, unsigned int bar,
		    uint64_t base)
{
	struct pci_bar *b = &fn->bars[bar];
	int ret;

	ret = host->ops->map_bar(host->opaque, fn, bar, base, b->size);
	if (ret < 0) {
		log_ratelimited(&host->log, LOG_LEVEL_WARN,
				"%s: BAR %u at 0x%" PRIx64 " size 0x%" PRIx64 ": routing failed: %s",
				fn->name, bar, base, b->size, strerror(-ret));
		return;
	}
	b->mapped = true;
	b->mapped_base = base;
}

/* One line per refused placement, however often the BARs are re-evaluated. */
static void note_refusal(struct ecam_host *host, struct pci_function *fn, unsigned int bar,
			 enum bar_decision decision, uint64_t base)
{
	struct pci_bar *b = &fn->bars[bar];

	if (decision == BAR_DISABLED || decision == BAR_DECODES) {
		b->refusal_logged = false;
		return;
	}
	if (b->refusal_logged && b->refused_base == base)
		return;
	b->refusal_logged = true;
	b->refused_base = base;
	log_ratelimited(&host->log, LOG_LEVEL_WARN,
			"%s: BAR %u at 0x%" PRIx64 " size 0x%" PRIx64 " not routed: %s",
			fn->name, bar, base, b->size, refusal_reasons[decision]);
}

void ecam_host_update_bars(struct ecam_host *host)
{
	if (!host)
		return;
	/*
	 * Unmap first, so that a BAR moving into a range another has just left
	 * is never routed on top of it, even for a moment.
	 */
	for (size_t i = 0; i < host->nr_functions; i++) {
		struct pci_function *fn = host->functions[i];

		for (unsigned int bar = 0; bar < PCI_NUM_BARS; bar++) {
			uint64_t base = 0;

			if (fn->bars[bar].mapped &&
			    (decide(host, fn, bar, &base) != BAR_DECODES ||
			     base != fn->bars[bar].mapped_base))
				unmap_bar(host, fn, bar);
		}
	}
	for (size_t i = 0; i < host->nr_functions; i++) {
		struct pci_function *fn = host->functions[i];

		for (unsigned int bar = 0; bar < PCI_NUM_BARS; bar++) {
			uint64_t base = 0;
			enum bar_decision decision = decide(host, fn, bar, &base);

			if (decision == BAR_DECODES && !fn->bars[bar].mapped)
				map_bar(host, fn, bar, base);
			note_refusal(host, fn, bar, decision, base);
		}
	}
}

void ecam_host_unmap_function_bars(struct ecam_host *host, struct pci_function *fn)
{
	for (unsigned int bar = 0; bar < PCI_NUM_BARS; bar++) {
		if (fn->bars[bar].mapped)
			unmap_bar(host, fn, bar);
		fn->bars[bar].refusal_logged = false;
	}
}
