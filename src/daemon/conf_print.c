/* tempusd -p output (conf_print.h). */
#include "daemon/conf_print.h"

int conf_print_lines(const struct conf *c, FILE *out)
{
    for (size_t i = 0; i < c->lines.n; i++) {
        if (fprintf(out, "%s\n", c->lines.v[i]) < 0)
            return -1;
    }
    return fflush(out) == 0 ? 0 : -1;
}

void conf_print_error(const struct conf_error *err, FILE *out)
{
    fprintf(out, "Fatal error : %s\n", err->msg);
    fflush(out);
}
