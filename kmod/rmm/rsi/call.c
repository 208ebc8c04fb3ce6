// SPDX-License-Identifier: GPL-2.0
/*
 * RSI backend: issuing one call, and what every RSI status means here.
 *
 *   SUCCESS        0
 *   ERROR_INPUT    -EINVAL (the RMM disagrees with arguments we checked)
 *   ERROR_STATE    per call: CSM_SHARE -EEXIST, CSM_REVOKE -EALREADY,
 *                  CSM_DESTROY -EBUSY, token CONTINUE -EPROTO, else -EBUSY
 *   INCOMPLETE     retried (bounded), then -EAGAIN; the attestation loop
 *                  takes it itself (CSM_RSI_NO_RETRY)
 *   ERROR_UNKNOWN  -EIO
 *   -1 (no such FID) -EOPNOTSUPP
 *   anything else  -EPROTO
 * Every status other than SUCCESS is logged with the call, its FID and the
 * errno; with csm.rsi_log_calls=1 (the test suites set it) successful
 * control calls are logged too, so the kernel log shows the RSI calls a
 * test made. Off by default: on a real realm that is noise.
 */
#include <linux/delay.h>
#include <linux/err.h>
#include <linux/moduleparam.h>
#include <linux/printk.h>
#include <linux/ratelimit.h>

#include "rsi.h"

static bool rsi_log_calls;
module_param(rsi_log_calls, bool, 0644);
MODULE_PARM_DESC(rsi_log_calls,
		 "Also log successful RSI control calls (default 0; failures always are)");

#define CSM_RSI_INCOMPLETE_RETRIES	8

/*
 * Call lines are rate limited generously: a test that injects every status
 * must see each line, a misbehaving RMM must not flood the log.
 */
