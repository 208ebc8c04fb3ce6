// SPDX-License-Identifier: GPL-2.0
/*
 * Mapping regions into processes, and the per-region path nodes.
 *
 * Pages are inserted on fault and every mapping of every region lives in the
 * device's one address_space at the region's cookie offset, so revoke,
 * detach and destroy remove them all with unmap_mapping_range(); a fault
 * after that finds the region unmappable and gets SIGBUS.
 */
#include <linux/fs.h>
#include <linux/mm.h>
#include <linux/slab.h>

#include "core/internal.h"

static void csm_vma_set(struct vm_area_struct *vma, vm_flags_t set,
			vm_flags_t clear)
{
#ifdef CSM_HAVE_VM_FLAGS_MOD	/* set by Kbuild: 6.3+ */
	vm_flags_mod(vma, set, clear);
#else
	vma->vm_flags = (vma->vm_flags | set) & ~clear;
#endif
}

static void csm_vm_open(struct vm_area_struct *vma)
{
	struct csm_region *r = vma->vm_private_data;

	csm_region_get(r);
	atomic_inc(&r->dev->cnt.mappings);
}

static void csm_vm_close(struct vm_area_struct *vma)
{
	struct csm_region *r = vma->vm_private_data;

	atomic_dec(&r->dev->cnt.mappings);
	csm_region_put(r);
}

static vm_fault_t csm_vm_fault(struct vm_fault *vmf)
{
	struct vm_area_struct *vma = vmf->vma;
	struct csm_region *r = vma->vm_private_data;
	unsigned long idx = vmf->pgoff - (r->cookie >> PAGE_SHIFT);
	vm_fault_t ret = VM_FAULT_SIGBUS;

	if (vmf->pgoff < (r->cookie >> PAGE_SHIFT) ||
	    idx >= (r->desc.size >> PAGE_SHIFT))
		return VM_FAULT_SIGBUS;
	mutex_lock(&r->map_lock);
	if (r->mappable)
		ret = vmf_insert_pfn(vma, vmf->address,
				     PHYS_PFN(r->desc.phys) + idx);
	mutex_unlock(&r->map_lock);
	return ret;
}

static const struct vm_operations_struct csm_vm_ops = {
	.open = csm_vm_open,
	.close = csm_vm_close,
	.fault = csm_vm_fault,
};

static int csm_state_errno(u32 state)
{
	switch (state) {
	case CSM_REGION_ACTIVE:		/* unmappable while a destroy runs */
		return -EBUSY;
	case CSM_REGION_REVOKED:
		return -EKEYREVOKED;
	case CSM_REGION_DESTROYED:
		return -EIDRM;
	default:
		return -ENOLINK;
	}
}

/**
 * csm_mmap_region() - map region @r whole into @vma.
 * @r: the region.
 * @vma: vm_pgoff already set to the region's cookie page.
 * @base_pgoff: unused by callers that set vm_pgoff themselves (kept equal).
 *
 * Return: 0; -EINVAL for MAP_PRIVATE or a length other than the region's;
 * -EACCES for PROT_WRITE on a read-only region; -EKEYREVOKED, -EIDRM or
 * -ENOLINK when the region has ended.
 */
int csm_mmap_region(struct csm_region *r, struct vm_area_struct *vma,
		    unsigned long base_pgoff)
{
	int ret = 0;

	if (!(vma->vm_flags & VM_SHARED))
		return -EINVAL;
	if (vma->vm_pgoff != base_pgoff ||
	    vma_pages(vma) != (r->desc.size >> PAGE_SHIFT))
		return -EINVAL;
	if (!(r->desc.perm & CSM_PERM_WRITE)) {
		if (vma->vm_flags & VM_WRITE)
			return -EACCES;
		csm_vma_set(vma, 0, VM_MAYWRITE);	/* no mprotect() later */
	}
	mutex_lock(&r->map_lock);
	if (!r->mappable)
		ret = csm_state_errno(READ_ONCE(r->state));
	mutex_unlock(&r->map_lock);
	if (ret)
		return ret;
	csm_vma_set(vma, VM_PFNMAP | VM_IO | VM_DONTEXPAND | VM_DONTDUMP, 0);
	vma->vm_private_data = r;
	vma->vm_ops = &csm_vm_ops;
	csm_vm_open(vma);
	return 0;
}

