/* os/resolve: getaddrinfo() and getaddrinfo_a() into struct addr (see resolve.h). */
#include "os/resolve.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "os/udp.h"

static void fill_hints(struct addrinfo *hints, int family_filter)
{
    memset(hints, 0, sizeof *hints);
    hints->ai_family = family_filter == 4 ? AF_INET : family_filter == 6 ? AF_INET6 : AF_UNSPEC;
    hints->ai_socktype = SOCK_DGRAM;
    hints->ai_protocol = IPPROTO_UDP;
}

/* getaddrinfo's outcome (r, res) into out; frees res. */
static int collect(int r, struct addrinfo *res, unsigned port, struct addr *out, size_t max)
{
    if (r != 0) {
        if (res)
            freeaddrinfo(res);
        if (r == EAI_AGAIN)
            return -EAGAIN;
        if (r == EAI_NONAME || r == EAI_NODATA || r == EAI_FAMILY || r == EAI_ADDRFAMILY)
            return -ENOENT;
        return -EINVAL;
    }
    size_t n = 0;
    for (struct addrinfo *ai = res; ai && n < max; ai = ai->ai_next) {
        struct sockaddr_storage ss;
        if (ai->ai_addrlen > sizeof ss)
            continue;
        memset(&ss, 0, sizeof ss);
        memcpy(&ss, ai->ai_addr, ai->ai_addrlen);
        struct addr a;
        if (udp_from_sockaddr(&ss, &a) != 0)
            continue;
        a.port = (uint16_t)port;
        int dup = 0;
        for (size_t k = 0; k < n; k++)
            if (out[k].family == a.family && !memcmp(out[k].bytes, a.bytes, sizeof a.bytes))
                dup = 1;
        if (!dup)
            out[n++] = a;
    }
    freeaddrinfo(res);
    return n > 0 ? (int)n : -ENOENT;
}

int resolve_name(const char *name, int family_filter, unsigned port, struct addr *out, size_t max)
{
    struct addrinfo hints;
    fill_hints(&hints, family_filter);
    struct addrinfo *res = NULL;
    int r = getaddrinfo(name, NULL, &hints, &res);
    return collect(r, res, port, out, max);
}

int resolve_is_numeric(const char *name)
{
    unsigned char buf[16];
    return inet_pton(AF_INET, name, buf) == 1 || inet_pton(AF_INET6, name, buf) == 1;
}

struct resolve_req {
    struct gaicb cb;
    struct addrinfo hints;
    unsigned port;
    char name[256];
};

struct resolve_req *resolve_start(const char *name, int family_filter, unsigned port)
{
    struct resolve_req *r = calloc(1, sizeof *r);
    if (!r)
        return NULL;
    snprintf(r->name, sizeof r->name, "%s", name);
    fill_hints(&r->hints, family_filter);
    r->port = port;
    r->cb.ar_name = r->name;
    r->cb.ar_request = &r->hints;
    struct gaicb *list[1] = {&r->cb};
    if (getaddrinfo_a(GAI_NOWAIT, list, 1, NULL) != 0) {
        free(r);
        return NULL;
    }
    return r;
}

int resolve_poll(struct resolve_req *r, struct addr *out, size_t max)
{
    int e = gai_error(&r->cb);
    if (e == EAI_INPROGRESS)
        return -EINPROGRESS;
    struct addrinfo *res = r->cb.ar_result;
    r->cb.ar_result = NULL;
    return collect(e, res, r->port, out, max);
}

void resolve_free(struct resolve_req *r)
{
    if (!r)
        return;
    if (gai_error(&r->cb) == EAI_INPROGRESS && gai_cancel(&r->cb) != EAI_CANCELED) {
        /* Already running: the lookup thread still writes into r, so wait for it. */
        const struct gaicb *list[1] = {&r->cb};
        while (gai_error(&r->cb) == EAI_INPROGRESS)
            (void)gai_suspend(list, 1, NULL);
    }
    if (r->cb.ar_result)
        freeaddrinfo(r->cb.ar_result);
    free(r);
}
