// SPDX-License-Identifier: GPL-2.0
/*
 * Driver core: the ioctls of /dev/csm.
 *
 * csm_check_args() is the one place that validates what userspace passed;
 * the handlers after it only apply the CSM rules that need state. User
 * memory is copied in before and out after dev->lock is held, never under
 * it (a fault there could need the mmap lock, which mmap() takes first).
 */
#include <linux/file.h>
#include <linux/slab.h>
#include <linux/string.h>
#include <linux/uaccess.h>

#include "internal.h"

#define CSM_LIST_MAX		4096	/* entries per LIST call */
#define CSM_TOKEN_MAX		4096	/* largest attestation token */

union csm_args {
	struct csm_version version;
	struct csm_realm realm;
	struct csm_create create;
	struct csm_share share;
	struct csm_revoke revoke;
	struct csm_destroy destroy;
	struct csm_attach attach;
	struct csm_detach detach;
	struct csm_region_info info;
	struct csm_list list;
	struct csm_attest attest;
	struct csm_doorbell_fd doorbell;
	struct csm_ring ring;
	struct csm_event_fd event;
};

static bool nonzero(const void *p, size_t n)
{
	return memchr_inv(p, 0, n) != NULL;
}

#define RESERVED_SET(s) nonzero((s).reserved, sizeof((s).reserved))

/**
 * csm_check_args() - validate an ioctl's arguments before any state is used.
 * @cmd: the ioctl number (already known to be one of ours).
 * @a: the copied-in arguments.
 * @max_size: the backend's largest region.
 *
 * Return: 0; -EINVAL for nonzero reserved/padding/unknown flags, zero IDs,
 * bad sizes, permissions or challenge lengths; -E2BIG for a size above
 * @max_size.
 */
static int csm_check_args(unsigned int cmd, const union csm_args *a,
			  u64 max_size)
{
	switch (cmd) {
	case CSM_IOC_VERSION:
	case CSM_IOC_REALM:
		return 0;
	case CSM_IOC_CREATE:
		if (a->create.flags || a->create.__pad || RESERVED_SET(a->create))
			return -EINVAL;
		if (!a->create.size || a->create.size % CSM_GRANULE_SIZE)
			return -EINVAL;
		return a->create.size > max_size ? -E2BIG : 0;
	case CSM_IOC_SHARE:
		if (a->share.flags || RESERVED_SET(a->share))
			return -EINVAL;
		return (a->share.perm == CSM_PERM_RO ||
			a->share.perm == CSM_PERM_RW) ? 0 : -EINVAL;
	case CSM_IOC_REVOKE:
		return (a->revoke.flags || a->revoke.__pad ||
			RESERVED_SET(a->revoke)) ?
		       -EINVAL : 0;
	case CSM_IOC_DESTROY:
		return ((a->destroy.flags & ~CSM_DESTROY_FORCE) ||
			a->destroy.__pad || RESERVED_SET(a->destroy)) ?
		       -EINVAL : 0;
	case CSM_IOC_ATTACH:
		if (a->attach.flags || RESERVED_SET(a->attach) ||
		    a->attach.size % CSM_GRANULE_SIZE)
			return -EINVAL;
		return a->attach.size > max_size ? -EINVAL : 0;
	case CSM_IOC_DETACH:
		return RESERVED_SET(a->detach) ? -EINVAL : 0;
	case CSM_IOC_REGION_INFO:
		return RESERVED_SET(a->info) ? -EINVAL : 0;
	case CSM_IOC_LIST_REGIONS:
	case CSM_IOC_LIST_SHARES:
		if (a->list.flags || RESERVED_SET(a->list) ||
		    a->list.capacity > CSM_LIST_MAX)
			return -EINVAL;
		if (cmd == CSM_IOC_LIST_REGIONS ? a->list.region_id ||
		    a->list.entry_size != sizeof(struct csm_region_info) :
		    a->list.entry_size != sizeof(struct csm_share_info))
			return -EINVAL;
		return (a->list.capacity && !a->list.entries_ptr) ? -EFAULT : 0;
	case CSM_IOC_ATTEST:
		if (a->attest.flags || RESERVED_SET(a->attest) ||
		    a->attest.challenge_len < CSM_CHALLENGE_MIN ||
		    a->attest.challenge_len > CSM_CHALLENGE_MAX ||
		    nonzero(a->attest.challenge + a->attest.challenge_len,
			    CSM_CHALLENGE_MAX - a->attest.challenge_len))
			return -EINVAL;
		return (a->attest.token_len && !a->attest.token_ptr) ? -EFAULT : 0;
	case CSM_IOC_DOORBELL_FD:
		return ((a->doorbell.flags & ~CSM_FD_CLOEXEC) ||
			RESERVED_SET(a->doorbell)) ? -EINVAL : 0;
	case CSM_IOC_RING:
		return (a->ring.flags || a->ring.__pad ||
			RESERVED_SET(a->ring)) ? -EINVAL : 0;
	case CSM_IOC_EVENT_FD:
		return ((a->event.flags & ~CSM_FD_CLOEXEC) ||
			RESERVED_SET(a->event)) ? -EINVAL : 0;
	}
	return -ENOTTY;
}

