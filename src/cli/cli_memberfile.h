/*
 * cli_memberfile - the member files of addmembers, delmembers -f and
 * syncmembers: one address a line as `Name <addr>` or `addr` (parsed as
 * RFC 5322 by GMime, as Mailman's parseaddr does); blank lines and lines
 * starting with '#' are skipped; "-" is standard input.
 *
 * A line that is not exactly one valid address is reported on stderr as
 * "FILE:N: Cannot parse as valid email address (skipping): LINE" and
 * counted in bad; the others are kept in file order. Limits: a file of at
 * most MEMBERFILE_MAX_BYTES.
 */
#ifndef CRIER_CLI_MEMBERFILE_H
#define CRIER_CLI_MEMBERFILE_H

#include <glib.h>
#include <stdbool.h>

struct cli;

#define MEMBERFILE_MAX_BYTES (1024L * 1024 * 1024)

struct memberfile_entry {
    char *display_name; /* NULL when none */
    char *email;        /* as written */
    int line;
};

struct memberfile {
    GPtrArray *entries; /* of struct memberfile_entry */
    unsigned bad;
};

/* Reads path; a file that cannot be read is a usage error (exit 2), as
 * click reports it. */
void memberfile_read(struct cli *cli, const char *argname, const char *path, struct memberfile *mf);
/* Parses one address (for -m ADDRESS); false when it is not valid. */
bool memberfile_parse(const char *text, char **display_name_r, char **email_r);
void memberfile_clear(struct memberfile *mf);

/* Python's formataddr((name, email)) for messages: "Name <email>", the name
 * quoted when it has specials. Newly allocated. */
char *memberfile_format(const char *display_name, const char *email);

#endif