static DEFINE_RATELIMIT_STATE(csm_rsi_fail_rs, 5 * HZ, 200);
static DEFINE_RATELIMIT_STATE(csm_rsi_ok_rs, 5 * HZ, 400);
#define csm_rsi_log(rs, fmt, ...)					\
	do {								\
		if (__ratelimit(rs))					\
			pr_info(fmt, ##__VA_ARGS__);			\
	} while (0)

#if IS_ENABLED(CONFIG_ARM64)
#include <linux/arm-smccc.h>

bool csm_rsi_smc_possible(void)
{
	return arm_smccc_1_1_get_conduit() == SMCCC_CONDUIT_SMC;
}

/* SMC64: x0 FID, x1..x10 arguments; x0 status, x1..x8 results. */
void csm_rsi_smc(struct csm_rsi_regs *r)
{
	struct arm_smccc_1_2_regs in = {
		.a0 = r->x[0], .a1 = r->x[1], .a2 = r->x[2], .a3 = r->x[3],
		.a4 = r->x[4], .a5 = r->x[5], .a6 = r->x[6], .a7 = r->x[7],
		.a8 = r->x[8], .a9 = r->x[9], .a10 = r->x[10],
	};
	struct arm_smccc_1_2_regs out;

	arm_smccc_1_2_smc(&in, &out);
	r->x[0] = out.a0;
	r->x[1] = out.a1;
	r->x[2] = out.a2;
	r->x[3] = out.a3;
	r->x[4] = out.a4;
	r->x[5] = out.a5;
	r->x[6] = out.a6;
	r->x[7] = out.a7;
	r->x[8] = out.a8;
}
#else
bool csm_rsi_smc_possible(void)
{
	return false;
}

/* Not arm64: there is no RMM to call; answer like one that lacks the FID. */
void csm_rsi_smc(struct csm_rsi_regs *r)
{
	r->x[0] = CSM_RSI_UNKNOWN_FID;
}
#endif

static int csm_rsi_errno(enum csm_rsi_fn fn, unsigned long status)
{
	switch (status) {
	case CSM_RSI_SUCCESS:
		return 0;
	case CSM_RSI_ERROR_INPUT:
		return -EINVAL;
	case CSM_RSI_ERROR_STATE:
		switch (fn) {
		case CSM_RSI_CSM_SHARE:
			return -EEXIST;
		case CSM_RSI_CSM_REVOKE:
			return -EALREADY;
		case CSM_RSI_ATTEST_CONTINUE:
			return -EPROTO;
		default:
			return -EBUSY;
		}
	case CSM_RSI_INCOMPLETE:
		return -EAGAIN;
	case CSM_RSI_ERROR_UNKNOWN:
		return -EIO;
	case CSM_RSI_UNKNOWN_FID:
		return -EOPNOTSUPP;
	default:
		return -EPROTO;
	}
}

static unsigned int csm_rsi_status_slot(unsigned long status)
{
	return status <= CSM_RSI_ERROR_UNKNOWN ? status : 5;
}

/**
 * csm_rsi_call() - issue @fn with arguments @r->x[1..10].
 * @rsi: the backend (for the ABI table and counters).
 * @fn: which call.
 * @r: in: arguments; out: status in x[0], results in x[1..8].
 * @flags: CSM_RSI_QUIET, CSM_RSI_NO_RETRY.
 *
 * Must not be called before csm_rsi_smc_possible() said yes.
 *
 * Return: 0 or the errno of the status (see the table at the top); with
 * CSM_RSI_NO_RETRY, INCOMPLETE is -EAGAIN straight away.
 */
int csm_rsi_call(struct csm_rsi *rsi, enum csm_rsi_fn fn,
		 struct csm_rsi_regs *r, unsigned int flags)
{
	const struct csm_rsi_regs in = *r;
	u32 fid = rsi->abi->fid[fn];
	unsigned long status;
	unsigned int tries;
	int err;

	if (!fid) {
		pr_info_ratelimited("csm: rsi: %s has no FID in ABI table %s: not issued\n",
				    csm_rsi_fn_name[fn], rsi->abi->name);
		return -EOPNOTSUPP;
	}
	for (tries = 0;; tries++) {
		*r = in;
		r->x[0] = fid;
		csm_rsi_smc(r);
		status = r->x[0];
		atomic64_inc(&rsi->calls[fn]);
		atomic64_inc(&rsi->status_count[fn][csm_rsi_status_slot(status)]);
		if (status != CSM_RSI_INCOMPLETE || (flags & CSM_RSI_NO_RETRY) ||
		    tries >= CSM_RSI_INCOMPLETE_RETRIES)
			break;
		atomic64_inc(&rsi->incomplete_retries);
		csm_rsi_log(&csm_rsi_fail_rs,
			    "csm: rsi: %s (%#x) -> INCOMPLETE: retry %u of %u\n",
			    csm_rsi_fn_name[fn], fid, tries + 1,
			    CSM_RSI_INCOMPLETE_RETRIES);
		usleep_range(100, 200);
	}
	err = csm_rsi_errno(fn, status);
	if (err && !(status == CSM_RSI_INCOMPLETE && (flags & CSM_RSI_NO_RETRY))) {
		csm_rsi_log(&csm_rsi_fail_rs,
			    "csm: rsi: %s (%#x) x1=%#lx x2=%#lx x3=%#lx -> %s (%#lx): %pe\n",
			    csm_rsi_fn_name[fn], fid, in.x[1], in.x[2], in.x[3],
			    csm_rsi_status_name(status), status, ERR_PTR(err));
	} else if (!err && rsi_log_calls && !(flags & CSM_RSI_QUIET)) {
		csm_rsi_log(&csm_rsi_ok_rs,
			    "csm: rsi: %s (%#x) x1=%#lx x2=%#lx x3=%#lx -> SUCCESS x1=%#lx x2=%#lx\n",
			    csm_rsi_fn_name[fn], fid, in.x[1], in.x[2], in.x[3],
			    r->x[1], r->x[2]);
	}
	return err;
}
