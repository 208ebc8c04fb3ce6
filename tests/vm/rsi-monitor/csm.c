/*
 * The CSM state machine (CAEC's CREATE/SHARE/RESERVE/ATTACH/DETACH_AND_FREE/
 * REVOKE/DESTROY plus csm's extension calls). All state lives in node 1
 * under sh_lock() so the peer VM's monitor sees it; each monitor changes
 * only its own VM's stage-2. A revoke or destroy by the provider reaches the
 * consumer's stage-2 at the consumer's next SMC (csm_sweep): the monitors
 * cannot interrupt each other.
 */
#include "mon.h"

#define CONS_INDEX_BASE 0x100u

static uint64_t seen_generation;

static uint64_t pool_pa(uint32_t page)
{
	return MON_NODE1_BASE + SH_POOL_OFF + (uint64_t)page * MON_PAGE;
}

static int win_range_ok(uint64_t base, uint64_t size)
{
	return size && !(size & (MON_PAGE - 1)) && !(base & (MON_PAGE - 1)) &&
	       base >= MON_WIN_BASE && base < MON_WIN_TOP && size <= MON_WIN_TOP - base;
}

static int overlaps(uint64_t b1, uint64_t s1, uint64_t b2, uint64_t s2)
{
	return b1 < b2 + s2 && b2 < b1 + s1;
}

/* Validated copy of a region's geometry (node 1 may have been scribbled on). */
static int region_geometry(const struct sh_region *r, uint64_t *size, uint32_t *first)
{
	uint64_t sz = r->size;
	uint32_t fp = r->first_page;

	if (!sz || (sz & (MON_PAGE - 1)) || sz > MON_WIN_TOP - MON_WIN_BASE ||
	    fp > SH_POOL_PAGES || sz / MON_PAGE > SH_POOL_PAGES - fp)
		return 0;
	*size = sz;
	*first = fp;
	return 1;
}

/* Does [base, base+size) overlap a live CREATE or RESERVE range of this VM? */
static int overlaps_mine(uint64_t base, uint64_t size)
{
	uint32_t id, s;

	for (id = 1; id <= SH_MAX_REGIONS; id++) {
		struct sh_region *r = SH_REGION(sh(), id);

		if (r->state == RG_FREE)
			continue;
		if (r->owner == my_tag && r->owner_mapped && overlaps(base, size, r->base, r->size))
			return 1;
		for (s = 0; s < SH_MAX_SHARES; s++) {
			struct sh_share *sp = &r->shares[s];

			if (sp->consumer == my_tag && sp->reserved &&
			    overlaps(base, size, sp->cons_base, r->size))
				return 1;
		}
	}
	return 0;
}

static int pool_test(uint32_t p)
{
	return sh()->pool_map[p / 8] & (1u << (p % 8));
}

static void pool_set(uint32_t p, int used)
{
	if (used)
		sh()->pool_map[p / 8] |= (uint8_t)(1u << (p % 8));
	else
		sh()->pool_map[p / 8] &= (uint8_t)~(1u << (p % 8));
}

static int64_t pool_alloc(uint32_t n)
{
	uint32_t start = 0, p;

	while (start + n <= SH_POOL_PAGES) {
		for (p = start; p < start + n && !pool_test(p); p++)
			;
		if (p == start + n) {
			for (p = start; p < start + n; p++) {
				pool_set(p, 1);
				memset((void *)(uintptr_t)pool_pa(p), 0, MON_PAGE);
			}
			return start;
		}
		start = p + 1;
	}
	return -1;
}

static void pool_free(uint32_t first, uint32_t n)
{
	uint32_t p;

	for (p = first; p < first + n; p++) {
		memset((void *)(uintptr_t)pool_pa(p), 0, MON_PAGE);
		pool_set(p, 0);
	}
}

static void map_range(uint64_t ipa, uint32_t first, uint64_t size, int writable)
{
	uint64_t off;

	for (off = 0; off < size; off += MON_PAGE)
		s2_map_page(ipa + off, pool_pa(first + (uint32_t)(off / MON_PAGE)), writable);
	s2_flush();
}

static void unmap_range(uint64_t ipa, uint64_t size)
{
	uint64_t off;

	if (!win_range_ok(ipa, size))
		return;
	for (off = 0; off < size; off += MON_PAGE)
		s2_unmap_page(ipa + off);
	s2_flush();
}

