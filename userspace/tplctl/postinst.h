/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * An application template's maintainer scripts run in a container
 * (doc/apps.md, "Maintainer scripts"): by the client, not by tplfsd, whose
 * unit may create no namespace.
 */
#ifndef TPLCTL_POSTINST_H
#define TPLCTL_POSTINST_H

#include <json-c/json.h>

/*
 * After ct app add: run the postinst of each package of @result's
 * "postinst" (in order) in the container at @result's "root", if it is
 * mounted; say what was run or why not. 0, or 1 after saying what failed.
 */
int postinst_after_add(json_object *result);

/* tplctl ct app postinst ID NAME: the same, for the app NAME the container
 * has (asked of the daemon on @fd). 0, or 1 after saying why. */
int postinst_of_app(int fd, const char *id, const char *name);

#endif /* TPLCTL_POSTINST_H */
