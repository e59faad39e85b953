// SPDX-License-Identifier: GPL-2.0
/*
 * lfq_dev.c - the /dev/lfq misc device: module init/exit and the file
 * operations table. An open file is unbound until LFQ_IOC_CREATE binds it
 * to a new queue or LFQ_IOC_OPEN to a named one (lfq_file.c); the file
 * then holds one reference on that queue until it is released (after the
 * last close and the last munmap).
 */
#include <linux/fs.h>
#include <linux/miscdevice.h>
#include <linux/module.h>

#include "core/lfq_queue.h"
#include "lfq_debugfs.h"
#include "lfq_dev.h"
#include "lfq_file.h"
#include "sources/lfq_source.h"

static int lfq_open(struct inode *inode, struct file *file)
{
	file->private_data = NULL;
	return 0;
}

static int lfq_release(struct inode *inode, struct file *file)
{
	lfq_file_release(file);
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

/**
 * lfq_file_is_lfq() - is @file an open /dev/lfq?
 * @file:	any file.
 *
 * Return: true if it is.
 */
bool lfq_file_is_lfq(const struct file *file)
{
	return file->f_op == &lfq_fops;
}

/*
 * A fixed minor and the devname alias let udev or systemd create /dev/lfq
 * at boot (kmod static-nodes) and load the module on the first open, as
 * /dev/fuse and /dev/loop-control are. The mode is the kernel's default
 * for the node (devtmpfs, no udev): every queue carries its own
 * permissions, and the packaged udev rule narrows the node to the lfq
 * group.
 */
static struct miscdevice lfq_miscdev = {
	.minor	= LFQ_MISC_MINOR,
	.name	= "lfq",
	.fops	= &lfq_fops,
	.mode	= 0666,
};

/* The fixed minor, or a dynamic one if another module holds it. */
static int lfq_misc_register(void)
{
	int err = misc_register(&lfq_miscdev);

	if (err != -EBUSY)
		return err;
	pr_warn("lfq: misc minor %d is taken; using a dynamic minor (no autoload)\n",
		LFQ_MISC_MINOR);
	lfq_miscdev.minor = MISC_DYNAMIC_MINOR;
	return misc_register(&lfq_miscdev);
}

static int __init lfq_init(void)
{
	int err;

	err = lfq_queue_module_init();
	if (err)
		return err;
	err = lfq_misc_register();
	if (err) {
		lfq_queue_module_exit();
		return err;
	}
	lfq_debugfs_init();
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
	lfq_debugfs_exit();
	misc_deregister(&lfq_miscdev);
	lfq_synth_module_exit();
	lfq_queue_module_exit();
}

module_init(lfq_init);
module_exit(lfq_exit);

MODULE_DESCRIPTION("Lock-free queues shared by the kernel and processes");
MODULE_AUTHOR("lfq developers");
MODULE_LICENSE("GPL");
MODULE_ALIAS_MISCDEV(LFQ_MISC_MINOR);
MODULE_ALIAS("devname:lfq");
