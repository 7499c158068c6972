/*
 * config - crier's configuration, read as Mailman 3.3.8 reads mailman.cfg.
 *
 * Layers (reference §1.1): the schema's defaults (config_schema.c), the
 * built-in instance sections (Mailman's mailman.cfg), then the user's file;
 * a user section [runner.x], [archiver.x], [paths.x], [language.x] or
 * [plugin.x] that does not exist yet is a copy of its category template.
 * Unknown sections and keys give one warning each (config_warnings); a bad
 * value for a known key, a malformed line or an unreadable file makes
 * config_load fail with messages naming file, line, key and the accepted
 * form. The MTA's own file ([mta] configuration: python:mailman.config.postfix
 * or an absolute path to a postfix.cfg) is read into section "postfix".
 *
 * Paths: [paths.<layout>] expanded as Mailman does ($var expansion repeated
 * until stable, a loop is an error, MAILMAN_VAR_DIR overrides var_dir, every
 * result made absolute); config_path() gives them.
 *
 * Strings returned by getters belong to the config and live as long as it.
 * Getters on a key the schema does not define abort (a programming error).
 */
#ifndef CRIER_CONFIG_H
#define CRIER_CONFIG_H

#include <glib.h>
#include <stdbool.h>

struct config;

/*
 * Finds the file to use (reference §1.2): explicit (-C) if non-NULL, else
 * $MAILMAN_CONFIG_FILE if set and non-empty, both of which must exist;
 * else the first existing of ./mailman.cfg, ./var/etc/mailman.cfg,
 * ~/.mailman.cfg, /etc/mailman.cfg, /etc/mailman3/mailman.cfg,
 * <bin_dir>/../etc/mailman.cfg. Returns 1 and a path in *path_r, 0 when
 * none exists (built-in defaults), -1 when an explicit file is missing.
 */
int config_find(const char *explicit_path, const char *bin_dir, char **path_r, char **error_r);

/* Loads path (NULL: built-in defaults only). bin_dir is $argv's value. */
int config_load(const char *path, const char *bin_dir, struct config **cfg_r, char **error_r);
/* As config_load, from text (tests); filename is used in messages and as
 * $cfg_file. */
int config_load_text(const char *text, const char *filename, const char *bin_dir,
                     struct config **cfg_r, char **error_r);
void config_free(struct config *cfg);

/* The file loaded, or NULL for the built-in defaults. */
const char *config_filename(const struct config *cfg);
/* Warning lines ("file:line: ...") for unknown sections and keys. */
const GPtrArray *config_warnings(const struct config *cfg);

/* The raw value (no $ expansion), or NULL if section or key is unknown. */
const char *config_lookup(const struct config *cfg, const char *section, const char *key);
bool config_has_section(const struct config *cfg, const char *section);

const char *config_get(const struct config *cfg, const char *section, const char *key);
bool config_get_bool(const struct config *cfg, const char *section, const char *key);
long long config_get_int(const struct config *cfg, const char *section, const char *key);
/* Seconds. */
double config_get_duration(const struct config *cfg, const char *section, const char *key);

/* An expanded absolute path by name: var_dir, queue_dir, bin_dir,
 * list_data_dir, log_dir, lock_dir, data_dir, cache_dir, etc_dir, ext_dir,
 * messages_dir, archive_dir, template_dir, pid_file, lock_file. */
const char *config_path(const struct config *cfg, const char *name);

/* Expands $var / ${var} in text from the path variables (upper- or
 * lower-case names, as Mailman's $DATA_DIR in [database] url) and extra
 * (may be NULL); unknown names are left as they are. Returns g_free'd text. */
char *config_expand(const struct config *cfg, const char *text, GHashTable *extra);

/* Section names in sorted order (owned by the config; free the array with
 * g_ptr_array_unref), and a section's keys likewise. Hidden sections (the
 * MTA's file) are left out, as Mailman's `conf` leaves them out. */
GPtrArray *config_section_names(const struct config *cfg);
GPtrArray *config_key_names(const struct config *cfg, const char *section);

/* Creates every *_dir and writes etc_dir/mailman.cfg (a commented
 * template) if missing, as Mailman does at start-up. */
int config_ensure_dirs(const struct config *cfg, char **error_r);

#endif
