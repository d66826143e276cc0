/* os/resolve: getaddrinfo() into struct addr (see resolve.h). */
#include "os/resolve.h"

#include <errno.h>
#include <netdb.h>
#include <string.h>
#include <sys/socket.h>

#include "os/udp.h"

int resolve_name(const char *name, int family_filter, unsigned port, struct addr *out, size_t max)
{
    struct addrinfo hints;
    memset(&hints, 0, sizeof hints);
    hints.ai_family = family_filter == 4 ? AF_INET : family_filter == 6 ? AF_INET6 : AF_UNSPEC;
    hints.ai_socktype = SOCK_DGRAM;
    hints.ai_protocol = IPPROTO_UDP;
    struct addrinfo *res = NULL;
    int r = getaddrinfo(name, NULL, &hints, &res);
    if (r != 0) {
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
