/* SPDX-License-Identifier: GPL-2.0 */
/*
 * tplfs tracepoints: events/tplfs/ in tracefs.
 */
#undef TRACE_SYSTEM
#define TRACE_SYSTEM tplfs

#if !defined(_TPLFS_TRACE_H) || defined(TRACE_HEADER_MULTI_READ)
#define _TPLFS_TRACE_H

#include <linux/tracepoint.h>

/* One per copy-up, done or failed. */
TRACE_EVENT(tplfs_copy_up,
	TP_PROTO(struct inode *inode, u64 bytes, u64 ns, bool data, bool synced,
		 int err),
	TP_ARGS(inode, bytes, ns, data, synced, err),

	TP_STRUCT__entry(
		__field(dev_t, dev)
		__field(unsigned long, ino)
		__field(u64, bytes)
		__field(u64, ns)
		__field(bool, data)
		__field(bool, synced)
		__field(int, err)
	),

	TP_fast_assign(
		__entry->dev = inode->i_sb->s_dev;
		__entry->ino = inode->i_ino;
		__entry->bytes = bytes;
		__entry->ns = ns;
		__entry->data = data;
		__entry->synced = synced;
		__entry->err = err;
	),

	TP_printk("dev=%d:%d ino=%lu bytes=%llu ns=%llu data=%d synced=%d err=%d",
		  MAJOR(__entry->dev), MINOR(__entry->dev), __entry->ino,
		  __entry->bytes, __entry->ns, __entry->data, __entry->synced,
		  __entry->err)
);

#endif /* _TPLFS_TRACE_H */

#undef TRACE_INCLUDE_PATH
#define TRACE_INCLUDE_PATH .
#undef TRACE_INCLUDE_FILE
#define TRACE_INCLUDE_FILE trace
#include <trace/define_trace.h>
