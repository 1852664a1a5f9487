// Holds MIB MiB of touched private memory and waits (bench/checkpoint_bench.cpp checkpoints
// and restores it): writes every page, creates READY, then sleeps until killed.
//   memory_holder MIB READY
#include <fcntl.h>
#include <stdlib.h>
#include <unistd.h>

int main(int argc, char** argv) {
    if (argc != 3) return 2;
    const size_t size = (size_t)atol(argv[1]) << 20;
    unsigned char* memory = malloc(size);
    if (memory == NULL) return 3;
    for (size_t i = 0; i < size; i += 4096) memory[i] = (unsigned char)(i >> 12);
    close(open(argv[2], O_WRONLY | O_CREAT, 0644));
    for (;;) pause();
}