/*
 * A region ID this file does not hold: say why. Another process of this
 * realm holding it is -EACCES (the region is its, not ours); otherwise the
 * RMM knows: no party (-EACCES), the other party (-EPERM when @role_errno,
 * else -EACCES), or why the ID ended. Called with dev->lock held.
 */
static int csm_not_mine(struct csm_file *f, u64 region_id, bool role_errno)
{
	struct csm_rmm *rmm = f->dev->rmm;
	int ret;

	if (csm_region_find_any(f->dev, region_id))
		return -EACCES;
	ret = rmm->ops->region_party(rmm, region_id);
	if (ret == 0 || (ret == -EPERM && !role_errno))
		return -EACCES;
	return ret;
}

static struct csm_share_shadow *csm_shadow_find(struct csm_file *f,
						u64 share_id,
						struct csm_region **region)
{
	struct csm_share_shadow *s;
	struct csm_region *r;

	list_for_each_entry(r, &f->regions, file_link) {
		if (r->role != CSM_ROLE_PROVIDER)
			continue;
		list_for_each_entry(s, &r->shares, link) {
			if (s->share_id == share_id) {
				*region = r;
				return s;
			}
		}
	}
	return NULL;
}

static struct csm_region *csm_share_record(struct csm_dev *dev, u64 share_id)
{
	struct csm_region *r;

	list_for_each_entry(r, &dev->regions, dev_link)
		if (r->role == CSM_ROLE_CONSUMER && r->share_id == share_id)
			return r;
	return NULL;
}

static bool csm_share_held_locally(struct csm_dev *dev, u64 share_id)
{
	return csm_share_record(dev, share_id) != NULL;
}

static void csm_fill_info(struct csm_region *r, struct csm_region_info *info)
{
	struct csm_share_shadow *s;

	memset(info, 0, sizeof(*info));
	info->region_id = r->desc.region_id;
	info->size = r->desc.size;
	info->provider_realm_id = r->desc.provider_realm_id;
	info->share_id = r->role == CSM_ROLE_CONSUMER ? r->share_id : 0;
	info->mmap_offset = r->cookie;
	info->role = r->role;
	info->state = r->state;
	info->perm = r->desc.perm;
	if (r->role == CSM_ROLE_PROVIDER)
		list_for_each_entry(s, &r->shares, link)
			info->nr_shares++;
}

static int csm_do_create(struct csm_file *f, struct csm_create *a,
			 struct csm_region **node)
{
	struct csm_dev *dev = f->dev;
	struct csm_rmm *rmm = dev->rmm;
	struct csm_rmm_region desc;
	struct csm_region *r;
	int ret;

	if (atomic_read(&dev->cnt.regions) >= CSM_MAX_LOCAL_REGIONS)
		return -ENOSPC;
	ret = rmm->ops->create(rmm, a->size, &desc);
	if (ret)
		return ret;
	r = csm_region_alloc(dev, f, CSM_ROLE_PROVIDER, &desc);
	if (!r) {
		rmm->ops->destroy(rmm, desc.region_id, true);
		return -ENOMEM;
	}
	a->region_id = desc.region_id;
	a->mmap_offset = r->cookie;
	csm_region_get(r);
	*node = r;
	return 0;
}

