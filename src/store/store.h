/*
 * store - crier's list state behind one backend-neutral interface.
 *
 * Domains, mailing lists and their attributes, users, addresses, members,
 * preferences, bans, pendings, requests, bounce events, header matches and
 * the message-store index (reference §10.1). The SQLite backend lives in
 * store_sqlite*.c; PostgreSQL will come behind the same functions. Nothing
 * here exposes a backend type.
 *
 * Conventions
 * - Fallible functions return int: 0 (or a count) on success, < 0 on error
 *   with a newly allocated message in *error_r (g_free it; error_r may be
 *   NULL). Distinct error codes are the enum store_error values below.
 * - Lookups (store_*_get*) return 1 found, 0 not found, < 0 error; on 0 the
 *   out pointer is set to NULL and no message is given.
 * - Returned structs are newly allocated and freed with the matching
 *   store_*_free(); NULL-terminated arrays with store_*v_free(). Pointers
 *   handed to callbacks are valid only during the call.
 * - Emails are compared lower-cased; addresses keep the case given in
 *   original_email. list_name and mail_host are lower-cased on create.
 * - Times are int64_t microseconds since the Unix epoch, UTC (as
 *   g_get_real_time()); 0 means "unset" (SQL NULL). STORE_TIME_MIN is
 *   Python's datetime.min (last_warning_sent's initial value).
 * - UUIDs (user_id, member_id) are 32 lower-case hex characters.
 * - A callback returning non-zero stops an iteration; the iterating
 *   function then returns that value.
 * - One struct store is used by one thread at a time.
 * - Every public operation that writes several rows is atomic: it runs in
 *   its own transaction, or inside the caller's store_begin() if one is open.
 */
#ifndef CRIER_STORE_H
#define CRIER_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct store;

enum store_error {
    STORE_ERR = -1,          /* backend or I/O failure */
    STORE_EXISTS = -2,       /* duplicate: list, domain, address, member, ... */
    STORE_NOT_FOUND = -3,    /* a referenced object (list, domain, ...) is missing */
    STORE_INVALID = -4,      /* a bad value (message names the accepted values) */
    STORE_READ_ONLY = -5,    /* "Read-only attribute: x" */
    STORE_UNKNOWN_ATTR = -6, /* "Unknown attribute: x" */
    STORE_UNSUPPORTED = -7,  /* e.g. a postgres:// url before that backend exists */
    STORE_BUSY = -8,         /* temporary: the database stayed busy or locked past the
                              * busy timeout; the same operation may succeed later */
};

#define STORE_TIME_MIN ((int64_t)-62135596800 * 1000000) /* 0001-01-01T00:00:00 */

/* Stored enum values are Mailman's (reference §10.1 "Stored enum values"). */
enum store_role {
    STORE_ROLE_ANY = 0,
    STORE_ROLE_MEMBER = 1,
    STORE_ROLE_OWNER = 2,
    STORE_ROLE_MODERATOR = 3,
    STORE_ROLE_NONMEMBER = 4,
};
enum store_delivery_mode {
    STORE_DELIVERY_MODE_UNSET = 0,
    STORE_DELIVERY_REGULAR = 1,
    STORE_DELIVERY_PLAINTEXT_DIGESTS = 2,
    STORE_DELIVERY_MIME_DIGESTS = 3,
    STORE_DELIVERY_SUMMARY_DIGESTS = 4,
};
enum store_delivery_status {
    STORE_DELIVERY_STATUS_UNSET = 0,
    STORE_DELIVERY_ENABLED = 1,
    STORE_DELIVERY_BY_USER = 2,
    STORE_DELIVERY_BY_BOUNCES = 3,
    STORE_DELIVERY_BY_MODERATOR = 4,
    STORE_DELIVERY_UNKNOWN = 5,
};
enum store_action {
    STORE_ACTION_UNSET = -1, /* a member's moderation_action NULL: list default */
    STORE_ACTION_HOLD = 0,
    STORE_ACTION_REJECT = 1,
    STORE_ACTION_DISCARD = 2,
    STORE_ACTION_ACCEPT = 3,
    STORE_ACTION_DEFER = 4,
};
enum store_request_type {
    STORE_REQUEST_ANY = 0,
    STORE_REQUEST_HELD_MESSAGE = 1,
    STORE_REQUEST_SUBSCRIPTION = 2,
    STORE_REQUEST_UNSUBSCRIPTION = 3,
};
enum store_bounce_context {
    STORE_BOUNCE_NORMAL = 1,
    STORE_BOUNCE_PROBE = 2,
};

