/* log - see log.h. */
#include "lib/log.h"

#include <glib.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static const char *log_prefix = "crier";
static enum log_level log_min = LOG_LEVEL_INFO;
static FILE *log_fp;
static char *log_path;

static void log_vline(enum log_level level, const char *fmt, va_list ap);

struct log_logger {
    char *path;
    FILE *fp; /* shared with other loggers of the same path */
    enum log_level level;
};

static GHashTable *log_loggers; /* name → struct log_logger */

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

static FILE *log_file_for(const char *path)
{
    GHashTableIter it;
    gpointer k, v;
    if (log_loggers) {
        g_hash_table_iter_init(&it, log_loggers);
        while (g_hash_table_iter_next(&it, &k, &v)) {
            struct log_logger *l = v;
            if (l->fp != NULL && strcmp(l->path, path) == 0)
                return l->fp;
        }
    }
    FILE *fp = fopen(path, "ae");
    if (fp)
        setvbuf(fp, NULL, _IOLBF, 0);
    return fp;
}

int log_reopen(void)
{
    if (log_loggers) {
        /* Close each distinct file once, then every logger opens again. */
        GHashTableIter it;
        gpointer k, v;
        GHashTable *closed = g_hash_table_new(g_direct_hash, g_direct_equal);
        g_hash_table_iter_init(&it, log_loggers);
        while (g_hash_table_iter_next(&it, &k, &v)) {
            struct log_logger *l = v;
            if (l->fp && g_hash_table_add(closed, l->fp))
                fclose(l->fp);
            l->fp = NULL;
        }
        g_hash_table_unref(closed);
        g_hash_table_iter_init(&it, log_loggers);
        while (g_hash_table_iter_next(&it, &k, &v)) {
            struct log_logger *l = v;
            l->fp = log_file_for(l->path);
        }
    }
    return log_path ? log_open(log_path) : 0;
}

enum log_level log_level_parse(const char *name)
{
    if (g_ascii_strcasecmp(name, "debug") == 0 || g_ascii_strcasecmp(name, "notset") == 0)
        return LOG_LEVEL_DEBUG;
    if (g_ascii_strcasecmp(name, "warn") == 0 || g_ascii_strcasecmp(name, "warning") == 0)
        return LOG_LEVEL_WARN;
    if (g_ascii_strcasecmp(name, "error") == 0 || g_ascii_strcasecmp(name, "critical") == 0 ||
        g_ascii_strcasecmp(name, "fatal") == 0)
        return LOG_LEVEL_ERROR;
    return LOG_LEVEL_INFO;
}

int log_logger_open(const char *name, const char *path, enum log_level level)
{
    if (log_loggers == NULL)
        log_loggers = g_hash_table_new(g_str_hash, g_str_equal);
    FILE *fp = log_file_for(path);
    if (fp == NULL)
        return -1;
    struct log_logger *l = g_hash_table_lookup(log_loggers, name);
    if (l == NULL) {
        l = g_new0(struct log_logger, 1);
        g_hash_table_insert(log_loggers, g_strdup(name), l);
    } else {
        g_free(l->path);
    }
    l->path = g_strdup(path);
    l->fp = fp;
    l->level = level;
    return 0;
}

static void log_stamp(FILE *fp)
{
    char stamp[64];
    time_t now = time(NULL);
    struct tm tm;
    localtime_r(&now, &tm);
    strftime(stamp, sizeof stamp, "%b %d %H:%M:%S %Y", &tm);
    fprintf(fp, "%s (%ld) ", stamp, (long)getpid());
}

void log_to(const char *logger, enum log_level level, const char *fmt, ...)
{
    struct log_logger *l = log_loggers ? g_hash_table_lookup(log_loggers, logger) : NULL;
    va_list ap;
    va_start(ap, fmt);
    if (l == NULL || l->fp == NULL) {
        log_vline(level, fmt, ap);
    } else if (level >= l->level) {
        /* One write per line: several processes append to the same file. */
        char *line = g_strdup_vprintf(fmt, ap);
        log_stamp(l->fp);
        fprintf(l->fp, "%s\n", line);
        g_free(line);
    }
    va_end(ap);
}

static void log_vline(enum log_level level, const char *fmt, va_list ap)
{
    if (level < log_min)
        return;
    if (log_fp != NULL) {
        log_stamp(log_fp);
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
