// SPDX-License-Identifier: GPL-2.0
/*
 * tplfs mount options, through the fs_context API:
 *
 *   private=DIR  the container's private area (required)
 *   store=DIR    the template store (required)
 *   ct=ID        container id, unique among mounted tplfs instances
 *   volatile     copy-up skips fdatasync
 *   verity=off|on|require
 *                on: an object with fs-verity opens only if its measured
 *                digest is the stub's; require: and one without is refused
 *
 * Every error is reported through the mount API's log channel (fsopen) or,
 * for mount(2), the kernel log, naming the option at fault.
 */
#include <linux/fs_parser.h>
#include <linux/seq_file.h>
#include <linux/slab.h>
#include <linux/ctype.h>

#include "tplfs.h"

enum tplfs_param {
	Opt_private,
	Opt_store,
	Opt_ct,
	Opt_volatile,
	Opt_verity,
};

static const struct constant_table tplfs_verity_names[] = {
	{ "off",	TPLFS_VERITY_OFF },
	{ "on",		TPLFS_VERITY_ON },
	{ "require",	TPLFS_VERITY_REQUIRE },
	{}
};

static const struct fs_parameter_spec tplfs_parameter_spec[] = {
	fsparam_string("private", Opt_private),
	fsparam_string("store", Opt_store),
	fsparam_string("ct", Opt_ct),
	fsparam_flag("volatile", Opt_volatile),
	fsparam_enum("verity", Opt_verity, tplfs_verity_names),
	{}
};

void tplfs_config_free(struct tplfs_config *config)
{
	kfree(config->private_dir);
	kfree(config->store_dir);
	kfree(config->ct);
	config->private_dir = NULL;
	config->store_dir = NULL;
	config->ct = NULL;
}

/* [a-z0-9][a-z0-9_-]{0,62} */
static bool tplfs_valid_ct(const char *ct)
{
	size_t i, len = strlen(ct);

	if (len == 0 || len > TPLFS_CT_MAX)
		return false;
	for (i = 0; i < len; i++) {
		char c = ct[i];

		if (islower(c) || isdigit(c))
			continue;
		if (i > 0 && (c == '_' || c == '-'))
			continue;
		return false;
	}
	return true;
}

/* Take the string of @param into *@slot, refusing a second occurrence. */
static int tplfs_take_string(struct fs_context *fc, struct fs_parameter *param,
			     char **slot)
{
	if (*slot)
		return invalfc(fc, "%s= given more than once", param->key);
	if (!*param->string)
		return invalfc(fc, "%s= must not be empty", param->key);
	*slot = param->string;
	param->string = NULL;
	return 0;
}

static int tplfs_parse_param(struct fs_context *fc, struct fs_parameter *param)
{
	struct tplfs_config *config = fc->fs_private;
	struct fs_parse_result result;
	int opt;

	opt = fs_parse(fc, tplfs_parameter_spec, param, &result);
	if (opt < 0)
		return opt;

	switch (opt) {
	case Opt_private:
		return tplfs_take_string(fc, param, &config->private_dir);
	case Opt_store:
		return tplfs_take_string(fc, param, &config->store_dir);
	case Opt_ct:
		if (!tplfs_valid_ct(param->string))
			return invalfc(fc,
				       "ct=%s: not a container id ([a-z0-9][a-z0-9_-]{0,62})",
				       param->string);
		return tplfs_take_string(fc, param, &config->ct);
	case Opt_volatile:
		config->is_volatile = true;
		return 0;
	case Opt_verity:
		if (result.uint_32 != TPLFS_VERITY_OFF && !tplfs_can_verify())
			return invalfc(fc,
				       "verity=%s: this kernel does not export fsverity_get_digest() to modules (6.5 and later do)",
				       param->string);
		config->verity = result.uint_32;
		return 0;
	}
	return -EINVAL;
}

static int tplfs_get_tree(struct fs_context *fc)
{
	struct tplfs_config *config = fc->fs_private;

	if (!config->private_dir)
		return invalfc(fc, "missing option private=DIR (the private area)");
	if (!config->store_dir)
		return invalfc(fc, "missing option store=DIR (the template store)");
	return get_tree_nodev(fc, tplfs_fill_super);
}

/*
 * Remount may change the generic flags (ro/rw and the like), never the
 * private area, the store or the container id of a mounted instance.
 */
static int tplfs_reconfigure(struct fs_context *fc)
{
	struct tplfs_config *new = fc->fs_private;
	struct tplfs_config *old = &tplfs_fs(fc->root->d_sb)->config;

	if ((new->private_dir && strcmp(new->private_dir, old->private_dir)) ||
	    (new->store_dir && strcmp(new->store_dir, old->store_dir)) ||
	    (new->ct && (!old->ct || strcmp(new->ct, old->ct))))
		return invalfc(fc, "private=, store= and ct= cannot change on remount");
	if (new->is_volatile != old->is_volatile)
		return invalfc(fc, "volatile cannot change on remount");
	if (new->verity != old->verity)
		return invalfc(fc, "verity= cannot change on remount");
	return 0;
}

static void tplfs_free_fc(struct fs_context *fc)
{
	struct tplfs_config *config = fc->fs_private;

	if (config) {
		tplfs_config_free(config);
		kfree(config);
	}
}

static const struct fs_context_operations tplfs_context_ops = {
	.parse_param	= tplfs_parse_param,
	.get_tree	= tplfs_get_tree,
	.reconfigure	= tplfs_reconfigure,
	.free		= tplfs_free_fc,
};

int tplfs_init_fs_context(struct fs_context *fc)
{
	struct tplfs_config *config;

	config = kzalloc(sizeof(*config), GFP_KERNEL);
	if (!config)
		return -ENOMEM;

	/* On remount, start from the mounted instance's flags. */
	if (fc->purpose == FS_CONTEXT_FOR_RECONFIGURE) {
		struct tplfs_config *old = &tplfs_fs(fc->root->d_sb)->config;

		config->is_volatile = old->is_volatile;
		config->verity = old->verity;
	}

	fc->fs_private = config;
	fc->ops = &tplfs_context_ops;
	return 0;
}

int tplfs_show_options(struct seq_file *m, struct dentry *root)
{
	struct tplfs_config *config = &tplfs_fs(root->d_sb)->config;

	seq_show_option(m, "private", config->private_dir);
	seq_show_option(m, "store", config->store_dir);
	if (config->ct)
		seq_show_option(m, "ct", config->ct);
	if (config->is_volatile)
		seq_puts(m, ",volatile");
	if (config->verity != TPLFS_VERITY_OFF)
		seq_printf(m, ",verity=%s",
			   config->verity == TPLFS_VERITY_ON ? "on" : "require");
	return 0;
}
