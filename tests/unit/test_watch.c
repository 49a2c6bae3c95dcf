/* The watchdog's last resort (core/lua/watch.c): a run of plugin code stuck
 * inside one C call, where no hook can stop it, ends the worker process
 * after plugin-kill-ms with a log line naming the plugin, so a supervisor
 * replaces it. The stuck worker is a real child process, spinning in C. */
#include "conf/conf.h"
#include "lua/internal.h"
#include "unit.h"

#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static uint64_t watch_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

void test_watch_kill(void)
{
    int out[2];
    CHECK_INT(pipe(out), ==, 0);
    uint64_t t0 = watch_ms();
    pid_t pid = fork();
    CHECK(pid >= 0);
    if (pid == 0) {
        dup2(out[1], STDERR_FILENO);
        close(out[0]);
        ph_conf c;
        memset(&c, 0, sizeof c);
        c.plugin_max_hold_ms = 20;
        c.plugin_kill_ms = 300;
        if (lua__watch_start(&c)) _exit(2);
        host_plugin p;
        memset(&p, 0, sizeof p);
        p.name = "stuck";
        lua__watch_begin(&p, NULL, NULL);
        volatile uint64_t spin = 0;
        uint64_t until = watch_ms() + 10000;
        while (watch_ms() < until) /* "inside C": no hook ever runs */
            spin++;
        _exit(0);
    }
    close(out[1]);
    int status = 0;
    CHECK_INT(waitpid(pid, &status, 0), ==, pid);
    uint64_t took = watch_ms() - t0;
    char buf[1024] = "";
    ssize_t n = read(out[0], buf, sizeof buf - 1);
    close(out[0]);
    if (n > 0) buf[n] = 0;
    CHECK(WIFEXITED(status));
    CHECK_INT(WEXITSTATUS(status), ==, 70);
    CHECK_INT(took, >=, 300);
    CHECK_INT(took, <, 5000);
    CHECK(strstr(buf, "plugin stuck") != NULL);
    CHECK(strstr(buf, "past plugin-kill-ms") != NULL);
}

/* A run that ends in time is left alone, and one past plugin-max-hold-ms
 * is marked expired (the budget hook then stops it) without being killed. */
void test_watch_hold(void)
{
    ph_conf c;
    memset(&c, 0, sizeof c);
    c.plugin_max_hold_ms = 20;
    c.plugin_kill_ms = 100000;
    CHECK_INT(lua__watch_start(&c), ==, 0);
    host_plugin p;
    memset(&p, 0, sizeof p);
    p.name = "slow";
    lua__watch_begin(&p, NULL, NULL);
    CHECK(!lua__watch_expired());
    uint64_t until = watch_ms() + 2000;
    while (!lua__watch_expired() && watch_ms() < until) {
    }
    CHECK(lua__watch_expired());
    CHECK_INT(lua__watch_end(), >=, 20000000);
    CHECK(!lua__watch_expired());
    lua__watch_begin(&p, NULL, NULL);
    CHECK(!lua__watch_expired()); /* a new run starts afresh */
    lua__watch_end();
    lua__watch_stop();
}
