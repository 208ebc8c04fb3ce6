/* SPDX-License-Identifier: GPL-2.0 */
/* The RMM backends the module can bind, in the order it tries them. */
#ifndef CSM_RMM_BACKENDS_H
#define CSM_RMM_BACKENDS_H

#include <linux/pci.h>

/*
 * rmm/rsi/backend.c: 0 when the RSI backend serves /dev/csm, -ENODEV when
 * this kernel is not a realm, another errno for a realm it cannot serve.
 */
int csm_rsi_init(void);
void csm_rsi_exit(void);
/* csm.rsi_fallback: may the emulated RMM bind when this is not a realm? */
bool csm_rsi_fallback_allowed(void);

/* rmm/emulated/pci.c */
extern struct pci_driver csm_emu_driver;

#endif /* CSM_RMM_BACKENDS_H */
