// SPDX-License-Identifier: GPL-2.0
/*
 * Doorbells as file descriptors, with eventfd's conventions: the caller's
 * own doorbell of a region polls readable once rung and read() consumes the
 * pending rings; a peer's doorbell is rung by write(). Hint only: a waiter
 * pairs it with a sequence word in the region, so spurious wakeups are fine
 * and a ring that cannot be delivered is dropped and counted.
 */
#include <linux/anon_inodes.h>
#include <linux/file.h>
#include <linux/poll.h>
#include <linux/slab.h>
#include <linux/uaccess.h>

#include "core/internal.h"

struct csm_doorbell {
	struct csm_region *r;
	u64 peer;	/* realm to ring; 0 for the caller's own doorbell */
};

void csm_doorbell_kick(struct csm_region *r, u64 n)
{
	unsigned long flags;

	spin_lock_irqsave(&r->db_lock, flags);
	r->db_pending += n;
	spin_unlock_irqrestore(&r->db_lock, flags);
	atomic64_add(n, &r->dev->cnt.rings_received);
	wake_up_interruptible_poll(&r->db_wq, EPOLLIN | EPOLLRDNORM);
}

/**
 * csm_doorbell_ring() - ring @peer's doorbell of region @r.
 * @r: the region, provided or attached by this realm.
 * @peer: the provider (when @r is an attachment) or an attached consumer.
 *
 * Return: 0 (also when the ring was dropped), -ESRCH if @peer is not a party
 * of the region, -ENODEV once the backend is gone.
 */
int csm_doorbell_ring(struct csm_region *r, u64 peer)
{
	struct csm_dev *dev = r->dev;
	struct csm_share_shadow *s;
	int ret = -ESRCH;

	mutex_lock(&dev->lock);
	if (!dev->rmm) {
		ret = -ENODEV;
	} else if (r->role == CSM_ROLE_CONSUMER) {
		if (peer == r->desc.provider_realm_id)
			ret = dev->rmm->ops->ring(dev->rmm, r->share_id,
						  r->desc.share_slot, false);
	} else {
		list_for_each_entry(s, &r->shares, link) {
			if (s->consumer != peer)
				continue;
			ret = dev->rmm->ops->ring(dev->rmm, s->share_id,
						  s->slot, true);
			break;
		}
	}
	mutex_unlock(&dev->lock);
	if (ret == 0) {
		atomic64_inc(&dev->cnt.rings_sent);
	} else if (ret != -ESRCH && ret != -ENODEV) {
		atomic64_inc(&dev->cnt.rings_dropped);
		ret = 0;
	}
	return ret;
}

/* Turn doorbell counters that moved in shared state into local rings. */
void csm_doorbell_work(struct work_struct *work)
{
	struct csm_dev *dev = container_of(work, struct csm_dev, doorbell_work);
	struct csm_rmm_share_status st;
	struct csm_share_shadow *s;
	struct csm_region *r;
	struct csm_rmm *rmm;
	u32 n;

	mutex_lock(&dev->lock);
	rmm = dev->rmm;
	if (!rmm)
		goto out;
	list_for_each_entry(r, &dev->regions, dev_link) {
		if (r->state != CSM_REGION_ACTIVE)
			continue;
		if (r->role == CSM_ROLE_CONSUMER) {
			if (rmm->ops->share_status(rmm, r->share_id,
						   r->desc.share_slot, &st))
				continue;
			n = st.rings_to_consumer - r->rings_seen;
			r->rings_seen = st.rings_to_consumer;
			if (n)
				csm_doorbell_kick(r, n);
			continue;
		}
		list_for_each_entry(s, &r->shares, link) {
			if (rmm->ops->share_status(rmm, s->share_id, s->slot, &st))
				continue;
			n = st.rings_to_provider - s->rings_seen;
			s->rings_seen = st.rings_to_provider;
			if (n)
				csm_doorbell_kick(r, n);
		}
	}
out:
	mutex_unlock(&dev->lock);
}

