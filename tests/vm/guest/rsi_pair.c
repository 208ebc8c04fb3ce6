/*
 * csm-vm-rsi-pair: the two-VM suite over the RSI backend, both VMs under
 * the csm test monitor (one shared node 1). VM A runs "provider", VM B
 * "consumer"; they hand over realm tags and share IDs on a serial link, as
 * pair.c does over the emulated RMM. Cross-realm news (attach, detach,
 * revoke, doorbells) reaches each kernel by its poll of
 * CSM_EXT_SHARE_STATUS (csm.rsi_poll_ms), so waits here allow for it.
 * Attestation evidence is printed as "VMTEST TOKEN" lines for the host.
 *   csm-vm-rsi-pair provider|consumer LINK_TTY
 */
#define _GNU_SOURCE
#include "vmtest.h"

#include <errno.h>
#include <string.h>
#include <unistd.h>

#include <csm/uapi/attestation_cca.h>

/*
 * Counts and waits of the steps shared with pair.c (vmtest.h): cross-realm
 * news is polled, so longer waits and fewer doorbell round trips (~2 poll
 * periods each).
 */
static const struct vt_pair_waits waits = {
	.ping_doorbell = 100, .ping_spin = 1000,
	.hello_tries = 300, .hello_ms = 90000,
	.news_ms = 30000, .stall_ms = 20000, .ro_mapped_ms = 60000,
	.revoked_ms = 60000, .revoke_event_ms = 10000, .done_ms = 60000,
	.revoke_note = "takes effect at B's next RMM entry",
	.revoke_event = "within the poll period",
};

/* Attest @region with @chal; fills @ev, returns its length or -errno. */
static int attest(int fd, uint64_t region, const uint8_t *chal, uint32_t chal_len,
		  uint8_t *ev, uint32_t cap)
{
	struct csm_attest at;
	int e = vt_attest(fd, region, chal, chal_len, ev, cap, &at);

	if (e)
		return e;
	return at.token_format == CSM_TOKEN_CCA ? (int)at.token_len : -EPROTO;
}

static const struct csm_cca_region_desc *desc_of(const uint8_t *ev)
{
	return (const void *)(ev + sizeof(struct csm_cca_evidence));
}

/* ---------------------------------------------------------------- A ---- */
/* The provider's view: its consumer is in the descriptor. */
static void provider_attest(const struct vt_pair_a *a)
{
	static uint8_t ev[4096];
	uint8_t chal[64];
	int ok, n;

	for (int i = 0; i < 64; i++)
		chal[i] = (uint8_t)(0xa0 ^ i);
	n = attest(a->fd, a->r1, chal, 64, ev, sizeof(ev));
	ok = VT_EXPECT(n > 0, "attest %d", n);
	if (n > 0) {
		const struct csm_cca_region_desc *d = desc_of(ev);

		ok = VT_EXPECT(d->caller_realm_id == a->self && d->region_id == a->r1 &&
			       d->caller_role == CSM_ROLE_PROVIDER && d->nr_consumers == 1 &&
			       d->consumers[0].realm_id == a->peer &&
			       d->consumers[0].share_id == a->s1 &&
			       d->consumers[0].perm == CSM_PERM_RW,
			       "descriptor") && ok;
		vt_print_token("a-provider-r1", chal, 64, ev, n);
	}
	vt_result("a_attest", ok, "CCA evidence for r1 lists consumer %llu (share %#llx, rw)",
		  (unsigned long long)a->peer, (unsigned long long)a->s1);
}

/* B's VM powers off with our region mapped: its attachment must end. */
static void peer_vm_exit(uint64_t peer)
{
	struct vt_pair_last l;
	struct csm_event ev;
	uint64_t t;
	int ok = vt_pair_share_last(&l, peer, 30000);

	ok = ok && !vt_wait_event(l.efd, CSM_EVENT_ATTACHED, 10000, &ev);
	t = vt_now_ns();
	ok = ok && (!vt_wait_event(l.efd, CSM_EVENT_DETACHED, 60000, &ev) ||
		    ev.type == CSM_EVENT_GONE) && ev.share_id == l.sh.share_id;
	t = vt_now_ns() - t;
	ok = VT_EXPECT(ok, "no DETACHED/GONE for share %#llx", (unsigned long long)l.sh.share_id);
	ok = VT_EXPECT(!vt_destroy(l.fd, l.region, CSM_DESTROY_FORCE), "destroy") && ok;
	vt_result("a_peer_vm_exit", ok, "B's VM powered off while mapping r4: event %u after %.1f s",
		  ev.type, t / 1e9);
	close(l.efd);
	close(l.fd);
}

