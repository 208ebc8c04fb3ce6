// SPDX-License-Identifier: GPL-2.0
/*
 * RSI backend, part one: is there an RMM below us at all?
 *
 * An SMC from a guest that has no EL3 firmware is an undefined instruction,
 * so nothing is issued unless the SMCCC conduit is SMC. The RSI calls
 * themselves (ABI version, CSM calls) arrive with the RSI backend; until
 * then a realm is reported and the emulated backend is used.
 */
#include <linux/errno.h>
#include <linux/printk.h>

#include "../backends.h"

#if IS_ENABLED(CONFIG_ARM64)
#include <linux/arm-smccc.h>

int csm_rsi_detect(void)
{
	enum arm_smccc_conduit conduit = arm_smccc_1_1_get_conduit();

	if (conduit != SMCCC_CONDUIT_SMC) {
		pr_info("csm: not a realm (SMCCC conduit is %s, not SMC): no RSI calls issued\n",
			conduit == SMCCC_CONDUIT_HVC ? "HVC" : "none");
		return -ENODEV;
	}
	pr_info("csm: SMCCC conduit is SMC, but the RSI backend is not built yet\n");
	return -EOPNOTSUPP;
}
#else
int csm_rsi_detect(void)
{
	pr_info("csm: not an arm64 kernel: no realm, no RSI\n");
	return -ENODEV;
}
#endif