static int csm_do_share(struct csm_file *f, struct csm_share *a)
{
	struct csm_rmm *rmm = f->dev->rmm;
	struct csm_region *r = csm_region_find(f, a->region_id);
	struct csm_share_shadow *s;
	int ret;

	if (!r)
		return csm_not_mine(f, a->region_id, true);
	if (r->role != CSM_ROLE_PROVIDER)
		return -EPERM;
	if (r->state != CSM_REGION_ACTIVE)
		return -EIDRM;
	if (a->peer_realm_id == rmm->ops->realm_id(rmm))
		return -EINVAL;
	s = kzalloc(sizeof(*s), GFP_KERNEL);
	if (!s)
		return -ENOMEM;
	ret = rmm->ops->share(rmm, a->region_id, a->peer_realm_id, a->perm,
			      &a->share_id, &s->slot);
	if (ret) {
		kfree(s);
		return ret;
	}
	s->share_id = a->share_id;
	s->consumer = a->peer_realm_id;
	s->perm = a->perm;
	s->last_state = CSM_RMM_SHARE_GRANTED;
	list_add_tail(&s->link, &r->shares);
	return 0;
}

static int csm_do_revoke(struct csm_file *f, struct csm_revoke *a)
{
	struct csm_dev *dev = f->dev;
	struct csm_rmm *rmm = dev->rmm;
	struct csm_share_shadow *s;
	struct csm_region *r;
	int ret;

	s = csm_shadow_find(f, a->share_id, &r);
	if (!s) {
		if (csm_share_held_locally(dev, a->share_id))
			return -EPERM;	/* we consume it */
		list_for_each_entry(r, &dev->regions, dev_link) {
			struct csm_share_shadow *o;

			list_for_each_entry(o, &r->shares, link)
				if (o->share_id == a->share_id)
					return -EACCES;	/* another file's */
		}
		/*
		 * No record here: let the RMM answer (stale EALREADY, unknown
		 * ENOENT, not ours EACCES/EPERM, or a share of ours that
		 * outlived its record, which it then revokes).
		 */
		return rmm->ops->revoke(rmm, a->share_id);
	}
	csm_region_get(r);
	mutex_unlock(&dev->lock);
	ret = rmm->ops->revoke(rmm, a->share_id);
	mutex_lock(&dev->lock);
	if (ret == 0 || ret == -ETIMEDOUT || ret == -EALREADY) {
		/*
		 * Revoked in the state table either way: forget the share. Its
		 * region is looked up afresh into its own variable: r holds
		 * our reference, whatever region the share is found under now.
		 */
		struct csm_region *now;
		struct csm_share_shadow *again = csm_shadow_find(f, a->share_id, &now);

		if (again)
			csm_share_forget(dev, now, again);
	}
	csm_region_put(r);
	return ret;
}

static int csm_do_destroy(struct csm_file *f, struct csm_destroy *a)
{
	struct csm_region *r = csm_region_find(f, a->region_id);

	if (!r)
		return csm_not_mine(f, a->region_id, true);
	if (r->role != CSM_ROLE_PROVIDER)
		return -EPERM;
	return csm_region_destroy(f, r, a->flags & CSM_DESTROY_FORCE);
}

static int csm_do_attach(struct csm_file *f, struct csm_attach *a,
			 struct csm_region **node)
{
	struct csm_dev *dev = f->dev;
	struct csm_rmm *rmm = dev->rmm;
	struct csm_rmm_region desc;
	struct csm_region *r;
	int ret;

