/* daemon/conf: the lexer, every directive class, defaults, errors with line numbers, include,
 * confdir and sourcedir through a fake file system, and the engine parameter mapping. The
 * expected messages and numbers are chronyd 4.3's (measured with chronyd -x -p). */
#include <errno.h>
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "base/log.h"
#include "daemon/conf.h"
#include "daemon/conf_engine.h"

#include "conf_fakefs.h"

/* A fake file system (conf_fakefs.h): each test sets fs.files. */
static struct conf_fakefs fs;
static struct conf_env env = {&fs, conf_fakefs_read, conf_fakefs_glob, conf_fakefs_resolve};

/* Warnings are captured to prove they happen. */
static int n_warn;
static char last_warn[512];
static void sink(void *ctx, enum log_level level, const char *msg)
{
    (void)ctx;
    if (level == LOG_LEVEL_WARN) {
        n_warn++;
        snprintf(last_warn, sizeof last_warn, "%s", msg);
    }
}

static const struct conf_fakefile no_files[] = {{NULL, NULL}};

static int parse(struct conf *c, const char *text, struct conf_error *err)
{
    conf_init(c);
    return conf_parse_text(c, &env, "t.conf", text, strlen(text), err);
}

/* Parses text expecting an error; returns the message (static buffer) and frees c. */
static const char *parse_err(const char *text)
{
    static struct conf_error err;
    struct conf c;
    int r = parse(&c, text, &err);
    conf_free(&c);
    return r < 0 ? err.msg : "OK";
}

static int setup(void **state)
{
    (void)state;
    fs.files = no_files;
    fs.reads = 0;
    n_warn = 0;
    last_warn[0] = '\0';
    log_set_sink(sink, NULL);
    log_set_min_level(LOG_LEVEL_WARN);
    return 0;
}

/* ---- tests ---- */

static void test_defaults(void **state)
{
    struct conf c;
    char buf[ADDR_TEXT_MAX];
    (void)state;
    conf_init(&c);
    assert_int_equal(c.port, 123);
    assert_int_equal(c.cmdport, 323);
    assert_int_equal(c.minsources, 1);
    assert_int_equal(c.minsamples, 6);
    assert_int_equal(c.maxsamples, 0);
    assert_int_equal(c.acquisitionport, -1);
    assert_int_equal(c.local_enabled, 0);
    assert_int_equal(c.local_stratum, 10);
    assert_true(c.maxupdateskew_ppm == 1000.0);
    assert_true(fabs(c.maxslewrate_ppm - 83333.333) < 0.001);
    assert_true(c.maxdistance_s == 3.0);
    assert_true(c.reselectdist_s == 1e-4);
    assert_true(c.stratumweight_s == 1e-3);
    assert_true(c.combinelimit == 3.0);
    assert_int_equal(c.clientloglimit, 524288);
    assert_int_equal(c.ratelimit.enabled, 0);
    assert_int_equal(c.logbanner, 32);
    assert_int_equal(c.ntsrotate_s, 604800);
    assert_null(c.driftfile);
    assert_string_equal(c.pidfile, CONF_DEFAULT_PIDFILE);
    assert_string_equal(c.bindcmdpath, CONF_DEFAULT_CMD_SOCKET);
    assert_string_equal(addr_format(&c.bindcmdaddress4, buf, sizeof buf), "127.0.0.1");
    assert_string_equal(addr_format(&c.bindcmdaddress6, buf, sizeof buf), "::1");
    assert_int_equal(c.makestep_set, 0);
    assert_int_equal(c.nobatchreplies, 0); /* replies leave with sendmmsg by default */
    conf_free(&c);
    conf_free(NULL);
    /* the tempus send-mode directives: flags without arguments */
    struct conf_error err;
    assert_int_equal(parse(&c, "nobatchreplies\nbatchreplies\n", &err), 0);
    assert_int_equal(c.nobatchreplies, 1);
    assert_int_equal(c.batchreplies, 1);
    conf_free(&c);
    assert_string_equal(parse_err("nobatchreplies 1\n"),
                        "Too many arguments for nobatchreplies directive at line 1 in file t.conf");
}

static void test_lexer_comments_case_whitespace(void **state)
{
    struct conf c;
    struct conf_error err;
    (void)state;
    assert_int_equal(parse(&c,
                           "! a\n; b\n# c\n% d\n   # e\n\n  \t\n"
                           "\tSERVER\t 192.0.2.1   IBURST  MinPoll 4 \r\n"
                           "MaKeStEp 1 3\n",
                           &err),
                     0);
    assert_int_equal(c.lines.n, 2);
    assert_string_equal(c.lines.v[0], "SERVER 192.0.2.1 IBURST MinPoll 4");
    assert_string_equal(c.lines.v[1], "MaKeStEp 1 3");
    assert_int_equal(c.n_sources, 1u);
    assert_int_equal(c.sources[0].iburst, 1);
    assert_int_equal(c.sources[0].minpoll, 4);
    assert_int_equal(c.sources[0].line, 8);
    assert_string_equal(c.sources[0].file, "t.conf");
    assert_int_equal(c.makestep_limit, 3);
    conf_free(&c);

    /* No trailing comments: '#' is taken as an option. */
    assert_string_equal(parse_err("rtcsync\nserver 192.0.2.1 iburst # x\n"),
                        "Could not parse server directive at line 2 in file t.conf");
    /* The word as written appears in the message. */
    assert_string_equal(parse_err("SERVER a b\n"),
                        "Could not parse SERVER directive at line 1 in file t.conf");
    assert_string_equal(parse_err("rtcsync!\n"), "Invalid directive at line 1 in file t.conf");
    /* Final line without newline still counts. */
    assert_string_equal(parse_err("rtcsync\nbogus"), "Invalid directive at line 2 in file t.conf");
}

