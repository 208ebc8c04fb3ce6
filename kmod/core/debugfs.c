// SPDX-License-Identifier: GPL-2.0
/*
 * Driver core: introspection under /sys/kernel/debug/csm/.
 *   counters  live objects (must return to 0 when nothing is open) and
 *             totals (events, rings, drops, rejected ioctls)
 *   regions   this realm's regions, their shares and mappings
 *   rescan_hold  test knob: 1 defers share rescans (events), 0 releases
 *             and runs them, so a test can make a consumer's attach and
 *             detach fall between two rescans of the provider
 */
#include <linux/debugfs.h>
#include <linux/seq_file.h>

#include "internal.h"

static int csm_counters_show(struct seq_file *m, void *unused)
{
	struct csm_dev *dev = m->private;
	struct csm_counters *c = &dev->cnt;

	seq_printf(m, "files %d\nregions %d\nprovided %d\nattached %d\n",
		   atomic_read(&c->files), atomic_read(&c->regions),
		   atomic_read(&c->provided), atomic_read(&c->attached));
	seq_printf(m, "mappings %d\nevent_fds %d\ndoorbell_fds %d\nnodes %d\n",
		   atomic_read(&c->mappings), atomic_read(&c->event_fds),
		   atomic_read(&c->doorbell_fds), atomic_read(&c->nodes));
	seq_printf(m, "events_sent %lld\nevents_dropped %lld\n",
		   atomic64_read(&c->events_sent),
		   atomic64_read(&c->events_dropped));
	seq_printf(m, "rings_sent %lld\nrings_received %lld\nrings_dropped %lld\n",
		   atomic64_read(&c->rings_sent),
		   atomic64_read(&c->rings_received),
		   atomic64_read(&c->rings_dropped));
	seq_printf(m, "bad_ioctls %lld\nrescan_lost %lld\n",
		   atomic64_read(&c->bad_ioctls),
		   atomic64_read(&c->rescan_lost));
	return 0;
}
DEFINE_SHOW_ATTRIBUTE(csm_counters);

static int csm_regions_show(struct seq_file *m, void *unused)
{
	struct csm_dev *dev = m->private;
	struct csm_share_shadow *s;
	struct csm_region *r;

	mutex_lock(&dev->lock);
	list_for_each_entry(r, &dev->regions, dev_link) {
		seq_printf(m, "region %llu %s size %llu provider 0x%llx perm %u state %u share %llu\n",
			   r->desc.region_id,
			   r->role == CSM_ROLE_PROVIDER ? "provided" : "attached",
			   r->desc.size, r->desc.provider_realm_id,
			   r->desc.perm, r->state, r->share_id);
		list_for_each_entry(s, &r->shares, link)
			seq_printf(m, "  share %llu consumer 0x%llx perm %u state %u attaches %u\n",
				   s->share_id, s->consumer, s->perm,
				   s->last_state, s->attaches_seen);
	}
	mutex_unlock(&dev->lock);
	return 0;
}
DEFINE_SHOW_ATTRIBUTE(csm_regions);

static int csm_rescan_hold_get(void *data, u64 *val)
{
	struct csm_dev *dev = data;

	mutex_lock(&dev->lock);
	*val = dev->rescan_hold;
	mutex_unlock(&dev->lock);
	return 0;
}

static int csm_rescan_hold_set(void *data, u64 val)
{
	struct csm_dev *dev = data;

	if (val > 1)
		return -EINVAL;
	mutex_lock(&dev->lock);
	dev->rescan_hold = val;
	/* Not once the backend is gone: unregister has cancelled the work. */
	if (!val && dev->rmm)
		queue_work(system_wq, &dev->rescan_work);
	mutex_unlock(&dev->lock);
	return 0;
}
DEFINE_DEBUGFS_ATTRIBUTE(csm_rescan_hold_fops, csm_rescan_hold_get,
			 csm_rescan_hold_set, "%llu\n");

void csm_debugfs_init(struct csm_dev *dev)
{
	dev->debugfs = debugfs_create_dir("csm", NULL);
	debugfs_create_file("counters", 0400, dev->debugfs, dev,
			    &csm_counters_fops);
	debugfs_create_file("regions", 0400, dev->debugfs, dev,
			    &csm_regions_fops);
	debugfs_create_file_unsafe("rescan_hold", 0600, dev->debugfs, dev,
				   &csm_rescan_hold_fops);
}

void csm_debugfs_exit(struct csm_dev *dev)
{
	debugfs_remove_recursive(dev->debugfs);
}
