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

/* Regenerates the MTA's maps from the store under LOCK_DIR/mta (cli_aliases.c);
 * prints the error and returns 1 on failure. */
int cli_generate_maps(struct cli *cli);

#endif
