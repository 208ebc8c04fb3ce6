/* SPDX-License-Identifier: GPL-2.0 */
/* The RMM backends the module can bind, in the order it tries them. */
#ifndef CSM_RMM_BACKENDS_H
#define CSM_RMM_BACKENDS_H

#include <linux/pci.h>

/* rmm/rsi/detect.c: 0 if this kernel runs in a realm with an RMM. */
int csm_rsi_detect(void);

/* rmm/emulated/pci.c */
extern struct pci_driver csm_emu_driver;

#endif /* CSM_RMM_BACKENDS_H */