static void test_line_length(void **state)
{
    char text[4200];
    (void)state;
    /* 2046 characters plus newline is the longest accepted line. */
    memset(text, 'a', sizeof text);
    memcpy(text, "driftfile ", 10);
    text[2046] = '\n';
    text[2047] = '\0';
    assert_string_equal(parse_err(text), "OK");
    text[2046] = 'a';
    text[2047] = '\n';
    text[2048] = '\0';
    assert_string_equal(parse_err(text), "String too long at line 1 in file t.conf");
    /* Without a newline one more character fits. */
    text[2047] = '\0';
    assert_string_equal(parse_err(text), "OK");
    text[2047] = 'a';
    text[2048] = '\0';
    assert_string_equal(parse_err(text), "String too long at line 1 in file t.conf");
}

static void test_arg_counts_and_numbers(void **state)
{
    (void)state;
    assert_string_equal(parse_err("driftfile\n"),
                        "Missing arguments for driftfile directive at line 1 in file t.conf");
    assert_string_equal(parse_err("\n\ndriftfile a b\n"),
                        "Too many arguments for driftfile directive at line 3 in file t.conf");
    assert_string_equal(parse_err("rtcsync x\n"),
                        "Too many arguments for rtcsync directive at line 1 in file t.conf");
    assert_string_equal(parse_err("makestep 1\n"),
                        "Missing arguments for makestep directive at line 1 in file t.conf");
    assert_string_equal(parse_err("maxupdateskew x\n"),
                        "Could not parse maxupdateskew directive at line 1 in file t.conf");
    /* A single value may carry trailing garbage (sscanf), a non-last one may not. */
    assert_string_equal(parse_err("maxupdateskew 1x\n"), "OK");
    assert_string_equal(parse_err("makestep 1 3x\n"), "OK");
    assert_string_equal(parse_err("makestep 1x 3\n"),
                        "Could not parse makestep directive at line 1 in file t.conf");
    assert_string_equal(parse_err("tempcomp f 1 2 3\n"),
                        "Missing arguments for tempcomp directive at line 1 in file t.conf");
    assert_string_equal(parse_err("confdir\n"),
                        "Could not parse confdir directive at line 1 in file t.conf");
    assert_string_equal(parse_err("log Tracking\n"),
                        "Invalid log parameter at line 1 in file t.conf");

    struct conf c;
    struct conf_error err;
    assert_int_equal(parse(&c,
                           "maxupdateskew 100.0\nmaxupdateskew 5\nport 1e\nclientloglimit 1000\n"
                           "log tracking statistics\nlocal stratum 5 orphan distance 0.5\n"
                           "leapsecmode SLEW\nauthselectmode require\nratelimit interval 1\n"
                           "makestep 0.1 -1\nmaxchange 1000 1 2\nfallbackdrift 16 19\n"
                           "smoothtime 400 0.001024 leaponly\n",
                           &err),
                     0);
    assert_true(c.maxupdateskew_ppm == 5.0); /* last one wins */
    assert_int_equal(c.port, 1);
    assert_int_equal(c.clientloglimit, 1000);
    assert_int_equal(c.log_flags, CONF_LOG_TRACKING | CONF_LOG_STATISTICS);
    assert_int_equal(c.local_enabled, 1);
    assert_int_equal(c.local_stratum, 5);
    assert_int_equal(c.local_orphan, 1);
    assert_true(c.local_distance_s == 0.5);
    assert_int_equal(c.leapsecmode, CONF_LEAPSEC_SLEW);
    assert_int_equal(c.authselectmode, CONF_AUTHSELECT_REQUIRE);
    assert_int_equal(c.ratelimit.enabled, 1);
    assert_int_equal(c.ratelimit.interval, 1);
    assert_int_equal(c.ratelimit.burst, 8);
    assert_int_equal(c.ratelimit.leak, 2);
    assert_true(c.makestep_threshold_s == 0.1);
    assert_int_equal(c.makestep_limit, -1);
    assert_int_equal(c.maxchange_ignore, 2);
    assert_int_equal(c.fallbackdrift_max, 19);
    assert_int_equal(c.smoothtime_leaponly, 1);
    conf_free(&c);

    assert_string_equal(parse_err("local stratum 16\n"),
                        "Could not parse local directive at line 1 in file t.conf");
    assert_string_equal(parse_err("local stratum 3x\n"),
                        "Could not parse local directive at line 1 in file t.conf");
    assert_string_equal(parse_err("ratelimit interval 1x\n"),
                        "Could not parse ratelimit directive at line 1 in file t.conf");
    assert_string_equal(parse_err("leapsecmode smear\n"),
                        "Could not parse leapsecmode directive at line 1 in file t.conf");
}

