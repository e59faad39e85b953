// SPDX-License-Identifier: GPL-2.0
/*
 * lfq_dev.c - the /dev/lfq misc device: module init/exit and the file
 * operations table. An open file is unbound until LFQ_IOC_CREATE binds it
 * to a new queue or LFQ_IOC_OPEN to a named one; the file then holds one
 * reference on that queue until it is released (after the last close and
 * the last munmap), and the event sources it attached are detached then.
 */
#include <linux/fs.h>
#include <linux/miscdevice.h>
#include <linux/module.h>
#include <linux/slab.h>

#include "lfq.h"
#include "lfq_claims.h"
#include "lfq_dev.h"
#include "lfq_names.h"
#include "lfq_source.h"

static int lfq_open(struct inode *inode, struct file *file)
{
	file->private_data = NULL;
	return 0;
}

static int lfq_release(struct inode *inode, struct file *file)
{
	struct lfq_attach *a = lfq_file_attach(file);

	if (a) {
		lfq_source_release(file, a->q);
		/* Its reservations, if it died holding any, are discarded. */
		lfq_claims_release(a);
		/* The role is free again: a new consumer may attach. */
		lfq_queue_leave(a->q, a->role);
		atomic_dec(&a->q->files);
		lfq_queue_put(a->q);
		kfree(a);
	}
	return 0;
}

static const struct file_operations lfq_fops = {
	.owner		= THIS_MODULE,
	.open		= lfq_open,
	.release	= lfq_release,
	.unlocked_ioctl	= lfq_ioctl,
	.compat_ioctl	= compat_ptr_ioctl,
	.mmap		= lfq_mmap,
	.poll		= lfq_poll,
	.llseek		= noop_llseek,
};

/* True if @file is an open /dev/lfq. */
bool lfq_file_is_lfq(const struct file *file)
{
	return file->f_op == &lfq_fops;
}

static struct miscdevice lfq_miscdev = {
	.minor	= MISC_DYNAMIC_MINOR,
	.name	= "lfq",
	.fops	= &lfq_fops,
	.mode	= 0666,
};

static int __init lfq_init(void)
{
	int err;

	err = lfq_queue_module_init();
	if (err)
		return err;
	err = misc_register(&lfq_miscdev);
	if (err) {
		lfq_queue_module_exit();
		return err;
	}
	lfq_names_debugfs_init();
	return 0;
}

/*
 * Open files pin the module (fops.owner), names pin it (lfq_names.c), and
 * in-kernel users of the exported API pin it through their symbol
 * references, so no queue is live here; only RCU-deferred frees may still
 * be pending.
 */
static void __exit lfq_exit(void)
{
	lfq_names_debugfs_exit();
	misc_deregister(&lfq_miscdev);
	lfq_queue_module_exit();
}

module_init(lfq_init);
module_exit(lfq_exit);

MODULE_DESCRIPTION("Lock-free queues shared by the kernel and processes");
MODULE_AUTHOR("lfq developers");
MODULE_LICENSE("GPL");