/* Free a destroyed region's pages once nobody maps them any more. */
static void maybe_free(struct sh_region *r)
{
	uint64_t size;
	uint32_t first, s;

	if (r->state != RG_DESTROYED || !r->pages_held || r->owner_mapped)
		return;
	for (s = 0; s < SH_MAX_SHARES; s++)
		if (r->shares[s].consumer && r->shares[s].mapped)
			return;
	if (region_geometry(r, &size, &first))
		pool_free(first, (uint32_t)(size / MON_PAGE));
	r->pages_held = 0;
	dbg("mon: region pages freed\n");
}

/* A destroyed region's slot may take a new region once nobody refers to it. */
static int region_reusable(const struct sh_region *r)
{
	uint32_t s;

	if (r->state == RG_FREE)
		return 1;
	if (r->state != RG_DESTROYED || r->pages_held)
		return 0;
	for (s = 0; s < SH_MAX_SHARES; s++)
		if (r->shares[s].consumer && (r->shares[s].reserved || r->shares[s].mapped))
			return 0;
	return 1;
}

static struct sh_region *region_by_id(uint64_t id)
{
	if (id < 1 || id > SH_MAX_REGIONS)
		return 0;
	return SH_REGION(sh(), id);
}

/* Resolve a sharing id to its region and share slot (any region state but FREE). */
static struct sh_share *share_by_sid(uint64_t sid, struct sh_region **rp, uint32_t *ptag)
{
	struct sh_region *r;
	uint32_t ctag = sid & 0xff, s;

	*ptag = (sid >> 8) & 0xff;
	if (sid >> 24)
		return 0;
	r = region_by_id((sid >> 16) & 0xff);
	if (!r || r->state == RG_FREE || r->owner != *ptag || !ctag)
		return 0;
	for (s = 0; s < SH_MAX_SHARES; s++) {
		if (r->shares[s].consumer == ctag) {
			*rp = r;
			return &r->shares[s];
		}
	}
	return 0;
}

static uint64_t sharing_id(uint32_t rid, uint32_t ptag, uint32_t ctag)
{
	return (uint64_t)rid << 16 | (uint64_t)ptag << 8 | ctag;
}

static uint64_t do_create(struct frame *f)
{
	struct sh_header *h = sh();
	uint64_t base = f->x[2], size = f->x[3];
	uint32_t i, id = 0;
	int64_t first;
	struct sh_region *r;

	if (!win_range_ok(base, size) || overlaps_mine(base, size))
		return RSI_ERROR_INPUT;
	for (i = 1; i <= SH_MAX_REGIONS; i++) {
		uint32_t cand = (h->next_region + i - 1) % SH_MAX_REGIONS + 1;

		r = SH_REGION(h, cand);
		if (region_reusable(r)) {
			id = cand;
			break;
		}
	}
	if (!id)
		return RSI_ERROR_STATE;
	first = pool_alloc((uint32_t)(size / MON_PAGE));
	if (first < 0)
		return RSI_ERROR_STATE;
	r = SH_REGION(h, id);
	memset(r, 0, sizeof(*r));
	r->owner = my_tag;
	r->base = base;
	r->size = size;
	r->first_page = (uint32_t)first;
	r->pages_held = 1;
	r->owner_mapped = 1;
	r->state = RG_LIVE;
	h->next_region = id;
	map_range(base, (uint32_t)first, size, 1);
	f->x[1] = id;
	f->x[2] = id;
	dbg("mon: create region %u base %lx size %lx\n", id, base, size);
	return RSI_SUCCESS;
}

static uint64_t do_share(struct frame *f)
{
	struct sh_region *r = region_by_id(f->x[1]);
	uint64_t ctag = f->x[2], perm = f->x[3];
	struct sh_share *slot = 0;
	uint32_t s;

	if (!r || r->state != RG_LIVE || r->owner != my_tag)
		return RSI_ERROR_INPUT;
	if (!ctag || ctag > 255 || ctag == my_tag || (perm != 2 && perm != 3))
		return RSI_ERROR_INPUT;
	for (s = 0; s < SH_MAX_SHARES; s++) {
		struct sh_share *sp = &r->shares[s];

		if (sp->consumer == ctag) {
			if (sp->state != SS_REVOKED || sp->mapped || sp->reserved)
				return RSI_ERROR_STATE;
			slot = sp;
			break;
		}
		if (!sp->consumer && !slot)
			slot = sp;
	}
	if (!slot)
		return RSI_ERROR_STATE;
	memset(slot, 0, sizeof(*slot));
	slot->perm = (uint32_t)perm;
	slot->state = SS_GRANTED;
	slot->consumer = (uint32_t)ctag;
	f->x[1] = sharing_id((uint32_t)f->x[1], my_tag, (uint32_t)ctag);
	return RSI_SUCCESS;
}