/* Enum names as Mailman spells them ("member", "plaintext_digests",
 * "by_bounces", "hold", "held_message"); NULL for an unknown value. The
 * parsers return the value, or -1 for an unknown name (case-insensitive). */
const char *store_role_name(int role);
int store_role_parse(const char *name);
const char *store_delivery_mode_name(int mode);
int store_delivery_mode_parse(const char *name);
const char *store_delivery_status_name(int status);
int store_delivery_status_parse(const char *name);
const char *store_action_name(int action);
int store_action_parse(const char *name);
const char *store_request_type_name(int type);
int store_request_type_parse(const char *name);

/* ---- opening, transactions ------------------------------------------ */

/* url: "sqlite:///abs/path/mailman.db" (or SQLAlchemy's "sqlite:////abs");
 * the file and its schema are created if missing and pending migrations run
 * in one transaction. "postgres://" and "postgresql://" → STORE_UNSUPPORTED
 * for now; anything else STORE_INVALID. */
int store_open(const char *url, struct store **st_r, char **error_r);
void store_close(struct store *st);
/* The schema version after migrations (for `crier info` and tests). */
int store_schema_version(struct store *st);

/* Whether the last statement that failed on st failed for a temporary
 * reason (STORE_BUSY: the database busy or locked past the busy timeout).
 * Callers that pass errors on as STORE_ERR or -1 lose the code; this keeps
 * it: a queue runner asks after a failure whether to retry the entry later
 * or shunt it. Reset when the next statement starts. */
bool store_error_temporary(const struct store *st);

/* One explicit transaction at a time (not nestable). */
int store_begin(struct store *st, char **error_r);
int store_commit(struct store *st, char **error_r);
int store_rollback(struct store *st, char **error_r);

/* ---- domains --------------------------------------------------------- */

struct store_domain {
    char *mail_host;    /* lower-case, unique */
    char *description;  /* NULL when unset */
    char *alias_domain; /* NULL when unset */
};
void store_domain_free(struct store_domain *d);
void store_domainv_free(struct store_domain **v);

/* STORE_EXISTS "Duplicate email host: X". description/alias_domain may be NULL. */
int store_domain_create(struct store *st, const char *mail_host, const char *description,
                        const char *alias_domain, struct store_domain **d_r, char **error_r);
int store_domain_get(struct store *st, const char *mail_host, struct store_domain **d_r,
                     char **error_r);
/* All domains sorted by mail_host; *v_r is NULL-terminated. */
int store_domain_list(struct store *st, struct store_domain ***v_r, char **error_r);
/* Deletes the domain and every list in it (with their members, ...).
 * 1 deleted, 0 no such domain. */
int store_domain_delete(struct store *st, const char *mail_host, char **error_r);
/* NULL clears. STORE_NOT_FOUND for an unknown domain. */
int store_domain_set_description(struct store *st, const char *mail_host, const char *value,
                                 char **error_r);
int store_domain_set_alias_domain(struct store *st, const char *mail_host, const char *value,
                                  char **error_r);
/* Owners are users; adding by email creates the address and user if
 * needed. Adding an existing owner is not an error. */
int store_domain_owner_add(struct store *st, const char *mail_host, const char *email,
                           char **error_r);
/* 1 removed, 0 was not an owner. */
int store_domain_owner_remove(struct store *st, const char *mail_host, const char *email,
                              char **error_r);
