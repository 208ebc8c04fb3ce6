// SPDX-License-Identifier: GPL-2.0
/*
 * The test monitor's own self-test module: issues the RSI, CSM and extension
 * calls straight through SMC and checks the monitor's answers, printing
 * "MONPROBE <name> PASS|FAIL". Independent of csm.ko, so the monitor can be
 * checked before and apart from the driver's RSI backend.
 *   insmod mon_probe.ko role=single|provider|consumer
 */
#include <linux/arm-smccc.h>
#include <linux/delay.h>
#include <linux/gfp.h>
#include <linux/io.h>
#include <linux/module.h>
#include <linux/string.h>
#include <linux/umh.h>

static char *role = "single";
module_param(role, charp, 0444);

#define WIN_BASE	0x5c000000UL
#define FID_VERSION	0xc4000190UL
#define FID_MEAS_READ	0xc4000192UL
#define FID_MEAS_EXT	0xc4000193UL
#define FID_TOK_INIT	0xc4000194UL
#define FID_TOK_CONT	0xc4000195UL
#define FID_CONFIG	0xc4000196UL
#define FID_IPA_SET	0xc4000197UL
#define FID_IPA_GET	0xc4000198UL
#define FID_CREATE	0xc400019aUL
#define FID_SHARE	0xc400019bUL
#define FID_RESERVE	0xc400019cUL
#define FID_ATTACH	0xc400019dUL
#define FID_DETACH	0xc400019eUL
#define FID_REVOKE	0xc400019fUL
#define FID_DESTROY	0xc40001a0UL
#define FID_ALT_CREATE	0xc700019aUL
#define FID_TAG		0xc7000001UL
#define FID_STATUS	0xc7000002UL
#define FID_INJECT	0xc7000004UL
#define FID_RSTATUS	0xc7000005UL

static int failures;

static void result(const char *name, bool ok, const char *what, unsigned long a,
		   unsigned long b)
{
	pr_info("MONPROBE %s %s %s (%lx %lx)\n", name, ok ? "PASS" : "FAIL", what, a, b);
	if (!ok)
		failures++;
}

static struct arm_smccc_1_2_regs call(unsigned long fid, unsigned long a1, unsigned long a2,
				      unsigned long a3)
{
	struct arm_smccc_1_2_regs in = { .a0 = fid, .a1 = a1, .a2 = a2, .a3 = a3 };
	struct arm_smccc_1_2_regs out;

	arm_smccc_1_2_smc(&in, &out);
	return out;
}

static void basics(void)
{
	struct arm_smccc_1_2_regs r;
	unsigned long page;
	u8 *p;

	result("conduit", arm_smccc_1_1_get_conduit() == SMCCC_CONDUIT_SMC, "SMCCC conduit is SMC",
	       arm_smccc_1_1_get_conduit(), 0);
	r = call(FID_VERSION, 0x10000, 0, 0);
	result("abi_version", r.a0 == 0 && r.a1 == 0x10000 && r.a2 == 0x10000, "RSI 1.0", r.a0,
	       r.a1);
	r = call(FID_VERSION, 0x20000, 0, 0);
	result("abi_version_bad", r.a0 == 1, "2.0 refused", r.a0, r.a1);
	r = call(0xc4000fffUL, 0, 0, 0);
	result("unknown_fid", r.a0 == ~0UL, "SMC_UNKNOWN", r.a0, 0);
	page = get_zeroed_page(GFP_KERNEL);
	if (page) {
		p = (u8 *)page;
		r = call(FID_CONFIG, virt_to_phys(p), 0, 0);
		result("realm_config", r.a0 == 0 && *(u64 *)p == 32 && p[8] == 1 &&
		       !memcmp(p + 0x200, "csm-test-monitor", 16), "ipa_bits 32, sha-512, rpv",
		       r.a0, *(u64 *)p);
		free_page(page);
	}
	r = call(FID_CONFIG, 0x5c000000UL, 0, 0);
	result("realm_config_window", r.a0 == 1, "buffer outside RAM refused", r.a0, 0);
	r = call(FID_TAG, 0, 0, 0);
	pr_info("MONPROBE realm tag %lu\n", r.a1);
	r = call(FID_IPA_GET, 0x40000000UL, 0, 0);
	result("ripas_get", r.a0 == 0 && r.a1 == 1, "RAM page has RIPAS_RAM", r.a0, r.a1);
	r = call(FID_IPA_SET, 0x40000000UL, 0x40002000UL, 0);
	result("ripas_set", r.a0 == 0 && r.a1 == 0x40002000UL, "set to EMPTY, done to top", r.a0,
	       r.a1);
	r = call(FID_IPA_GET, 0x40001000UL, 0, 0);
	result("ripas_changed", r.a0 == 0 && r.a1 == 0, "RIPAS_EMPTY", r.a0, r.a1);
	r = call(FID_IPA_SET, 0x40000000UL, 0x40002000UL, 1);
	r = call(FID_IPA_SET, WIN_BASE, WIN_BASE + 0x1000, 1);
	result("ripas_outside", r.a0 == 1, "window is not guest RAM", r.a0, 0);
	r = call(FID_INJECT, FID_VERSION, ~0UL, 2);
	r = call(FID_VERSION, 0x10000, 0, 0);
	result("inject_unknown", r.a0 == ~0UL, "injected SMC_UNKNOWN", r.a0, 0);
	r = call(FID_INJECT, FID_VERSION, 1, 0);
	r = call(FID_VERSION, 0x10000, 0, 0);
	result("inject_cleared", r.a0 == 0, "count 0 clears the injection", r.a0, 0);
	r = call(FID_INJECT, FID_VERSION, 9, 1);
	result("inject_bad_status", r.a0 == 1, "status 9 refused", r.a0, 0);
}