static void test_sources(void **state)
{
    struct conf c;
    struct conf_error err;
    (void)state;
    assert_int_equal(parse(&c,
                           "server 192.0.2.1\n"
                           "pool pool.example iburst maxsources 8\n"
                           "peer 192.0.2.5 key 7 xleave minpoll -2 maxpoll 3\n"
                           "server a port 1123 maxdelay 0.3 offset +0.5 asymmetry 0.1 "
                           "extfield F323 prefer noselect trust require presend 9 version 3\n",
                           &err),
                     0);
    assert_int_equal(c.n_sources, 4);
    const struct conf_source *s = &c.sources[0];
    assert_int_equal(s->type, CONF_SOURCE_SERVER);
    assert_string_equal(s->name, "192.0.2.1");
    assert_int_equal(s->port, 123);
    assert_int_equal(s->minpoll, 6);
    assert_int_equal(s->maxpoll, 10);
    assert_int_equal(s->polltarget, 8);
    assert_int_equal(s->maxsources, 4);
    assert_int_equal(s->key_id, 0);
    assert_true(s->maxdelay_s == 3.0);
    assert_true(s->maxdelaydevratio == 10.0);
    assert_true(s->asymmetry == 1.0);
    assert_int_equal(c.sources[1].type, CONF_SOURCE_POOL);
    assert_int_equal(c.sources[1].maxsources, 8);
    assert_int_equal(c.sources[1].iburst, 1);
    assert_int_equal(c.sources[2].type, CONF_SOURCE_PEER);
    assert_int_equal(c.sources[2].key_id, 7);
    assert_int_equal(c.sources[2].minpoll, -2);
    s = &c.sources[3];
    assert_int_equal(s->port, 1123);
    assert_true(s->offset_s == 0.5);
    assert_int_equal(s->extfields, CONF_EXTFIELD_F323);
    assert_int_equal(s->prefer + s->noselect + s->trust + s->require, 4);
    assert_int_equal(s->presend, 9);
    assert_int_equal(s->version, 3);
    assert_int_equal(s->line, 4);
    conf_free(&c);

    /* Values must be whole words; key 0 and other extension fields are refused. */
    const char *bad[] = {"server\n",
                         "server a minpoll\n",
                         "server a minpoll 4x\n",
                         "server a minpoll 0x4\n",
                         "server a key 0\n",
                         "server a key 4294967296\n",
                         "server a extfield F324\n",
                         "server a fast\n",
                         "server a iburst 1\n",
                         NULL};
    for (int i = 0; bad[i] != NULL; i++)
        assert_string_equal(parse_err(bad[i]),
                            "Could not parse server directive at line 1 in file t.conf");
    assert_string_equal(parse_err("server a key -1 maxdelay 1e minpoll +4\n"), "OK");

    struct conf_source one;
    assert_int_equal(conf_source_parse("pool x.example maxsources 2", &one), 0);
    assert_int_equal(one.type, CONF_SOURCE_POOL);
    assert_int_equal(one.maxsources, 2);
    conf_source_free(&one);
    assert_int_equal(conf_source_parse("allow 1.2.3.4", &one), -1);
}

static void test_unimplemented_warns(void **state)
{
    struct conf c;
    struct conf_error err;
    (void)state;
    assert_int_equal(parse(&c, "makestep 1 3\n", &err), 0);
    assert_int_equal(n_warn, 0);
    assert_int_equal(c.n_warnings, 0);
    conf_free(&c);
    assert_int_equal(parse(&c, "rtcautotrim 5\nmakestep 1 3\nntsdumpdir /var/lib/x\n", &err), 0);
    assert_int_equal(c.n_warnings, 2);
    assert_int_equal(n_warn, 2);
    assert_non_null(strstr(last_warn, "ntsdumpdir directive"));
    assert_non_null(strstr(last_warn, "line 3 in file t.conf"));
    conf_free(&c);
    n_warn = 0;
    assert_int_equal(parse(&c, "server 192.0.2.1 iburst nts\n", &err), 0);
    assert_int_equal(n_warn, 1);
    assert_non_null(strstr(last_warn, "server option nts"));
    conf_free(&c);
    n_warn = 0;
    assert_int_equal(parse(&c, "commandkey 1\ndumponexit\n", &err), 0);
    assert_int_equal(n_warn, 1);
    assert_string_equal(last_warn, "commandkey directive is no longer supported");
    conf_free(&c);
}