/* Removes every owner of the domain (REST DELETE /domains/<d>/owners). */
int store_domain_owners_clear(struct store *st, const char *mail_host, char **error_r);
/* The owners' user_ids (NULL-terminated, g_strfreev), sorted. */
int store_domain_owners(struct store *st, const char *mail_host, char ***user_ids_r,
                        char **error_r);

/* ---- mailing lists ----------------------------------------------------- */

/* A list with all its attribute values loaded (one read, no further
 * queries). Attribute values are in their string form (see list_attr.h):
 * bool "true"/"false", int decimal, enum by name, duration as Mailman
 * renders it ("7d", "1d30.5s"), time ISO-8601 or "" when unset,
 * string-list items joined by '\n'. */
struct store_list {
    char *list_name;     /* "ant" */
    char *mail_host;     /* "example.com" */
    char *list_id;       /* "ant.example.com" */
    char *fqdn_listname; /* "ant@example.com" */
    char **values;       /* internal: indexed like list_attr_at(); use the accessors */
};
void store_list_free(struct store_list *l);
void store_listv_free(struct store_list **v);

/* fqdn "name@host", style "legacy-default" (NULL), "legacy-announce" or
 * "private-default". Errors: STORE_EXISTS "Mailing list exists: X",
 * STORE_NOT_FOUND "Domain does not exist: X" (callers create the domain
 * first), STORE_INVALID for a malformed fqdn or unknown style. */
int store_list_create(struct store *st, const char *fqdn, const char *style,
                      struct store_list **l_r, char **error_r);
/* spec: fqdn_listname or list_id, any case. */
int store_list_get(struct store *st, const char *spec, struct store_list **l_r, char **error_r);
/* Lists sorted by list_name then mail_host; mail_host NULL = all domains;
 * advertised_only drops lists whose advertised is false. */
int store_list_list(struct store *st, const char *mail_host, bool advertised_only,
                    struct store_list ***v_r, char **error_r);
/* Removes the list and its members, requests, pendings naming it, bans,
 * header matches and bounce events in one transaction. 1 removed, 0 none. */
int store_list_remove(struct store *st, const char *spec, char **error_r);

/* Every list's posting address with its domain's alias_domain ("" when
 * none), one query, no attributes: for the LMTP runner's cache. names_r
 * and aliases_r are NULL-terminated and parallel (g_strfreev both). */
int store_list_names(struct store *st, char ***names_r, char ***aliases_r, char **error_r);

/* A number that changes whenever another connection commits a change
 * (SQLite: PRAGMA data_version), so a process can cache what it reads and
 * reload only when the store has changed. */
int store_generation(struct store *st, int64_t *gen_r, char **error_r);

/* Attribute accessors on a loaded list. NULL / 0 / false for an unknown
 * name (a programming error, logged). store_list_attr_int gives an enum's
 * stored value, a bool's 0/1, a duration's whole seconds, a time's
 * microseconds. store_list_attr_strv splits a string-list (g_strfreev). */
const char *store_list_attr(const struct store_list *l, const char *name);
int64_t store_list_attr_int(const struct store_list *l, const char *name);
bool store_list_attr_bool(const struct store_list *l, const char *name);
double store_list_attr_seconds(const struct store_list *l, const char *name);
char **store_list_attr_strv(const struct store_list *l, const char *name);

/* Reads one attribute's string form (g_free) from the database. spec as
 * store_list_get. STORE_NOT_FOUND no list, STORE_UNKNOWN_ATTR. */
int store_list_get_attr(struct store *st, const char *spec, const char *name, char **value_r,
                        char **error_r);
/* Validates and writes an attribute given in string form. Errors:
 * STORE_UNKNOWN_ATTR "Unknown attribute: x", STORE_READ_ONLY "Read-only
 * attribute: x", STORE_INVALID naming the attribute and the accepted values
 * ("Accepted Values are: open, confirm, moderate, confirm_then_moderate"),
 * STORE_NOT_FOUND no list. Bools accept true/false/yes/no/on/off/1/0. */
