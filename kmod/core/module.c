// SPDX-License-Identifier: GPL-2.0
/*
 * csm: confidential shared memory between realms, /dev/csm.
 *
 * In a realm with a CSM-capable RMM the RSI backend serves /dev/csm. When
 * this kernel is not a realm, the emulated-RMM backend binds to an ivshmem
 * device shared by the VMs (NO confidentiality), unless
 * csm.rsi_fallback=refuse.
 */
#include <linux/module.h>
#include <linux/pci.h>

#include <csm/uapi/csm.h>
#include "../rmm/backends.h"

static bool csm_emu_registered;

static int __init csm_init(void)
{
	int ret;

	/*
	 * Regions are granule-sized and granule-aligned, and mappings insert
	 * one page per granule: with larger pages a mapping would reach into
	 * the neighbouring region.
	 */
	if (PAGE_SIZE != CSM_GRANULE_SIZE) {
		pr_err("csm: needs %u-byte pages (the RMM granule), this kernel has %lu: not loading\n",
		       CSM_GRANULE_SIZE, PAGE_SIZE);
		return -EOPNOTSUPP;
	}
	ret = csm_rsi_init();
	if (ret != -ENODEV)
		return ret;	/* served over RSI, or a realm we cannot serve */
	if (!csm_rsi_fallback_allowed()) {
		pr_err("csm: not a realm and csm.rsi_fallback=refuse: not loading\n");
		return -ENODEV;
	}
	ret = pci_register_driver(&csm_emu_driver);
	csm_emu_registered = !ret;
	return ret;
}

static void __exit csm_exit(void)
{
	if (csm_emu_registered)
		pci_unregister_driver(&csm_emu_driver);
	csm_rsi_exit();
}

module_init(csm_init);
module_exit(csm_exit);
MODULE_DESCRIPTION("Confidential shared memory (CSM) between realms; emulated RMM over ivshmem gives no confidentiality");
MODULE_LICENSE("GPL");
