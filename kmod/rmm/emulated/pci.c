// SPDX-License-Identifier: GPL-2.0
/*
 * Emulated RMM: binding to QEMU's ivshmem-doorbell device (1af4:1110).
 *
 * BAR0 holds the ivshmem registers, BAR2 the memory every VM on the same
 * ivshmem server shares. The CSM tables live at the start of BAR2 and
 * regions are carved from the rest. MSI-X vector 0 says "shared state
 * changed", vector 1 "a doorbell rang". It gives NO confidentiality.
 */
#include <linux/interrupt.h>
#include <linux/io.h>
#include <linux/module.h>
#include <linux/pci.h>
#include <linux/slab.h>

#include <csm/uapi/csm.h>
#include "emu.h"
#include "../backends.h"

static irqreturn_t csm_emu_state_irq(int irq, void *data)
{
	struct csm_emu *e = data;

	schedule_work(&e->state_work);
	return IRQ_HANDLED;
}

static irqreturn_t csm_emu_doorbell_irq(int irq, void *data)
{
	struct csm_emu *e = data;

	csm_core_doorbell(&e->rmm);
	return IRQ_HANDLED;
}

static void csm_emu_state_work(struct work_struct *work)
{
	struct csm_emu *e = container_of(work, struct csm_emu, state_work);

	csm_emu_reap(e);
	csm_core_notify(&e->rmm);
}