int store_list_set_attr(struct store *st, const char *spec, const char *name, const char *value,
                        char **error_r);
/* The same without the read-only check, for the runners' bookkeeping
 * (post_id, volume, last_post_at, next_digest_number, ...). Computed
 * attributes (fqdn_listname, *_address) still cannot be written. */
int store_list_set_attr_internal(struct store *st, const char *spec, const char *name,
                                 const char *value, char **error_r);
/* Atomically adds delta to an int attribute and gives the new value
 * (after-delivery's post_id += 1, digest volume bumps). */
int store_list_attr_add(struct store *st, const char *spec, const char *name, int64_t delta,
                        int64_t *value_r, char **error_r);

/* ---- users and addresses ----------------------------------------------- */

struct store_user {
    char *user_id;      /* 32 hex */
    char *display_name; /* NULL when unset */
    char *password;     /* a hash, NULL when unset */
    int64_t created_on;
    bool is_server_owner;
    char *preferred_email; /* NULL when unset */
};
struct store_address {
    char *email;          /* lower-case */
    char *original_email; /* as given */
    char *display_name;   /* NULL when unset */
    int64_t verified_on;  /* 0 = unverified */
    int64_t registered_on;
    char *user_id; /* NULL when not linked to a user */
};
void store_user_free(struct store_user *u);
void store_address_free(struct store_address *a);

/* Creates a user; with email, also the address (STORE_EXISTS if the address
 * exists: "Address already exists: x"). display_name/password may be NULL. */
int store_user_create(struct store *st, const char *email, const char *display_name,
                      const char *password_hash, bool is_server_owner, struct store_user **u_r,
                      char **error_r);
int store_user_get(struct store *st, const char *user_id, struct store_user **u_r, char **error_r);
/* The user owning the address email. */
int store_user_get_by_email(struct store *st, const char *email, struct store_user **u_r,
                            char **error_r);
/* Users by created_on; server_owners_only for /owners. */
int store_user_foreach(struct store *st, bool server_owners_only,
                       int (*fn)(const struct store_user *u, void *ctx), void *ctx, char **error_r);
/* Mailman's find_users(): users whose display name, or one of whose
 * addresses' display name or email, contains query (case-insensitive; '%'
 * and '_' are SQL LIKE wildcards, as there). A user is given once per
 * matching address, as Mailman's join gives it. */
int store_user_find(struct store *st, const char *query,
                    int (*fn)(const struct store_user *u, void *ctx), void *ctx, char **error_r);
/* Deletes the user, its addresses and their memberships. 1 / 0. */
int store_user_delete(struct store *st, const char *user_id, char **error_r);
/* NULL clears display_name / password. */
int store_user_set_display_name(struct store *st, const char *user_id, const char *value,
                                char **error_r);
int store_user_set_password(struct store *st, const char *user_id, const char *password_hash,
                            char **error_r);
int store_user_set_server_owner(struct store *st, const char *user_id, bool value, char **error_r);
/* Mailman's User.absorb(): user_id takes other_id's addresses (with their
 * memberships), domain ownerships, and the preferences, display name,
 * password and server-owner flag it lacks; other_id is deleted.
 * STORE_NOT_FOUND for an unknown user; absorbing oneself does nothing. */
int store_user_absorb(struct store *st, const char *user_id, const char *other_id, char **error_r);
/* email must be a verified address of the user (STORE_INVALID otherwise); NULL clears. */
int store_user_set_preferred(struct store *st, const char *user_id, const char *email,
                             char **error_r);

/* STORE_EXISTS "Address already exists: x"; STORE_INVALID for a string
 * that is not local@domain. */
int store_address_create(struct store *st, const char *email, const char *display_name,
                         struct store_address **a_r, char **error_r);
int store_address_get(struct store *st, const char *email, struct store_address **a_r,
                      char **error_r);
