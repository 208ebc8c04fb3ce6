// SPDX-License-Identifier: GPL-2.0
/*
 * Emulated RMM: noticing that a peer realm (VM) died.
 *
 * ivshmem tells QEMU, not the guest, when a peer leaves, so every realm
 * bumps a heartbeat word in its realm slot and watches the others'. A realm
 * whose heartbeat stands still for peer_timeout_ms is declared gone: its
 * regions are torn down for their consumers, its attachments released, and
 * stale IDs answer ENOLINK. A realm that finds itself declared gone (it was
 * paused too long) rejoins with nothing.
 */
#include <linux/jiffies.h>
#include <linux/moduleparam.h>

#include <csm/uapi/csm.h>
#include "emu.h"

static unsigned int peer_timeout_ms = 5000;
module_param(peer_timeout_ms, uint, 0644);
MODULE_PARM_DESC(peer_timeout_ms, "declare a peer VM gone after this long without a heartbeat");

#define CSM_EMU_HEARTBEAT_MS	100

/* Declare @realm gone (locked); adds the realms to signal to @notify. */
static void csm_emu_bury_locked(struct csm_emu *e, unsigned int slot,
				u64 realm, u32 *notify)
{
	struct csm_emu_region r;
	struct csm_emu_share s;
	unsigned int i;

	WRITE_ONCE(e->hdr->realms[slot].state, CSM_EMU_REALM_FREE);
	for (i = 0; i < CSM_EMU_MAX_SHARES; i++)
		if (csm_emu_read_share(e, i, &s) && s.consumer == realm) {
			csm_emu_free_share(e, i, ENOLINK);
			*notify |= csm_emu_realm_bit(s.provider);
		}
	for (i = 0; i < CSM_EMU_MAX_REGIONS; i++)
		if (csm_emu_read_region(e, i, &r) && r.provider == realm &&
		    r.state == CSM_EMU_REGION_LIVE)
			csm_emu_teardown_locked(e, i, r.id, ENOLINK, notify);
}

static void csm_emu_heartbeat(struct work_struct *work)
{
	struct csm_emu *e = container_of(to_delayed_work(work), struct csm_emu,
					 hb_work);
	struct csm_emu_realm *me = &e->hdr->realms[e->ivposition];
	unsigned long now = jiffies;
	bool changed = false;
	u32 notify = 0;
	unsigned int i;

	if (READ_ONCE(me->state) != CSM_EMU_REALM_LIVE ||
	    READ_ONCE(me->realm_id) != e->realm_id) {
		dev_err_ratelimited(&e->pdev->dev, "peers declared realm 0x%llx gone (paused too long?): rejoining with nothing\n",
			e->realm_id);
		/* Unmap everything now: the peers may reuse that memory. */
		csm_core_lost(&e->rmm);
		csm_emu_state_exit(e);
		if (csm_emu_state_init(e) == 0)
			changed = true;
	}
	WRITE_ONCE(me->heartbeat, READ_ONCE(me->heartbeat) + 1);

	for (i = 0; i < CSM_EMU_MAX_REALMS; i++) {
		struct csm_emu_realm *p = &e->hdr->realms[i];
		u64 hb = READ_ONCE(p->heartbeat), realm = READ_ONCE(p->realm_id);

		if (i == e->ivposition || READ_ONCE(p->state) != CSM_EMU_REALM_LIVE) {
			e->peer_seen[i] = 0;
			continue;
		}
		if (!e->peer_seen[i] || hb != e->peer_hb[i]) {
			e->peer_hb[i] = hb;
			e->peer_seen[i] = now;
			continue;
		}
		if (time_before(now, e->peer_seen[i] +
				msecs_to_jiffies(peer_timeout_ms)))
			continue;
		if (csm_emu_lock(e))
			continue;
		/* Re-check under the lock: it may have come back or left. */
		if (READ_ONCE(p->state) == CSM_EMU_REALM_LIVE &&
		    READ_ONCE(p->heartbeat) == hb && READ_ONCE(p->realm_id) == realm) {
			csm_emu_bury_locked(e, i, realm, &notify);
			csm_emu_reap_locked(e);
			changed = true;
			dev_warn(&e->pdev->dev, "realm 0x%llx gone (no heartbeat for %u ms): its regions and shares end\n",
				 realm, peer_timeout_ms);
		}
		csm_emu_unlock(e);
		e->peer_seen[i] = 0;
	}
	csm_emu_signal_mask(e, notify, CSM_EMU_VEC_STATE);
	if (changed)
		csm_core_notify(&e->rmm);
	schedule_delayed_work(&e->hb_work, msecs_to_jiffies(CSM_EMU_HEARTBEAT_MS));
}

void csm_emu_liveness_start(struct csm_emu *e)
{
	INIT_DELAYED_WORK(&e->hb_work, csm_emu_heartbeat);
	schedule_delayed_work(&e->hb_work, 0);
}

void csm_emu_liveness_stop(struct csm_emu *e)
{
	cancel_delayed_work_sync(&e->hb_work);
}
