/*
 * cli_verbs - the run() function of every verb; each lives in cli_<verb>.c
 * and is a row of cli_verbs[] in cli_verbs.c.
 */
#ifndef CRIER_CLI_VERBS_H
#define CRIER_CLI_VERBS_H

#include "cli/cli.h"

int cli_conf_run(struct cli *cli, int argc, char **argv);
int cli_version_run(struct cli *cli, int argc, char **argv);
int cli_info_run(struct cli *cli, int argc, char **argv);
int cli_start_run(struct cli *cli, int argc, char **argv);
int cli_stop_run(struct cli *cli, int argc, char **argv);
int cli_restart_run(struct cli *cli, int argc, char **argv);
int cli_reopen_run(struct cli *cli, int argc, char **argv);
int cli_status_run(struct cli *cli, int argc, char **argv);
int cli_runner_run(struct cli *cli, int argc, char **argv);
int cli_qfile_run(struct cli *cli, int argc, char **argv);
int cli_unshunt_run(struct cli *cli, int argc, char **argv);
int cli_inject_run(struct cli *cli, int argc, char **argv);
int cli_held_run(struct cli *cli, int argc, char **argv);

int cli_create_run(struct cli *cli, int argc, char **argv);
int cli_remove_run(struct cli *cli, int argc, char **argv);
int cli_lists_run(struct cli *cli, int argc, char **argv);
int cli_aliases_run(struct cli *cli, int argc, char **argv);
int cli_members_run(struct cli *cli, int argc, char **argv);
int cli_addmembers_run(struct cli *cli, int argc, char **argv);
int cli_delmembers_run(struct cli *cli, int argc, char **argv);
int cli_syncmembers_run(struct cli *cli, int argc, char **argv);
int cli_findmember_run(struct cli *cli, int argc, char **argv);
int cli_changeaddress_run(struct cli *cli, int argc, char **argv);

struct store_list;
/* The MTA module's hooks around list creation and removal (cli_aliases.c):
 * the per-list step ([mta] incoming: Exim's list directory), then the maps.
 * 0, or -1 with a newly allocated *error_r. */
int cli_mta_list_created(struct cli *cli, const struct store_list *l, char **error_r);
int cli_mta_list_removed(struct cli *cli, const struct store_list *l, char **error_r);
/* Rewrites the maps into dir (NULL: data_dir) under LOCK_DIR/mta. */
int cli_mta_regenerate(struct cli *cli, const char *dir, char **error_r);

#endif
