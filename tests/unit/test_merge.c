// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * Unit tests of the three-way decision of a rebase (userspace/lib/merge.c):
 * the rows of doc/rebase.md one by one, then every combination of base,
 * ours and theirs over absent, two file contents, a private copy, changed
 * metadata, a directory, a symlink and a device node, checked against the
 * properties a rebase must keep: no change of the container's is lost, a
 * path the container did not touch ends as the template's, conflicts are
 * exactly the paths both changed.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "merge.h"

static struct tplfs_merge_side absent(void)
{
	struct tplfs_merge_side s = { .kind = TPLFS_MERGE_ABSENT };

	return s;
}

static struct tplfs_merge_side file(uint8_t content)
{
	struct tplfs_merge_side s = {
		.kind = TPLFS_MERGE_FILE, .digest_known = true,
		.size = 100 + content, .mode = 0644, .mtime_sec = 1700000000,
	};

	memset(s.digest, content, sizeof(s.digest));
	return s;
}

static struct tplfs_merge_side dir(void)
{
	struct tplfs_merge_side s = {
		.kind = TPLFS_MERGE_DIR, .mode = 0755, .mtime_sec = 1700000000,
	};

	return s;
}

static struct tplfs_merge_side symlink_to(const char *target)
{
	struct tplfs_merge_side s = {
		.kind = TPLFS_MERGE_SYMLINK, .target = target, .mode = 0777,
		.mtime_sec = 1700000000,
	};

	return s;
}

static struct tplfs_merge_side node(uint32_t minor)
{
	struct tplfs_merge_side s = {
		.kind = TPLFS_MERGE_SPECIAL, .special = 'c', .major = 1,
		.minor = minor, .mode = 0666, .mtime_sec = 1700000000,
	};

	return s;
}

static struct tplfs_merge_side chmodded(struct tplfs_merge_side s)
{
	s.mode = 0600;
	return s;
}

static void expect(struct tplfs_merge_side base, struct tplfs_merge_side ours,
		   struct tplfs_merge_side theirs,
		   enum tplfs_merge_action action, bool meta_take, bool conflict)
{
	struct tplfs_merge_decision d = tplfs_merge_decide(&base, &ours, &theirs);

	if (d.action != action || (action == TPLFS_MERGE_TAKE &&
				   d.meta_take != meta_take) ||
	    d.conflict != conflict)
		fail_msg("got action %d meta_take %d conflict %d (%s), want %d %d %d",
			 d.action, d.meta_take, d.conflict, d.why, action,
			 meta_take, conflict);
	assert_non_null(d.why);
}

static void the_documented_rows(void **state)
{
	(void)state;
	/* an untouched stub follows theirs, data and metadata */
	expect(file(1), file(1), file(2), TPLFS_MERGE_TAKE, true, false);
	expect(file(1), file(1), chmodded(file(1)), TPLFS_MERGE_TAKE, true, false);
	/* the template did not change it: whatever ours is stays */
	expect(file(1), file(3), file(1), TPLFS_MERGE_KEEP, false, false);
	expect(file(1), absent(), file(1), TPLFS_MERGE_KEEP, false, false);
	/* metadata the container changed stays the container's */
	expect(file(1), chmodded(file(1)), file(2), TPLFS_MERGE_TAKE, false, false);
	/* a file the container changed is kept; a conflict if theirs did too */
	expect(file(1), file(3), file(2), TPLFS_MERGE_KEEP, false, true);
	expect(file(1), file(3), chmodded(file(1)), TPLFS_MERGE_KEEP, false, false);
	/* unless the container already has theirs (ran the same update) */
	expect(file(1), file(2), file(2), TPLFS_MERGE_TAKE, false, false);
	/* deleted in the container: stays deleted */
	expect(file(1), absent(), file(2), TPLFS_MERGE_KEEP, false, true);
	expect(file(1), absent(), absent(), TPLFS_MERGE_KEEP, false, false);
	/* new in theirs: appears; made in both: ours kept, a conflict */
	expect(absent(), absent(), file(2), TPLFS_MERGE_TAKE, true, false);
	expect(absent(), file(3), file(2), TPLFS_MERGE_KEEP, false, true);
	expect(absent(), file(2), file(2), TPLFS_MERGE_TAKE, false, false);
	/* removed in theirs: goes only if untouched */
	expect(file(1), file(1), absent(), TPLFS_MERGE_REMOVE, false, false);
	expect(file(1), file(3), absent(), TPLFS_MERGE_KEEP, false, true);
	expect(file(1), chmodded(file(1)), absent(), TPLFS_MERGE_KEEP, false, true);
	/* a type the template changed */
	expect(file(1), file(1), dir(), TPLFS_MERGE_TAKE, true, false);
	expect(file(1), chmodded(file(1)), dir(), TPLFS_MERGE_KEEP, false, true);
	expect(symlink_to("a"), symlink_to("a"), symlink_to("b"),
	       TPLFS_MERGE_TAKE, true, false);
	expect(symlink_to("a"), symlink_to("c"), symlink_to("b"),
	       TPLFS_MERGE_KEEP, false, true);
	/* a directory: its metadata follows theirs unless ours changed it */
	expect(dir(), dir(), chmodded(dir()), TPLFS_MERGE_TAKE, true, false);
	expect(dir(), chmodded(dir()), dir(), TPLFS_MERGE_KEEP, false, false);
}

