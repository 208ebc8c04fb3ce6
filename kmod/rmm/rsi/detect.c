// SPDX-License-Identifier: GPL-2.0
/*
 * RSI backend: is there an RMM below us, and what does it say about us?
 *
 * An SMC from a guest that has no EL3 firmware is an undefined instruction,
 * so nothing is issued unless the SMCCC conduit is SMC. Then
 * RSI_ABI_VERSION must accept 1.0; anything else is "not a realm" and the
 * module falls back (or refuses, csm.rsi_fallback=refuse).
 */
#include <linux/errno.h>
#include <linux/gfp.h>
#include <linux/io.h>
#include <linux/mm.h>
#include <linux/moduleparam.h>
#include <linux/printk.h>
#include <linux/string.h>

#include "rsi.h"

#if IS_ENABLED(CONFIG_ARM64)
#include <linux/arm-smccc.h>
#endif

static unsigned int rsi_realm_tag;
module_param(rsi_realm_tag, uint, 0444);
MODULE_PARM_DESC(rsi_realm_tag,
		 "This realm's CSM tag (1..255) when the RMM has no CSM_EXT_REALM_TAG");

#define CSM_RSI_CONFIG_IPA_BITS		0x000
#define CSM_RSI_CONFIG_HASH_ALGO	0x008
#define CSM_RSI_CONFIG_RPV		0x200
#define CSM_RSI_TEST_MONITOR_RPV	"csm-test-monitor"

static const char *csm_rsi_conduit_name(void)
{
#if IS_ENABLED(CONFIG_ARM64)
	switch (arm_smccc_1_1_get_conduit()) {
	case SMCCC_CONDUIT_HVC:
		return "HVC";
	case SMCCC_CONDUIT_SMC:
		return "SMC";
	default:
		return "none";
	}
#else
	return "none";
#endif
}

static int csm_rsi_version(struct csm_rsi *rsi)
{
	struct csm_rsi_regs r = { .x[1] = CSM_RSI_ABI_1_0 };
	int err = csm_rsi_call(rsi, CSM_RSI_ABI_VERSION, &r, 0);

	if (err == -EOPNOTSUPP) {
		pr_info("csm: not a realm (the SMC firmware does not know RSI_ABI_VERSION)\n");
		return -ENODEV;
	}
	if (err || r.x[1] > CSM_RSI_ABI_1_0 || r.x[2] < CSM_RSI_ABI_1_0) {
		pr_info("csm: not a usable realm: the RMM does not support RSI 1.0 (status %#lx, lowest %lu.%lu, highest %lu.%lu)\n",
			r.x[0], r.x[1] >> 16, r.x[1] & 0xffff, r.x[2] >> 16,
			r.x[2] & 0xffff);
		return -ENODEV;
	}
	pr_info("csm: RMM speaks RSI %lu.%lu..%lu.%lu; using 1.0\n",
		r.x[1] >> 16, r.x[1] & 0xffff, r.x[2] >> 16, r.x[2] & 0xffff);
	return 0;
}

static int csm_rsi_realm_config(struct csm_rsi *rsi)
{
	struct csm_rsi_regs r = {};
	u8 *cfg;
	int err;

	/* A granule of guest RAM the RMM writes (4 KiB aligned). */
	BUILD_BUG_ON(PAGE_SIZE < CSM_RSI_GRANULE);
	cfg = (u8 *)get_zeroed_page(GFP_KERNEL);
	if (!cfg)
		return -ENOMEM;
	r.x[1] = virt_to_phys(cfg);
	err = csm_rsi_call(rsi, CSM_RSI_REALM_CONFIG, &r, 0);
	if (!err) {
		memcpy(&rsi->ipa_bits, cfg + CSM_RSI_CONFIG_IPA_BITS, sizeof(u64));
		rsi->hash_algo = cfg[CSM_RSI_CONFIG_HASH_ALGO];
		memcpy(rsi->rpv, cfg + CSM_RSI_CONFIG_RPV, sizeof(rsi->rpv));
	}
	free_page((unsigned long)cfg);
	if (err)
		return err;
	if (rsi->ipa_bits < 16 || rsi->ipa_bits > 52) {
		pr_err("csm: RSI_REALM_CONFIG gave ipa_bits %llu: refusing\n",
		       rsi->ipa_bits);
		return -EPROTO;
	}
	rsi->test_monitor = !memcmp(rsi->rpv, CSM_RSI_TEST_MONITOR_RPV,
				    sizeof(CSM_RSI_TEST_MONITOR_RPV)) &&
			    !memchr_inv(rsi->rpv + sizeof(CSM_RSI_TEST_MONITOR_RPV),
					0, sizeof(rsi->rpv) -
					sizeof(CSM_RSI_TEST_MONITOR_RPV));
	pr_info("csm: realm config: ipa_bits %llu (shared IPA bit %#llx, never used for CSM), hash algo %u, RPV %*phN%s\n",
		rsi->ipa_bits, 1ULL << (rsi->ipa_bits - 1), rsi->hash_algo,
		16, rsi->rpv, rsi->test_monitor ? " (csm test monitor)" : "");
	return 0;
}

static int csm_rsi_tag(struct csm_rsi *rsi)
{
	struct csm_rsi_regs r = {};
	int err = csm_rsi_call(rsi, CSM_RSI_EXT_REALM_TAG, &r, 0);

	if (!err) {
		rsi->realm_tag = r.x[1];
	} else if (err == -EOPNOTSUPP) {
		rsi->realm_tag = rsi_realm_tag;
		pr_info("csm: the RMM has no CSM_EXT_REALM_TAG: realm tag %llu from csm.rsi_realm_tag\n",
			rsi->realm_tag);
	} else {
		return err;
	}
	if (!rsi->realm_tag || rsi->realm_tag > 255) {
		pr_err("csm: realm tag %llu is not 1..255 (set csm.rsi_realm_tag=)\n",
		       rsi->realm_tag);
		return -EINVAL;
	}
	return 0;
}

/**
 * csm_rsi_probe_rmm() - find the RMM and learn this realm's parameters.
 * @rsi: the backend, with its ABI table chosen.
 *
 * Return: 0; -ENODEV when this is not a realm we can serve (no SMC
 * conduit, no RSI, no RSI 1.0); another errno when it is a realm but its
 * configuration is unusable.
 */
int csm_rsi_probe_rmm(struct csm_rsi *rsi)
{
	struct csm_rsi_regs r = {};
	int err;

	if (!IS_ENABLED(CONFIG_ARM64)) {
		pr_info("csm: not an arm64 kernel: no realm, no RSI calls issued\n");
		return -ENODEV;
	}
	if (!csm_rsi_smc_possible()) {
		pr_info("csm: not a realm (SMCCC conduit is %s, not SMC): no RSI calls issued\n",
			csm_rsi_conduit_name());
		return -ENODEV;
	}
	err = csm_rsi_version(rsi);
	if (err)
		return err;
	err = csm_rsi_call(rsi, CSM_RSI_FEATURES, &r, 0);
	if (err)
		return err;
	rsi->features = r.x[1];
	err = csm_rsi_realm_config(rsi);
	if (err)
		return err;
	return csm_rsi_tag(rsi);
}
