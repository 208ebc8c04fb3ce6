// SPDX-License-Identifier: GPL-2.0
/*
 * RSI backend: an RMM has no upcalls, so changes made by other realms
 * (attach, detach, revoke, destroy, doorbells) are learnt by polling
 * CSM_EXT_SHARE_STATUS for every share we provide or attached, every
 * csm.rsi_poll_ms while there are any. A change queues the core's rescan
 * (events, zapping) or doorbell work. Each poll is also an RMM entry, which
 * is when a test monitor applies a peer's revocation to this realm.
 */
#include <linux/jiffies.h>
#include <linux/moduleparam.h>

#include "rsi.h"

static unsigned int rsi_poll_ms = 5;
module_param(rsi_poll_ms, uint, 0644);
MODULE_PARM_DESC(rsi_poll_ms, "Period of the RSI share-status poll in ms (1..1000, default 5)");

static unsigned long csm_rsi_poll_delay(void)
{
	return msecs_to_jiffies(clamp(READ_ONCE(rsi_poll_ms), 1U, 1000U));
}

/* Make sure a poll is scheduled (called with rsi->lock). */
void csm_rsi_poll_kick(struct csm_rsi *rsi)
{
	lockdep_assert_held(&rsi->lock);
	if (!rsi->stopping)
		queue_delayed_work(system_wq, &rsi->poll, csm_rsi_poll_delay());
}

void csm_rsi_poll_work(struct work_struct *work)
{
	struct csm_rsi *rsi = container_of(to_delayed_work(work),
					   struct csm_rsi, poll);
	bool changed = false, rang = false, active = false;
	struct csm_rsi_attach *a;
	struct csm_rsi_share *s;
	struct csm_rsi_region *reg;
	u32 state, perm, rc, rp;
	int err;

	mutex_lock(&rsi->lock);
	if (rsi->stopping)
		goto out;
	list_for_each_entry(s, &rsi->shares, link) {
		active = true;
		err = csm_rsi_share_state(rsi, s->id, &state, &perm, &rc, &rp);
		if (err == -EINVAL) {
			changed = true;		/* gone: the rescan sorts it out */
			continue;
		}
		if (err)
			continue;
		changed |= state != s->last_state;
		rang |= rp != s->last_rings;
		s->last_state = state;
		s->last_rings = rp;
	}
	list_for_each_entry(a, &rsi->attachments, link) {
		if (!a->attached)
			continue;
		active = true;
		err = csm_rsi_share_state(rsi, a->share_id, &state, &perm, &rc, &rp);
		if (err == -EINVAL) {
			changed = true;
			continue;
		}
		if (err)
			continue;
		changed |= state != a->last_state;
		rang |= rc != a->last_rings;
		a->last_state = state;
		a->last_rings = rc;
	}
	csm_rsi_retry_owed(rsi);
	list_for_each_entry(reg, &rsi->regions, link)
		active |= reg->zombie;
	list_for_each_entry(a, &rsi->attachments, link)
		active |= a->detach_owed;
	if (active)
		queue_delayed_work(system_wq, &rsi->poll, csm_rsi_poll_delay());
out:
	mutex_unlock(&rsi->lock);
	if (changed)
		csm_core_notify(&rsi->rmm);
	if (rang)
		csm_core_doorbell(&rsi->rmm);
}