static void a_private_file_is_equal_only_when_hashed(void **state)
{
	struct tplfs_merge_side base = file(1), ours = file(1), theirs = file(2);
	struct tplfs_merge_decision d;

	(void)state;
	/* a private copy equal to base (hashed) becomes a stub of theirs */
	d = tplfs_merge_decide(&base, &ours, &theirs);
	assert_int_equal(d.action, TPLFS_MERGE_TAKE);
	/* not hashed (its size was not base's): changed, kept */
	ours.digest_known = false;
	d = tplfs_merge_decide(&base, &ours, &theirs);
	assert_int_equal(d.action, TPLFS_MERGE_KEEP);
	assert_true(d.conflict);
	/* same digest, other size: not the same content */
	ours = file(1);
	ours.size++;
	assert_false(tplfs_merge_same_content(&ours, &base));
	/* directories' times are not compared, files' are */
	base = dir();
	ours = dir();
	ours.mtime_sec++;
	assert_true(tplfs_merge_same(&ours, &base));
	base = file(1);
	ours = file(1);
	ours.mtime_nsec++;
	assert_false(tplfs_merge_same(&ours, &base));
}

#define NSIDES 9

static struct tplfs_merge_side side(int i)
{
	switch (i) {
	case 0: return absent();
	case 1: return file(1);
	case 2: return file(2);
	case 3: return chmodded(file(1));
	case 4: return dir();
	case 5: return chmodded(dir());
	case 6: return symlink_to("a");
	case 7: return symlink_to("b");
	default: return node(3);
	}
}

static void every_combination_keeps_the_rules(void **state)
{
	int n = 0;

	(void)state;
	for (int b = 0; b < NSIDES; b++)
		for (int o = 0; o < NSIDES; o++)
			for (int t = 0; t < NSIDES; t++) {
				struct tplfs_merge_side base = side(b);
				struct tplfs_merge_side ours = side(o);
				struct tplfs_merge_side theirs = side(t);
				struct tplfs_merge_decision d =
					tplfs_merge_decide(&base, &ours, &theirs);
				bool ours_changed = !tplfs_merge_same(&ours, &base);
				bool theirs_changed = !tplfs_merge_same(&theirs, &base);
				bool ours_data = !tplfs_merge_same_content(&ours, &base);
				bool theirs_data = !tplfs_merge_same_content(&theirs, &base);

				n++;
				/* a path the template did not change: as it was */
				if (!theirs_changed)
					assert_true(d.action == TPLFS_MERGE_KEEP &&
						    !d.conflict);
				/* untouched by the container: the template's */
				if (!ours_changed && theirs_changed) {
					assert_false(d.conflict);
					assert_int_equal(d.action,
							 theirs.kind == TPLFS_MERGE_ABSENT ?
							 TPLFS_MERGE_REMOVE : TPLFS_MERGE_TAKE);
					if (d.action == TPLFS_MERGE_TAKE)
						assert_true(d.meta_take);
				}
				/* what the container changed is never removed */
				if (ours_changed)
					assert_int_not_equal(d.action, TPLFS_MERGE_REMOVE);
				/* its content is replaced only by the same content
				 * (a stub of it), its metadata never */
				if (ours_data && d.action == TPLFS_MERGE_TAKE)
					assert_true(tplfs_merge_same_content(&ours, &theirs));
				if (ours_changed && d.action == TPLFS_MERGE_TAKE)
					assert_false(d.meta_take);
				/* a conflict: both changed the content, or one the
				 * content and the other removed or retyped it */
				if (d.conflict &&
				    !(ours_changed && theirs_data &&
				      d.action == TPLFS_MERGE_KEEP &&
				      !(ours_data &&
					tplfs_merge_same_content(&ours, &theirs))))
					fail_msg("base %d ours %d theirs %d: a conflict (%s)",
						 b, o, t, d.why);
				if (ours_data && theirs_data &&
				    !tplfs_merge_same_content(&ours, &theirs))
					assert_true(d.conflict);
			}
	assert_int_equal(n, NSIDES * NSIDES * NSIDES);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(the_documented_rows),
		cmocka_unit_test(a_private_file_is_equal_only_when_hashed),
		cmocka_unit_test(every_combination_keeps_the_rules),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
