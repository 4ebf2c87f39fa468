// SPDX-License-Identifier: LGPL-2.1-or-later
/* lib/dpkgstatus.c: dpkg's status merged three ways by package. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "dpkgstatus.h"

#define PA1 "Package: a\nStatus: install ok installed\nArchitecture: amd64\nVersion: 1\n"
#define PA2 "Package: a\nStatus: install ok installed\nArchitecture: amd64\nVersion: 2\n"
#define PA3 "Package: a\nStatus: install ok installed\nArchitecture: amd64\nVersion: 3\n"
#define PB "Package: b\nStatus: install ok installed\nArchitecture: all\nVersion: 1\n"
#define PC "Package: c\nStatus: install ok installed\nArchitecture: amd64\nVersion: 7\n"
#define PD "Package: d\nStatus: install ok installed\nArchitecture: amd64\nVersion: 1\n"
#define PAI "Package: a\nStatus: install ok installed\nArchitecture: i386\nVersion: 1\n"

static int merge(const char *b, const char *o, const char *t, char **out,
		 char *why)
{
	size_t len;
	int ret = tplfs_dpkg_status_merge(b, strlen(b), o, strlen(o), t,
					  strlen(t), out, &len, why, 256);

	if (!ret) {
		*out = realloc(*out, len + 1);
		(*out)[len] = '\0';
	}
	return ret;
}

/* The template updated a, the container installed c and removed d. */
static void each_side_keeps_its_packages(void **state)
{
	char *out = NULL, why[256];

	(void)state;
	assert_int_equal(merge(PA1 "\n" PB "\n" PD "\n",
			       PB "\n" PA1 "\n" PC "\n",	/* its own order */
			       PA2 "\n" PB "\n" PD,		/* no last newline */
			       &out, why), 0);
	assert_string_equal(out, PA2 "\n" PB "\n" PC "\n");
	free(out);
}

/* The same update made in both is no conflict; a different one is. */
static void a_package_changed_in_both(void **state)
{
	char *out = NULL, why[256];

	(void)state;
	assert_int_equal(merge(PA1 "\n", PA2 "\n", PA2 "\n", &out, why), 0);
	assert_string_equal(out, PA2 "\n");
	free(out);
	out = NULL;
	assert_int_equal(merge(PA1 "\n", PA3 "\n", PA2 "\n", &out, why), -EAGAIN);
	assert_non_null(strstr(why, "a:amd64"));
	assert_null(out);
	/* removed in the container, updated in the template: a conflict */
	assert_int_equal(merge(PA1 "\n" PB "\n", PB "\n", PA2 "\n" PB "\n",
			       &out, why), -EAGAIN);
}

/* One package of two architectures is two stanzas. */
static void architectures_are_apart(void **state)
{
	char *out = NULL, why[256];

	(void)state;
	assert_int_equal(merge(PA1 "\n", PA1 "\n" PAI "\n", PA2 "\n", &out, why), 0);
	assert_string_equal(out, PA2 "\n" PAI "\n");
	free(out);
}

static void not_a_status_file(void **state)
{
	char *out = NULL, why[256];

	(void)state;
	assert_int_equal(merge(PA1 "\n", "Version: 1\n\n", PA2 "\n", &out, why),
			 -EINVAL);
	assert_int_equal(merge(PA1 "\n", PA1 "\n" PA1 "\n", PA2 "\n", &out, why),
			 -EINVAL);
	assert_non_null(strstr(why, "twice"));
	/* empty files are status files without packages */
	assert_int_equal(merge("", PC "\n", "", &out, why), 0);
	assert_string_equal(out, PC "\n");
	free(out);
}

/* debconf's config.dat, by Name: two apps' questions both kept. */
static void debconf_questions_merge_by_name(void **state)
{
	const struct tplfs_stanza_file *sf =
		tplfs_stanza_file("/var/cache/debconf/config.dat");
	static const char q1[] = "Name: a/q\nTemplate: a/q\nOwners: a\n\n";
	static const char q2[] = "Name: b/q\nTemplate: b/q\nOwners: b\n\n";
	static const char q2x[] = "Name: b/q\nTemplate: b/q\nOwners: b, c\n\n";
	static const char both[] = "Name: b/q\nTemplate: b/q\nOwners: b\n\n"
				   "Name: a/q\nTemplate: a/q\nOwners: a\n\n";
	char *out = NULL, why[256];
	size_t len;

	(void)state;
	assert_non_null(sf);
	assert_non_null(tplfs_stanza_file("/var/cache/debconf/passwords.dat"));
	assert_null(tplfs_stanza_file("/var/cache/debconf/config.dat-old"));
	assert_int_equal(tplfs_stanza_merge(sf, "", 0, q1, strlen(q1), q2,
					    strlen(q2), &out, &len, why,
					    sizeof(why)), 0);
	assert_int_equal(len, strlen(q1) + strlen(q2));
	assert_memory_equal(out, "Name: a/q\nTemplate: a/q\nOwners: a\n\n"
			    "Name: b/q\nTemplate: b/q\nOwners: b\n\n", len);
	free(out);
	/* ours changed b/q, theirs added a/q: both */
	assert_int_equal(tplfs_stanza_merge(sf, q2, strlen(q2), q2x, strlen(q2x),
					    both, strlen(both), &out, &len, why,
					    sizeof(why)), 0);
	assert_non_null(memmem(out, len, "Owners: b, c", 12));
	assert_non_null(memmem(out, len, "Name: a/q", 9));
	free(out);
	/* one question changed both ways: named */
	assert_int_equal(tplfs_stanza_merge(sf, "", 0, q2, strlen(q2), q2x,
					    strlen(q2x), &out, &len, why,
					    sizeof(why)), -EAGAIN);
	assert_non_null(strstr(why, "Name b/q: changed in both"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(each_side_keeps_its_packages),
		cmocka_unit_test(a_package_changed_in_both),
		cmocka_unit_test(architectures_are_apart),
		cmocka_unit_test(not_a_status_file),
		cmocka_unit_test(debconf_questions_merge_by_name),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