static void test_access(void **state)
{
    struct conf c;
    struct conf_error err;
    char buf[ADDR_TEXT_MAX];
    (void)state;
    assert_int_equal(parse(&c,
                           "allow\nallow all\nallow 192.168.111\ndeny 10.1.2.3\n"
                           "cmdallow all 2001:db8::/32\nallow localhost\nallow 10.0.0.0/33\n",
                           &err),
                     0);
    assert_int_equal(c.n_access, 7);
    assert_int_equal(c.access[0].any_family, 1);
    assert_int_equal(c.access[0].all, 0);
    assert_int_equal(c.access[1].all, 1);
    assert_int_equal(c.access[1].any_family, 1);
    assert_int_equal(c.access[2].subnet.prefix_len, 24);
    assert_string_equal(addr_format(&c.access[2].subnet.addr, buf, sizeof buf), "192.168.111.0");
    assert_int_equal(c.access[3].allow, 0);
    assert_int_equal(c.access[3].subnet.prefix_len, 32);
    assert_int_equal(c.access[4].cmd, 1);
    assert_int_equal(c.access[4].all, 1);
    assert_int_equal(c.access[4].subnet.prefix_len, 32);
    assert_string_equal(addr_format(&c.access[5].subnet.addr, buf, sizeof buf), "127.0.0.1");
    assert_int_equal(c.access[6].subnet.prefix_len, 33); /* checked at start-up, as chronyd */
    conf_free(&c);

    const char *bad[] = {"allow ALL 1.2.3.0/24\n", "allow 10.256\n",
                         "allow 1.2.3.4.5\n",      "allow 10.0.0.0/-8\n",
                         "allow 10/8 11/8\n",      "allow all all\n",
                         "allow nohost\n",         "allow localhost/8\n",
                         "allow fe80::1%lo\n",     NULL};
    for (int i = 0; bad[i] != NULL; i++)
        assert_string_equal(parse_err(bad[i]),
                            "Could not parse allow directive at line 1 in file t.conf");
}

static void test_misc_directives(void **state)
{
    struct conf c;
    struct conf_error err;
    char buf[ADDR_TEXT_MAX];
    (void)state;
    assert_int_equal(parse(&c,
                           "bindaddress 192.0.2.7\nbindaddress ::\nbindcmdaddress /\n"
                           "broadcast 64 192.0.2.255 1123\ninitstepslew 10 a b\ninitstepslew 5 c\n"
                           "hwtimestamp eth0 minpoll -2 rxfilter ntp nocrossts\n"
                           "refclock SHM 0 poll 3prefer refid GPSX lock PPS offset 0.2\n"
                           "ntstrustedcerts 1 /etc/x.pem\nntsservercert a\nntsserverkey b\n"
                           "sourcedir /a /b\nntscachedir /var/cache/x\n",
                           &err),
                     0);
    assert_string_equal(addr_format(&c.bindaddress4, buf, sizeof buf), "192.0.2.7");
    assert_string_equal(addr_format(&c.bindaddress6, buf, sizeof buf), "::");
    assert_string_equal(c.bindcmdpath, "");
    assert_int_equal(c.n_broadcasts, 1);
    assert_int_equal(c.broadcasts[0].port, 1123);
    assert_int_equal(c.initstepslew_hosts.n, 1); /* replaced */
    assert_string_equal(c.initstepslew_hosts.v[0], "c");
    assert_int_equal(c.n_hwtimestamps, 1);
    assert_int_equal(c.hwtimestamps[0].minpoll, -2);
    assert_int_equal(c.hwtimestamps[0].rxfilter, CONF_RXFILTER_NTP);
    assert_int_equal(c.n_refclocks, 1);
    assert_int_equal(c.refclocks[0].poll, 3);
    assert_int_equal(c.refclocks[0].prefer, 1); /* "3prefer": the rest is the next option */
    assert_string_equal(c.refclocks[0].refid, "GPSX");
    assert_string_equal(c.refclocks[0].lock, "PPS");
    assert_int_equal(c.refclocks[0].filter, 64);
    assert_int_equal(c.ntstrustedcerts[0].set_id, 1);
    assert_int_equal(c.sourcedirs.n, 2);
    assert_string_equal(c.ntsdumpdir, "/var/cache/x");
    conf_free(&c);
    assert_string_equal(parse_err("refclock SHM 0 poll 3x\n"),
                        "Invalid refclock option at line 1 in file t.conf");
    assert_string_equal(parse_err("refclock SHM\n"),
                        "Could not parse refclock directive at line 1 in file t.conf");
    assert_string_equal(parse_err("bindaddress localhost\n"),
                        "Could not parse bindaddress directive at line 1 in file t.conf");
}

