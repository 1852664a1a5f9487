// A program that links the installed library, as a user of libsandlock would: it runs
// /bin/echo in a sandbox and checks its output, then checks that a file outside the policy
// stays unreadable. Exit 0 when both hold; a one-line reason and 1 otherwise.
#include <sandlock/sandbox.hpp>

#include <cstdio>
#include <exception>

int main() {
    try {
        sandlock::Policy policy;
        policy.fs_readable = {"/usr", "/lib", "/lib64", "/bin"};
        const sandlock::Sandbox sandbox(policy);

        const sandlock::Result echo = sandbox.run({"/bin/echo", "hi"});
        if (!echo.ok() || echo.stdout_text != "hi\n") {
            std::fprintf(stderr, "consumer: /bin/echo hi: exit %d, stdout \"%s\", stderr \"%s\" %s\n",
                         echo.exit_code, echo.stdout_text.c_str(), echo.stderr_text.c_str(),
                         echo.error.c_str());
            return 1;
        }
        const sandlock::Result cat = sandbox.run({"/bin/cat", "/etc/passwd"});
        if (cat.exit_code == 0) {
            std::fprintf(stderr, "consumer: /bin/cat read /etc/passwd outside the policy\n");
            return 1;
        }
    } catch (const std::exception& e) {
        std::fprintf(stderr, "consumer: %s\n", e.what());
        return 1;
    }
    std::puts("consumer: ok");
    return 0;
}
