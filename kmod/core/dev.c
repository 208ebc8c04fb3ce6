// SPDX-License-Identifier: GPL-2.0
/*
 * Driver core: /dev/csm, its open files and backend registration.
 */
#include <linux/fs.h>
#include <linux/module.h>
#include <linux/slab.h>

#include "internal.h"

static DEFINE_MUTEX(csm_dev_mutex);	/* guards csm_the_dev */
static struct csm_dev *csm_the_dev;

static void csm_dev_release(struct kref *ref)
{
	struct csm_dev *dev = container_of(ref, struct csm_dev, ref);

	if (dev->mapping_inode)
		iput(dev->mapping_inode);
	kfree(dev);
}

void csm_dev_put(struct csm_dev *dev)
{
	kref_put(&dev->ref, csm_dev_release);
}

static void csm_file_release_ref(struct kref *ref)
{
	struct csm_file *f = container_of(ref, struct csm_file, ref);
	struct csm_dev *dev = f->dev;

	atomic_dec(&dev->cnt.files);
	kfree(f);
	csm_dev_put(dev);
}

void csm_file_put(struct csm_file *f)
{
	kref_put(&f->ref, csm_file_release_ref);
}

static int csm_open(struct inode *inode, struct file *file)
{
	struct miscdevice *misc = file->private_data;
	struct csm_dev *dev = container_of(misc, struct csm_dev, misc);
	struct csm_file *f;

	f = kzalloc(sizeof(*f), GFP_KERNEL);
	if (!f)
		return -ENOMEM;
	kref_init(&f->ref);
	INIT_LIST_HEAD(&f->regions);
	csm_events_init(&f->events);

	mutex_lock(&dev->lock);
	if (!dev->rmm) {
		mutex_unlock(&dev->lock);
		kfree(f);
		return -ENODEV;
	}
	/*
	 * Every mapping of every region lives in one address_space, so revoke
	 * and detach can zap them all with unmap_mapping_range(), whichever
	 * file (device or region node) they came from.
	 */
	if (!dev->mapping) {
		dev->mapping_inode = igrab(inode);
		dev->mapping = inode->i_mapping;
	}
	kref_get(&dev->ref);
	mutex_unlock(&dev->lock);

	file->f_mapping = dev->mapping;
	f->dev = dev;
	atomic_inc(&dev->cnt.files);
	file->private_data = f;
	return 0;
}

static int csm_release(struct inode *inode, struct file *file)
{
	struct csm_file *f = file->private_data;

	down_read(&f->dev->rmm_sem);
	csm_file_release_regions(f);
	up_read(&f->dev->rmm_sem);
	csm_file_put(f);
	return 0;
}

static long csm_unlocked_ioctl(struct file *file, unsigned int cmd,
			       unsigned long arg)
{
	return csm_ioctl(file, cmd, arg);
}

static const struct file_operations csm_fops = {
	.owner = THIS_MODULE,
	.open = csm_open,
	.release = csm_release,
	.unlocked_ioctl = csm_unlocked_ioctl,
	.compat_ioctl = csm_unlocked_ioctl,	/* layout is 32/64-bit clean */
	.mmap = csm_mmap,
	.llseek = noop_llseek,
};

/* End (and unmap) every region of the device: its backend lost them all. */
static void csm_end_all_regions(struct csm_dev *dev)
{
	struct csm_region *r;

	lockdep_assert_held(&dev->lock);
	list_for_each_entry(r, &dev->regions, dev_link)
		csm_region_end(r, CSM_REGION_GONE);
}

/**
 * csm_core_register() - publish /dev/csm for a backend that has bound.
 * @rmm: the backend, with ops and info filled in.
 *
 * Return: 0, -EBUSY if another backend already serves /dev/csm, -ENOMEM,
 * or the error of misc_register().
 */
int csm_core_register(struct csm_rmm *rmm)
{
	struct csm_dev *dev;
	int ret;

	mutex_lock(&csm_dev_mutex);
	if (csm_the_dev) {
		ret = -EBUSY;
		goto out_unlock;
	}
	dev = kzalloc(sizeof(*dev), GFP_KERNEL);
	if (!dev) {
		ret = -ENOMEM;
		goto out_unlock;
	}
	kref_init(&dev->ref);
	init_rwsem(&dev->rmm_sem);
	mutex_init(&dev->lock);
	INIT_LIST_HEAD(&dev->regions);
	INIT_WORK(&dev->rescan_work, csm_rescan_work);
	INIT_WORK(&dev->doorbell_work, csm_doorbell_work);
	dev->rmm = rmm;
	dev->misc.minor = MISC_DYNAMIC_MINOR;
	dev->misc.name = "csm";
	dev->misc.fops = &csm_fops;
	dev->misc.mode = 0600;
	ret = misc_register(&dev->misc);
	if (ret) {
		kfree(dev);
		goto out_unlock;
	}
	csm_debugfs_init(dev);
	csm_the_dev = dev;
	/*
	 * Only now may the backend's interrupts reach dev: had registration
	 * failed, they would have queued work on freed memory. One rescan
	 * covers whatever they reported before.
	 */
	WRITE_ONCE(rmm->core, dev);
	queue_work(system_wq, &dev->rescan_work);
	pr_info("csm: /dev/csm served by the %s backend\n", rmm->info.name);
out_unlock:
	mutex_unlock(&csm_dev_mutex);
	return ret;
}

/**
 * csm_core_unregister() - the backend is going away.
 * @rmm: the backend passed to csm_core_register().
 *
 * Removes /dev/csm, unmaps every region from every process and leaves the
 * remaining open files able only to fail with -ENODEV and be closed. The
 * backend must have stopped calling csm_core_notify()/csm_core_doorbell().
 */
void csm_core_unregister(struct csm_rmm *rmm)
{
	struct csm_dev *dev = rmm->core;

	if (!dev)
		return;
	mutex_lock(&csm_dev_mutex);
	csm_the_dev = NULL;
	mutex_unlock(&csm_dev_mutex);

	misc_deregister(&dev->misc);
	down_write(&dev->rmm_sem);
	mutex_lock(&dev->lock);
	dev->rmm = NULL;
	csm_end_all_regions(dev);
	mutex_unlock(&dev->lock);
	up_write(&dev->rmm_sem);
	cancel_work_sync(&dev->rescan_work);
	cancel_work_sync(&dev->doorbell_work);
	csm_debugfs_exit(dev);
	rmm->core = NULL;
	csm_dev_put(dev);
}

void csm_core_notify(struct csm_rmm *rmm)
{
	struct csm_dev *dev = READ_ONCE(rmm->core);

	if (dev)
		queue_work(system_wq, &dev->rescan_work);
}

/**
 * csm_core_lost() - the backend lost every region and share of this realm.
 * @rmm: the backend.
 *
 * Ends (and so unmaps) every region now, before the backend lets their
 * memory go, rather than at the next rescan. Process context; the caller
 * holds no backend lock.
 */
void csm_core_lost(struct csm_rmm *rmm)
{
	struct csm_dev *dev = READ_ONCE(rmm->core);

	if (!dev)
		return;
	mutex_lock(&dev->lock);
	csm_end_all_regions(dev);
	mutex_unlock(&dev->lock);
}

void csm_core_doorbell(struct csm_rmm *rmm)
{
	struct csm_dev *dev = READ_ONCE(rmm->core);

	if (dev)
		queue_work(system_highpri_wq, &dev->doorbell_work);
}
