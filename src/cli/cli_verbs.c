/* cli_verbs - the verb table (cli.h). Help texts follow Mailman 3.3.8's. */
#include "cli/cli_verbs.h"

#include <stddef.h>

const struct cli_verb cli_verbs[] = {
    {"addmembers", "[OPTIONS] FILENAME LISTSPEC", "Add all member addresses in FILENAME.",
     "  Add all member addresses in FILENAME with delivery mode as specified with\n"
     "  -d/--delivery.  FILENAME can be '-' to indicate standard input.  Blank lines\n"
     "  and lines that start with a '#' are ignored.  Lines that are not a valid\n"
     "  address are reported with their line number; the others are still added,\n"
     "  and the exit status is then 1.\n"
     "\n"
     "Options:\n"
     "  -d, --delivery [regular|mime|plain|summary|disabled]\n"
     "                                  Set the added members delivery mode.  If not\n"
     "                                  given, the default is regular.\n"
     "  -i, --invite                    Send invitations instead of adding (not\n"
     "                                  available yet in crier).\n"
     "  -w, --welcome-msg / -W, --no-welcome-msg\n"
     "                                  Override the list's send_welcome_message.\n",
     cli_addmembers_run},
    {"aliases", "[OPTIONS]", "Regenerate the aliases appropriate for your MTA.",
     "  Regenerate the aliases appropriate for your MTA.\n"
     "\n"
     "Options:\n"
     "  -d, --directory PATH  An alternative directory to output the various MTA\n"
     "                        files to.\n"
     "  -s, --snippet [postfix|exim4|sendmail]\n"
     "                        Print the configuration that hooks this MTA up to\n"
     "                        this installation (paths, LMTP host and port filled\n"
     "                        in) instead of writing the maps; see docs/mta.md.\n",
     cli_aliases_run},
    {"changeaddress", "[OPTIONS] OLD_ADDRESS NEW_ADDRESS", "Change a user's email address.",
     "  Change a user's email address from old_address to possibly case-preserved\n"
     "  new_address.\n"
     "\n"
     "Options:\n",
     cli_changeaddress_run},
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
    {"create", "[OPTIONS] LISTNAME", "Create a mailing list.",
     "  Create a mailing list.\n"
     "\n"
     "  The 'fully qualified list name', i.e. the posting address of the mailing\n"
     "  list is required.  It must be a valid email address and the domain must be\n"
     "  registered with crier (or -d, the default, creates it).\n"
     "\n"
     "Options:\n"
     "  --language CODE               Set the list's preferred language to CODE.\n"
     "  -o, --owner OWNER             Specify a list owner email address (repeatable).\n"
     "  -n, --notify / -N, --no-notify\n"
     "                                Notify the list owner by email when the list\n"
     "                                is created (the notice waits in the virgin\n"
     "                                queue).\n"
     "  -q, --quiet                   Print less output.\n"
     "  -d, --domain / -D, --no-domain\n"
     "                                Register the list's domain if it does not\n"
     "                                exist (the default).\n",
     cli_create_run},
    {"delmembers", "[OPTIONS]", "Delete members from a mailing list.",
     "  Delete members from a mailing list.\n"
     "\n"
     "Options:\n"
     "  -l, --list LISTSPEC           The list to operate on.  Required unless\n"
     "                                --fromall is specified.\n"
     "  -f, --file FILENAME           Delete list members whose addresses are in\n"
     "                                FILENAME ('-' for standard input).\n"
     "  -m, --member ADDRESS          Delete the list member whose address is\n"
     "                                ADDRESS (repeatable).\n"
     "  -a, --all                     Delete all the members of the list.\n"
     "  --fromall                     Delete the addresses from all the lists.\n"
     "  -g, --goodbye-msg / -G, --no-goodbye-msg\n"
     "                                Override the list's send_goodbye_message.\n"
     "  -n, --admin-notify / -N, --no-admin-notify\n"
     "                                Override the list's admin_notify_mchanges.\n",
     cli_delmembers_run},
    {"findmember", "[OPTIONS] PATTERN", "Display all memberships for a user or users.",
     "  Display all memberships for a user or users with address matching a\n"
     "  pattern (a case-insensitive regular expression).\n"
     "\n"
     "Options:\n"
     "  -r, --role [all|owner|moderator|nonmember|member|administrator]\n"
     "                                Display only memberships with the given role.\n"
     "                                If not given, 'all' role, i.e. all roles, is\n"
     "                                the default.\n",
     cli_findmember_run},
    {"held", "[OPTIONS] LISTSPEC", "List or moderate the posts held for a mailing list.",
     "  List the posts held for moderation on LISTSPEC, or decide on one (a crier\n"
     "  extension; Mailman does this through the REST API and Postorius).\n\n"
     "Options:\n"
     "  -a, --accept ID   Post held message ID to the list (the rules are not run\n"
     "                    again).\n"
     "  -r, --reject ID   Reject it: the sender is told, with --reason.\n"
     "  -d, --discard ID  Drop it silently.\n"
     "  --defer ID        Keep it held.\n"
     "  --reason TEXT     The reason given to the sender of a rejected post.\n"
     "  -v, --verbose     Also print the held message itself.\n",
     cli_held_run},
    {"info", "[OPTIONS]", "Information about this Mailman instance.",
     "  Information about this Mailman instance.\n\n"
     "Options:\n"
     "  -o, --output FILENAME  File to send the output to.  If not given, standard\n"
     "                         output is used.\n"
     "  -v, --verbose          A more verbose output including the file system paths\n"
     "                         that Mailman is using.\n",
     cli_info_run},
    {"inject", "[OPTIONS] LISTSPEC", "Inject a message from a file into a mailing list's queue.",
     "  Inject a message from a file into a mailing list's queue.\n\n"
     "Options:\n"
     "  -q, --queue TEXT     The name of the queue to inject the message to.  QUEUE\n"
     "                       must be one of the directories inside the queue\n"
     "                       directory.  If omitted, the incoming queue is used.\n"
     "  -s, --show           Show a list of all available queue names and exit.\n"
     "  -f, --filename FILE  Name of file containing the message to inject.  If not\n"
     "                       given, or '-' (without quotes) standard input is used.\n"
     "  -m, --metadata TEXT  Additional metadata key/value pairs to add to the\n"
     "                       message metadata dictionary.  Use the format key=value.\n"
     "                       Multiple -m options are allowed.\n",
     cli_inject_run},
    {"lists", "[OPTIONS]", "List all mailing lists.",
     "  List all mailing lists.\n"
     "\n"
     "Options:\n"
     "  -a, --advertised              List only those mailing lists that are\n"
     "                                publicly advertised\n"
     "  -n, --names / -N, --no-names  Show also the list names\n"
     "  -d, --descriptions / -D, --no-descriptions\n"
     "                                Show also the list descriptions\n"
     "  -q, --quiet                   Less verbosity\n"
     "  --domain TEXT                 List only those mailing lists hosted on the\n"
     "                                given domain, which must be the email host\n"
     "                                name.  Multiple -d options may be given.\n",
     cli_lists_run},
    {"members", "[OPTIONS] LISTSPEC", "Display a mailing list's members.",
     "  Display a mailing list's members.  Filtering along various criteria can be\n"
     "  done when displaying.\n"
     "\n"
     "Options:\n"
     "  -o, --output FILENAME         Display output to FILENAME instead of stdout.\n"
     "  -R, --role [any|owner|moderator|nonmember|member|administrator]\n"
     "                                Display only members with a given ROLE\n"
     "                                (default: member).\n"
     "  -r, --regular                 Display only regular delivery members.\n"
     "  -e, --email-only              Display member addresses only, without the\n"
     "                                display name.\n"
     "  -c, --count-only              Display members count only.\n"
     "  -N, --no-change               This option has no effect.\n"
     "  -d, --digest kind             Display only digest members of kind: any,\n"
     "                                plaintext or mime.\n"
     "  -n, --nomail WHY              Display only members with a given delivery\n"
     "                                status: enabled, any, unknown, byadmin,\n"
     "                                byuser, bybounces.\n",
     cli_members_run},
    {"qfile", "[OPTIONS] QFILE", "Get information out of a queue file.",
     "  Get information out of a queue file.\n\n"
     "  The metadata and the raw message of a crier queue entry are printed in\n"
     "  Mailman's framing.\n\nOptions:\n"
     "  -p, --print / -n, --no-print  Print the contents of the queue file (default).\n"
     "  -i, --interactive             Accepted; crier has no Python shell to start.\n",
     cli_qfile_run},
    {"remove", "[OPTIONS] LISTSPEC", "Remove a mailing list.",
     "  Remove a mailing list.\n"
     "\n"
     "Options:\n"
     "  -q, --quiet  Suppress status messages\n",
     cli_remove_run},
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
    {"syncmembers", "[OPTIONS] FILENAME LISTSPEC",
     "Add and delete mailing list members to match an input file.",
     "  Add and delete mailing list members to match an input file.  FILENAME is\n"
     "  the file containing the new membership, one address per line; '-' means\n"
     "  standard input.\n"
     "\n"
     "Options:\n"
     "  -d, --delivery [regular|mime|plain|summary|disabled]\n"
     "                                Delivery mode of the added members.\n"
     "  -w, --welcome-msg / -W, --no-welcome-msg\n"
     "                                Override the list's send_welcome_message.\n"
     "  -g, --goodbye-msg / -G, --no-goodbye-msg\n"
     "                                Override the list's send_goodbye_message.\n"
     "  -a, --admin-notify / -A, --no-admin-notify\n"
     "                                Override the list's admin_notify_mchanges.\n"
     "  -n, --no-change               Don't actually make the changes, just show\n"
     "                                what would be done.\n",
     cli_syncmembers_run},
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