static int csm_emu_probe(struct pci_dev *pdev, const struct pci_device_id *id)
{
	resource_size_t bar2_len;
	struct csm_emu *e;
	int ret;

	/*
	 * ivshmem-plain (same IDs, no MSI-X) is plain shared memory, e.g. the
	 * host-visible buffer of the VM benchmarks: leave it to userspace.
	 */
	if (!pci_find_capability(pdev, PCI_CAP_ID_MSIX))
		return -ENODEV;

	e = devm_kzalloc(&pdev->dev, sizeof(*e), GFP_KERNEL);
	if (!e)
		return -ENOMEM;
	e->pdev = pdev;
	INIT_WORK(&e->state_work, csm_emu_state_work);
	pci_set_drvdata(pdev, e);

	ret = pcim_enable_device(pdev);
	if (ret)
		return ret;
	ret = pcim_iomap_regions(pdev, BIT(0), "csm-emulated-rmm");
	if (ret)
		return ret;
	e->regs = pcim_iomap_table(pdev)[0];
	bar2_len = pci_resource_len(pdev, 2);
	if (bar2_len < CSM_EMU_POOL_OFFSET + PAGE_SIZE ||
	    !(pci_resource_flags(pdev, 2) & IORESOURCE_MEM)) {
		dev_err(&pdev->dev, "BAR2 of %pa bytes is too small for CSM state\n",
			&bar2_len);
		return -ENODEV;
	}
	if (!devm_request_mem_region(&pdev->dev, pci_resource_start(pdev, 2),
				     bar2_len, "csm-emulated-rmm"))
		return -EBUSY;
	/* Cacheable, so CPUs can use atomics on it and users map it WB. */
	e->hdr = devm_memremap(&pdev->dev, pci_resource_start(pdev, 2),
			       bar2_len, MEMREMAP_WB);
	if (IS_ERR(e->hdr))
		return PTR_ERR(e->hdr);
	e->pool = (void *)e->hdr + CSM_EMU_POOL_OFFSET;
	e->pool_phys = pci_resource_start(pdev, 2) + CSM_EMU_POOL_OFFSET;
	e->pool_size = bar2_len - CSM_EMU_POOL_OFFSET;

	e->ivposition = ioread32(e->regs + IVSHMEM_IVPOSITION);
	if (e->ivposition >= CSM_EMU_MAX_REALMS) {
		dev_err(&pdev->dev, "ivshmem peer id %u: only 0..%u can be realms\n",
			e->ivposition, CSM_EMU_MAX_REALMS - 1);
		return -ENODEV;
	}
	e->realm_id = CSM_EMU_REALM_ID_BASE + e->ivposition;

	/* Without bus mastering QEMU silently drops the MSI-X writes. */
	pci_set_master(pdev);
	ret = pci_alloc_irq_vectors(pdev, CSM_EMU_NR_VECTORS,
				    CSM_EMU_NR_VECTORS, PCI_IRQ_MSIX);
	if (ret < 0) {
		dev_err(&pdev->dev, "need %d MSI-X vectors (ivshmem-doorbell,vectors=%d): %d\n",
			CSM_EMU_NR_VECTORS, CSM_EMU_NR_VECTORS, ret);
		return ret;
	}
	ret = request_irq(pci_irq_vector(pdev, CSM_EMU_VEC_STATE),
			  csm_emu_state_irq, 0, "csm-state", e);
	if (ret)
		goto err_vectors;
	ret = request_irq(pci_irq_vector(pdev, CSM_EMU_VEC_DOORBELL),
			  csm_emu_doorbell_irq, 0, "csm-doorbell", e);
	if (ret)
		goto err_state_irq;

	ret = csm_emu_state_init(e);
	if (ret)
		goto err_doorbell_irq;

	e->rmm.ops = &csm_emu_ops;
	e->rmm.parent = &pdev->dev;
	e->rmm.info.backend = CSM_BACKEND_EMULATED_RMM;
	e->rmm.info.features = CSM_FEAT_READ_ONLY | CSM_FEAT_REVOKE_ZAP |
			       CSM_FEAT_FORCE_DESTROY | CSM_FEAT_ATTEST |
			       CSM_FEAT_DOORBELL | CSM_FEAT_EVENTS |
			       CSM_FEAT_LIST;
	e->rmm.info.max_region_size = min_t(u64, e->pool_size, CSM_EMU_MAX_REGION_SIZE);
	e->rmm.info.max_regions = CSM_EMU_MAX_REGIONS;
	e->rmm.info.max_shares = CSM_EMU_MAX_SHARES;
	e->rmm.info.name = "emulated-rmm over ivshmem (no confidentiality)";
	ret = csm_core_register(&e->rmm);
	if (ret)
		goto err_state;
	csm_emu_liveness_start(e);
	dev_info(&pdev->dev, "emulated RMM: realm 0x%llx (ivshmem peer %u), %llu KiB pool; NO CONFIDENTIALITY: the host can read and write all CSM memory\n",
		 e->realm_id, e->ivposition, e->pool_size >> 10);
	return 0;

err_state:
	/* As in remove: quiet the interrupts and their work first. */
	free_irq(pci_irq_vector(pdev, CSM_EMU_VEC_DOORBELL), e);
	free_irq(pci_irq_vector(pdev, CSM_EMU_VEC_STATE), e);
	cancel_work_sync(&e->state_work);
	csm_emu_state_exit(e);
	goto err_vectors;
err_doorbell_irq:
	free_irq(pci_irq_vector(pdev, CSM_EMU_VEC_DOORBELL), e);
err_state_irq:
	free_irq(pci_irq_vector(pdev, CSM_EMU_VEC_STATE), e);
	/* A peer may have rung the state vector meanwhile; e is devm-freed. */
	cancel_work_sync(&e->state_work);
err_vectors:
	pci_free_irq_vectors(pdev);
	return ret;
}

static void csm_emu_remove(struct pci_dev *pdev)
{
	struct csm_emu *e = pci_get_drvdata(pdev);

	/* Quiet every source of core notifications before the core goes. */
	csm_emu_liveness_stop(e);
	free_irq(pci_irq_vector(pdev, CSM_EMU_VEC_DOORBELL), e);
	free_irq(pci_irq_vector(pdev, CSM_EMU_VEC_STATE), e);
	cancel_work_sync(&e->state_work);
	csm_core_unregister(&e->rmm);
	csm_emu_state_exit(e);
	pci_free_irq_vectors(pdev);
	dev_info(&pdev->dev, "emulated RMM: realm 0x%llx left (%lld lock timeouts, %lld bad entries seen)\n",
		 e->realm_id, atomic64_read(&e->lock_timeouts),
		 atomic64_read(&e->bad_entries));
}

static const struct pci_device_id csm_emu_ids[] = {
	{ PCI_DEVICE(0x1af4, 0x1110) },	/* QEMU ivshmem */
	{ }
};
MODULE_DEVICE_TABLE(pci, csm_emu_ids);

struct pci_driver csm_emu_driver = {
	.name = "csm-emulated-rmm",
	.id_table = csm_emu_ids,
	.probe = csm_emu_probe,
	.remove = csm_emu_remove,
};
