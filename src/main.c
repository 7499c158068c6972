/* main - the crier entry point: global options, then a verb from cli's table. */
#include "cli/cli.h"

int main(int argc, char **argv)
{
    return cli_main(argc, argv);
}