/* Addresses sorted by email; user_id NULL = all addresses. */
int store_address_foreach(struct store *st, const char *user_id,
                          int (*fn)(const struct store_address *a, void *ctx), void *ctx,
                          char **error_r);
/* Deletes the address and its memberships. 1 / 0. */
int store_address_delete(struct store *st, const char *email, char **error_r);
/* when = 0 unverifies. */
int store_address_set_verified(struct store *st, const char *email, int64_t when, char **error_r);
int store_address_set_display_name(struct store *st, const char *email, const char *value,
                                   char **error_r);
/* Links the address to user_id (NULL unlinks). STORE_EXISTS when it is
 * already linked to another user. */
int store_address_set_user(struct store *st, const char *email, const char *user_id,
                           char **error_r);
/* Renames an address everywhere (its memberships follow, bans and owners
 * too). Errors in Mailman's words: STORE_NOT_FOUND "Address {old} not
 * found.", STORE_EXISTS "Address {new} already exists; can't change.",
 * STORE_INVALID "Address {new} is not a valid email address." or
 * "Addresses are not different.  Nothing to change.". */
int store_address_change(struct store *st, const char *old_email, const char *new_email,
                         char **error_r);

/* ---- preferences --------------------------------------------------------- */

enum store_prefs_kind {
    STORE_PREFS_MEMBER,  /* id = member_id */
    STORE_PREFS_ADDRESS, /* id = email */
    STORE_PREFS_USER,    /* id = user_id */
};
/* -1 (bool fields), 0 (enums) or NULL (language) means unset: inherit
 * member → address → user → system. */
struct store_prefs {
    int acknowledge_posts;
    int hide_address;
    char *preferred_language;
    int receive_list_copy;
    int receive_own_postings;
    int delivery_mode;   /* enum store_delivery_mode */
    int delivery_status; /* enum store_delivery_status */
};
/* The system defaults: false, true, "en", true, true, regular, enabled. */
void store_prefs_system(struct store_prefs *p);
void store_prefs_unset(struct store_prefs *p);
void store_prefs_clear(struct store_prefs *p); /* frees preferred_language */
/* Stored values of one level (unset fields as above). 1 / 0 no such owner. */
int store_prefs_get(struct store *st, enum store_prefs_kind kind, const char *id,
                    struct store_prefs *p, char **error_r);
/* Writes every field of p (unset fields become NULL). */
int store_prefs_set(struct store *st, enum store_prefs_kind kind, const char *id,
                    const struct store_prefs *p, char **error_r);
/* The member's resolved preferences, every field set. 1 / 0. */
int store_prefs_effective(struct store *st, const char *member_id, struct store_prefs *p,
                          char **error_r);

/* ---- members -------------------------------------------------------------- */

struct store_member {
    char *member_id; /* 32 hex */
    char *list_id;
    int role;             /* enum store_role */
    char *email;          /* lower-case */
    char *original_email; /* as given */
    char *display_name;   /* the address's display name, NULL when unset */
    char *user_id;        /* the address's user, NULL when none */
    char *user_display_name;
    int moderation_action;     /* enum store_action, STORE_ACTION_UNSET = list default */
    int delivery_mode;         /* resolved: member → address → user → system */
    int delivery_status;       /* resolved likewise */
    bool receive_own_postings; /* resolved */
    bool receive_list_copy;    /* resolved */
    bool acknowledge_posts;    /* resolved */
    int bounce_score;
    int64_t last_bounce_received; /* 0 = never */
    int64_t last_warning_sent;    /* STORE_TIME_MIN initially */
    int total_warnings_sent;
};
void store_member_free(struct store_member *m);
struct store_member *store_member_dup(const struct store_member *m);

/* Subscribes email (created as an address, with a user, if new; an existing
 * address keeps its display name unless it had none; for role nonmember no
 * user is created, as Mailman) to the list with role.
 * delivery_mode 0 leaves it to the preferences. STORE_EXISTS when the
 * address already has that role on the list ("Member already subscribed"
 * for members, "<email> is already a(n) <role> of <fqdn>" otherwise);
 * STORE_NOT_FOUND "No such list: X"; STORE_INVALID for a bad email. m_r may
 * be NULL. */