	/*
	 * The realm attaches a share once; other processes use its node. A
	 * record left by a share that ended says why, as a stale ID does.
	 */
	r = csm_share_record(dev, a->share_id);
	if (r) {
		switch (r->state) {
		case CSM_REGION_REVOKED:
			return -EKEYREVOKED;
		case CSM_REGION_DESTROYED:
			return -EIDRM;
		case CSM_REGION_GONE:
			return -ENOLINK;
		default:
			return -EEXIST;
		}
	}
	if (atomic_read(&dev->cnt.regions) >= CSM_MAX_LOCAL_REGIONS)
		return -ENOSPC;
	ret = rmm->ops->reserve(rmm, a->share_id, a->size, &desc);
	if (ret)
		return ret;
	if (csm_region_find_any(dev, desc.region_id)) {
		/* Attached through another share: give the reservation back. */
		rmm->ops->detach(rmm, a->share_id);
		return -EEXIST;
	}
	ret = rmm->ops->attach(rmm, a->share_id);
	if (ret)
		return ret;
	r = csm_region_alloc(dev, f, CSM_ROLE_CONSUMER, &desc);
	if (!r) {
		rmm->ops->detach(rmm, a->share_id);
		return -ENOMEM;
	}
	r->share_id = a->share_id;
	a->size = desc.size;
	a->perm = desc.perm;
	a->region_id = desc.region_id;
	a->provider_realm_id = desc.provider_realm_id;
	a->mmap_offset = r->cookie;
	csm_region_get(r);
	*node = r;
	return 0;
}

static int csm_do_detach(struct csm_file *f, struct csm_detach *a)
{
	struct csm_region *r = csm_region_find_share(f, a->share_id);
	int ret;

	if (!r) {
		if (csm_share_held_locally(f->dev, a->share_id))
			return -EACCES;
		ret = f->dev->rmm->ops->share_party(f->dev->rmm, a->share_id);
		return ret == 0 ? -ENOENT : ret == -EPERM ? -EACCES : ret;
	}
	return csm_region_detach(f, r);
}

static int csm_do_list_regions(struct csm_file *f, struct csm_list *a,
			       void **out, size_t *out_len)
{
	struct csm_region_info *v = NULL;
	struct csm_region *r;
	u32 n = 0;

	if (a->capacity) {
		v = kcalloc(a->capacity, sizeof(*v), GFP_KERNEL);
		if (!v)
			return -ENOMEM;
	}
	list_for_each_entry(r, &f->regions, file_link) {
		if (n < a->capacity)
			csm_fill_info(r, &v[n]);
		n++;
	}
	a->count = n;
	*out = v;
	*out_len = min(n, a->capacity) * sizeof(*v);
	return 0;
}

static u32 csm_share_state_uapi(u32 rmm_state)
{
	switch (rmm_state) {
	case CSM_RMM_SHARE_ATTACHED:
		return CSM_SHARE_ATTACHED;
	case CSM_RMM_SHARE_REVOKING:
		return CSM_SHARE_REVOKING;
	default:
		return CSM_SHARE_GRANTED;
	}
}

static int csm_do_list_shares(struct csm_file *f, struct csm_list *a,
			      void **out, size_t *out_len)
{
	struct csm_rmm *rmm = f->dev->rmm;
	struct csm_region *r = csm_region_find(f, a->region_id);
	struct csm_rmm_share_status st;
	struct csm_share_info *v = NULL;
	struct csm_share_shadow *s;
	u32 n = 0;

	if (!r)
		return csm_not_mine(f, a->region_id, true);
	if (r->role != CSM_ROLE_PROVIDER)
		return -EPERM;
	if (a->capacity) {
		v = kcalloc(a->capacity, sizeof(*v), GFP_KERNEL);
		if (!v)
			return -ENOMEM;
	}
	list_for_each_entry(s, &r->shares, link) {
		if (n < a->capacity) {
			u32 state = s->last_state;

			if (!rmm->ops->share_status(rmm, s->share_id, s->slot, &st))
				state = st.state;
			v[n].share_id = s->share_id;
			v[n].region_id = r->desc.region_id;
			v[n].peer_realm_id = s->consumer;
			v[n].perm = s->perm;
			v[n].state = csm_share_state_uapi(state);
		}
		n++;
	}
	a->count = n;
	*out = v;
	*out_len = min(n, a->capacity) * sizeof(*v);
	return 0;
}

