/* cli_verbs - the verb table (cli.h). Help texts follow Mailman 3.3.8's. */
#include "cli/cli_verbs.h"

#include <stddef.h>

const struct cli_verb cli_verbs[] = {
    {"conf", "[OPTIONS]", "Print the Mailman configuration.",
     "  Print the Mailman configuration.\n\n"
     "Options:\n"
     "  -o, --output FILENAME  File to send the output to.  If not given, or if '-'\n"
     "                         is given, standard output is used.\n"
     "  -s, --section TEXT     Section to use for the lookup.  If no key is given, all\n"
     "                         the key-value pairs of the given section will be\n"
     "                         displayed.\n"
     "  -k, --key TEXT         Key to use for the lookup.  If no section is given, all\n"
     "                         the key-values pair from any section matching the given\n"
     "                         key will be displayed.\n",
     cli_conf_run},
    {"info", "[OPTIONS]", "Information about this Mailman instance.",
     "  Information about this Mailman instance.\n\n"
     "Options:\n"
     "  -o, --output FILENAME  File to send the output to.  If not given, standard\n"
     "                         output is used.\n"
     "  -v, --verbose          A more verbose output including the file system paths\n"
     "                         that Mailman is using.\n",
     cli_info_run},
    {"qfile", "[OPTIONS] QFILE", "Get information out of a queue file.",
     "  Get information out of a queue file.\n\n"
     "  The metadata and the raw message of a crier queue entry are printed in\n"
     "  Mailman's framing.\n\nOptions:\n"
     "  -p, --print / -n, --no-print  Print the contents of the queue file (default).\n"
     "  -i, --interactive             Accepted; crier has no Python shell to start.\n",
     cli_qfile_run},
    {"reopen", "[OPTIONS]", "Signal the Mailman processes to re-open their log files.",
     "  Signal the Mailman processes to re-open their log files.\n\nOptions:\n"
     "  -q, --quiet  Don't print status messages.  Error messages are still printed\n"
     "               to standard error.\n",
     cli_reopen_run},
    {"restart", "[OPTIONS]", "Restart the Mailman runners.",
     "  Restart the Mailman runners.\n\nOptions:\n"
     "  -q, --quiet  Don't print status messages.  Error messages are still printed\n"
     "               to standard error.\n",
     cli_restart_run},
    {"runner", "[OPTIONS]", "Run one runner process (the master starts these).",
     "  Run one runner process; the master starts these.\n\nOptions:\n"
     "  -r, --runner NAME[:SLICE:COUNT]  The [runner.NAME] to run, and which slice of\n"
     "                                   its queue.\n",
     cli_runner_run},
    {"start", "[OPTIONS]", "Start the Mailman master and runner processes.",
     "  Start the Mailman master and runner processes.  Returns once every runner\n"
     "  is ready.\n\nOptions:\n"
     "  -f, --force                If the pid file names a master that is no longer\n"
     "                             running, remove it and start.\n"
     "  -g, --generate-alias-file  Generate the MTA alias files upon startup (always\n"
     "                             done; accepted for Mailman compatibility).\n"
     "  -u, --run-as-user          Accepted for Mailman compatibility; crier runs as\n"
     "                             the user that starts it.\n"
     "  -q, --quiet                Don't print status messages.  Error messages are\n"
     "                             still printed to standard error.\n"
     "  -F, --foreground           Stay attached: run the master in this process (for\n"
     "                             service managers and tests).\n",
     cli_start_run},
    {"status", "[OPTIONS]", "Show the current running status of the Mailman system.",
     "  Show the current running status of the Mailman system.\n\nOptions:\n", cli_status_run},
    {"stop", "[OPTIONS]", "Stop the Mailman master and runner processes.",
     "  Stop the Mailman master and runner processes.  Returns once they have\n"
     "  exited.\n\nOptions:\n"
     "  -q, --quiet  Don't print status messages.  Error messages are still printed\n"
     "               to standard error.\n",
     cli_stop_run},
    {"unshunt", "[OPTIONS]", "Unshunt messages.",
     "  Unshunt messages: move every entry of the shunt queue back to the queue it\n"
     "  came from.\n\nOptions:\n"
     "  -d, --discard  Discard all shunted messages instead of moving them back to\n"
     "                 their original queue.\n",
     cli_unshunt_run},
    {"version", "[OPTIONS]", "Display Mailman's version.",
     "  Display Mailman's version.\n\nOptions:\n", cli_version_run},
    {NULL, NULL, NULL, NULL, NULL},
};
