/*
 * csm-rsi-signer: the host half of the RSI test monitor. It stands in for
 * the RMM's attestation service and the platform's HES: the monitors (which
 * have no crypto) post "hash-extend" and "token" requests in node 1's
 * mailboxes, one per realm slot, and this process answers them. Tokens are
 * CCA-shaped: a collection (tag 399) of a platform token signed by the test
 * platform key and a realm token signed by the test RAK, both COSE_Sign1
 * ES384. Test keys only: NO confidentiality, NO real attestation.
 *
 *   csm-rsi-signer NODE1_FILE PLATFORM_KEY.pem RAK.pem RIM_SOURCE [-v] [-t SECONDS]
 * RIM_SOURCE: a file whose SHA-512 is the realm initial measurement (the
 * harness passes the Linux Image). -v turns on the monitors' debug prints.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <cbor.h>
#include <openssl/core_names.h>
#include <openssl/ecdsa.h>
#include <openssl/evp.h>
#include <openssl/pem.h>

#include "layout.h"

#define PUB_POINT_LEN 97   /* uncompressed P-384 point */
#define SIG_HALF 48

static volatile sig_atomic_t stop_requested;

static void on_signal(int sig)
{
	(void)sig;
	stop_requested = 1;
}

struct keys {
	EVP_PKEY *platform;
	EVP_PKEY *rak;
	uint8_t rak_pub[PUB_POINT_LEN];
	uint8_t platform_pub[PUB_POINT_LEN];
};

static EVP_PKEY *load_key(const char *path)
{
	FILE *f = fopen(path, "r");
	EVP_PKEY *k;

	if (!f) {
		fprintf(stderr, "csm-rsi-signer: cannot open key %s: %s\n", path, strerror(errno));
		return NULL;
	}
	k = PEM_read_PrivateKey(f, NULL, NULL, NULL);
	fclose(f);
	if (!k || EVP_PKEY_get_bits(k) != 384 || !EVP_PKEY_is_a(k, "EC")) {
		fprintf(stderr, "csm-rsi-signer: %s is not a P-384 EC private key\n", path);
		EVP_PKEY_free(k);
		return NULL;
	}
	return k;
}

static int pub_point(EVP_PKEY *k, uint8_t out[PUB_POINT_LEN])
{
	size_t len = 0;

	return EVP_PKEY_get_octet_string_param(k, OSSL_PKEY_PARAM_ENCODED_PUBLIC_KEY, out,
					       PUB_POINT_LEN, &len) == 1 &&
	       len == PUB_POINT_LEN && out[0] == 0x04;
}

static int sha(const char *alg, const void *a, size_t alen, const void *b, size_t blen,
	       uint8_t *out)
{
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	int ok = ctx && EVP_DigestInit_ex(ctx, EVP_get_digestbyname(alg), NULL) == 1 &&
		 EVP_DigestUpdate(ctx, a, alen) == 1 &&
		 (!blen || EVP_DigestUpdate(ctx, b, blen) == 1) &&
		 EVP_DigestFinal_ex(ctx, out, NULL) == 1;

	EVP_MD_CTX_free(ctx);
	return ok;
}

static int file_sha512(const char *path, uint8_t out[64])
{
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	FILE *f = fopen(path, "rb");
	uint8_t buf[65536];
	size_t n;
	int ok = ctx && f && EVP_DigestInit_ex(ctx, EVP_sha512(), NULL) == 1;

	while (ok && (n = fread(buf, 1, sizeof(buf), f)) > 0)
		ok = EVP_DigestUpdate(ctx, buf, n) == 1;
	ok = ok && !ferror(f) && EVP_DigestFinal_ex(ctx, out, NULL) == 1;
	if (f)
		fclose(f);
	EVP_MD_CTX_free(ctx);
	return ok;
}

/* Minimal-width unsigned integer (canonical CBOR). */
static cbor_item_t *uint_item(uint64_t v)
{
	if (v <= UINT8_MAX)
		return cbor_build_uint8((uint8_t)v);
	if (v <= UINT16_MAX)
		return cbor_build_uint16((uint16_t)v);
	if (v <= UINT32_MAX)
		return cbor_build_uint32((uint32_t)v);
	return cbor_build_uint64(v);
}