static uint64_t do_reserve(struct frame *f)
{
	struct sh_region *r;
	uint32_t ptag;
	struct sh_share *sp = share_by_sid(f->x[1], &r, &ptag);
	uint64_t base = f->x[2], size = f->x[3];

	if (!sp || sp->consumer != my_tag)
		return RSI_ERROR_INPUT;
	if (r->state != RG_LIVE || sp->state != SS_GRANTED)
		return RSI_ERROR_STATE;
	if (size != r->size || !win_range_ok(base, size) || overlaps_mine(base, size))
		return RSI_ERROR_INPUT;
	sp->cons_base = base;
	sp->reserved = 1;
	sp->state = SS_RESERVED;
	f->x[2] = CONS_INDEX_BASE + (uint64_t)(r - SH_REGION(sh(), 1)) * SH_MAX_SHARES +
		  (uint64_t)(sp - r->shares);
	return RSI_SUCCESS;
}

static uint64_t do_attach(struct frame *f)
{
	uint64_t idx = f->x[1], size;
	struct sh_region *r;
	struct sh_share *sp;
	uint32_t first;

	if (idx < CONS_INDEX_BASE || idx >= CONS_INDEX_BASE + SH_MAX_REGIONS * SH_MAX_SHARES)
		return RSI_ERROR_INPUT;
	idx -= CONS_INDEX_BASE;
	r = SH_REGION(sh(), idx / SH_MAX_SHARES + 1);
	sp = &r->shares[idx % SH_MAX_SHARES];
	if (r->state == RG_FREE || sp->consumer != my_tag || !sp->reserved)
		return RSI_ERROR_INPUT;
	if (r->state != RG_LIVE || sp->state != SS_RESERVED)
		return RSI_ERROR_STATE;
	if (!region_geometry(r, &size, &first) || !win_range_ok(sp->cons_base, size))
		return RSI_ERROR_UNKNOWN;
	map_range(sp->cons_base, first, size, sp->perm == 3);
	sp->mapped = 1;
	sp->state = SS_ATTACHED;
	return RSI_SUCCESS;
}

static uint64_t do_detach(struct frame *f)
{
	struct sh_region *r;
	uint32_t ptag;
	struct sh_share *sp = share_by_sid(f->x[1], &r, &ptag);

	if (!sp || sp->consumer != my_tag)
		return RSI_ERROR_INPUT;
	if (sp->state == SS_GRANTED)
		return RSI_ERROR_STATE;
	if (sp->mapped)
		unmap_range(sp->cons_base, r->size);
	sp->mapped = 0;
	sp->reserved = 0;
	sp->cons_base = 0;
	if (sp->state == SS_RESERVED || sp->state == SS_ATTACHED)
		sp->state = SS_GRANTED;
	maybe_free(r);
	return RSI_SUCCESS;
}

static uint64_t do_revoke(struct frame *f)
{
	struct sh_region *r;
	uint32_t ptag;
	struct sh_share *sp = share_by_sid(f->x[1], &r, &ptag);

	if (!sp || ptag != my_tag)
		return RSI_ERROR_INPUT;
	if (r->state != RG_LIVE || sp->state == SS_REVOKED)
		return RSI_ERROR_STATE;
	sp->state = SS_REVOKED;
	sh()->generation++;
	return RSI_SUCCESS;
}

static uint64_t do_destroy(struct frame *f)
{
	struct sh_region *r = region_by_id(f->x[1]);
	uint32_t s;

	if (!r || r->state != RG_LIVE || r->owner != my_tag)
		return RSI_ERROR_INPUT;
	for (s = 0; s < SH_MAX_SHARES; s++)
		if (r->shares[s].consumer && r->shares[s].state != SS_REVOKED)
			return RSI_ERROR_STATE;
	if (r->owner_mapped)
		unmap_range(r->base, r->size);
	r->owner_mapped = 0;
	r->state = RG_DESTROYED;
	sh()->generation++;
	maybe_free(r);
	return RSI_SUCCESS;
}

void csm_call(uint32_t call, struct frame *f)
{
	uint64_t st;

	if (!my_tag) {
		f->x[0] = RSI_ERROR_UNKNOWN;
		return;
	}
	sh_lock();
	switch (call) {
	case 0x19a:
		st = do_create(f);
		break;
	case 0x19b:
		st = do_share(f);
		break;
	case 0x19c:
		st = do_reserve(f);
		break;
	case 0x19d:
		st = do_attach(f);
		break;
	case 0x19e:
		st = do_detach(f);
		break;
	case 0x19f:
		st = do_revoke(f);
		break;
	default:
		st = do_destroy(f);
		break;
	}
	sh_unlock();
	dbg("mon: csm call %x -> %lx\n", call, st);
	f->x[0] = st;
}

