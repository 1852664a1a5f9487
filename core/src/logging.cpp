#include "logging.hpp"

#include <boost/core/null_deleter.hpp>
#include <boost/log/core.hpp>
#include <boost/log/expressions.hpp>
#include <boost/log/sinks/sync_frontend.hpp>
#include <boost/log/sinks/text_ostream_backend.hpp>
#include <boost/log/sources/record_ostream.hpp>
#include <boost/log/sources/severity_logger.hpp>

#include <atomic>
#include <cstdlib>
#include <iostream>
#include <mutex>
#include <string>

namespace sandlock::logging {
namespace {

Level threshold_from_env() {
    const char* value = std::getenv("SANDLOCK_LOG");
    if (value == nullptr) return Level::Warning;
    std::string_view v(value);
    if (v == "debug") return Level::Debug;
    if (v == "info") return Level::Info;
    if (v == "error") return Level::Error;
    return Level::Warning;
}

std::atomic<int>& threshold() {
    static std::atomic<int> value{static_cast<int>(threshold_from_env())};
    return value;
}

std::string_view level_name(Level level) {
    switch (level) {
        case Level::Debug: return "debug";
        case Level::Info: return "info";
        case Level::Warning: return "warning";
        case Level::Error: return "error";
    }
    return "log";
}

using Logger = boost::log::sources::severity_logger_mt<Level>;

Logger& logger() {
    static std::once_flag once;
    std::call_once(once, [] {
        namespace sinks = boost::log::sinks;
        auto backend = boost::make_shared<sinks::text_ostream_backend>();
        backend->add_stream(boost::shared_ptr<std::ostream>(&std::clog, boost::null_deleter()));
        backend->auto_flush(true);
        auto sink = boost::make_shared<sinks::synchronous_sink<sinks::text_ostream_backend>>(backend);
        sink->set_formatter(boost::log::expressions::stream << boost::log::expressions::smessage);
        boost::log::core::get()->add_sink(sink);
    });
    static Logger instance;
    return instance;
}

}  // namespace

void set_threshold(Level level) { threshold().store(static_cast<int>(level)); }

bool enabled(Level level) { return static_cast<int>(level) >= threshold().load(std::memory_order_relaxed); }

void write(Level level, std::string_view source, std::string_view message) {
    if (!enabled(level)) return;
    BOOST_LOG_SEV(logger(), level) << "sandlock: " << level_name(level) << ": [" << source << "] " << message;
}

}  // namespace sandlock::logging
