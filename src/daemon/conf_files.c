/* The real file reader behind the config parser (see conf_files.h). */
#include "daemon/conf_files.h"

#include <errno.h>
#include <glob.h>
#include <netdb.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include <netinet/in.h>

static int files_read_all(void *ctx, const char *path, char **data, size_t *len)
{
    FILE *f = fopen(path, "r");
    char *buf = NULL;
    size_t n = 0, cap = 0;
    (void)ctx;

    if (f == NULL)
        return -errno;
    for (;;) {
        if (cap - n < 4096) {
            char *grown = realloc(buf, cap + 65536 + 1);
            if (grown == NULL) {
                free(buf);
                fclose(f);
                return -ENOMEM;
            }
            buf = grown;
            cap += 65536;
        }
        size_t got = fread(buf + n, 1, cap - n, f);
        n += got;
        if (got == 0)
            break;
    }
    /* A directory opens but does not read: chronyd then sees an empty file. */
    fclose(f);
    buf[n] = '\0';
    *data = buf;
    *len = n;
    return 0;
}

static int files_glob(void *ctx, const char *pattern, char ***paths, size_t *n)
{
    glob_t g;
    (void)ctx;

    *paths = NULL;
    *n = 0;
    /* chronyd's flags: GLOB_NOMAGIC returns a pattern without wildcards as itself (so a
     * missing plain file is "Could not open"), GLOB_ERR makes an unreadable directory an
     * error ("Could not search"), while a wildcard without a match is nothing. */
    int r = glob(pattern, GLOB_ERR | GLOB_NOMAGIC, NULL, &g);
    if (r == GLOB_NOMATCH)
        return 0;
    if (r != 0) {
        globfree(&g);
        return -1;
    }
    char **v = calloc(g.gl_pathc + 1, sizeof *v);
    if (v == NULL) {
        globfree(&g);
        return -1;
    }
    for (size_t i = 0; i < g.gl_pathc; i++) {
        v[i] = strdup(g.gl_pathv[i]);
        if (v[i] == NULL) {
            for (size_t k = 0; k < i; k++)
                free(v[k]);
            free(v);
            globfree(&g);
            return -1;
        }
    }
    *paths = v;
    *n = g.gl_pathc;
    globfree(&g);
    return 0;
}

/* Contexts for the family filter: env->ctx points at one of these. */
static const int family_any = 0, family_inet4 = 4, family_inet6 = 6;

static int files_resolve(void *ctx, const char *name, struct addr *out)
{
    struct addrinfo hints, *res = NULL;
    int family = ctx != NULL ? *(const int *)ctx : 0;

    memset(&hints, 0, sizeof hints);
    hints.ai_socktype = SOCK_DGRAM;
    hints.ai_family = family == 4 ? AF_INET : family == 6 ? AF_INET6 : AF_UNSPEC;
    if (getaddrinfo(name, NULL, &hints, &res) != 0 || res == NULL)
        return -1;
    memset(out, 0, sizeof *out);
    if (res->ai_family == AF_INET) {
        const struct sockaddr_in *sin = (const struct sockaddr_in *)res->ai_addr;
        out->family = ADDR_INET4;
        memcpy(out->bytes, &sin->sin_addr, 4);
    } else if (res->ai_family == AF_INET6) {
        const struct sockaddr_in6 *sin6 = (const struct sockaddr_in6 *)res->ai_addr;
        out->family = ADDR_INET6;
        memcpy(out->bytes, &sin6->sin6_addr, 16);
    } else {
        freeaddrinfo(res);
        return -1;
    }
    freeaddrinfo(res);
    return 0;
}

void conf_files_env(struct conf_env *env, int family)
{
    const int *f = family == 4 ? &family_inet4 : family == 6 ? &family_inet6 : &family_any;
    env->ctx = (void *)(uintptr_t)f; /* read only: the callbacks never write through it */
    env->read_file = files_read_all;
    env->glob = files_glob;
    env->resolve = files_resolve;
}