static uint64_t share_status(struct frame *f)
{
	struct sh_region *r;
	uint32_t ptag;
	struct sh_share *sp = share_by_sid(f->x[1], &r, &ptag);

	if (!sp || (ptag != my_tag && sp->consumer != my_tag))
		return RSI_ERROR_INPUT;
	f->x[1] = r->state == RG_DESTROYED ? 5 : sp->state;
	f->x[2] = sp->perm;
	f->x[3] = (uint64_t)sp->rings_to_consumer | (uint64_t)sp->rings_to_provider << 32;
	return RSI_SUCCESS;
}

static uint64_t doorbell(struct frame *f)
{
	struct sh_region *r;
	uint32_t ptag;
	struct sh_share *sp = share_by_sid(f->x[1], &r, &ptag);

	if (!sp || f->x[2] > 1)
		return RSI_ERROR_INPUT;
	if (f->x[2] == 0 && ptag == my_tag)
		sp->rings_to_consumer++;
	else if (f->x[2] == 1 && sp->consumer == my_tag)
		sp->rings_to_provider++;
	else
		return RSI_ERROR_INPUT;
	return RSI_SUCCESS;
}

static uint64_t region_status(struct frame *f)
{
	struct sh_region *r = region_by_id(f->x[1]);
	uint32_t s;
	int party;

	if (!r || r->state == RG_FREE)
		return RSI_ERROR_INPUT;
	party = r->owner == my_tag;
	for (s = 0; s < SH_MAX_SHARES; s++)
		party |= r->shares[s].consumer == my_tag;
	if (!party)
		return RSI_ERROR_INPUT;
	f->x[1] = r->state;
	f->x[2] = r->size;
	return RSI_SUCCESS;
}

void csm_ext_call(uint32_t n, struct frame *f)
{
	uint64_t st;

	if (!my_tag) {
		f->x[0] = RSI_ERROR_UNKNOWN;
		return;
	}
	if (n == 1) {
		f->x[0] = RSI_SUCCESS;
		f->x[1] = my_tag;
		return;
	}
	sh_lock();
	switch (n) {
	case 2:
		st = share_status(f);
		break;
	case 3:
		st = doorbell(f);
		break;
	case 5:
		st = region_status(f);
		break;
	default:
		st = SMC_UNKNOWN;
		break;
	}
	sh_unlock();
	f->x[0] = st;
}

/* Apply peers' revokes and destroys to this VM's stage-2 (the revoke lag ends here). */
void csm_sweep(void)
{
	uint32_t id, s;
	uint64_t gen;

	if (!my_tag)
		return;
	gen = __atomic_load_n(&sh()->generation, __ATOMIC_ACQUIRE);
	if (gen == seen_generation)
		return;
	sh_lock();
	seen_generation = sh()->generation;
	for (id = 1; id <= SH_MAX_REGIONS; id++) {
		struct sh_region *r = SH_REGION(sh(), id);

		if (r->state == RG_FREE)
			continue;
		for (s = 0; s < SH_MAX_SHARES; s++) {
			struct sh_share *sp = &r->shares[s];

			if (sp->consumer != my_tag || !sp->mapped)
				continue;
			if (sp->state == SS_REVOKED || r->state == RG_DESTROYED) {
				unmap_range(sp->cons_base, r->size);
				sp->mapped = 0;
				dbg("mon: revoke of region %u applied\n", id);
			}
		}
		maybe_free(r);
	}
	sh_unlock();
}

/* This VM powers off: its attachments end and its regions are destroyed. */
void csm_realm_dies(void)
{
	uint32_t id, s;

	if (!my_tag)
		return;
	sh_lock();
	for (id = 1; id <= SH_MAX_REGIONS; id++) {
		struct sh_region *r = SH_REGION(sh(), id);

		if (r->state == RG_FREE)
			continue;
		for (s = 0; s < SH_MAX_SHARES; s++) {
			struct sh_share *sp = &r->shares[s];

			if (sp->consumer != my_tag)
				continue;
			sp->mapped = 0;
			sp->reserved = 0;
			if (sp->state == SS_RESERVED || sp->state == SS_ATTACHED)
				sp->state = SS_GRANTED;
		}
		if (r->owner == my_tag && r->state == RG_LIVE) {
			r->owner_mapped = 0;
			r->state = RG_DESTROYED;
		}
		maybe_free(r);
	}
	sh()->realm_alive[my_tag - 1] = 0;
	sh()->generation++;
	sh_unlock();
}