static void test_include_and_confdir(void **state)
{
    static const struct conf_fakefile files[] = {
        {"/c/main.conf", "rtcsync\ninclude /c/inc/*.inc\nconfdir /d1 /d2 /nodir\nport 9\n"},
        {"/c/inc/a.inc", "cmdport 5\n"},
        {"/c/inc/b.inc", "manual\n"},
        {"/d1/a.conf", "maxupdateskew 7\n"},
        {"/d1/c.conf", "lock_all\n"},
        {"/d2/a.conf", "maxupdateskew 8\n"}, /* shadowed by /d1/a.conf */
        {"/d2/b.conf", "noclientlog\n"},
        {"/d2/readme", "x\n"},
        {"/e/bad.conf", "rtcsync\n\nbogus\n"},
        {"/e/loop.conf", "include /e/loop.conf\n"},
        {"/e/main.conf", "rtcsync\ninclude /e/bad.conf\n"},
        {NULL, NULL},
    };
    struct conf c;
    struct conf_error err;
    (void)state;
    fs.files = files;
    conf_init(&c);
    assert_int_equal(conf_parse_file(&c, &env, "/c/main.conf", &err), 0);
    const char *want[] = {"rtcsync",     "cmdport 5", "manual", "maxupdateskew 7",
                          "noclientlog", "lock_all",  "port 9"};
    assert_int_equal(c.lines.n, 7);
    for (int i = 0; i < 7; i++)
        assert_string_equal(c.lines.v[i], want[i]);
    assert_true(c.maxupdateskew_ppm == 7.0);
    assert_int_equal(c.cmdport, 5);
    conf_free(&c);

    conf_init(&c);
    assert_int_equal(conf_parse_file(&c, &env, "/e/main.conf", &err), -1);
    assert_string_equal(err.msg, "Invalid directive at line 3 in file /e/bad.conf");
    assert_string_equal(err.file, "/e/bad.conf");
    assert_int_equal(err.line, 3);
    assert_int_equal(c.lines.n, 3); /* what chronyd -p prints before failing */
    assert_string_equal(c.lines.v[2], "bogus");
    conf_free(&c);

    conf_init(&c);
    assert_int_equal(conf_parse_file(&c, &env, "/e/loop.conf", &err), -1);
    assert_non_null(strstr(err.msg, "Maximum include level reached"));
    conf_free(&c);

    conf_init(&c);
    assert_int_equal(conf_parse_file(&c, &env, "/nope.conf", &err), -1);
    assert_string_equal(err.msg, "Could not open /nope.conf : No such file or directory");
    conf_free(&c);

    assert_non_null(strstr(parse_err("include /nope/x.conf\n"), "Could not open /nope/x.conf"));
    assert_string_equal(parse_err("include /nodir/*.conf\n"),
                        "Could not search for files matching /nodir/*.conf at line 1 in file "
                        "t.conf");
    assert_string_equal(parse_err("include /d2/*.none\n"), "OK");
    assert_string_equal(parse_err("include\n"),
                        "Missing arguments for include directive at line 1 in file t.conf");
}

/* Includes that fan out stay bounded: 20 x 20 x 20 files would be read, the cap stops it. */
static void test_include_fanout(void **state)
{
    static char a[512], b[512], cc[512];
    static struct conf_fakefile files[] = {{"/f/a.conf", a},
                                           {"/f/b.conf", b},
                                           {"/f/c.conf", cc},
                                           {"/f/d.conf", "rtcsync\n"},
                                           {NULL, NULL}};
    struct conf c;
    struct conf_error err;
    (void)state;
    a[0] = b[0] = cc[0] = '\0';
    for (int i = 0; i < 20; i++) {
        strcat(a, "include /f/b.conf\n");
        strcat(b, "include /f/c.conf\n");
        strcat(cc, "include /f/d.conf\n");
    }
    fs.files = files;
    conf_init(&c);
    assert_int_equal(conf_parse_file(&c, &env, "/f/a.conf", &err), -1);
    assert_non_null(strstr(err.msg, "Too many included files"));
    assert_true(fs.reads <= CONF_MAX_FILES + 1);
    conf_free(&c);
    /* 20 x 20 = 400 files is fine. */
    fs.reads = 0;
    conf_init(&c);
    assert_int_equal(conf_parse_file(&c, &env, "/f/b.conf", &err), 0);
    assert_int_equal(c.lines.n, 400);
    conf_free(&c);
}

static void test_args(void **state)
{
    struct conf c;
    struct conf_error err;
    const char *ok[] = {"server 192.0.2.1 iburst", "", "# c", "makestep 1 -1"};
    const char *bad[] = {"server 192.0.2.1", "bogus"};
    (void)state;
    conf_init(&c);
    assert_int_equal(conf_parse_args(&c, &env, 4, ok, &err), 0);
    assert_int_equal(c.n_sources, 1u);
    assert_int_equal(c.sources[0].line, 1);
    assert_string_equal(c.sources[0].file, "");
    assert_int_equal(c.makestep_limit, -1);
    conf_free(&c);
    conf_init(&c);
    assert_int_equal(conf_parse_args(&c, &env, 2, bad, &err), -1);
    assert_string_equal(err.msg, "Invalid directive at line 2");
    assert_string_equal(err.file, "");
    assert_int_equal(fs.reads, 0); /* no file read at all */
    conf_free(&c);
}

