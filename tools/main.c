/*
 * The `xhal` command: finds the subcommand, runs it, and shuts the library down whatever
 * happened, so that every run ends with nothing left allocated (the tool runs under valgrind).
 */
#include <stdio.h>
#include <string.h>

#include <xhal/xhal.h>

#include "tool_util.h"

static const tool_command_t *const commands[] = {
    &tool_cmd_devices, &tool_cmd_check,   &tool_cmd_bench, &tool_cmd_conform,
    &tool_cmd_peak,    &tool_cmd_compare, &tool_cmd_tune};
static const size_t command_count = sizeof commands / sizeof commands[0];

static const char environment_help[] =
    "environment:\n"
    "  XHAL_DEVICE        the device a program gets from xhal_device_open(NULL): \"cpu\",\n"
    "                     \"opencl:0\", \"cuda:1\", \"opencl:pocl\" (default: the first GPU or\n"
    "                     accelerator, else the CPU)\n"
    "  XHAL_BACKENDS      comma-separated backends to load, e.g. \"cuda,cpu\" (default: all)\n"
    "  XHAL_BACKEND_PATH  directories searched first for plugins libxhal-<name>.so,\n"
    "                     separated by ':'; then the xhal/ folder beside libxhal.so, then\n"
    "                     the program's folder\n"
    "  XHAL_CPU_THREADS   worker threads of the CPU backend (default: one per core)\n"
    "  XHAL_CPU_ISA       avx512 | avx2 | generic: the most the CPU kernels may use\n"
    "                     (default: the best the CPU has)\n"
    "  XHAL_CPU_SPIN_US   microseconds idle CPU-backend threads poll for work before they\n"
    "                     sleep (default 1000; 0: sleep at once)\n"
    "  XHAL_OPENCL_*, XHAL_CUDA_*\n"
    "                     loader, tuning file, program cache, forced kernels of those\n"
    "                     backends: see docs/API.md\n"
    "  XHAL_TUNING_FILE   a tuned file (see 'xhal tune --help') every backend reads instead\n"
    "                     of the device's own in the user cache\n"
    "  XHAL_LOG           debug | info | warn | off: what the library logs on stderr\n"
    "                     (default: off)\n"
    "\n"
    "exit codes:\n"
    "  0  success\n"
    "  1  a check failed, or an xhal call failed (the error is printed on stderr)\n"
    "  2  usage error: unknown command or option, missing or bad value\n";

static void print_usage(FILE *out) {
    fprintf(out, "usage: xhal [-h | --help | --version] <command> [options]\n"
                 "\n"
                 "The command line of xhal, the cross-vendor hardware abstraction layer.\n"
                 "\n"
                 "commands:\n");
    for (size_t i = 0; i < command_count; i++)
        fprintf(out, "  %-9s %s\n", commands[i]->name, commands[i]->summary);
    fprintf(out, "  %-9s %s\n", "help", "show this text, or a command's: xhal help <command>");
    fprintf(out,
            "\n"
            "options:\n"
            "  -h, --help  show this text and exit\n"
            "  --version   print the versions of the tool and of libxhal, and exit\n"
            "\n"
            "Run 'xhal <command> --help' for the options of a command.\n"
            "\n"
            "%s",
            environment_help);
}

static const tool_command_t *find_command(const char *name) {
    for (size_t i = 0; i < command_count; i++)
        if (strcmp(commands[i]->name, name) == 0) return commands[i];
    return NULL;
}

/* `xhal help [command]`. */
static int run_help(int argc, char **argv) {
    if (argc < 2 || tool_is_help(argv[1])) {
        print_usage(stdout);
        return TOOL_EXIT_OK;
    }
    if (argc > 2) return tool_usage_error(NULL, "help takes one command, not also '%s'", argv[2]);
    const tool_command_t *command = find_command(argv[1]);
    if (!command) return tool_usage_error(NULL, "unknown command '%s'", argv[1]);
    fputs(command->help, stdout);
    return TOOL_EXIT_OK;
}

static int run_command(int argc, char **argv) {
    if (tool_is_help(argv[0])) {
        print_usage(stdout);
        return TOOL_EXIT_OK;
    }
    if (strcmp(argv[0], "--version") == 0) {
        printf("xhal %d.%d.%d (libxhal %s)\n", XHAL_VERSION_MAJOR, XHAL_VERSION_MINOR,
               XHAL_VERSION_PATCH, xhal_version_string());
        return TOOL_EXIT_OK;
    }
    if (strcmp(argv[0], "help") == 0) return run_help(argc, argv);
    if (argv[0][0] == '-') return tool_usage_error(NULL, "unknown option '%s'", argv[0]);
    const tool_command_t *command = find_command(argv[0]);
    if (!command) return tool_usage_error(NULL, "unknown command '%s'", argv[0]);
    return command->run(argc, argv);
}

int main(int argc, char **argv) {
    if (argc < 2) {
        print_usage(stderr);
        return TOOL_EXIT_USAGE;
    }
    int code = run_command(argc - 1, argv + 1);
    xhal_shutdown();
    return code;
}