static void attestation(void)
{
	struct arm_smccc_1_2_regs in = { .a0 = FID_MEAS_EXT, .a1 = 4, .a2 = 3, .a3 = 0x636261 };
	struct arm_smccc_1_2_regs r;
	unsigned long page, got = 0, tries = 0;
	u8 *p;

	arm_smccc_1_2_smc(&in, &r);
	result("measurement_extend", r.a0 == 0, "REM[4] extended by the signer", r.a0, 0);
	r = call(FID_MEAS_READ, 4, 0, 0);
	result("measurement_read", r.a0 == 0 && r.a1 == 0x25696f4cb8b68276UL &&
	       r.a2 == 0xbc990221ad96a845UL, "REM[4] = SHA-512(0^64 || abc)", r.a0,
	       r.a1);
	r = call(FID_TOK_CONT, 0x40000000UL, 0, 64);
	result("token_no_init", r.a0 == 2, "CONTINUE without INIT", r.a0, 0);
	r = call(FID_TOK_INIT, 0x1122334455667788UL, 0, 0);
	result("token_init", r.a0 == 0 && r.a1 == 4096, "upper bound 4096", r.a0, r.a1);
	page = get_zeroed_page(GFP_KERNEL);
	if (!page)
		return;
	p = (u8 *)page;
	do {
		r = call(FID_TOK_CONT, virt_to_phys(p), 0, 4096);
		got = r.a1;
		if (r.a0 == 3 && !got)
			msleep(20);
	} while (r.a0 == 3 && !got && ++tries < 500);
	/* A collection: CBOR tag 399 = 0xd9 0x01 0x8f. */
	result("token", r.a0 == 0 && got > 200 && p[0] == 0xd9 && p[1] == 0x01 && p[2] == 0x8f,
	       "CCA token collection", r.a0, got);
	print_hex_dump(KERN_INFO, "MONPROBE token ", DUMP_PREFIX_NONE, 64, 1, p, got > 4096 ? 0 : got,
		       false);
	free_page(page);
}