/* serverworkers (tempus extension): default 0, 0..64, anything else a parse error. */
static void test_serverworkers(void **state)
{
    (void)state;
    struct conf c;
    struct conf_error err;
    assert_int_equal(parse(&c, "allow\n", &err), 0);
    assert_int_equal(c.serverworkers, 0);
    conf_free(&c);
    assert_int_equal(parse(&c, "serverworkers 2\nserverworkers 4 \n", &err), 0);
    assert_int_equal(c.serverworkers, 4);
    conf_free(&c);
    assert_int_equal(parse(&c, "serverworkers 64\n", &err), 0);
    assert_int_equal(c.serverworkers, CONF_MAX_SERVERWORKERS);
    conf_free(&c);
    assert_string_equal(parse_err("serverworkers\n"),
                        "Missing arguments for serverworkers directive at line 1 in file t.conf");
    assert_string_equal(parse_err("\nserverworkers 65\n"),
                        "Could not parse serverworkers directive at line 2 in file t.conf");
    assert_string_equal(parse_err("serverworkers -1\n"),
                        "Could not parse serverworkers directive at line 1 in file t.conf");
    assert_string_equal(parse_err("serverworkers 2x\n"),
                        "Could not parse serverworkers directive at line 1 in file t.conf");
}

static void test_sourcedirs(void **state)
{
    static const struct conf_fakefile files[] = {
        {"/s1/a.sources", "server 192.0.2.1 iburst\nbogus line\nallow 1.2.3.4\n"
                          "# comment\npool p.example maxsources 2\nserver unterminated"},
        {"/s1/c.sources", "peer 192.0.2.3\n"},
        {"/s2/a.sources", "server 192.0.2.99\n"}, /* shadowed by /s1/a.sources */
        {"/s2/b.sources", "SERVER 192.0.2.2 minpoll 4x\nserver 192.0.2.2 minpoll 4\n"},
        {NULL, NULL},
    };
    struct conf c;
    struct conf_error err;
    struct conf_source *s;
    size_t n;
    (void)state;
    fs.files = files;
    assert_int_equal(parse(&c, "sourcedir /s1 /missing\nsourcedir /s2\n", &err), 0);
    assert_int_equal(c.n_sources, 0); /* .sources are not read by the parse */
    assert_int_equal(conf_load_sourcedirs(&c, &env, &s, &n), 0);
    assert_int_equal(n, 4);
    assert_string_equal(s[0].name, "192.0.2.1");
    assert_int_equal(s[0].iburst, 1);
    assert_string_equal(s[0].file, "/s1/a.sources");
    assert_int_equal(s[0].line, 1);
    assert_int_equal(s[1].type, CONF_SOURCE_POOL);
    assert_int_equal(s[1].line, 5);
    assert_string_equal(s[2].name, "192.0.2.2"); /* b.sources before c.sources */
    assert_int_equal(s[2].minpoll, 4);
    assert_int_equal(s[3].type, CONF_SOURCE_PEER);
    for (size_t i = 0; i < n; i++)
        conf_source_free(&s[i]);
    free(s);
    conf_free(&c);
}

/* reload sources: lines are the same when name, type, port and every option are. */
static void test_source_same(void **state)
{
    static const char *const lines[] = {
        "server 192.0.2.1",
        "pool 192.0.2.1",
        "peer 192.0.2.1",
        "server 192.0.2.2",
        "server 192.0.2.1 port 124",
        "server 192.0.2.1 iburst",
        "server 192.0.2.1 burst",
        "server 192.0.2.1 minpoll 4",
        "server 192.0.2.1 maxpoll 8",
        "server 192.0.2.1 prefer",
        "server 192.0.2.1 noselect",
        "server 192.0.2.1 trust",
        "server 192.0.2.1 require",
        "server 192.0.2.1 xleave",
        "server 192.0.2.1 key 5",
        "server 192.0.2.1 version 3",
        "server 192.0.2.1 minstratum 2",
        "server 192.0.2.1 polltarget 12",
        "server 192.0.2.1 maxdelay 0.5",
        "server 192.0.2.1 maxdelayratio 2",
        "server 192.0.2.1 maxdelaydevratio 4",
        "server 192.0.2.1 offset 0.001",
        "server 192.0.2.1 minsamples 4",
        "server 192.0.2.1 maxsamples 9",
        "server 192.0.2.1 presend 6",
        "server 192.0.2.1 offline",
        "pool 192.0.2.1 maxsources 2",
    };
    size_t n = sizeof lines / sizeof lines[0];
    struct conf_source a, b;
    (void)state;
    for (size_t i = 0; i < n; i++) {
        assert_int_equal(conf_source_parse(lines[i], &a), 0);
        for (size_t j = 0; j < n; j++) {
            assert_int_equal(conf_source_parse(lines[j], &b), 0);
            b.line = 7; /* where a line is does not count */
            assert_int_equal(conf_source_same(&a, &b), i == j);
            conf_source_free(&b);
        }
        conf_source_free(&a);
    }
    /* option order does not count */
    assert_int_equal(conf_source_parse("server 192.0.2.1 iburst minpoll 4", &a), 0);
    assert_int_equal(conf_source_parse("server 192.0.2.1 minpoll 4 iburst", &b), 0);
    assert_int_equal(conf_source_same(&a, &b), 1);
    conf_source_free(&a);
    conf_source_free(&b);
}

