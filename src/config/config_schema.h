/*
 * config_schema - every section and key crier knows, as data: type, default
 * (Mailman 3.3.8's schema.cfg), bounds. Section names ending in ".master"
 * (or "logging.template") are category templates: an instance section such
 * as [runner.out] starts as a copy of its template's keys, then takes the
 * built-in overrides (Mailman's own mailman.cfg) and the user's values.
 */
#ifndef CRIER_CONFIG_SCHEMA_H
#define CRIER_CONFIG_SCHEMA_H

#include <stdbool.h>

enum config_type {
    CONFIG_STRING,
    CONFIG_BOOL,     /* true yes 1 on enable enabled / false no 0 off disable disabled */
    CONFIG_INT,      /* within [min, max] */
    CONFIG_POW2,     /* a power of two within [min, max] (runner instances) */
    CONFIG_DURATION, /* 1d6h, 15m, 2.5s: [0-9.]+ with w d h m s, in that order */
    CONFIG_CHOICE,   /* one of choices, any case */
    CONFIG_LOGLEVEL, /* debug info warn warning error critical fatal notset */
    CONFIG_REGEX,    /* a regular expression (Python syntax, named groups) */
};

struct config_key {
    const char *section;
    const char *key;
    enum config_type type;
    const char *def;
    long long min, max;  /* CONFIG_INT and CONFIG_POW2 */
    const char *choices; /* CONFIG_CHOICE: space-separated */
};

/* A built-in value that overrides a template default in one instance
 * section (Mailman's mailman.cfg); key NULL only declares the section. */
struct config_override {
    const char *section;
    const char *key;
    const char *value;
};

extern const struct config_key config_schema[];
extern const struct config_override config_builtin[];

/* Categories in which a user may declare new instance sections. */
bool config_schema_category_open(const char *category);

/* The template section name for an instance ("runner.out" → "runner.master",
 * "logging.smtp" → "logging.template"), or NULL if section is no instance. */
const char *config_schema_template_of(const char *section);

/* Checks value against the key's type; on failure returns false and sets
 * *form_r to a static description of the accepted form. */
bool config_schema_check(const struct config_key *k, const char *value, const char **form_r);

/* Parsers for values already checked. */
bool config_parse_bool(const char *value, bool *out);
bool config_parse_duration(const char *value, double *seconds_out);

#endif
