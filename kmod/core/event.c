// SPDX-License-Identifier: GPL-2.0
/*
 * Driver core: per-open event queue and the event fds that read it.
 *
 * The queue is bounded; when full, new events are dropped and counted, and
 * the next event that fits carries CSM_EVENT_F_LOST (its seq also jumps).
 */
#include <linux/anon_inodes.h>
#include <linux/file.h>
#include <linux/poll.h>
#include <linux/uaccess.h>

#include "internal.h"

void csm_events_init(struct csm_event_queue *q)
{
	spin_lock_init(&q->lock);
	init_waitqueue_head(&q->wq);
}

/* Queue an event for @f (may be NULL: the region has no owner any more). */
void csm_event_post(struct csm_file *f, u32 type, u64 region_id,
		    u64 share_id, u64 realm_id)
{
	struct csm_event_queue *q;
	struct csm_event *ev;
	unsigned long flags;

	if (!f)
		return;
	q = &f->events;
	spin_lock_irqsave(&q->lock, flags);
	q->seq++;
	if (q->len == CSM_EVENT_QUEUE_LEN) {
		q->lost = true;
		spin_unlock_irqrestore(&q->lock, flags);
		atomic64_inc(&f->dev->cnt.events_dropped);
		return;
	}
	ev = &q->ev[(q->head + q->len) % CSM_EVENT_QUEUE_LEN];
	memset(ev, 0, sizeof(*ev));
	ev->type = type;
	ev->flags = q->lost ? CSM_EVENT_F_LOST : 0;
	ev->seq = q->seq;
	ev->region_id = region_id;
	ev->share_id = share_id;
	ev->realm_id = realm_id;
	q->lost = false;
	q->len++;
	spin_unlock_irqrestore(&q->lock, flags);
	atomic64_inc(&f->dev->cnt.events_sent);
	wake_up_interruptible_poll(&q->wq, EPOLLIN | EPOLLRDNORM);
}

/*
 * @n events for @f were lost before they were queued: the next event
 * carries CSM_EVENT_F_LOST and its seq jumps by @n.
 */
void csm_event_lost(struct csm_file *f, u64 n)
{
	struct csm_event_queue *q;
	unsigned long flags;

	if (!f)
		return;
	q = &f->events;
	spin_lock_irqsave(&q->lock, flags);
	q->seq += n;
	q->lost = true;
	spin_unlock_irqrestore(&q->lock, flags);
}

static ssize_t csm_event_read(struct file *file, char __user *buf,
			      size_t count, loff_t *ppos)
{
	struct csm_file *f = file->private_data;
	struct csm_event_queue *q = &f->events;
	struct csm_event ev;
	size_t done = 0;

	if (count < sizeof(ev))
		return -EINVAL;
	while (count - done >= sizeof(ev)) {
		spin_lock_irq(&q->lock);
		if (!q->len) {
			spin_unlock_irq(&q->lock);
			break;
		}
		ev = q->ev[q->head];
		q->head = (q->head + 1) % CSM_EVENT_QUEUE_LEN;
		q->len--;
		spin_unlock_irq(&q->lock);
		if (copy_to_user(buf + done, &ev, sizeof(ev)))
			return done ? done : -EFAULT;
		done += sizeof(ev);
	}
	return done ? done : -EAGAIN;
}

static __poll_t csm_event_poll(struct file *file, poll_table *wait)
{
	struct csm_file *f = file->private_data;
	struct csm_event_queue *q = &f->events;
	__poll_t mask = 0;

	poll_wait(file, &q->wq, wait);
	spin_lock_irq(&q->lock);
	if (q->len)
		mask = EPOLLIN | EPOLLRDNORM;
	spin_unlock_irq(&q->lock);
	return mask;
}

static int csm_event_release(struct inode *inode, struct file *file)
{
	struct csm_file *f = file->private_data;

	atomic_dec(&f->dev->cnt.event_fds);
	csm_file_put(f);
	return 0;
}

static const struct file_operations csm_event_fops = {
	.owner = THIS_MODULE,
	.read = csm_event_read,
	.poll = csm_event_poll,
	.release = csm_event_release,
	.llseek = noop_llseek,
};

/**
 * csm_event_file() - a new file reading @f's event queue.
 * @f: the open device.
 *
 * The caller installs it in an fd (or fput()s it) once the ioctl's result
 * reached userspace.
 *
 * Return: the file, or an ERR_PTR from anon_inode_getfile().
 */
struct file *csm_event_file(struct csm_file *f)
{
	struct file *file;

	kref_get(&f->ref);
	file = anon_inode_getfile("csm-events", &csm_event_fops, f,
				  O_RDONLY | O_NONBLOCK);
	if (IS_ERR(file))
		csm_file_put(f);
	else
		atomic_inc(&f->dev->cnt.event_fds);
	return file;
}