static void test_engine_mapping(void **state)
{
    struct conf c;
    struct conf_error err;
    struct engine_params p;
    struct engine_source_params sp;
    (void)state;
    assert_int_equal(parse(&c,
                           "makestep 1 3\nmaxupdateskew 100\nminsources 2\nmaxsamples 16\n"
                           "server a minpoll -9 maxpoll 30 maxdelay 5000 version 9\n"
                           "peer b minpoll 8 maxpoll 4 iburst presend 5 minstratum 20\n"
                           "server c asymmetry 0.9 xleave version 2 minsamples 3\n",
                           &err),
                     0);
    conf_engine_params(&c, &p);
    assert_true(p.makestep_threshold_s == 1.0);
    assert_int_equal(p.makestep_limit, 3);
    assert_true(p.maxupdateskew_ppm == 100.0);
    assert_int_equal(p.minsources, 2);
    assert_true(p.maxdistance_s == 3.0);
    assert_int_equal(p.have_initial_freq, 0);

    conf_engine_source_params(&c, &c.sources[0], &sp);
    assert_int_equal(sp.kind, ENGINE_SOURCE_SERVER);
    assert_int_equal(sp.minpoll_log2, 6);  /* below -7: default */
    assert_int_equal(sp.maxpoll_log2, 24); /* above 24: cut */
    assert_true(sp.maxdelay_s == 1000.0);
    assert_int_equal(sp.version, 4);
    assert_int_equal(sp.minsamples, 6);  /* global default */
    assert_int_equal(sp.maxsamples, 16); /* global directive */
    assert_true(sp.asymmetry == 1.0);
    assert_int_equal(sp.presend_log2, 0);

    conf_engine_source_params(&c, &c.sources[1], &sp);
    assert_int_equal(sp.kind, ENGINE_SOURCE_PEER);
    assert_int_equal(sp.maxpoll_log2, 8); /* raised to minpoll */
    assert_int_equal(sp.iburst, 0);       /* no bursts with peers */
    assert_int_equal(sp.presend_log2, 0);
    assert_int_equal(sp.minstratum, 15);

    conf_engine_source_params(&c, &c.sources[2], &sp);
    assert_true(sp.asymmetry == 0.5);
    assert_int_equal(sp.version, 4); /* xleave forces 4 */
    assert_int_equal(sp.minsamples, 3);
    conf_free(&c);
}

/* keys and authselectmode: the key ID reaches the engine, the version is left to the engine
 * (4, or 3 for long digests) unless set, and chrony's four modes add noselect / require+trust
 * by the sources' authentication (noselect sources not counted). */
static void test_authselectmode(void **state)
{
    static const char *const srcs = "server a key 1\nserver b\nserver c noselect key 2\n";
    static const struct {
        const char *mode;
        int engine_mode;
    } want[] = {
        {"", ENGINE_AUTHSELECT_MIX}, /* mix is the default */
        {"authselectmode mix\n", ENGINE_AUTHSELECT_MIX},
        {"authselectmode require\n", ENGINE_AUTHSELECT_REQUIRE},
        {"authselectmode prefer\n", ENGINE_AUTHSELECT_PREFER},
        {"authselectmode ignore\n", ENGINE_AUTHSELECT_IGNORE},
    };
    (void)state;
    for (size_t i = 0; i < sizeof want / sizeof want[0]; i++) {
        struct conf c;
        struct conf_error err;
        struct engine_source_params sp;
        struct engine_params ep;
        char text[200];
        snprintf(text, sizeof text, "%s%s", want[i].mode, srcs);
        assert_int_equal(parse(&c, text, &err), 0);
        /* the mode is the engine's (it recounts at every add and remove) ... */
        conf_engine_params(&c, &ep);
        assert_int_equal(ep.authselect, want[i].engine_mode);
        /* ... and the sources' options are what they say */
        conf_engine_source_params(&c, &c.sources[0], &sp);
        assert_int_equal(sp.key_id, 1);
        assert_int_equal(sp.version, 0);
        assert_int_equal(sp.require, 0);
        assert_int_equal(sp.trust, 0);
        assert_int_equal(sp.noselect, 0);
        conf_engine_source_params(&c, &c.sources[1], &sp);
        assert_int_equal(sp.key_id, 0);
        assert_int_equal(sp.noselect, 0);
        conf_engine_source_params(&c, &c.sources[2], &sp);
        assert_int_equal(sp.noselect, 1);
        conf_free(&c);
    }
    {
        struct conf c;
        struct conf_error err;
        struct engine_source_params sp;
        assert_int_equal(parse(&c, "server a key 1 version 2\nserver b key 2 xleave\n", &err), 0);
        conf_engine_source_params(&c, &c.sources[0], &sp);
        assert_int_equal(sp.version, 2);
        conf_engine_source_params(&c, &c.sources[1], &sp);
        assert_int_equal(sp.version, 4); /* xleave forces 4 */
        conf_free(&c);
    }
}