static int put(cbor_item_t *map, uint64_t key, cbor_item_t *value)
{
	cbor_item_t *k = uint_item(key);
	int ok = k && value &&
		 cbor_map_add(map, (struct cbor_pair){ .key = k, .value = value });

	if (k)
		cbor_decref(&k);
	if (value)
		cbor_decref(&value);
	return ok;
}

/* Serialises and frees @item; returns the encoding in *out (malloc'd). */
static size_t serialize(cbor_item_t *item, unsigned char **out)
{
	size_t cap = 0, len;

	*out = NULL;
	if (!item)
		return 0;
	len = cbor_serialize_alloc(item, out, &cap);
	cbor_decref(&item);
	return len;
}

/* ES384 over the COSE Sig_structure; returns raw r || s. */
static int es384(EVP_PKEY *key, const unsigned char *tbs, size_t tbs_len, uint8_t sig[96])
{
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	unsigned char der[160];
	size_t der_len = sizeof(der);
	const unsigned char *p = der;
	ECDSA_SIG *s = NULL;
	const BIGNUM *r, *sv;
	int ok = ctx && EVP_DigestSignInit(ctx, NULL, EVP_sha384(), NULL, key) == 1 &&
		 EVP_DigestSign(ctx, der, &der_len, tbs, tbs_len) == 1;

	if (ok)
		ok = (s = d2i_ECDSA_SIG(NULL, &p, (long)der_len)) != NULL;
	if (ok) {
		ECDSA_SIG_get0(s, &r, &sv);
		ok = BN_bn2binpad(r, sig, SIG_HALF) == SIG_HALF &&
		     BN_bn2binpad(sv, sig + SIG_HALF, SIG_HALF) == SIG_HALF;
	}
	ECDSA_SIG_free(s);
	EVP_MD_CTX_free(ctx);
	return ok;
}

/* COSE_Sign1 (tag 18) of the claims map @claims (consumed), serialised. */
static size_t cose_sign1(EVP_PKEY *key, cbor_item_t *claims, unsigned char **out)
{
	unsigned char *prot = NULL, *payload = NULL, *tbs = NULL;
	size_t prot_len, payload_len, tbs_len, len = 0;
	cbor_item_t *hdr = cbor_new_definite_map(1), *sig_struct, *msg, *alg;
	uint8_t sig[96];

	*out = NULL;
	alg = cbor_build_negint8(34);   /* -35: ES384 */
	if (hdr && alg)
		cbor_map_add(hdr, (struct cbor_pair){ .key = cbor_move(cbor_build_uint8(1)),
						      .value = alg });
	if (alg)
		cbor_decref(&alg);
	prot_len = serialize(hdr, &prot);
	payload_len = serialize(claims, &payload);
	if (!prot_len || !payload_len)
		goto out;
	sig_struct = cbor_new_definite_array(4);
	if (!sig_struct)
		goto out;
	cbor_array_push(sig_struct, cbor_move(cbor_build_string("Signature1")));
	cbor_array_push(sig_struct, cbor_move(cbor_build_bytestring(prot, prot_len)));
	cbor_array_push(sig_struct, cbor_move(cbor_new_definite_bytestring()));
	cbor_array_push(sig_struct, cbor_move(cbor_build_bytestring(payload, payload_len)));
	tbs_len = serialize(sig_struct, &tbs);
	if (!tbs_len || !es384(key, tbs, tbs_len, sig))
		goto out;
	msg = cbor_new_definite_array(4);
	if (!msg)
		goto out;
	cbor_array_push(msg, cbor_move(cbor_build_bytestring(prot, prot_len)));
	cbor_array_push(msg, cbor_move(cbor_new_definite_map(0)));
	cbor_array_push(msg, cbor_move(cbor_build_bytestring(payload, payload_len)));
	cbor_array_push(msg, cbor_move(cbor_build_bytestring(sig, sizeof(sig))));
	len = serialize(cbor_build_tag(18, cbor_move(msg)), out);
out:
	free(prot);
	free(payload);
	free(tbs);
	return len;
}

struct token_req {
	uint32_t tag;
	uint8_t challenge[64], rim[64], rems[4][64], rpv[64];
};

