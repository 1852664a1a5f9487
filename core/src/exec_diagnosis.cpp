#include "exec_diagnosis.hpp"

#include <sandlock/input_check.hpp>

#include <fstream>

namespace sandlock {

std::string missing_interpreter(const std::string& command, const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    std::string head(256, '\0');
    in.read(head.data(), static_cast<std::streamsize>(head.size()));
    head.resize(static_cast<std::size_t>(in.gcount()));
    if (head.starts_with("#!")) {
        // The kernel's reading: blanks after "#!", then the interpreter up to a blank or newline.
        std::size_t start = head.find_first_not_of(" \t", 2);
        std::size_t end = start == std::string::npos ? start : head.find_first_of(" \t\n", start);
        std::string interpreter = start == std::string::npos ? "" : head.substr(start, end - start);
        return command + ": its interpreter " + quote_value(interpreter) +
               " (from the #! line) was not found in the sandbox; install it or make it readable";
    }
    if (head.starts_with("\x7f" "ELF"))
        return command + ": its ELF interpreter (the dynamic loader it names) was not found in the sandbox; "
                         "make the loader's directory readable (e.g. -r /lib64)";
    return command + ": command not found";
}

}  // namespace sandlock
