// SPDX-License-Identifier: GPL-2.0
/*
 * csm: confidential shared memory between realms, /dev/csm.
 *
 * On a realm with a CSM-capable RMM the RSI backend serves /dev/csm (later
 * issue); everywhere else the emulated-RMM backend binds to an ivshmem
 * device shared by the VMs, which gives NO confidentiality.
 */
#include <linux/module.h>
#include <linux/pci.h>

#include "../rmm/backends.h"

static int __init csm_init(void)
{
	csm_rsi_detect();
	return pci_register_driver(&csm_emu_driver);
}

static void __exit csm_exit(void)
{
	pci_unregister_driver(&csm_emu_driver);
}

module_init(csm_init);
module_exit(csm_exit);
MODULE_DESCRIPTION("Confidential shared memory (CSM) between realms; emulated RMM over ivshmem gives no confidentiality");
MODULE_LICENSE("GPL");
