// SPDX-License-Identifier: GPL-2.0-only
/* Prints a line when loaded and when removed. */
#include <linux/init.h>
#include <linux/module.h>

#ifndef HELLOMOD_MESSAGE
#define HELLOMOD_MESSAGE "hello"
#endif

static int __init hellomod_init(void)
{
	pr_info("hellomod: %s\n", HELLOMOD_MESSAGE);
	return 0;
}

static void __exit hellomod_exit(void)
{
	pr_info("hellomod: goodbye\n");
}

module_init(hellomod_init);
module_exit(hellomod_exit);
MODULE_DESCRIPTION("forge's out-of-tree module fixture");
MODULE_LICENSE("GPL");