int store_member_add(struct store *st, const char *list_id, const char *email,
                     const char *display_name, int role, int delivery_mode,
                     struct store_member **m_r, char **error_r);

/* Bulk subscription: n entries in one transaction (or the caller's), with
 * prepared statements reused. results[i] is 0, STORE_EXISTS or
 * STORE_INVALID per entry; the function fails (< 0) only for the list or
 * the backend, and then nothing is added. */
struct store_member_spec {
    const char *email;
    const char *display_name; /* NULL */
    int role;                 /* 0 = member */
    int delivery_mode;        /* 0 = preferences */
    int delivery_status;      /* 0 = preferences */
};
int store_member_add_bulk(struct store *st, const char *list_id,
                          const struct store_member_spec *specs, size_t n, int *results,
                          char **error_r);

/* 1 removed, 0 not subscribed with that role. */
int store_member_remove(struct store *st, const char *list_id, const char *email, int role,
                        char **error_r);
/* By member id. 1 / 0. */
int store_member_delete(struct store *st, const char *member_id, char **error_r);
int store_member_get(struct store *st, const char *member_id, struct store_member **m_r,
                     char **error_r);
int store_member_get_by_email(struct store *st, const char *list_id, const char *email, int role,
                              struct store_member **m_r, char **error_r);

/* The roster: one query streamed through fn, ordered by email. Masks are
 * bit sets of (1u << value); 0 means any. list_id NULL = every list. */
struct store_roster_filter {
    const char *list_id;
    unsigned role_mask;
    unsigned delivery_mode_mask;
    unsigned delivery_status_mask;
};
#define STORE_MASK(v) (1u << (v))
int store_roster(struct store *st, const struct store_roster_filter *f,
                 int (*fn)(const struct store_member *m, void *ctx), void *ctx, char **error_r);
/* The delivery roster of a post (Mailman's member-recipients): the members
 * (role member) of list_id with regular delivery, delivery enabled, each
 * with only what the posting pipeline needs, in NO particular order (the
 * caller sorts: post_recipients.h). One narrow statement: no member ids or
 * names are read, and fn gets the email from the row (valid during the
 * call). */
struct store_recipient {
    const char *email; /* lower-case */
    size_t len;
    bool receive_own_postings; /* resolved as in store_member */
    bool receive_list_copy;
};
/* A number that changes whenever anything store_roster_recipients could
 * return changes, for any list (database triggers keep it). */
int store_roster_version(struct store *st, int64_t *version_r, char **error_r);
int store_roster_recipients(struct store *st, const char *list_id,
                            int (*fn)(const struct store_recipient *r, void *ctx), void *ctx,
                            char **error_r);
/* Members of list_id with role (0 = any role). */
int store_member_count(struct store *st, const char *list_id, int role, int64_t *count_r,
                       char **error_r);
/* findmember / /members/find: pattern is a case-insensitive substring of
 * the email, or a regex when it starts with '^' (STORE_INVALID if it does
 * not compile); NULL matches all. list_id NULL = all lists; role 0 = any.
 * Ordered by email, list_id, role. */
int store_member_find(struct store *st, const char *pattern, const char *list_id, int role,
                      int (*fn)(const struct store_member *m, void *ctx), void *ctx,
                      char **error_r);

/* Setters by member id; STORE_NOT_FOUND for an unknown member. */
int store_member_set_delivery_mode(struct store *st, const char *member_id, int mode,
                                   char **error_r);
int store_member_set_delivery_status(struct store *st, const char *member_id, int status,
                                     char **error_r);
int store_member_set_moderation_action(struct store *st, const char *member_id, int action,
                                       char **error_r);
/* The bounce runner's bookkeeping, written together. */
int store_member_set_bounce_info(struct store *st, const char *member_id, int bounce_score,
                                 int64_t last_bounce_received, int64_t last_warning_sent,
                                 int total_warnings_sent, char **error_r);