static int csm_do_attest(struct csm_file *f, struct csm_attest *a,
			 void **out, size_t *out_len)
{
	struct csm_rmm *rmm = f->dev->rmm;
	struct csm_region *r = csm_region_find(f, a->region_id);
	u32 len = CSM_TOKEN_MAX;
	void *buf;
	int ret;

	if (!r)
		return csm_not_mine(f, a->region_id, false);
	if (r->state != CSM_REGION_ACTIVE)
		return r->state == CSM_REGION_REVOKED ? -EKEYREVOKED :
		       r->state == CSM_REGION_GONE ? -ENOLINK : -EIDRM;
	buf = kzalloc(CSM_TOKEN_MAX, GFP_KERNEL);
	if (!buf)
		return -ENOMEM;
	ret = rmm->ops->attest(rmm, a->region_id, a->challenge,
			       a->challenge_len, buf, &len, &a->token_format);
	if (ret) {
		kfree(buf);
		return ret;
	}
	if (len > a->token_len) {
		a->token_len = len;
		kfree(buf);
		return -ENOSPC;
	}
	a->token_len = len;
	*out = buf;
	*out_len = len;
	return 0;
}

static int csm_do_doorbell_fd(struct csm_file *f, struct csm_doorbell_fd *a,
			      struct file **file)
{
	struct csm_rmm *rmm = f->dev->rmm;
	struct csm_region *r = csm_region_find(f, a->region_id);
	u64 peer = a->realm_id;
	struct csm_share_shadow *s;
	bool party = false;

	if (!r)
		return csm_not_mine(f, a->region_id, false);
	if (peer == rmm->ops->realm_id(rmm))
		peer = 0;
	if (!peer)
		party = true;
	else if (r->role == CSM_ROLE_CONSUMER)
		party = peer == r->desc.provider_realm_id;
	else
		list_for_each_entry(s, &r->shares, link)
			party |= s->consumer == peer;
	if (!party)
		return -ESRCH;
	*file = csm_doorbell_file(r, peer);
	if (IS_ERR(*file)) {
		int ret = PTR_ERR(*file);

		*file = NULL;
		return ret;
	}
	return 0;
}

/* Copy a result array to userspace (no lock held). */
static int csm_copy_out(u64 uptr, void *buf, size_t len)
{
	if (len && copy_to_user(u64_to_user_ptr(uptr), buf, len))
		return -EFAULT;
	return 0;
}

/*
 * Hand a new doorbell or event file to userspace: reserve an fd, copy the
 * ioctl's result (which names the fd) out, and only then install the file,
 * so a failed copy leaves neither a stray fd nor a file behind.
 */
static int csm_install_file(struct file *file, u32 flags, __s32 *fd_out,
			    void __user *uarg, const union csm_args *a,
			    size_t size)
{
	int fd = get_unused_fd_flags((flags & CSM_FD_CLOEXEC) ? O_CLOEXEC : 0);

	if (fd < 0) {
		fput(file);
		return fd;
	}
	*fd_out = fd;
	if (copy_to_user(uarg, a, size)) {
		put_unused_fd(fd);
		fput(file);
		return -EFAULT;
	}
	fd_install(fd, file);
	return 0;
}

