// Logging for the host and, through HostApi::log, for plugins. Boost.Log is set up only when
// the first message passes the threshold: touching its core costs about 1 ms per start.
#pragma once

#include <sandlock/sdk/abi.hpp>

#include <string_view>

namespace sandlock::logging {

using Level = sdk::LogLevel;

// Default threshold: SANDLOCK_LOG (debug, info, warning, error), else warning.
void set_threshold(Level level);
bool enabled(Level level);
void write(Level level, std::string_view source, std::string_view message);

inline void debug(std::string_view source, std::string_view message) { write(Level::Debug, source, message); }
inline void warning(std::string_view source, std::string_view message) { write(Level::Warning, source, message); }

}  // namespace sandlock::logging