/* Sharing IDs carry both realm tags. */
static int share_ids(const struct vt_pair_a *a)
{
	uint64_t tags = a->self << 8 | a->peer;

	return VT_EXPECT((a->s1 & 0xffff) == tags && (a->s2 & 0xffff) == tags,
			 "sharing ids %#llx %#llx", (unsigned long long)a->s1,
			 (unsigned long long)a->s2);
}

static void provider(void)
{
	struct vt_pair_a a;

	if (vt_pair_a_start(&a, &waits, share_ids))
		return;
	provider_attest(&a);
	vt_pair_a_finish(&a, &waits);
	peer_vm_exit(a.peer);
}

/* ---------------------------------------------------------------- B ---- */
/* The consumer's view, for two challenges: tokens must differ. */
static void consumer_attest(int fd, uint64_t self, uint64_t peer, uint64_t s2,
			    uint64_t region)
{
	static uint8_t ev1[4096], ev2[4096];
	uint8_t c1[64], c2[40];
	int ok, n1, n2;

	memset(c1, 0x5c, sizeof(c1));
	memset(c2, 0xc5, sizeof(c2));
	n1 = attest(fd, region, c1, sizeof(c1), ev1, sizeof(ev1));
	n2 = attest(fd, region, c2, sizeof(c2), ev2, sizeof(ev2));
	ok = VT_EXPECT(n1 > 0 && n2 > 0, "attest %d %d", n1, n2);
	if (ok) {
		const struct csm_cca_region_desc *d = desc_of(ev1);
		size_t hdr = sizeof(struct csm_cca_evidence) + sizeof(struct csm_cca_region_desc);

		ok = VT_EXPECT(d->caller_realm_id == self && d->region_id == region &&
			       d->provider_realm_id == peer && d->share_id == s2 &&
			       d->caller_role == CSM_ROLE_CONSUMER && d->caller_perm == CSM_PERM_RO,
			       "descriptor") && ok;
		ok = VT_EXPECT(n1 - hdr != n2 - hdr || memcmp(ev1 + hdr, ev2 + hdr, n1 - hdr),
			       "same token for two challenges") && ok;
		vt_print_token("b-consumer-c64", c1, sizeof(c1), ev1, n1);
		vt_print_token("b-consumer-c40", c2, sizeof(c2), ev2, n2);
	}
	vt_result("b_attest", ok, "consumer evidence (%d, %d bytes) binds realm %llu, share %#llx; tokens differ",
		  n1, n2, (unsigned long long)self, (unsigned long long)s2);
}

static void consumer(void)
{
	struct vt_pair_b b;
	int ok = vt_pair_b_start(&b, &waits);

	if (ok < 0)
		return;
	/* R2 was attached with size 0 (the RMM tells the size); its ID has A's tag */
	ok = VT_EXPECT(b.a2.provider_realm_id == b.peer && b.a2.region_id >> 8 == b.peer,
		       "provider %llu region %#llx", (unsigned long long)b.a2.provider_realm_id,
		       (unsigned long long)b.a2.region_id) && ok;
	vt_result("b_read_only", ok, "RO share: PROT_WRITE EACCES, mprotect refused, write faults, data intact");
	vt_result("b_consumer_rules", vt_pair_consumer_rules(&b), "consumer share/revoke/destroy: EPERM");
	consumer_attest(b.fd, b.self, b.peer, b.s2, b.a2.region_id);
	/* the revoke: the poll notices, unmaps, tells us */
	vt_pair_b_finish(&b, &waits);
	vt_pair_attach_before_dying();
}

int main(int argc, char **argv)
{
	return vt_pair_main(argc, argv, "csm-vm-rsi-pair", provider, consumer);
}
