/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Driver core: objects local to this kernel.
 *
 * struct csm_dev     one per bound backend; /dev/csm.
 * struct csm_file    one per open of /dev/csm: the regions it holds and its
 *                    event queue (event fds share it).
 * struct csm_region  this realm's view of one region: the provider's own
 *                    region, or the consumer's attachment. One per region
 *                    per realm, owned by the file that created/attached it;
 *                    mappings, the path node and doorbell fds hold refs.
 *
 * Locking: dev->lock (mutex) guards the lists and region state changes;
 * region->map_lock orders faults against zaps; region->db_lock (spinlock)
 * guards doorbell counters. dev->lock is dropped around RMM calls that may
 * wait for a peer realm (revoke, destroy).
 */
#ifndef CSM_CORE_INTERNAL_H
#define CSM_CORE_INTERNAL_H

#include <linux/fs.h>
#include <linux/kref.h>
#include <linux/list.h>
#include <linux/miscdevice.h>
#include <linux/mutex.h>
#include <linux/rwsem.h>
#include <linux/spinlock.h>
#include <linux/wait.h>
#include <linux/workqueue.h>
#include <linux/atomic.h>

#include <csm/uapi/csm.h>
#include "../rmm/rmm.h"

#define CSM_EVENT_QUEUE_LEN	64
/* mmap cookies: region n maps at n << 32, so a region is below 4 GiB. */
#define CSM_MMAP_COOKIE_SHIFT	32
#define CSM_MAX_LOCAL_REGIONS	256

/* Counters shown in debugfs; the tests require the live ones back at 0. */
struct csm_counters {
	atomic_t files;
	atomic_t regions;	/* live struct csm_region */
	atomic_t provided;
	atomic_t attached;
	atomic_t mappings;	/* live VMAs */
	atomic_t event_fds;
	atomic_t doorbell_fds;
	atomic_t nodes;
	atomic64_t events_sent;
	atomic64_t events_dropped;
	atomic64_t rings_sent;
	atomic64_t rings_received;
	atomic64_t rings_dropped;
	atomic64_t bad_ioctls;
	atomic64_t rescan_lost;	/* rescans that could not replay every cycle */
};

struct csm_dev {
	struct kref ref;
	struct miscdevice misc;
	struct csm_rmm *rmm;		/* NULL once the backend is gone */
	/*
	 * Held for reading by every path that calls the backend, also while
	 * dev->lock is dropped (revoke, destroy); unregister takes it for
	 * writing before clearing @rmm, so a backend never goes away under a
	 * call. Order: rmm_sem, then lock.
	 */
	struct rw_semaphore rmm_sem;
	struct mutex lock;
	struct list_head regions;	/* all struct csm_region */
	struct address_space *mapping;	/* every mmap of every region */
	struct inode *mapping_inode;
	u64 next_cookie;
	struct work_struct rescan_work;
	bool rescan_hold;		/* debugfs test knob; under @lock */
	struct work_struct doorbell_work;
	struct dentry *debugfs;
	struct csm_counters cnt;
};

struct csm_event_queue {
	spinlock_t lock;
	wait_queue_head_t wq;
	struct csm_event ev[CSM_EVENT_QUEUE_LEN];
	unsigned int head, len;
	u64 seq;
	bool lost;
};

struct csm_file {
	struct kref ref;		/* open file + event fds */
	struct csm_dev *dev;
	struct list_head regions;	/* struct csm_region.file_link */
	struct csm_event_queue events;
};

/* One share of a region this realm provides, as last seen. */
struct csm_share_shadow {
	struct list_head link;
	u64 share_id;
	u64 consumer;
	u32 slot;
	u32 perm;
	u32 last_state;			/* enum csm_rmm_share_state */
	u32 attaches_seen;		/* the backend's attach count then */
	u32 rings_seen;
};

struct csm_region {
	struct kref ref;
	struct csm_dev *dev;
	struct csm_file *owner;		/* NULL once released */
	struct list_head dev_link;
	struct list_head file_link;
	struct csm_rmm_region desc;
	u64 share_id;			/* consumer: attached share */
	u64 cookie;			/* mmap offset */
	u32 role;			/* enum csm_role */
	u32 state;			/* enum csm_region_state */
	struct list_head shares;	/* provider: struct csm_share_shadow */
	u32 rings_seen;			/* consumer: rings_to_consumer */

	struct mutex map_lock;
	bool mappable;

	spinlock_t db_lock;
	wait_queue_head_t db_wq;
	u64 db_pending;

	struct miscdevice node;		/* /dev/csm-region/<id> */
	char node_name[40];
	char node_path[48];
	struct mutex node_lock;		/* orders node add against remove */
	bool node_live;
	bool node_dead;
};

/* dev.c */
void csm_dev_put(struct csm_dev *dev);
void csm_file_put(struct csm_file *f);

/* region.c */
struct csm_region *csm_region_alloc(struct csm_dev *dev, struct csm_file *owner,
				    u32 role, const struct csm_rmm_region *desc);
void csm_region_get(struct csm_region *r);
void csm_region_put(struct csm_region *r);
struct csm_region *csm_region_find(struct csm_file *f, u64 region_id);
struct csm_region *csm_region_find_share(struct csm_file *f, u64 share_id);
struct csm_region *csm_region_find_any(struct csm_dev *dev, u64 region_id);
void csm_region_end(struct csm_region *r, u32 state);
int csm_region_destroy(struct csm_file *f, struct csm_region *r, bool force);
int csm_region_detach(struct csm_file *f, struct csm_region *r);
void csm_file_release_regions(struct csm_file *f);
void csm_rescan_work(struct work_struct *work);
void csm_share_forget(struct csm_dev *dev, struct csm_region *r,
		      struct csm_share_shadow *s);

/* ioctl.c */
long csm_ioctl(struct file *file, unsigned int cmd, unsigned long arg);

/* event.c */
void csm_events_init(struct csm_event_queue *q);
void csm_event_post(struct csm_file *f, u32 type, u64 region_id,
		    u64 share_id, u64 realm_id);
void csm_event_lost(struct csm_file *f, u64 n);
struct file *csm_event_file(struct csm_file *f);

/* doorbell.c */
struct file *csm_doorbell_file(struct csm_region *r, u64 realm_id);
int csm_doorbell_ring(struct csm_region *r, u64 peer);
void csm_doorbell_work(struct work_struct *work);
void csm_doorbell_kick(struct csm_region *r, u64 n);

/* mmap.c */
int csm_mmap(struct file *file, struct vm_area_struct *vma);
int csm_mmap_region(struct csm_region *r, struct vm_area_struct *vma,
		    unsigned long base_pgoff);
void csm_mmap_zap(struct csm_region *r);
void csm_mmap_allow(struct csm_region *r);
int csm_node_add(struct csm_region *r);
void csm_node_remove(struct csm_region *r);

/* debugfs.c */
void csm_debugfs_init(struct csm_dev *dev);
void csm_debugfs_exit(struct csm_dev *dev);

#endif /* CSM_CORE_INTERNAL_H */