/* Field by field: the request's doubles travel in chrony's 32-bit float (a 25-bit mantissa). */
static int same_source_params(const struct engine_source_params *a,
                              const struct engine_source_params *b, const char *what)
{
    const int ia[] = {(int)a->kind,  a->minpoll_log2, a->maxpoll_log2, a->iburst,     a->burst,
                      a->prefer,     a->noselect,     a->trust,        a->require,    a->xleave,
                      a->version,    (int)a->key_id,  a->minstratum,   a->polltarget, a->minsamples,
                      a->maxsamples, a->filter,       a->presend_log2};
    const int ib[] = {(int)b->kind,  b->minpoll_log2, b->maxpoll_log2, b->iburst,     b->burst,
                      b->prefer,     b->noselect,     b->trust,        b->require,    b->xleave,
                      b->version,    (int)b->key_id,  b->minstratum,   b->polltarget, b->minsamples,
                      b->maxsamples, b->filter,       b->presend_log2};
    const double da[] = {a->maxdelay_s, a->maxdelayratio, a->maxdelaydevratio,
                         a->mindelay_s, a->asymmetry,     a->offset_s};
    const double db[] = {b->maxdelay_s, b->maxdelayratio, b->maxdelaydevratio,
                         b->mindelay_s, b->asymmetry,     b->offset_s};
    for (size_t i = 0; i < sizeof ia / sizeof ia[0]; i++)
        if (ia[i] != ib[i]) {
            print_error("%s: integer field %zu: %d in the file, %d at run time\n", what, i, ia[i],
                        ib[i]);
            return 0;
        }
    for (size_t i = 0; i < sizeof da / sizeof da[0]; i++)
        if (fabs(da[i] - db[i]) > 1e-6 * fabs(da[i]) + 1e-12) {
            print_error("%s: field %zu: %g in the file, %g at run time\n", what, i, da[i], db[i]);
            return 0;
        }
    return 1;
}

/* `add server|pool|peer ...` at run time configures the source exactly as the same line in the
 * file: each add request real chronyc 4.3/4.8 sent (shared/vectors/cmdmon/chronyc-requests.tsv)
 * decoded, turned into its source line (conf_source_from_cmdmon) and mapped under global
 * minsamples/maxsamples, against the line itself ("add " removed) from the file. Before, a
 * run-time source ignored the global minsamples/maxsamples (and presend, mindelay, asymmetry). */
static void test_runtime_add_as_configured(void **state)
{
    (void)state;
    const char *shared = getenv("TEMPUS_SHARED");
    char path[4096];
    snprintf(path, sizeof path, "%s/vectors/cmdmon/chronyc-requests.tsv",
             shared ? shared : "../shared");
    FILE *f = fopen(path, "r");
    if (!f) {
        skip();
        return;
    }
    char line[4096];
    int rows = 0, unset_samples = 0;
    while (fgets(line, sizeof line, f)) {
        char *ver = strtok(line, "\t"), *cmd = strtok(NULL, "\t"), *hex = strtok(NULL, "\t\n");
        if (!ver || !cmd || !hex || strncmp(cmd, "add ", 4) != 0)
            continue;
        uint8_t buf[2048];
        size_t len = 0;
        for (; hex[0] && hex[1] && len < sizeof buf; hex += 2) {
            unsigned v;
            assert_int_equal(sscanf(hex, "%2x", &v), 1);
            buf[len++] = (uint8_t)v;
        }
        struct cmdmon_request req;
        assert_int_equal(cmdmon_request_decode(buf, len, &req), CMDMON_REQ_OK);
        struct conf c;
        struct conf_error err;
        char text[4200];
        snprintf(text, sizeof text, "minsamples 10\nmaxsamples 20\n%s\n", cmd + 4);
        assert_int_equal(parse(&c, text, &err), 0);
        assert_int_equal(c.n_sources, 1u);
        struct engine_source_params from_file, at_run_time;
        conf_engine_source_params(&c, &c.sources[0], &from_file);
        struct conf_source cs;
        conf_source_from_cmdmon(&req.u.add_source, &cs);
        conf_engine_source_params(&c, &cs, &at_run_time);
        assert_true(same_source_params(&from_file, &at_run_time, cmd));
        if (req.u.add_source.min_samples < 0) {
            assert_int_equal(at_run_time.minsamples, 10); /* the global directive */
            assert_int_equal(at_run_time.maxsamples, 20);
            unset_samples++;
        }
        conf_free(&c);
        rows++;
    }
    fclose(f);
    assert_true(rows >= 6);
    assert_true(unset_samples >= 2);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup(test_defaults, setup),
        cmocka_unit_test_setup(test_authselectmode, setup),
        cmocka_unit_test_setup(test_runtime_add_as_configured, setup),
        cmocka_unit_test_setup(test_lexer_comments_case_whitespace, setup),
        cmocka_unit_test_setup(test_line_length, setup),
        cmocka_unit_test_setup(test_arg_counts_and_numbers, setup),
        cmocka_unit_test_setup(test_sources, setup),
        cmocka_unit_test_setup(test_unimplemented_warns, setup),
        cmocka_unit_test_setup(test_access, setup),
        cmocka_unit_test_setup(test_misc_directives, setup),
        cmocka_unit_test_setup(test_include_and_confdir, setup),
        cmocka_unit_test_setup(test_include_fanout, setup),
        cmocka_unit_test_setup(test_args, setup),
        cmocka_unit_test_setup(test_sourcedirs, setup),
        cmocka_unit_test_setup(test_source_same, setup),
        cmocka_unit_test_setup(test_serverworkers, setup),
        cmocka_unit_test_setup(test_engine_mapping, setup),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