static void provider_calls(bool single)
{
	struct arm_smccc_1_2_regs r;
	unsigned long id, sid;
	void *va;

	r = call(FID_CREATE, 0, WIN_BASE, 0x2000);
	id = r.a1;
	result("create", r.a0 == 0 && id >= 1 && id <= 255, "region in the window", r.a0, id);
	va = memremap(WIN_BASE, 0x2000, MEMREMAP_WB);
	if (va) {
		result("create_zeroed", *(u64 *)va == 0, "pool pages zeroed", *(u64 *)va, 0);
		memset(va, 0x5a, 0x2000);
		result("create_rw", ((u8 *)va)[0x1fff] == 0x5a, "provider writes", 0, 0);
		memunmap(va);
	}
	r = call(FID_CREATE, 0, WIN_BASE + 0x1000, 0x1000);
	result("create_overlap", r.a0 == 1, "overlap refused", r.a0, 0);
	r = call(FID_CREATE, 0, WIN_BASE + 0x10, 0x1000);
	result("create_unaligned", r.a0 == 1, "unaligned refused", r.a0, 0);
	r = call(FID_CREATE, 0, 0x50000000UL, 0x1000);
	result("create_outside", r.a0 == 1, "outside the window refused", r.a0, 0);
	r = call(FID_SHARE, id, 1, 3);
	result("share_self", r.a0 == 1, "share with oneself refused", r.a0, 0);
	r = call(FID_SHARE, id, 2, 7);
	result("share_perm", r.a0 == 1, "bad perm refused", r.a0, 0);
	r = call(FID_SHARE, id, 2, single ? 3 : 2);
	sid = r.a1;
	result("share", r.a0 == 0 && sid == (id << 16 | 1 << 8 | 2), "sharing id", r.a0, sid);
	r = call(FID_SHARE, id, 2, 3);
	result("share_twice", r.a0 == 2, "second share refused", r.a0, 0);
	r = call(FID_STATUS, sid, 0, 0);
	result("share_status", r.a0 == 0 && r.a1 == 1, "granted", r.a0, r.a1);
	r = call(FID_INJECT, FID_DESTROY, 4, 1);
	result("inject", r.a0 == 0, "inject ERROR_UNKNOWN into DESTROY", r.a0, 0);
	r = call(FID_DESTROY, id, 0, 0);
	result("inject_hit", r.a0 == 4, "injected status", r.a0, 0);
	if (single) {
		r = call(FID_RESERVE, sid, WIN_BASE + 0x100000, 0x2000);
		result("reserve_not_consumer", r.a0 == 1, "provider cannot reserve", r.a0, 0);
	} else {
		unsigned long t;

		/* The consumer rings once it has attached, detached and attached again. */
		for (t = 0; t < 1200; t++) {
			r = call(FID_STATUS, sid, 0, 0);
			if (r.a3 >> 32)
				break;
			msleep(50);
		}
		result("peer_attached", r.a1 == 3 && (r.a3 >> 32) == 1,
		       "consumer VM attached and rang the doorbell", r.a1, r.a3);
	}
	r = call(FID_DESTROY, id, 0, 0);
	result("destroy_shared", r.a0 == 2, "destroy with a live share refused", r.a0, 0);
	r = call(FID_REVOKE, sid, 0, 0);
	result("revoke", r.a0 == 0, "revoke", r.a0, 0);
	r = call(FID_STATUS, sid, 0, 0);
	result("revoked_status", r.a0 == 0 && r.a1 == 4, "revoked", r.a0, r.a1);
	r = call(FID_DESTROY, id, 0, 0);
	result("destroy", r.a0 == 0, "destroy", r.a0, 0);
	r = call(FID_RSTATUS, id, 0, 0);
	result("region_status", r.a0 == 0 && r.a1 == 5, "destroyed", r.a0, r.a1);
	r = call(FID_ALT_CREATE, 0, WIN_BASE, 0x1000);
	result("alt_create", r.a0 == 0, "alt numbering", r.a0, r.a1);
	if (!r.a0) {
		/* First fit: the freed pages come back, and must come back zeroed. */
		va = memremap(WIN_BASE, 0x1000, MEMREMAP_WB);
		if (va) {
			result("freed_zeroed", !memchr_inv(va, 0, 0x1000), "reused pool page is zero",
			       0, 0);
			memunmap(va);
		}
		call(FID_DESTROY, r.a1, 0, 0);
	}
}

/*
 * The smoke program's user-space checks of a window page: "ro" (reads see
 * 0x5a, writes fault) or "gone" (reads fault). 0 when they hold.
 */
