/* SPDX-License-Identifier: LGPL-2.1-or-later */
#ifndef TPLFS_VERSION_H
#define TPLFS_VERSION_H

#define TPLFS_VERSION	"0.1.0"

#endif /* TPLFS_VERSION_H */
