/*
 * The standard RSI calls: version, features, realm config, measurements,
 * attestation and RIPAS. The monitor has no crypto: hashing and signing go
 * to the host signer through this realm's mailbox in node 1 (the signer
 * stands in for the RMM's attestation service and the platform's HES).
 */
#include "mon.h"

#define RSI_ABI_VERSION        0xc4000190u
#define RSI_FEATURES           0xc4000191u
#define RSI_MEASUREMENT_READ   0xc4000192u
#define RSI_MEASUREMENT_EXTEND 0xc4000193u
#define RSI_TOKEN_INIT         0xc4000194u
#define RSI_TOKEN_CONTINUE     0xc4000195u
#define RSI_REALM_CONFIG       0xc4000196u
#define RSI_IPA_STATE_SET      0xc4000197u
#define RSI_IPA_STATE_GET      0xc4000198u
#define RSI_VERSION_1_0        0x10000ull
#define SIGNER_WAIT_MS         5000
#define CONTINUE_SPIN_MS       20

static uint8_t rim[64];
static uint8_t rems[4][64];
static uint8_t rpv[64];
static uint8_t ripas[MON_RAM_PAGES];

enum { TOK_NONE, TOK_WAITING, TOK_READY };
static int tok_state;
static uint32_t tok_seq, tok_len, tok_pos;
static uint8_t tok_challenge[64];
static uint8_t tok_buf[SH_TOKEN_MAX];

int guest_ram_range(uint64_t base, uint64_t size)
{
	return base >= MON_RAM_BASE && base < MON_RAM_TOP && size <= MON_RAM_TOP - base;
}

void rsi_init(void)
{
	static const char id[] = "csm-test-monitor";

	memset(ripas, 1, sizeof(ripas));       /* RIPAS_RAM */
	memcpy(rpv, id, sizeof(id) - 1);
	if (__atomic_load_n(&sh()->signer_ready, __ATOMIC_ACQUIRE) == SH_SIGNER_READY)
		memcpy(rim, sh()->rim, sizeof(rim));
}

static struct sh_mailbox *mbox(void)
{
	return SH_MBOX(sh(), my_tag - 1);
}

static int signer_up(void)
{
	return my_tag && __atomic_load_n(&sh()->signer_ready, __ATOMIC_ACQUIRE) == SH_SIGNER_READY;
}

static uint32_t post(uint32_t type)
{
	struct sh_mailbox *m = mbox();
	uint32_t seq = m->req_seq + 1;

	m->type = type;
	m->realm_tag = my_tag;
	__atomic_store_n(&m->req_seq, seq, __ATOMIC_RELEASE);
	return seq;
}

static int answered(uint32_t seq)
{
	return __atomic_load_n(&mbox()->done_seq, __ATOMIC_ACQUIRE) == seq;
}

static int wait_answer(uint32_t seq, uint64_t ms)
{
	uint64_t t0 = counter_ms();

	while (!answered(seq))
		if (counter_ms() - t0 > ms)
			return 0;
	return 1;
}

static void post_token(void)
{
	struct sh_mailbox *m = mbox();

	memcpy(m->challenge, tok_challenge, 64);
	memcpy(m->rim, rim, 64);
	memcpy(m->rems, rems, sizeof(rems));
	memcpy(m->rpv, rpv, 64);
	tok_seq = post(MB_TOKEN);
	tok_state = TOK_WAITING;
}

static uint64_t extend(struct frame *f)
{
	uint64_t idx = f->x[1], size = f->x[2], i;
	struct sh_mailbox *m;
	uint32_t seq;

	if (idx < 1 || idx > 4 || size > 64)
		return RSI_ERROR_INPUT;
	if (!signer_up())
		return RSI_ERROR_UNKNOWN;
	m = mbox();
	memcpy(m->rem, rems[idx - 1], 64);
	memset(m->value, 0, 64);
	for (i = 0; i < 8; i++)
		memcpy(m->value + i * 8, &f->x[3 + i], 8);
	m->value_len = (uint32_t)size;
	seq = post(MB_HASH_EXTEND);
	if (!wait_answer(seq, SIGNER_WAIT_MS) || m->status != MB_OK)
		return RSI_ERROR_UNKNOWN;
	memcpy(rems[idx - 1], m->rem, 64);
	if (tok_state == TOK_WAITING)   /* the extend took the mailbox: ask again */
		post_token();
	return RSI_SUCCESS;
}