long csm_ioctl(struct file *file, unsigned int cmd, unsigned long arg)
{
	struct csm_file *f = file->private_data;
	struct csm_dev *dev = f->dev;
	void __user *uarg = (void __user *)arg;
	struct csm_region *node = NULL, *ring_r = NULL;
	struct file *newfile = NULL;
	void *out = NULL;
	size_t out_len = 0;
	union csm_args a;
	struct csm_rmm *rmm;
	int ret;

	switch (cmd) {
	case CSM_IOC_VERSION: case CSM_IOC_REALM: case CSM_IOC_CREATE:
	case CSM_IOC_SHARE: case CSM_IOC_REVOKE: case CSM_IOC_DESTROY:
	case CSM_IOC_ATTACH: case CSM_IOC_DETACH: case CSM_IOC_REGION_INFO:
	case CSM_IOC_LIST_REGIONS: case CSM_IOC_LIST_SHARES:
	case CSM_IOC_ATTEST: case CSM_IOC_DOORBELL_FD: case CSM_IOC_RING:
	case CSM_IOC_EVENT_FD:
		break;
	default:
		atomic64_inc(&dev->cnt.bad_ioctls);
		return -ENOTTY;
	}
	BUILD_BUG_ON(sizeof(a) > 256);
	memset(&a, 0, sizeof(a));
	if ((_IOC_DIR(cmd) & _IOC_WRITE) &&
	    copy_from_user(&a, uarg, _IOC_SIZE(cmd)))
		return -EFAULT;

	down_read(&dev->rmm_sem);
	mutex_lock(&dev->lock);
	rmm = dev->rmm;
	if (!rmm) {
		ret = -ENODEV;
		goto out_unlock;
	}
	ret = csm_check_args(cmd, &a, rmm->info.max_region_size);
	if (ret) {
		atomic64_inc(&dev->cnt.bad_ioctls);
		goto out_unlock;
	}

	switch (cmd) {
	case CSM_IOC_VERSION:
		a.version.uapi_version = CSM_UAPI_VERSION;
		a.version.backend = rmm->info.backend;
		a.version.features = rmm->info.features;
		a.version.max_region_size = rmm->info.max_region_size;
		a.version.granule_size = CSM_GRANULE_SIZE;
		a.version.max_regions = rmm->info.max_regions;
		a.version.max_shares = rmm->info.max_shares;
		strscpy(a.version.backend_name, rmm->info.name,
			sizeof(a.version.backend_name));
		break;
	case CSM_IOC_REALM:
		a.realm.realm_id = rmm->ops->realm_id(rmm);
		break;
	case CSM_IOC_CREATE:
		ret = csm_do_create(f, &a.create, &node);
		break;
	case CSM_IOC_SHARE:
		ret = csm_do_share(f, &a.share);
		break;
	case CSM_IOC_REVOKE:
		ret = csm_do_revoke(f, &a.revoke);
		break;
	case CSM_IOC_DESTROY:
		ret = csm_do_destroy(f, &a.destroy);
		break;
	case CSM_IOC_ATTACH:
		ret = csm_do_attach(f, &a.attach, &node);
		break;
	case CSM_IOC_DETACH:
		ret = csm_do_detach(f, &a.detach);
		break;
	case CSM_IOC_REGION_INFO: {
		struct csm_region *r = csm_region_find(f, a.info.region_id);

		if (r)
			csm_fill_info(r, &a.info);
		else
			ret = csm_not_mine(f, a.info.region_id, false);
		break;
	}
	case CSM_IOC_LIST_REGIONS:
		ret = csm_do_list_regions(f, &a.list, &out, &out_len);
		break;
	case CSM_IOC_LIST_SHARES:
		ret = csm_do_list_shares(f, &a.list, &out, &out_len);
		break;
	case CSM_IOC_ATTEST:
		ret = csm_do_attest(f, &a.attest, &out, &out_len);
		break;
	case CSM_IOC_DOORBELL_FD:
		ret = csm_do_doorbell_fd(f, &a.doorbell, &newfile);
		break;
	case CSM_IOC_RING:
		ring_r = csm_region_find(f, a.ring.region_id);
		if (ring_r)
			csm_region_get(ring_r);
		else
			ret = csm_not_mine(f, a.ring.region_id, false);
		break;
	case CSM_IOC_EVENT_FD:
		newfile = csm_event_file(f);
		if (IS_ERR(newfile)) {
			ret = PTR_ERR(newfile);
			newfile = NULL;
		}
		break;
	}
out_unlock:
	mutex_unlock(&dev->lock);
	up_read(&dev->rmm_sem);

	if (ring_r) {
		ret = csm_doorbell_ring(ring_r, a.ring.peer_realm_id);
		csm_region_put(ring_r);
	}
	if (node) {
		if (csm_node_add(node))
			pr_warn_ratelimited("csm: region %llu: no path node\n",
					    node->desc.region_id);
		csm_region_put(node);
	}
	if (newfile && cmd == CSM_IOC_DOORBELL_FD)
		return csm_install_file(newfile, a.doorbell.flags, &a.doorbell.fd,
					uarg, &a, _IOC_SIZE(cmd));
	if (newfile)
		return csm_install_file(newfile, a.event.flags, &a.event.fd,
					uarg, &a, _IOC_SIZE(cmd));
	if (!ret && out)
		ret = csm_copy_out(cmd == CSM_IOC_ATTEST ? a.attest.token_ptr :
				   a.list.entries_ptr, out, out_len);
	kfree(out);
	if ((!ret || (ret == -ENOSPC && cmd == CSM_IOC_ATTEST)) &&
	    (_IOC_DIR(cmd) & _IOC_READ) &&
	    copy_to_user(uarg, &a, _IOC_SIZE(cmd)))
		return -EFAULT;
	return ret;
}
