// SPDX-License-Identifier: GPL-2.0
/*
 * RSI backend: binding and unbinding.
 *
 * At module load: find the RMM (detect.c), the CSM window (window.c), get
 * the attestation resources, and serve /dev/csm. When this is not a realm
 * the module falls back to the emulated RMM, or refuses to load with
 * csm.rsi_fallback=refuse. A realm we cannot serve (no window, bad
 * configuration) fails the load with the reason in the log.
 */
#include <crypto/hash.h>
#include <linux/bitmap.h>
#include <linux/gfp.h>
#include <linux/moduleparam.h>
#include <linux/slab.h>

#include <csm/uapi/csm.h>
#include "rsi.h"
#include "../backends.h"

static char *rsi_abi = "caec";
module_param(rsi_abi, charp, 0444);
MODULE_PARM_DESC(rsi_abi, "Numbering of the CSM calls: caec (default) or alt");

static char *rsi_fallback = "emulated";
module_param(rsi_fallback, charp, 0444);
MODULE_PARM_DESC(rsi_fallback,
		 "When this is not a realm: emulated (bind the emulated RMM, default) or refuse (fail the load)");

static struct csm_rsi *csm_rsi_the;

bool csm_rsi_fallback_allowed(void)
{
	if (sysfs_streq(rsi_fallback, "refuse"))
		return false;
	if (!sysfs_streq(rsi_fallback, "emulated"))
		pr_warn("csm: csm.rsi_fallback=%s is neither emulated nor refuse: using emulated\n",
			rsi_fallback);
	return true;
}

static void csm_rsi_free(struct csm_rsi *rsi)
{
	struct csm_rsi_region *reg, *rtmp;
	struct csm_rsi_share *s, *stmp;
	struct csm_rsi_attach *a, *atmp;

	list_for_each_entry_safe(s, stmp, &rsi->shares, link)
		kfree(s);
	list_for_each_entry_safe(reg, rtmp, &rsi->regions, link)
		kfree(reg);
	list_for_each_entry_safe(a, atmp, &rsi->attachments, link)
		kfree(a);
	if (!IS_ERR_OR_NULL(rsi->sha512))
		crypto_free_shash(rsi->sha512);
	free_page((unsigned long)rsi->bounce);
	bitmap_free(rsi->win_map);
	kfree(rsi);
}

static void csm_rsi_info(struct csm_rsi *rsi)
{
	struct csm_rmm_info *info = &rsi->rmm.info;

	info->backend = CSM_BACKEND_RSI;
	info->features = CSM_FEAT_READ_ONLY | CSM_FEAT_REVOKE_ZAP |
			 CSM_FEAT_FORCE_DESTROY | CSM_FEAT_LIST;
	if (!rsi->test_monitor)
		info->features |= CSM_FEAT_CONFIDENTIAL;
	if (rsi->sha512)
		info->features |= CSM_FEAT_ATTEST;
	if (rsi->abi->fid[CSM_RSI_EXT_DOORBELL] &&
	    rsi->abi->fid[CSM_RSI_EXT_SHARE_STATUS])
		info->features |= CSM_FEAT_DOORBELL;
	if (rsi->abi->fid[CSM_RSI_EXT_SHARE_STATUS])
		info->features |= CSM_FEAT_EVENTS;
	/* mmap cookies keep a region below 4 GiB; the RMM caps it further. */
	info->max_region_size = min_t(u64, rsi->win_size, 1ULL << 31);
	info->max_regions = 255;
	info->max_shares = 255;
	info->name = rsi->test_monitor ? "rsi (csm test monitor: NO confidentiality)" :
					 "rsi (Arm CCA realm, CSM-capable RMM)";
}

/**
 * csm_rsi_init() - bind the RSI backend if this kernel runs in a realm.
 *
 * Return: 0 when /dev/csm is served over RSI; -ENODEV when this is not a
 * realm (the caller may fall back); another errno when it is a realm that
 * cannot be served.
 */
int csm_rsi_init(void)
{
	struct csm_rsi *rsi;
	int err;

	rsi = kzalloc(sizeof(*rsi), GFP_KERNEL);
	if (!rsi)
		return -ENOMEM;
	mutex_init(&rsi->lock);
	mutex_init(&rsi->attest_lock);
	INIT_LIST_HEAD(&rsi->regions);
	INIT_LIST_HEAD(&rsi->shares);
	INIT_LIST_HEAD(&rsi->attachments);
	INIT_DELAYED_WORK(&rsi->poll, csm_rsi_poll_work);
	rsi->abi = csm_rsi_abi_select(rsi_abi);
	if (!rsi->abi) {
		pr_err("csm: csm.rsi_abi=%s: unknown ABI table (caec or alt)\n",
		       rsi_abi);
		err = -EINVAL;
		goto err_free;
	}
	err = csm_rsi_probe_rmm(rsi);
	if (err)
		goto err_free;
	pr_info("csm: realm found; CSM calls numbered by ABI table \"%s\"\n",
		rsi->abi->name);
	err = csm_rsi_window_find(rsi);
	if (err)
		goto err_free;
	rsi->bounce = (void *)get_zeroed_page(GFP_KERNEL);
	if (!rsi->bounce) {
		err = -ENOMEM;
		goto err_free;
	}
	rsi->sha512 = crypto_alloc_shash("sha512", 0, 0);
	if (IS_ERR(rsi->sha512)) {
		pr_warn("csm: no sha512 in the kernel crypto API (%ld; load sha512_generic first): attestation disabled\n",
			PTR_ERR(rsi->sha512));
		rsi->sha512 = NULL;
	}
	rsi->rmm.ops = &csm_rsi_ops;
	csm_rsi_info(rsi);
	csm_rsi_debugfs_init(rsi);
	err = csm_core_register(&rsi->rmm);
	if (err) {
		csm_rsi_debugfs_exit(rsi);
		goto err_free;
	}
	csm_rsi_the = rsi;
	pr_info("csm: RSI backend: realm tag %llu, window %llu KiB, poll period in csm.rsi_poll_ms%s\n",
		rsi->realm_tag, rsi->win_size >> 10,
		rsi->test_monitor ?
		"; the RMM is the csm TEST MONITOR: NO CONFIDENTIALITY, it only exercises this driver" : "");
	return 0;

err_free:
	csm_rsi_free(rsi);
	return err;
}

void csm_rsi_exit(void)
{
	struct csm_rsi *rsi = csm_rsi_the;
	struct csm_rsi_region *reg;
	struct csm_rsi_attach *a;
	unsigned int left = 0;

	if (!rsi)
		return;
	mutex_lock(&rsi->lock);
	rsi->stopping = true;
	mutex_unlock(&rsi->lock);
	cancel_delayed_work_sync(&rsi->poll);
	csm_core_unregister(&rsi->rmm);
	/* Every file is closed by now; settle what the RMM is still owed. */
	mutex_lock(&rsi->lock);
	csm_rsi_retry_owed(rsi);
	list_for_each_entry(reg, &rsi->regions, link)
		left++;
	list_for_each_entry(a, &rsi->attachments, link)
		left++;
	mutex_unlock(&rsi->lock);
	if (left)
		pr_info("csm: rsi: %u regions/attachments still held by the RMM at unload\n",
			left);
	csm_rsi_debugfs_exit(rsi);
	csm_rsi_free(rsi);
	csm_rsi_the = NULL;
}
