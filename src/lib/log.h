/*
 * log - process-wide diagnostics.
 *
 * Severities as in Postfix's msg(3): log_warn for what the process survives,
 * log_error for a failed operation, log_fatal for a broken environment (exits
 * 1), log_panic for a broken invariant (aborts). Until log_open() names a
 * file, lines go to stderr without a timestamp (the CLI's case). In the
 * daemon, lines carry Mailman's format "%b %d %H:%M:%S %Y (pid) message".
 */
#ifndef CRIER_LOG_H
#define CRIER_LOG_H

#include <stdarg.h>

enum log_level { LOG_LEVEL_DEBUG, LOG_LEVEL_INFO, LOG_LEVEL_WARN, LOG_LEVEL_ERROR };

void log_set_prefix(const char *prefix);
void log_set_level(enum log_level level);
/* Sends lines to path (appending); -1 and errno on failure. */
int log_open(const char *path);
/* Reopens the file given to log_open (after rotation, on SIGHUP). */
int log_reopen(void);

/*
 * Mailman's named loggers ([logging.NAME]: smtp, bounce, vette, error,
 * subscribe, ...): log_logger_open() gives a logger its file (several
 * loggers may share one, as most share mailman.log) and level; log_to()
 * writes a line to it. A logger that was never opened writes to the main
 * file. Each process opens its loggers at start; log_reopen() reopens them.
 */
int log_logger_open(const char *name, const char *path, enum log_level level);
void log_to(const char *logger, enum log_level level, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* "debug info warn warning error critical fatal notset" → a level. */
enum log_level log_level_parse(const char *name);

void log_debug(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_info(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
_Noreturn void log_fatal(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
_Noreturn void log_panic(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#endif
