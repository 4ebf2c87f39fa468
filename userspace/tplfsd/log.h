/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Log lines on stderr, with a syslog priority prefix ("<3>") that journald
 * understands when it runs the daemon; to syslog once the daemon has gone
 * to the background. One line per message.
 */
#ifndef TPLFSD_LOG_H
#define TPLFSD_LOG_H

/* From now on, log to syslog (the daemon went to the background). */
void log_to_syslog(void);

void log_msg(int prio, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

#define log_err(...)	log_msg(3, __VA_ARGS__)
#define log_warn(...)	log_msg(4, __VA_ARGS__)
#define log_info(...)	log_msg(6, __VA_ARGS__)

#endif /* TPLFSD_LOG_H */