static size_t build_token(const struct keys *k, const struct token_req *q, unsigned char **out)
{
	static const char profile[] = "tag:arm.com,2023:cca_platform#1.0.0";
	uint8_t impl_id[32] = "csm-test-monitor", inst_id[33], plat_chal[64];
	cbor_item_t *realm = cbor_new_definite_map(8), *plat = cbor_new_definite_map(6);
	cbor_item_t *rems = cbor_new_definite_array(4), *coll;
	unsigned char *rtok = NULL, *ptok = NULL;
	size_t rlen = 0, plen = 0, len = 0;
	int ok = realm && plat && rems, i;

	for (i = 0; ok && i < 4; i++)
		ok = cbor_array_push(rems, cbor_move(cbor_build_bytestring(q->rems[i], 64)));
	ok = ok && put(realm, 10, cbor_build_bytestring(q->challenge, 64)) &&
	     put(realm, 44235, cbor_build_bytestring(q->rpv, 64)) &&
	     put(realm, 44236, cbor_build_string("sha-512")) &&
	     put(realm, 44237, cbor_build_bytestring(k->rak_pub, PUB_POINT_LEN)) &&
	     put(realm, 44238, cbor_build_bytestring(q->rim, 64)) &&
	     put(realm, 44239, cbor_incref(rems)) &&
	     put(realm, 44240, cbor_build_string("sha-512")) &&
	     put(realm, 65001, uint_item(q->tag));
	inst_id[0] = 0x01;
	ok = ok && sha("SHA512", k->rak_pub, PUB_POINT_LEN, NULL, 0, plat_chal) &&
	     sha("SHA256", k->platform_pub, PUB_POINT_LEN, NULL, 0, inst_id + 1) &&
	     put(plat, 265, cbor_build_string(profile)) &&
	     put(plat, 10, cbor_build_bytestring(plat_chal, 64)) &&
	     put(plat, 2396, cbor_build_bytestring(impl_id, sizeof(impl_id))) &&
	     put(plat, 2394, cbor_build_bytestring(inst_id, sizeof(inst_id))) &&
	     put(plat, 2395, uint_item(0x3000)) &&
	     put(plat, 2402, cbor_build_string("sha-256"));
	if (rems)
		cbor_decref(&rems);
	if (!ok) {
		if (realm)
			cbor_decref(&realm);
		if (plat)
			cbor_decref(&plat);
		return 0;
	}
	rlen = cose_sign1(k->rak, realm, &rtok);
	plen = cose_sign1(k->platform, plat, &ptok);
	coll = cbor_new_definite_map(2);
	if (rlen && plen && coll && put(coll, 44234, cbor_build_bytestring(ptok, plen)) &&
	    put(coll, 44241, cbor_build_bytestring(rtok, rlen)))
		len = serialize(cbor_build_tag(399, cbor_move(coll)), out);
	else if (coll)
		cbor_decref(&coll);
	free(rtok);
	free(ptok);
	return len;
}

/* Copy from shared memory once, byte by byte (a peer may be writing). */
static void copy_in(void *dst, const volatile void *src, size_t n)
{
	const volatile uint8_t *s = src;
	uint8_t *d = dst;

	while (n--)
		*d++ = *s++;
}

static void serve(const struct keys *k, volatile struct sh_mailbox *m, uint32_t slot, int verbose)
{
	uint32_t seq = __atomic_load_n(&m->req_seq, __ATOMIC_ACQUIRE);
	uint32_t type = m->type, status = MB_FAILED;

	if (seq == __atomic_load_n(&m->done_seq, __ATOMIC_RELAXED))
		return;
	if (type == MB_HASH_EXTEND) {
		uint8_t rem[64], value[64], out[64];
		uint32_t vlen = m->value_len;

		copy_in(rem, m->rem, 64);
		copy_in(value, m->value, 64);
		if (vlen <= 64 && sha("SHA512", rem, 64, value, vlen, out)) {
			memcpy((void *)m->rem, out, 64);
			status = MB_OK;
		}
	} else if (type == MB_TOKEN) {
		struct token_req q;
		unsigned char *tok = NULL;
		size_t len;

		q.tag = slot + 1;
		copy_in(q.challenge, m->challenge, 64);
		copy_in(q.rim, m->rim, 64);
		copy_in(q.rems, m->rems, sizeof(q.rems));
		copy_in(q.rpv, m->rpv, 64);
		len = build_token(k, &q, &tok);
		if (len && len <= SH_TOKEN_MAX) {
			memcpy((void *)m->token, tok, len);
			m->token_len = (uint32_t)len;
			status = MB_OK;
		}
		free(tok);
	}
	if (verbose || status != MB_OK)
		fprintf(stderr, "csm-rsi-signer: realm %u request %u type %u: %s\n", slot + 1, seq,
			type, status == MB_OK ? "done" : "FAILED");
	m->status = status;
	__atomic_store_n(&m->done_seq, seq, __ATOMIC_RELEASE);
}