static uint64_t token_continue(struct frame *f)
{
	uint64_t gran = f->x[1], off = f->x[2], size = f->x[3], n;
	uint64_t t0;

	if ((gran & (MON_PAGE - 1)) || !guest_ram_range(gran, MON_PAGE) || off >= MON_PAGE ||
	    size > MON_PAGE - off)
		return RSI_ERROR_INPUT;
	if (tok_state == TOK_NONE)
		return RSI_ERROR_STATE;
	if (tok_state == TOK_WAITING) {
		t0 = counter_ms();
		while (!answered(tok_seq) && counter_ms() - t0 < CONTINUE_SPIN_MS)
			;
		if (!answered(tok_seq)) {
			f->x[1] = 0;
			return RSI_INCOMPLETE;
		}
		if (mbox()->status != MB_OK || mbox()->token_len > SH_TOKEN_MAX) {
			tok_state = TOK_NONE;
			return RSI_ERROR_UNKNOWN;
		}
		tok_len = mbox()->token_len;
		memcpy(tok_buf, mbox()->token, tok_len);
		tok_pos = 0;
		tok_state = TOK_READY;
	}
	n = tok_len - tok_pos;
	if (n > size)
		n = size;
	memcpy((void *)(uintptr_t)(gran + off), tok_buf + tok_pos, n);
	tok_pos += (uint32_t)n;
	f->x[1] = n;
	if (tok_pos < tok_len)
		return RSI_INCOMPLETE;
	tok_state = TOK_NONE;
	return RSI_SUCCESS;
}

static uint64_t realm_config(struct frame *f)
{
	uint64_t buf = f->x[1];
	volatile uint8_t *p = (volatile uint8_t *)(uintptr_t)buf;
	uint64_t ipa_bits = 32;

	if ((buf & (MON_PAGE - 1)) || !guest_ram_range(buf, MON_PAGE))
		return RSI_ERROR_INPUT;
	memset((void *)p, 0, MON_PAGE);
	memcpy((void *)p, &ipa_bits, 8);
	p[8] = 1;       /* SHA-512 */
	memcpy((void *)(p + 0x200), rpv, 64);
	return RSI_SUCCESS;
}

static uint64_t ipa_state_set(struct frame *f)
{
	uint64_t base = f->x[1], top = f->x[2], ri = f->x[3], p;

	if ((base | top) & (MON_PAGE - 1) || top <= base || !guest_ram_range(base, top - base) ||
	    ri > 1)
		return RSI_ERROR_INPUT;
	for (p = base; p < top; p += MON_PAGE)
		ripas[(p - MON_RAM_BASE) / MON_PAGE] = (uint8_t)ri;
	f->x[1] = top;
	return RSI_SUCCESS;
}

int rsi_call(uint32_t fid, struct frame *f)
{
	uint64_t st = RSI_SUCCESS, i;

	switch (fid) {
	case RSI_ABI_VERSION:
		st = f->x[1] == RSI_VERSION_1_0 ? RSI_SUCCESS : RSI_ERROR_INPUT;
		f->x[1] = RSI_VERSION_1_0;
		f->x[2] = RSI_VERSION_1_0;
		break;
	case RSI_FEATURES:
		f->x[1] = 0;
		break;
	case RSI_REALM_CONFIG:
		st = realm_config(f);
		break;
	case RSI_MEASUREMENT_READ: {
		uint64_t idx = f->x[1];
		const uint8_t *m;

		if (idx > 4) {
			st = RSI_ERROR_INPUT;
			break;
		}
		m = idx ? rems[idx - 1] : rim;
		for (i = 0; i < 8; i++)
			memcpy(&f->x[1 + i], m + 8 * i, 8);
		break;
	}
	case RSI_MEASUREMENT_EXTEND:
		st = extend(f);
		break;
	case RSI_TOKEN_INIT:
		if (!signer_up()) {
			st = RSI_ERROR_UNKNOWN;
			break;
		}
		for (i = 0; i < 8; i++)
			memcpy(tok_challenge + 8 * i, &f->x[1 + i], 8);
		post_token();
		f->x[1] = SH_TOKEN_MAX;
		break;
	case RSI_TOKEN_CONTINUE:
		st = token_continue(f);
		break;
	case RSI_IPA_STATE_SET:
		st = ipa_state_set(f);
		break;
	case RSI_IPA_STATE_GET:
		if ((f->x[1] & (MON_PAGE - 1)) || !guest_ram_range(f->x[1], MON_PAGE))
			st = RSI_ERROR_INPUT;
		else
			f->x[1] = ripas[(f->x[1] - MON_RAM_BASE) / MON_PAGE];
		break;
	default:
		return 0;
	}
	f->x[0] = st;
	return 1;
}
