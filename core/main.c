/* parkhost: the command line. Each subcommand lives in app/. */
#include "app/app.h"
#include "conf/conf.h"
#include "log/log.h"
#include "workers/workers.h"

#include <stdio.h>
#include <string.h>

static void usage(FILE *out)
{
    fprintf(out,
            "parkhost %s: the park's public information site, served through Lua plugins\n"
            "\n"
            "usage:\n"
            "  parkhost serve [settings]     serve the site until SIGTERM or SIGINT\n"
            "  parkhost reload [settings]    ask the running server to reload plugins and columns\n"
            "  parkhost status [settings]    each worker's pid, uptime, requests and memory\n"
            "  parkhost migrate [settings]   apply pending migrations and list them all\n"
            "  parkhost jobs [settings]      list scheduled jobs and how they last ran\n"
            "  parkhost unit add CODE NAME | list   the park's units (the center is there)\n"
            "  parkhost site import|seed FILE | export [FILE]\n"
            "                                the site's units, columns and bindings as a file\n"
            "  parkhost user ...             staff accounts: add, grant, passwd, disable, "
            "enable, list\n"
            "  parkhost audit [--since T] [--actor A] [--action P] [--limit N]\n"
            "                                the audit log, newest first\n"
            "  parkhost calendar ...         keep the working-day calendar (see: parkhost "
            "calendar)\n"
            "  parkhost new plugin NAME [DIR]  create a new plugin from the template\n"
            "  parkhost test [busted args]   run busted specs inside the host\n"
            "  parkhost version              print the version\n"
            "  parkhost help                 this text\n"
            "\n"
            "settings (flags of serve; also 'key = value' lines in a --config file):\n",
            PARKHOST_VERSION);
    conf_help(out);
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        usage(stderr);
        return 2;
    }
    const char *cmd = argv[1];
    if (!strcmp(cmd, "help") || !strcmp(cmd, "--help") || !strcmp(cmd, "-h")) {
        usage(stdout);
        return 0;
    }
    if (!strcmp(cmd, "version") || !strcmp(cmd, "--version")) {
        printf("parkhost %s\n", PARKHOST_VERSION);
        return 0;
    }
    if (!strcmp(cmd, "test")) return app_test(argc - 2, argv + 2);
    if (!strcmp(cmd, "calendar")) return app_calendar(argc - 2, argv + 2);
    if (!strcmp(cmd, "user")) return app_user(argc - 2, argv + 2);
    if (!strcmp(cmd, "audit")) return app_audit(argc - 2, argv + 2);
    if (!strcmp(cmd, "unit")) return app_unit(argc - 2, argv + 2);
    if (!strcmp(cmd, "site")) return app_site(argc - 2, argv + 2);
    if (!strcmp(cmd, "new")) {
        if (argc < 4 || argc > 5 || strcmp(argv[2], "plugin") != 0) {
            fprintf(stderr, "usage: parkhost new plugin NAME [DIR]\n");
            return 2;
        }
        return app_new_plugin(argv[3], argc == 5 ? argv[4] : "plugins");
    }
    if (!strcmp(cmd, "reload") || !strcmp(cmd, "migrate") || !strcmp(cmd, "jobs") ||
        !strcmp(cmd, "status")) {
        ph_conf conf;
        char err[1024];
        int rc = conf_load(&conf, argc - 2, argv + 2, err, sizeof err);
        if (rc) {
            fprintf(stderr, "parkhost %s: %s\n", cmd, err);
            conf_free(&conf);
            return 2;
        }
        int status = cmd[0] == 'r'   ? app_reload(&conf)
                     : cmd[0] == 'j' ? app_jobs(&conf)
                     : cmd[0] == 's' ? workers_status(&conf)
                                     : app_migrate(&conf);
        conf_free(&conf);
        return status;
    }
    if (!strcmp(cmd, "serve")) {
        for (int i = 2; i < argc; i++) {
            if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
                usage(stdout);
                return 0;
            }
        }
        ph_conf conf;
        char err[1024];
        int rc = conf_load(&conf, argc - 2, argv + 2, err, sizeof err);
        log_level lvl = LOG_INFO;
        if (!rc && log_level_parse(conf.log_level, &lvl)) {
            snprintf(err, sizeof err, "log-level must be debug, info, warn or error, not '%s'",
                     conf.log_level);
            rc = -1;
        }
        if (rc) {
            fprintf(stderr, "parkhost serve: %s\n", err);
            conf_free(&conf);
            return 2;
        }
        log_init(lvl);
        /* `parkhost serve` is the supervisor; it starts itself again, as
         * each of its workers. */
        int status = workers_is_worker(NULL, NULL, NULL) ? app_serve(&conf)
                                                         : workers_supervise(&conf, argc, argv);
        conf_free(&conf);
        return status;
    }
    fprintf(stderr, "parkhost: unknown command '%s' (see parkhost --help)\n", cmd);
    return 2;
}
