/* tempusc: chronyc-compatible control client.
 *
 * Options as chronyc's (shared/spec/chronyd-chronyc-cli.md §2.1), plus -j (JSON, one
 * document per command, docs/JSON.md) and -E (say why sources are not selected). Without a
 * command it reads commands from stdin, with line editing (libedit) on a terminal.
 * TEMPUS_REPLAY=DIR/NAME replays captured exchanges instead of talking to a daemon (tests).
 */
#include "tempus_config.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <editline/readline.h>

#include "client/cmd.h"
#include "client/transport.h"

static void usage(FILE *out)
{
    fprintf(out, "Usage: tempusc [OPTION]... [COMMAND]...\n\n"
                 "Options:\n"
                 "  -4\t\tUse IPv4 addresses only\n"
                 "  -6\t\tUse IPv6 addresses only\n"
                 "  -n\t\tDon't resolve hostnames\n"
                 "  -N\t\tPrint original source names\n"
                 "  -c\t\tEnable CSV format\n"
                 "  -j\t\tEnable JSON format (one document per command)\n"
                 "  -E\t\tExplain why sources are not selected (sources, selectdata)\n"
                 "  -e\t\tEnd responses with dot\n"
                 "  -m\t\tAccept multiple commands\n"
                 "  -h HOST\tSpecify server (" TRANSPORT_DEFAULT_HOSTS ")\n"
                 "  -p PORT\tSpecify UDP port (323)\n"
                 "  -v, --version\tPrint version and exit\n"
                 "      --help\tPrint usage and exit\n");
}

static void print_version(void)
{
    printf("tempusc (tempus) version %s (+READLINE +SECHASH +IPV6 -DEBUG)\n", TEMPUS_VERSION);
}

static char *completion_generator(const char *text, int state)
{
    static size_t index, len;
    const char *const *names = cmd_names();
    if (!state) {
        index = 0;
        len = strlen(text);
    }
    while (names[index]) {
        const char *n = names[index++];
        if (!strncmp(n, text, len))
            return strdup(n);
    }
    return NULL;
}

static char **completion(const char *text, int start, int end)
{
    (void)end;
    if (start != 0)
        return NULL;
    return rl_completion_matches(text, completion_generator);
}

static int interactive(struct cmd_ctx *c)
{
    bool tty = isatty(STDIN_FILENO) && isatty(STDOUT_FILENO) && isatty(STDERR_FILENO);
    int rc = 0;
    if (tty) {
        printf("tempusc (tempus) version %s\n", TEMPUS_VERSION);
        printf("Type \"help\" for the commands, \"quit\" to leave.\n\n");
        rl_attempted_completion_function = completion;
        while (!c->quit) {
            char *line = readline("tempusc> ");
            if (!line)
                break;
            if (*line)
                add_history(line);
            rc = cmd_run_line(c, line);
            free(line);
        }
        if (!c->quit)
            putchar('\n');
        return rc;
    }
    char line[4096];
    while (!c->quit && fgets(line, sizeof line, stdin))
        rc = cmd_run_line(c, line);
    return rc;
}

int main(int argc, char **argv)
{
    struct transport_opts topts = {.hosts = NULL, .port = TRANSPORT_DEFAULT_PORT};
    struct cmd_ctx c;
    enum out_mode mode = OUT_TEXT;
    bool multi = false;
    int opt;

    memset(&c, 0, sizeof c);
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--help")) {
            usage(stdout);
            return 0;
        }
        if (!strcmp(argv[i], "--version")) {
            print_version();
            return 0;
        }
        if (argv[i][0] != '-')
            break;
    }
    /* '+': stop at the first non-option, which starts the command. */
    while ((opt = getopt(argc, argv, "+46acdef:h:mnNp:vjEu:")) != -1) {
        switch (opt) {
        case '4':
            topts.family = c.family = 4;
            break;
        case '6':
            topts.family = c.family = 6;
            break;
        case 'a':
        case 'f':
        case 'd':
        case 'u':
            break; /* accepted for compatibility */
        case 'c':
            mode = OUT_CSV;
            break;
        case 'j':
            mode = OUT_JSON;
            break;
        case 'e':
            c.end_dot = true;
            break;
        case 'E':
            c.explain = true;
            break;
        case 'h':
            topts.hosts = optarg;
            break;
        case 'm':
            multi = true;
            break;
        case 'n':
            c.numeric = true;
            break;
        case 'N':
            c.source_names = true;
            break;
        case 'p': {
            char *end;
            long p = strtol(optarg, &end, 10);
            if (*end || p < 0 || p > 65535) {
                fprintf(stderr, "Invalid port %s\n", optarg);
                return 1;
            }
            topts.port = (uint16_t)p;
            break;
        }
        case 'v':
            print_version();
            return 0;
        default:
            usage(stderr);
            return 1;
        }
    }
    if (mode != OUT_TEXT)
        c.numeric = true; /* CSV and JSON print numeric addresses, as chronyc -c */
    out_init(&c.out, stdout, mode);
    topts.replay = getenv("TEMPUS_REPLAY");

    c.t = transport_new(&topts);
    if (!c.t || transport_open(c.t) < 0) {
        fprintf(stderr, "Could not open connection to daemon\n");
        transport_free(c.t);
        return 1;
    }

    int rc = 0;
    if (optind >= argc) {
        rc = interactive(&c);
    } else if (multi) {
        for (int i = optind; i < argc && !c.quit; i++) {
            rc = cmd_run_line(&c, argv[i]);
            if (rc)
                break;
        }
    } else {
        size_t len = 1;
        for (int i = optind; i < argc; i++)
            len += strlen(argv[i]) + 1;
        char *line = calloc(1, len);
        if (!line) {
            transport_free(c.t);
            return 1;
        }
        for (int i = optind; i < argc; i++) {
            strcat(line, argv[i]);
            if (i + 1 < argc)
                strcat(line, " ");
        }
        rc = cmd_run_line(&c, line);
        free(line);
    }
    if (transport_replay_check(c.t) < 0 && rc == 0)
        rc = 3; /* a test replay did not match its capture */
    transport_free(c.t);
    return rc;
}
