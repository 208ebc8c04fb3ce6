// SPDX-License-Identifier: GPL-2.0
/*
 * RSI backend: the ABI tables. Every FID the backend issues comes from the
 * table chosen with csm.rsi_abi=, never from a constant elsewhere: the CAEC
 * numbers clash with RMM 1.1 and with virtCCA, so another RMM may need
 * another numbering (shared/reference/caec-abi.md).
 */
#include <linux/kernel.h>
#include <linux/string.h>

#include "rsi.h"

const char *const csm_rsi_fn_name[CSM_RSI_NR_FN] = {
	[CSM_RSI_ABI_VERSION] = "RSI_ABI_VERSION",
	[CSM_RSI_FEATURES] = "RSI_FEATURES",
	[CSM_RSI_MEASUREMENT_READ] = "RSI_MEASUREMENT_READ",
	[CSM_RSI_ATTEST_INIT] = "RSI_ATTESTATION_TOKEN_INIT",
	[CSM_RSI_ATTEST_CONTINUE] = "RSI_ATTESTATION_TOKEN_CONTINUE",
	[CSM_RSI_REALM_CONFIG] = "RSI_REALM_CONFIG",
	[CSM_RSI_CSM_CREATE] = "CSM_CREATE",
	[CSM_RSI_CSM_SHARE] = "CSM_SHARE",
	[CSM_RSI_CSM_RESERVE] = "CSM_RESERVE",
	[CSM_RSI_CSM_ATTACH] = "CSM_ATTACH",
	[CSM_RSI_CSM_DETACH] = "CSM_DETACH_AND_FREE",
	[CSM_RSI_CSM_REVOKE] = "CSM_REVOKE",
	[CSM_RSI_CSM_DESTROY] = "CSM_DESTROY",
	[CSM_RSI_EXT_REALM_TAG] = "CSM_EXT_REALM_TAG",
	[CSM_RSI_EXT_SHARE_STATUS] = "CSM_EXT_SHARE_STATUS",
	[CSM_RSI_EXT_DOORBELL] = "CSM_EXT_DOORBELL",
	[CSM_RSI_EXT_INJECT] = "CSM_EXT_INJECT",
	[CSM_RSI_EXT_REGION_STATUS] = "CSM_EXT_REGION_STATUS",
};

/* Standard RSI (Arm CCA RMM 1.0): the same in every table. */
#define CSM_RSI_STANDARD_FIDS					\
	[CSM_RSI_ABI_VERSION] = 0xC4000190,			\
	[CSM_RSI_FEATURES] = 0xC4000191,			\
	[CSM_RSI_MEASUREMENT_READ] = 0xC4000192,		\
	[CSM_RSI_ATTEST_INIT] = 0xC4000194,			\
	[CSM_RSI_ATTEST_CONTINUE] = 0xC4000195,			\
	[CSM_RSI_REALM_CONFIG] = 0xC4000196

static const struct csm_rsi_abi csm_rsi_abis[] = {
	{
		/*
		 * The published CAEC RMM (comet-cc/RMM-CAEC). The extension
		 * calls are csm's proposal, at vendor-specific FIDs (OEN 7).
		 */
		.name = "caec",
		.fid = {
			CSM_RSI_STANDARD_FIDS,
			[CSM_RSI_CSM_CREATE] = 0xC400019A,
			[CSM_RSI_CSM_SHARE] = 0xC400019B,
			[CSM_RSI_CSM_RESERVE] = 0xC400019C,
			[CSM_RSI_CSM_ATTACH] = 0xC400019D,
			[CSM_RSI_CSM_DETACH] = 0xC400019E,
			[CSM_RSI_CSM_REVOKE] = 0xC400019F,
			[CSM_RSI_CSM_DESTROY] = 0xC40001A0,
			[CSM_RSI_EXT_REALM_TAG] = 0xC7000001,
			[CSM_RSI_EXT_SHARE_STATUS] = 0xC7000002,
			[CSM_RSI_EXT_DOORBELL] = 0xC7000003,
			[CSM_RSI_EXT_INJECT] = 0xC7000004,
			[CSM_RSI_EXT_REGION_STATUS] = 0xC7000005,
		},
	},
	{
		/* The same calls renumbered out of RMM 1.1's way. */
		.name = "alt",
		.fid = {
			CSM_RSI_STANDARD_FIDS,
			[CSM_RSI_CSM_CREATE] = 0xC700019A,
			[CSM_RSI_CSM_SHARE] = 0xC700019B,
			[CSM_RSI_CSM_RESERVE] = 0xC700019C,
			[CSM_RSI_CSM_ATTACH] = 0xC700019D,
			[CSM_RSI_CSM_DETACH] = 0xC700019E,
			[CSM_RSI_CSM_REVOKE] = 0xC700019F,
			[CSM_RSI_CSM_DESTROY] = 0xC70001A0,
			[CSM_RSI_EXT_REALM_TAG] = 0xC7000001,
			[CSM_RSI_EXT_SHARE_STATUS] = 0xC7000002,
			[CSM_RSI_EXT_DOORBELL] = 0xC7000003,
			[CSM_RSI_EXT_INJECT] = 0xC7000004,
			[CSM_RSI_EXT_REGION_STATUS] = 0xC7000005,
		},
	},
};

/* The table called @name, or NULL. */
const struct csm_rsi_abi *csm_rsi_abi_select(const char *name)
{
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(csm_rsi_abis); i++)
		if (sysfs_streq(name, csm_rsi_abis[i].name))
			return &csm_rsi_abis[i];
	return NULL;
}

const char *csm_rsi_status_name(unsigned long status)
{
	switch (status) {
	case CSM_RSI_SUCCESS:
		return "SUCCESS";
	case CSM_RSI_ERROR_INPUT:
		return "ERROR_INPUT";
	case CSM_RSI_ERROR_STATE:
		return "ERROR_STATE";
	case CSM_RSI_INCOMPLETE:
		return "INCOMPLETE";
	case CSM_RSI_ERROR_UNKNOWN:
		return "ERROR_UNKNOWN";
	case CSM_RSI_UNKNOWN_FID:
		return "NOT_SUPPORTED (-1, unknown FID)";
	default:
		return "unexpected status";
	}
}
