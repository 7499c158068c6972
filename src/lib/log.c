/* log - see log.h. */
#include "lib/log.h"

#include <glib.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

static const char *log_prefix = "crier";
static enum log_level log_min = LOG_LEVEL_INFO;
static FILE *log_fp;
static char *log_path;

void log_set_prefix(const char *prefix)
{
    log_prefix = prefix;
}

void log_set_level(enum log_level level)
{
    log_min = level;
}

int log_open(const char *path)
{
    FILE *fp = fopen(path, "ae");
    if (fp == NULL)
        return -1;
    setvbuf(fp, NULL, _IOLBF, 0);
    if (log_fp != NULL)
        fclose(log_fp);
    log_fp = fp;
    if (log_path != path) {
        g_free(log_path);
        log_path = g_strdup(path);
    }
    return 0;
}

int log_reopen(void)
{
    return log_path ? log_open(log_path) : 0;
}

static void log_vline(enum log_level level, const char *fmt, va_list ap)
{
    if (level < log_min)
        return;
    if (log_fp != NULL) {
        char stamp[64];
        time_t now = time(NULL);
        struct tm tm;
        localtime_r(&now, &tm);
        strftime(stamp, sizeof stamp, "%b %d %H:%M:%S %Y", &tm);
        fprintf(log_fp, "%s (%ld) ", stamp, (long)getpid());
        vfprintf(log_fp, fmt, ap);
        fputc('\n', log_fp);
        return;
    }
    fprintf(stderr, "%s: ", log_prefix);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
}

#define LOG_FN(name, level)                                                                        \
    void name(const char *fmt, ...)                                                                \
    {                                                                                              \
        va_list ap;                                                                                \
        va_start(ap, fmt);                                                                         \
        log_vline(level, fmt, ap);                                                                 \
        va_end(ap);                                                                                \
    }
LOG_FN(log_debug, LOG_LEVEL_DEBUG)
LOG_FN(log_info, LOG_LEVEL_INFO)
LOG_FN(log_warn, LOG_LEVEL_WARN)
LOG_FN(log_error, LOG_LEVEL_ERROR)

void log_fatal(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    log_vline(LOG_LEVEL_ERROR, fmt, ap);
    va_end(ap);
    exit(1);
}

void log_panic(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    log_vline(LOG_LEVEL_ERROR, fmt, ap);
    va_end(ap);
    abort();
}
