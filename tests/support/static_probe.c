/* A statically linked helper for tests that run in a chroot, where no shared libraries exist:
 *   probe cat FILE    print FILE's bytes */
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
    fprintf(stderr, "usage: probe cat FILE\n");
    return 2;
}
