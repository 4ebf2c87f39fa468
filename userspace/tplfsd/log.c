// SPDX-License-Identifier: GPL-2.0-or-later
/* Log lines: see log.h. */
#include <stdarg.h>
#include <stdio.h>
#include <stdbool.h>
#include <string.h>
#include <syslog.h>
#include <unistd.h>

#include "log.h"

static bool use_syslog;

void log_to_syslog(void)
{
	openlog("tplfsd", LOG_PID | LOG_NDELAY, LOG_DAEMON);
	use_syslog = true;
}

void log_msg(int prio, const char *fmt, ...)
{
	char line[1024];
	va_list ap;
	int n;

	n = snprintf(line, sizeof(line), "<%d>tplfsd: ", prio);
	va_start(ap, fmt);
	vsnprintf(line + n, sizeof(line) - (size_t)n - 1, fmt, ap);
	va_end(ap);
	for (char *p = line + n; *p; p++)
		if (*p == '\n')
			*p = ' ';
	if (use_syslog) {
		syslog(prio, "%s", line + n);
		return;
	}
	strcat(line, "\n");
	/* One write per line, so that lines of two threads never mix. */
	if (write(STDERR_FILENO, line, strlen(line)) < 0)
		return;
}