static int run_user_check(const char *mode, unsigned long pa)
{
	char prog[] = "/bin/csm-mon-smoke", path[] = "PATH=/bin", byte[] = "0x5a";
	char addr[24], mode_buf[8];
	char *argv[5], *envp[2];

	strscpy(mode_buf, mode, sizeof(mode_buf));
	snprintf(addr, sizeof(addr), "0x%lx", pa);
	argv[0] = prog;
	argv[1] = mode_buf;
	argv[2] = addr;
	argv[3] = strcmp(mode, "gone") ? byte : NULL;
	argv[4] = NULL;
	envp[0] = path;
	envp[1] = NULL;
	return call_usermodehelper(prog, argv, envp, UMH_WAIT_PROC);
}

/* VM B: the share of region 1 from realm 1 to realm 2 (read-only). */
static void consumer_calls(void)
{
	unsigned long sid = 1 << 16 | 1 << 8 | 2, idx, t;
	struct arm_smccc_1_2_regs r;
	void *va;
	int ret;

	for (t = 0; t < 600; t++) {
		r = call(FID_STATUS, sid, 0, 0);
		if (!r.a0 && r.a1 == 1)
			break;
		msleep(50);
	}
	result("c_granted", !r.a0 && r.a1 == 1 && r.a2 == 2, "share granted read-only", r.a0, r.a1);
	r = call(FID_RESERVE, sid, WIN_BASE + 0x200000, 0x1000);
	result("c_reserve_size", r.a0 == 1, "wrong size refused", r.a0, 0);
	r = call(FID_RESERVE, sid, WIN_BASE + 0x200000, 0x2000);
	idx = r.a2;
	result("c_reserve", r.a0 == 0, "reserve", r.a0, idx);
	r = call(FID_ATTACH, idx, 0, 0);
	result("c_attach", r.a0 == 0, "attach", r.a0, 0);
	va = memremap(WIN_BASE + 0x200000, 0x2000, MEMREMAP_WB);
	if (va) {
		result("c_reads", ((u8 *)va)[0] == 0x5a && ((u8 *)va)[0x1fff] == 0x5a,
		       "consumer sees the provider's bytes", ((u8 *)va)[0], 0);
		memunmap(va);
	}
	ret = run_user_check("ro", WIN_BASE + 0x200000);
	result("c_read_only", ret == 0, "user read sees 0x5a, user write gets SIGBUS", ret, 0);
	r = call(FID_DETACH, sid, 0, 0);
	result("c_detach", r.a0 == 0, "detach", r.a0, 0);
	r = call(FID_STATUS, sid, 0, 0);
	result("c_detached_status", r.a1 == 1, "granted again", r.a0, r.a1);
	/* Attach again and let the provider revoke: our monitor unmaps at our next SMC. */
	r = call(FID_RESERVE, sid, WIN_BASE + 0x200000, 0x2000);
	idx = r.a2;
	r = call(FID_ATTACH, idx, 0, 0);
	result("c_reattach", r.a0 == 0, "attach again", r.a0, 0);
	r = call(0xc7000003UL, sid, 1, 0);
	result("c_doorbell", r.a0 == 0, "doorbell to the provider", r.a0, 0);
	for (t = 0; t < 600; t++) {
		r = call(FID_STATUS, sid, 0, 0);
		if (r.a1 >= 4)
			break;
		msleep(50);
	}
	result("c_sees_revoke", r.a1 >= 4, "revoke seen through SHARE_STATUS", r.a0, r.a1);
	ret = run_user_check("gone", WIN_BASE + 0x200000);
	result("c_revoke_unmapped", ret == 0, "after that SMC a user read gets SIGBUS", ret, 0);
	r = call(FID_DETACH, sid, 0, 0);
	result("c_detach_revoked", r.a0 == 0, "detach after revoke", r.a0, 0);
}

static int __init mon_probe_init(void)
{
	basics();
	if (!strcmp(role, "single")) {
		attestation();
		provider_calls(true);
	} else if (!strcmp(role, "provider")) {
		provider_calls(false);
	} else {
		consumer_calls();
	}
	pr_info("MONPROBE DONE role=%s failures=%d\n", role, failures);
	return 0;
}

static void __exit mon_probe_exit(void)
{
}

module_init(mon_probe_init);
module_exit(mon_probe_exit);
MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("Self-test of the csm RSI test monitor (no confidentiality)");