/* Moves one membership to another address (created if needed);
 * STORE_EXISTS if that address already has the role on the list. */
int store_member_set_address(struct store *st, const char *member_id, const char *email,
                             char **error_r);

/* ---- bans ------------------------------------------------------------------ */

/* email is an address or a '^regex' (STORE_INVALID if it does not
 * compile); list_id NULL = global. Adding an existing ban is not an error. */
int store_ban_add(struct store *st, const char *list_id, const char *email, char **error_r);
/* 1 removed, 0 was not banned. */
int store_ban_remove(struct store *st, const char *list_id, const char *email, char **error_r);
/* The ban entries of list_id (NULL: the global ones), sorted (g_strfreev). */
int store_ban_list(struct store *st, const char *list_id, char ***emails_r, char **error_r);
/* 1 when email is banned on list_id or globally (exact, or a '^' entry
 * matching case-insensitively), 0 otherwise. list_id NULL: global only. */
int store_ban_is_banned(struct store *st, const char *list_id, const char *email, char **error_r);

/* ---- pendings (confirmation tokens) --------------------------------------- */

struct store_pending {
    char *token; /* 40 lower hex */
    char *type;  /* "subscription", "unsubscription", "held message", "probe", ... */
    int64_t expires;
    size_t n;
    char **keys; /* n keys and values */
    char **values;
};
void store_pending_free(struct store_pending *p);

/* Creates a pending with a fresh random token (*token_r, g_free) that
 * expires lifetime_us from now. keys/values: n pairs ("type" is stored
 * separately; a "list_id" key makes store_list_remove delete it). */
int store_pending_add(struct store *st, const char *type, int64_t lifetime_us,
                      const char *const *keys, const char *const *values, size_t n, char **token_r,
                      char **error_r);
/* An expired pending is not found. */
int store_pending_get(struct store *st, const char *token, struct store_pending **p_r,
                      char **error_r);
/* 1 deleted, 0 none (confirm consumes: get then delete). */
int store_pending_delete(struct store *st, const char *token, char **error_r);
/* Tokens of unexpired pendings of type (NULL any) having key = value
 * (key NULL: all), oldest first (g_strfreev). */
int store_pending_find(struct store *st, const char *type, const char *key, const char *value,
                       char ***tokens_r, char **error_r);
/* Deletes pendings expired at now (0: the current time); returns how many. */
int store_pending_evict(struct store *st, int64_t now, char **error_r);

/* ---- requests (held messages, subscription requests) ------------------------ */

struct store_request {
    int id; /* per list, from 1 */
    char *list_id;
    int type;         /* enum store_request_type */
    char *key;        /* Message-ID or email */
    char *data_token; /* a pending token, NULL when none */
};
void store_request_free(struct store_request *r);
void store_requestv_free(struct store_request **v);

/* Gives the new request's id in *id_r. STORE_NOT_FOUND no list. */
int store_request_add(struct store *st, const char *list_id, int type, const char *key,
                      const char *data_token, int *id_r, char **error_r);
int store_request_get(struct store *st, const char *list_id, int id, struct store_request **r_r,
                      char **error_r);
/* Requests of the list by id; type 0 = any. */
int store_request_list(struct store *st, const char *list_id, int type, struct store_request ***v_r,
                       char **error_r);
int store_request_count(struct store *st, const char *list_id, int type, int64_t *count_r,
                        char **error_r);
int store_request_delete(struct store *st, const char *list_id, int id, char **error_r);

/* ---- bounce events ------------------------------------------------------------ */

struct store_bounce_event {
    int64_t id;
    char *list_id;
    char *email;
    int64_t timestamp;
    char *message_id;
    int context; /* enum store_bounce_context */
    bool processed;
};
int store_bounce_add(struct store *st, const char *list_id, const char *email, int64_t timestamp,
                     const char *message_id, int context, int64_t *id_r, char **error_r);
