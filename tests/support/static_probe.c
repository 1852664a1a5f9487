/* A statically linked helper for tests that run in a chroot, where no shared libraries exist,
 * or that must act as soon as a program starts:
 *   probe cat FILE          print FILE's bytes
 *   probe write FILE TEXT   write TEXT to FILE at once; print "ok" or the errno's name */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

int main(int argc, char** argv) {
    if (argc == 3 && strcmp(argv[1], "cat") == 0) {
        int fd = open(argv[2], O_RDONLY);
        if (fd < 0) {
            perror(argv[2]);
            return 1;
        }
        char buffer[4096];
        ssize_t n;
        while ((n = read(fd, buffer, sizeof buffer)) > 0)
            if (write(1, buffer, (size_t)n) != n) return 1;
        return 0;
    }
    if (argc == 4 && strcmp(argv[1], "write") == 0) {
        int fd = open(argv[2], O_WRONLY);
        size_t length = strlen(argv[3]);
        if (fd < 0 || write(fd, argv[3], length) != (ssize_t)length) {
            printf("%s\n", strerrorname_np(errno));
            return 1;
        }
        printf("ok\n");
        return 0;
    }
    fprintf(stderr, "usage: probe cat FILE | probe write FILE TEXT\n");
    return 2;
}