static ssize_t csm_doorbell_read(struct file *file, char __user *buf,
				 size_t count, loff_t *ppos)
{
	struct csm_doorbell *db = file->private_data;
	struct csm_region *r = db->r;
	u64 n;

	if (db->peer || count < sizeof(n))
		return -EINVAL;
	spin_lock_irq(&r->db_lock);
	n = r->db_pending;
	r->db_pending = 0;
	spin_unlock_irq(&r->db_lock);
	if (!n)
		return -EAGAIN;
	if (copy_to_user(buf, &n, sizeof(n))) {
		csm_doorbell_kick(r, n);	/* do not lose them */
		return -EFAULT;
	}
	return sizeof(n);
}

static ssize_t csm_doorbell_write(struct file *file, const char __user *buf,
				  size_t count, loff_t *ppos)
{
	struct csm_doorbell *db = file->private_data;
	u64 v;
	int ret;

	if (count < sizeof(v))
		return -EINVAL;
	if (copy_from_user(&v, buf, sizeof(v)))
		return -EFAULT;
	if (v == U64_MAX)
		return -EINVAL;
	if (!v)
		return sizeof(v);
	if (!db->peer) {
		csm_doorbell_kick(db->r, 1);	/* wake our own waiters */
		return sizeof(v);
	}
	ret = csm_doorbell_ring(db->r, db->peer);
	return ret ? ret : sizeof(v);
}

static __poll_t csm_doorbell_poll(struct file *file, poll_table *wait)
{
	struct csm_doorbell *db = file->private_data;
	struct csm_region *r = db->r;
	__poll_t mask = 0;

	if (db->peer)
		return READ_ONCE(r->state) == CSM_REGION_ACTIVE ?
		       EPOLLOUT | EPOLLWRNORM : EPOLLERR;
	poll_wait(file, &r->db_wq, wait);
	spin_lock_irq(&r->db_lock);
	if (r->db_pending)
		mask |= EPOLLIN | EPOLLRDNORM;
	spin_unlock_irq(&r->db_lock);
	if (READ_ONCE(r->state) != CSM_REGION_ACTIVE)
		mask |= EPOLLHUP;
	return mask;
}

static int csm_doorbell_release(struct inode *inode, struct file *file)
{
	struct csm_doorbell *db = file->private_data;

	atomic_dec(&db->r->dev->cnt.doorbell_fds);
	csm_region_put(db->r);
	kfree(db);
	return 0;
}

static const struct file_operations csm_doorbell_fops = {
	.owner = THIS_MODULE,
	.read = csm_doorbell_read,
	.write = csm_doorbell_write,
	.poll = csm_doorbell_poll,
	.release = csm_doorbell_release,
	.llseek = noop_llseek,
};

/**
 * csm_doorbell_file() - a doorbell of region @r as a file.
 * @r: the region (the caller holds dev->lock and has checked @realm_id).
 * @realm_id: 0 for the caller's own doorbell, else the peer to ring.
 *
 * The caller installs it in an fd (or fput()s it) once the ioctl's result
 * reached userspace.
 *
 * Return: the file, ERR_PTR(-ENOMEM) or anon_inode_getfile()'s error.
 */
struct file *csm_doorbell_file(struct csm_region *r, u64 realm_id)
{
	struct csm_doorbell *db;
	struct file *file;

	db = kzalloc(sizeof(*db), GFP_KERNEL);
	if (!db)
		return ERR_PTR(-ENOMEM);
	db->r = r;
	db->peer = realm_id;
	csm_region_get(r);
	file = anon_inode_getfile("csm-doorbell", &csm_doorbell_fops, db,
				  O_RDWR | O_NONBLOCK);
	if (IS_ERR(file)) {
		csm_region_put(r);
		kfree(db);
		return file;
	}
	atomic_inc(&r->dev->cnt.doorbell_fds);
	return file;
}