/* Unprocessed events by id, streamed. */
int store_bounce_foreach_unprocessed(struct store *st,
                                     int (*fn)(const struct store_bounce_event *e, void *ctx),
                                     void *ctx, char **error_r);
int store_bounce_mark_processed(struct store *st, int64_t id, char **error_r);

/* ---- header matches ----------------------------------------------------------- */

struct store_header_match {
    int position; /* 0-based, dense */
    char *header; /* lower-case */
    char *pattern;
    char *chain; /* "accept", "hold", ... or NULL for the antispam default */
    char *tag;   /* NULL when unset */
};
void store_header_match_free(struct store_header_match *h);
void store_header_matchv_free(struct store_header_match **v);

/* position < 0 appends; otherwise inserts there, shifting later entries.
 * STORE_EXISTS for the same header and pattern already on the list. */
int store_header_match_add(struct store *st, const char *list_id, int position, const char *header,
                           const char *pattern, const char *chain, const char *tag, char **error_r);
int store_header_match_list(struct store *st, const char *list_id, struct store_header_match ***v_r,
                            char **error_r);
/* 1 deleted (later positions shift down), 0 none. */
int store_header_match_delete(struct store *st, const char *list_id, int position, char **error_r);
int store_header_match_clear(struct store *st, const char *list_id, char **error_r);

/* ---- template URIs (Mailman's ITemplateManager) ----------------------------- */

/* A template name ("list:member:regular:footer") set for a context: a
 * list_id, a domain's mail_host, or NULL for the site. */
struct store_template {
    char *name;
    char *context;  /* NULL = site */
    char *uri;      /* http(s):// or file:// (Mailman's $-placeholders kept) */
    char *username; /* NULL when unset */
    char *password; /* NULL when unset */
};
void store_template_free(struct store_template *t);
void store_templatev_free(struct store_template **v);
/* Sets (or replaces) name for context. */
int store_template_set(struct store *st, const char *name, const char *context, const char *uri,
                       const char *username, const char *password, char **error_r);
int store_template_get(struct store *st, const char *name, const char *context,
                       struct store_template **t_r, char **error_r);
/* 1 deleted, 0 none. */
int store_template_delete(struct store *st, const char *name, const char *context, char **error_r);
/* The context's templates by name (*v_r NULL-terminated). */
int store_template_list(struct store *st, const char *context, struct store_template ***v_r,
                        char **error_r);

/* ---- list archivers (Mailman's IListArchiverSet) ------------------------------- */

/* A list's own switch for the archiver name: 1 with *enabled_r, or 0 when
 * the list never set it (it then follows the site's [archiver.<name>]
 * enable, as Mailman's ListArchiver starts). STORE_NOT_FOUND no list. */
int store_archiver_get(struct store *st, const char *list_id, const char *name, bool *enabled_r,
                       char **error_r);
int store_archiver_set(struct store *st, const char *list_id, const char *name, bool enabled,
                       char **error_r);

/* ---- message-store index ------------------------------------------------------ */

struct store_message {
    char *message_id;
    char *message_id_hash;
    char *path; /* relative to messages_dir */
};
void store_message_free(struct store_message *m);
/* STORE_EXISTS when message_id is already stored. */
int store_message_add(struct store *st, const char *message_id, const char *message_id_hash,
                      const char *path, char **error_r);
/* Lookup by Message-ID, or by hash when by_hash. */
int store_message_get(struct store *st, const char *key, bool by_hash, struct store_message **m_r,
                      char **error_r);
int store_message_delete(struct store *st, const char *message_id, char **error_r);

/* The task runner's clean-up after pendings were evicted (Mailman's
 * TaskRunner): requests whose data pending is gone, and stored messages no
 * held-message data refers to, are deleted; *requests_r gets how many
 * requests, *paths_r the deleted messages' paths (relative to
 * messages_dir; g_strfreev) for the caller to unlink. */
int store_evict_orphans(struct store *st, int64_t *requests_r, char ***paths_r, char **error_r);

#endif
