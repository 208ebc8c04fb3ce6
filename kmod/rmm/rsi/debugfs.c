// SPDX-License-Identifier: GPL-2.0
/*
 * RSI backend: /sys/kernel/debug/csm-rsi/
 *   info    ABI table, realm tag, window, realm config
 *   calls   per call: how often issued and which status came back
 *   ranges  the window IPA range of every region and attachment
 *   inject  write "<call> <status> <count>": CSM_EXT_INJECT, so the next
 *           <count> <call>s return <status> without acting (test monitor
 *           only). <call> is a name from "calls" (e.g. CSM_CREATE) or a
 *           FID; <status> ERROR_INPUT, ERROR_STATE, INCOMPLETE,
 *           ERROR_UNKNOWN, NOT_SUPPORTED (-1) or a number; count 0 clears.
 */
#include <linux/debugfs.h>
#include <linux/kernel.h>
#include <linux/seq_file.h>
#include <linux/string.h>
#include <linux/uaccess.h>

#include "rsi.h"

static int csm_rsi_info_show(struct seq_file *m, void *unused)
{
	struct csm_rsi *rsi = m->private;

	seq_printf(m, "abi %s\nrealm_tag %llu\nipa_bits %llu\nshared_ipa_bit %#llx\n",
		   rsi->abi->name, rsi->realm_tag, rsi->ipa_bits,
		   1ULL << (rsi->ipa_bits - 1));
	seq_printf(m, "window %#llx %#llx\nhash_algo %u\ntest_monitor %d\nfeatures %#llx\n",
		   rsi->win_base, rsi->win_size, rsi->hash_algo,
		   rsi->test_monitor, rsi->features);
	seq_printf(m, "incomplete_retries %lld\n",
		   atomic64_read(&rsi->incomplete_retries));
	return 0;
}
DEFINE_SHOW_ATTRIBUTE(csm_rsi_info);

static int csm_rsi_calls_show(struct seq_file *m, void *unused)
{
	struct csm_rsi *rsi = m->private;
	unsigned int i;

	seq_puts(m, "# call fid issued success error_input error_state incomplete error_unknown other\n");
	for (i = 0; i < CSM_RSI_NR_FN; i++)
		seq_printf(m, "%s %#x %lld %lld %lld %lld %lld %lld %lld\n",
			   csm_rsi_fn_name[i], rsi->abi->fid[i],
			   atomic64_read(&rsi->calls[i]),
			   atomic64_read(&rsi->status_count[i][0]),
			   atomic64_read(&rsi->status_count[i][1]),
			   atomic64_read(&rsi->status_count[i][2]),
			   atomic64_read(&rsi->status_count[i][3]),
			   atomic64_read(&rsi->status_count[i][4]),
			   atomic64_read(&rsi->status_count[i][5]));
	return 0;
}
DEFINE_SHOW_ATTRIBUTE(csm_rsi_calls);

static int csm_rsi_ranges_show(struct seq_file *m, void *unused)
{
	struct csm_rsi *rsi = m->private;
	struct csm_rsi_region *reg;
	struct csm_rsi_attach *a;

	mutex_lock(&rsi->lock);
	list_for_each_entry(reg, &rsi->regions, link)
		seq_printf(m, "region %#llx ipa %#llx size %#llx%s\n", reg->id,
			   reg->base, reg->size, reg->zombie ? " destroy-owed" : "");
	list_for_each_entry(a, &rsi->attachments, link)
		seq_printf(m, "attach %#llx region %#llx ipa %#llx size %#llx%s\n",
			   a->share_id, a->region_id, a->base, a->size,
			   a->detach_owed ? " detach-owed" :
			   a->attached ? "" : " reserved");
	mutex_unlock(&rsi->lock);
	return 0;
}
DEFINE_SHOW_ATTRIBUTE(csm_rsi_ranges);

static int csm_rsi_parse_fid(struct csm_rsi *rsi, const char *s, u32 *fid)
{
	unsigned int i;

	for (i = 0; i < CSM_RSI_NR_FN; i++) {
		if (!strcasecmp(s, csm_rsi_fn_name[i])) {
			*fid = rsi->abi->fid[i];
			return *fid ? 0 : -EOPNOTSUPP;
		}
	}
	return kstrtou32(s, 0, fid);
}

static int csm_rsi_parse_status(const char *s, unsigned long *status)
{
	static const char *const names[] = {
		"SUCCESS", "ERROR_INPUT", "ERROR_STATE", "INCOMPLETE",
		"ERROR_UNKNOWN",
	};
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(names); i++) {
		if (!strcasecmp(s, names[i])) {
			*status = i;
			return 0;
		}
	}
	if (!strcasecmp(s, "NOT_SUPPORTED") || !strcmp(s, "-1")) {
		*status = CSM_RSI_UNKNOWN_FID;
		return 0;
	}
	return kstrtoul(s, 0, status);
}

static ssize_t csm_rsi_inject_write(struct file *file, const char __user *ubuf,
				    size_t count, loff_t *ppos)
{
	struct csm_rsi *rsi = file->private_data;
	char buf[96], call[48], status_s[24];
	struct csm_rsi_regs r = {};
	unsigned long status;
	unsigned int n;
	u32 fid;
	int err;

	if (count >= sizeof(buf))
		return -EINVAL;
	if (copy_from_user(buf, ubuf, count))
		return -EFAULT;
	buf[count] = '\0';
	if (sscanf(buf, "%47s %23s %u", call, status_s, &n) != 3)
		return -EINVAL;
	err = csm_rsi_parse_fid(rsi, call, &fid);
	if (!err)
		err = csm_rsi_parse_status(status_s, &status);
	if (err)
		return err;
	r.x[1] = fid;
	r.x[2] = status;
	r.x[3] = n;
	err = csm_rsi_call(rsi, CSM_RSI_EXT_INJECT, &r, 0);
	return err ? err : count;
}

static const struct file_operations csm_rsi_inject_fops = {
	.owner = THIS_MODULE,
	.open = simple_open,
	.write = csm_rsi_inject_write,
	.llseek = noop_llseek,
};

void csm_rsi_debugfs_init(struct csm_rsi *rsi)
{
	rsi->debugfs = debugfs_create_dir("csm-rsi", NULL);
	debugfs_create_file("info", 0400, rsi->debugfs, rsi, &csm_rsi_info_fops);
	debugfs_create_file("calls", 0400, rsi->debugfs, rsi, &csm_rsi_calls_fops);
	debugfs_create_file("ranges", 0400, rsi->debugfs, rsi, &csm_rsi_ranges_fops);
	debugfs_create_file("inject", 0200, rsi->debugfs, rsi, &csm_rsi_inject_fops);
}

void csm_rsi_debugfs_exit(struct csm_rsi *rsi)
{
	debugfs_remove_recursive(rsi->debugfs);
	rsi->debugfs = NULL;
}