int main(int argc, char **argv)
{
	struct keys k = { 0 };
	volatile struct sh_header *h;
	uint8_t rim[64];
	int fd, verbose = 0, i;
	long timeout_s = 0;
	time_t start = time(NULL);
	void *base;
	struct sigaction sa = { .sa_handler = on_signal };
	struct stat st;

	if (argc < 5) {
		fprintf(stderr, "usage: csm-rsi-signer NODE1_FILE PLATFORM_KEY.pem RAK.pem "
				"RIM_SOURCE [-v] [-t SECONDS]\n");
		return 2;
	}
	for (i = 5; i < argc; i++) {
		if (!strcmp(argv[i], "-v")) {
			verbose = 1;
		} else if (!strcmp(argv[i], "-t") && i + 1 < argc) {
			char *end;

			timeout_s = strtol(argv[++i], &end, 10);
			if (*end || timeout_s <= 0) {
				fprintf(stderr, "csm-rsi-signer: -t wants a positive number of seconds, "
						"not '%s'\n", argv[i]);
				return 2;
			}
		} else {
			fprintf(stderr, "csm-rsi-signer: unknown argument '%s'\n", argv[i]);
			return 2;
		}
	}
	k.platform = load_key(argv[2]);
	k.rak = load_key(argv[3]);
	if (!k.platform || !k.rak)
		return 1;
	if (!pub_point(k.platform, k.platform_pub) || !pub_point(k.rak, k.rak_pub)) {
		fprintf(stderr, "csm-rsi-signer: cannot read the keys' public points\n");
		return 1;
	}
	if (!file_sha512(argv[4], rim)) {
		fprintf(stderr, "csm-rsi-signer: cannot hash RIM source %s\n", argv[4]);
		return 1;
	}
	fd = open(argv[1], O_RDWR);
	if (fd < 0) {
		fprintf(stderr, "csm-rsi-signer: cannot open %s: %s\n", argv[1], strerror(errno));
		return 1;
	}
	if (fstat(fd, &st) || (uint64_t)st.st_size < MON_NODE1_SIZE) {
		fprintf(stderr, "csm-rsi-signer: %s is smaller than node 1 (%llu bytes)\n", argv[1],
			(unsigned long long)MON_NODE1_SIZE);
		close(fd);
		return 1;
	}
	base = mmap(NULL, MON_NODE1_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	close(fd);
	if (base == MAP_FAILED) {
		fprintf(stderr, "csm-rsi-signer: cannot map %s: %s\n", argv[1], strerror(errno));
		return 1;
	}
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	h = base;
	memcpy((void *)h->rim, rim, sizeof(rim));
	h->debug = (uint32_t)verbose;
	__atomic_store_n(&h->signer_ready, SH_SIGNER_READY, __ATOMIC_RELEASE);
	fprintf(stderr, "csm-rsi-signer: serving %u realm mailboxes (test keys, NO confidentiality)\n",
		SH_MAX_REALMS);
	while (!stop_requested && (!timeout_s || time(NULL) - start < timeout_s)) {
		struct timespec nap = { 0, 1000000 };
		uint32_t slot;

		for (slot = 0; slot < SH_MAX_REALMS; slot++)
			serve(&k, SH_MBOX(base, slot), slot, verbose);
		nanosleep(&nap, NULL);
	}
	__atomic_store_n(&h->signer_ready, 0, __ATOMIC_RELEASE);
	munmap(base, MON_NODE1_SIZE);
	EVP_PKEY_free(k.platform);
	EVP_PKEY_free(k.rak);
	return 0;
}
