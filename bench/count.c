/* count: send exactly N requests for PATH on one keep-alive connection, DEPTH
 * at a time (pipelined), and read every answer. For instruction counts under
 * callgrind, where a time-based load generator would not give a fixed N.
 *
 *   count PORT PATH N DEPTH
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

static char buf[1 << 20];
static size_t have;

/* Read one response (Content-Length framing); 0 on success. */
static int read_response(int fd)
{
    for (;;) {
        char *end = memmem(buf, have, "\r\n\r\n", 4);
        if (end) {
            size_t head = (size_t)(end - buf) + 4;
            char *cl = memmem(buf, head, "Content-Length: ", 16);
            size_t len = cl ? strtoul(cl + 16, NULL, 10) : 0;
            if (have >= head + len) {
                memmove(buf, buf + head + len, have - head - len);
                have -= head + len;
                return 0;
            }
        }
        ssize_t n = read(fd, buf + have, sizeof buf - have);
        if (n <= 0) return -1;
        have += (size_t)n;
    }
}

int main(int argc, char **argv)
{
    if (argc != 5) {
        fprintf(stderr, "usage: count PORT PATH N DEPTH\n");
        return 2;
    }
    int port = atoi(argv[1]), n = atoi(argv[3]), depth = atoi(argv[4]);
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    inet_pton(AF_INET, "127.0.0.1", &a.sin_addr);
    if (connect(fd, (struct sockaddr *)&a, sizeof a) != 0) {
        perror("count: connect");
        return 1;
    }
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    char req[512];
    int rl = snprintf(req, sizeof req, "GET %s HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n", argv[2]);
    char *batch = malloc((size_t)rl * (size_t)depth);
    for (int i = 0; i < depth; i++)
        memcpy(batch + (size_t)i * (size_t)rl, req, (size_t)rl);
    for (int done = 0; done < n;) {
        int k = n - done < depth ? n - done : depth;
        if (write(fd, batch, (size_t)rl * (size_t)k) != (ssize_t)rl * k) {
            perror("count: write");
            return 1;
        }
        for (int i = 0; i < k; i++)
            if (read_response(fd) != 0) {
                fprintf(stderr, "count: connection closed after %d answers\n", done + i);
                return 1;
            }
        done += k;
    }
    close(fd);
    free(batch);
    return 0;
}
