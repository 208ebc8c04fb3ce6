/*
 * Node 1: the state both VMs' monitors share, under one cross-VM spinlock.
 * Both QEMUs run multi-threaded TCG with maxcpus >= 2, so exclusive
 * loads/stores become real host atomics (shared/reference/testbed.md).
 */
#include "mon.h"

uint32_t my_tag;

struct sh_header *sh(void)
{
	return (struct sh_header *)(uintptr_t)MON_NODE1_BASE;
}

void sh_lock(void)
{
	uint32_t expected;

	for (;;) {
		expected = 0;
		if (__atomic_compare_exchange_n(&sh()->lock, &expected, 1, 0, __ATOMIC_ACQUIRE,
						__ATOMIC_RELAXED))
			return;
		while (__atomic_load_n(&sh()->lock, __ATOMIC_RELAXED))
			__asm__ volatile("yield");
	}
}

void sh_unlock(void)
{
	__atomic_store_n(&sh()->lock, 0, __ATOMIC_RELEASE);
}

/* The first monitor to come up initialises the header; later ones wait. */
static int sh_init(void)
{
	struct sh_header *h = sh();
	uint32_t expected = 0;
	uint64_t t0;

	if (__atomic_compare_exchange_n(&h->init, &expected, 1, 0, __ATOMIC_ACQ_REL,
					__ATOMIC_ACQUIRE)) {
		h->version = SH_VERSION;
		h->next_tag = 0;
		h->next_region = 0;
		h->generation = 0;
		h->magic = SH_MAGIC;
		__atomic_store_n(&h->init, 2, __ATOMIC_RELEASE);
		return 1;
	}
	t0 = counter_ms();
	while (__atomic_load_n(&h->init, __ATOMIC_ACQUIRE) != 2)
		if (counter_ms() - t0 > 5000)
			return 0;
	return h->magic == SH_MAGIC && h->version == SH_VERSION;
}

uint32_t sh_register(void)
{
	struct sh_header *h = sh();
	uint32_t tag;

	if (!sh_init()) {
		mon_printf("csm-test-monitor: node 1 state unusable; CSM calls disabled\n");
		return 0;
	}
	mon_debug = __atomic_load_n(&h->debug, __ATOMIC_ACQUIRE) != 0;
	sh_lock();
	tag = h->next_tag + 1;
	if (tag > SH_MAX_REALMS) {
		tag = 0;
	} else {
		h->next_tag = tag;
		h->realm_alive[tag - 1] = 1;
	}
	sh_unlock();
	return tag;
}
