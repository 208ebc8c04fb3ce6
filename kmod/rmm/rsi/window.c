// SPDX-License-Identifier: GPL-2.0
/*
 * RSI backend: the CSM IPA window and its allocator.
 *
 * CSM memory is protected realm memory at IPAs the kernel never maps
 * itself: a reserved-memory node with compatible "arm,csm-window" (no-map),
 * or csm.rsi_window=<base>,<size>, as the CAEC guest reserves it. CSM_CREATE
 * and CSM_RESERVE name 4 KiB-aligned ranges of it; user mappings point at
 * those IPAs (kmod/mmap.c inserts the PFNs). Every IPA handed out is below
 * the shared (unprotected) IPA bit, BIT(ipa_bits - 1), and never carries it.
 */
#include <linux/bitmap.h>
#include <linux/ioport.h>
#include <linux/kernel.h>
#include <linux/mm.h>
#include <linux/moduleparam.h>
#include <linux/of.h>
#include <linux/of_address.h>
#include <linux/slab.h>

#include "rsi.h"

static char *rsi_window;
module_param(rsi_window, charp, 0444);
MODULE_PARM_DESC(rsi_window,
		 "CSM IPA window <base>,<size> (default: the \"arm,csm-window\" reserved-memory node)");

static int csm_rsi_window_param(u64 *base, u64 *size)
{
	char *end;

	*base = memparse(rsi_window, &end);
	if (*end != ',') {
		pr_err("csm: csm.rsi_window=%s: expected <base>,<size>\n",
		       rsi_window);
		return -EINVAL;
	}
	*size = memparse(end + 1, &end);
	if (*end && *end != '\n') {
		pr_err("csm: csm.rsi_window=%s: trailing characters\n", rsi_window);
		return -EINVAL;
	}
	return 0;
}

static int csm_rsi_window_node(u64 *base, u64 *size)
{
	struct device_node *np;
	struct resource res;
	int err;

	np = of_find_compatible_node(NULL, NULL, "arm,csm-window");
	if (!np) {
		pr_err("csm: no CSM window: no \"arm,csm-window\" reserved-memory node and no csm.rsi_window=\n");
		return -ENXIO;
	}
	err = of_address_to_resource(np, 0, &res);
	of_node_put(np);
	if (err) {
		pr_err("csm: the \"arm,csm-window\" node has no usable reg: %d\n", err);
		return err;
	}
	*base = res.start;
	*size = resource_size(&res);
	return 0;
}

/**
 * csm_rsi_window_find() - locate and check the CSM window, set up its map.
 * @rsi: the backend (ipa_bits known).
 *
 * Return: 0, or -EINVAL/-ENXIO/-ENOMEM with a log line saying what is wrong.
 */
int csm_rsi_window_find(struct csm_rsi *rsi)
{
	u64 base, size, shared_bit = 1ULL << (rsi->ipa_bits - 1);
	int err;

	err = rsi_window ? csm_rsi_window_param(&base, &size) :
			   csm_rsi_window_node(&base, &size);
	if (err)
		return err;
	if (!size || !IS_ALIGNED(base, CSM_RSI_GRANULE) ||
	    !IS_ALIGNED(size, CSM_RSI_GRANULE) || base + size < base) {
		pr_err("csm: CSM window %#llx+%#llx is not 4 KiB aligned and nonempty\n",
		       base, size);
		return -EINVAL;
	}
	if (base + size > shared_bit) {
		pr_err("csm: CSM window %#llx+%#llx reaches the shared IPA bit %#llx: CSM memory must be protected\n",
		       base, size, shared_bit);
		return -EINVAL;
	}
	/* The kernel must not map it (no-map): not System RAM. */
	if (region_intersects(base, size, IORESOURCE_SYSTEM_RAM,
			      IORES_DESC_NONE) != REGION_DISJOINT) {
		pr_err("csm: CSM window %#llx+%#llx overlaps System RAM: it must be no-map reserved memory\n",
		       base, size);
		return -EINVAL;
	}
	rsi->win_base = base;
	rsi->win_size = size;
	rsi->win_bits = size / CSM_RSI_GRANULE;
	rsi->win_map = bitmap_zalloc(rsi->win_bits, GFP_KERNEL);
	if (!rsi->win_map)
		return -ENOMEM;
	pr_info("csm: CSM window IPA %#llx..%#llx (%llu KiB)%s\n", base,
		base + size - 1, size >> 10,
		rsi_window ? " from csm.rsi_window" : " from the arm,csm-window node");
	return 0;
}

/* First fit of @size bytes; called with rsi->lock. */
int csm_rsi_window_alloc(struct csm_rsi *rsi, u64 size, u64 *base)
{
	unsigned long nr = size / CSM_RSI_GRANULE, start;

	lockdep_assert_held(&rsi->lock);
	if (!nr || size % CSM_RSI_GRANULE || nr > rsi->win_bits)
		return -ENOMEM;
	start = bitmap_find_next_zero_area(rsi->win_map, rsi->win_bits, 0, nr, 0);
	if (start >= rsi->win_bits)
		return -ENOMEM;
	bitmap_set(rsi->win_map, start, nr);
	*base = rsi->win_base + (u64)start * CSM_RSI_GRANULE;
	return 0;
}

/* Called with rsi->lock. */
void csm_rsi_window_free(struct csm_rsi *rsi, u64 base, u64 size)
{
	lockdep_assert_held(&rsi->lock);
	if (base < rsi->win_base || size > rsi->win_size ||
	    base - rsi->win_base > rsi->win_size - size)
		return;
	bitmap_clear(rsi->win_map, (base - rsi->win_base) / CSM_RSI_GRANULE,
		     size / CSM_RSI_GRANULE);
}