/* mmap() of /dev/csm: the offset is a cookie naming a region of the file. */
int csm_mmap(struct file *file, struct vm_area_struct *vma)
{
	struct csm_file *f = file->private_data;
	struct csm_dev *dev = f->dev;
	u64 cookie = (u64)vma->vm_pgoff << PAGE_SHIFT;
	struct csm_region *r, *found = NULL;
	int ret;

	mutex_lock(&dev->lock);
	list_for_each_entry(r, &f->regions, file_link) {
		if (r->cookie == cookie) {
			found = r;
			csm_region_get(r);
			break;
		}
	}
	mutex_unlock(&dev->lock);
	if (!found)
		return -EINVAL;
	ret = csm_mmap_region(found, vma, found->cookie >> PAGE_SHIFT);
	csm_region_put(found);
	return ret;
}

/* Make every mapping of @r fault from now on. */
void csm_mmap_zap(struct csm_region *r)
{
	struct address_space *mapping = r->dev->mapping;

	mutex_lock(&r->map_lock);
	r->mappable = false;
	mutex_unlock(&r->map_lock);
	if (mapping)
		unmap_mapping_range(mapping, r->cookie, r->desc.size, 1);
}

/* Let @r be mapped again after a zap that did not end it (a refused destroy). */
void csm_mmap_allow(struct csm_region *r)
{
	mutex_lock(&r->map_lock);
	r->mappable = true;
	mutex_unlock(&r->map_lock);
}

/* Path node: /dev/csm-region/<region id>. */
static int csm_node_open(struct inode *inode, struct file *file)
{
	struct miscdevice *misc = file->private_data;
	struct csm_region *r = container_of(misc, struct csm_region, node);

	/* misc_open() holds misc_mtx, so @r cannot be unregistered here. */
	if ((file->f_mode & FMODE_WRITE) && !(r->desc.perm & CSM_PERM_WRITE))
		return -EACCES;
	if (!r->dev->mapping)
		return -ENODEV;
	csm_region_get(r);
	file->f_mapping = r->dev->mapping;
	file->private_data = r;
	return 0;
}

static int csm_node_release(struct inode *inode, struct file *file)
{
	csm_region_put(file->private_data);
	return 0;
}

static loff_t csm_node_llseek(struct file *file, loff_t offset, int whence)
{
	struct csm_region *r = file->private_data;

	return fixed_size_llseek(file, offset, whence, r->desc.size);
}

static int csm_node_mmap(struct file *file, struct vm_area_struct *vma)
{
	struct csm_region *r = file->private_data;
	unsigned long base = r->cookie >> PAGE_SHIFT;

	if (vma->vm_pgoff != 0)
		return -EINVAL;
	/* Before the VMA is linked, so it lands at the region's cookie. */
	vma->vm_pgoff = base;
	return csm_mmap_region(r, vma, base);
}

static const struct file_operations csm_node_fops = {
	.owner = THIS_MODULE,
	.open = csm_node_open,
	.release = csm_node_release,
	.llseek = csm_node_llseek,
	.mmap = csm_node_mmap,
};

int csm_node_add(struct csm_region *r)
{
	int ret;

	snprintf(r->node_name, sizeof(r->node_name), "csm-region-%llu",
		 r->desc.region_id);
	snprintf(r->node_path, sizeof(r->node_path), "csm-region/%llu",
		 r->desc.region_id);
	r->node.minor = MISC_DYNAMIC_MINOR;
	r->node.name = r->node_name;
	r->node.nodename = r->node_path;
	r->node.fops = &csm_node_fops;
	r->node.mode = 0600;
	mutex_lock(&r->node_lock);
	ret = r->node_dead ? 0 : misc_register(&r->node);
	if (!ret && !r->node_dead) {
		r->node_live = true;
		atomic_inc(&r->dev->cnt.nodes);
	}
	mutex_unlock(&r->node_lock);
	return ret;
}

void csm_node_remove(struct csm_region *r)
{
	mutex_lock(&r->node_lock);
	r->node_dead = true;
	if (r->node_live) {
		misc_deregister(&r->node);
		r->node_live = false;
		atomic_dec(&r->dev->cnt.nodes);
	}
	mutex_unlock(&r->node_lock);
}
