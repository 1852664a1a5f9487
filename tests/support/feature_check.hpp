// A test may be skipped only where `sandlock check` reports the feature it needs missing, so a
// skip in CI is never a silent pass. SANDLOCK_SKIP_UNLESS_AVAILABLE("landlock TCP bind/connect
// ports") asks the sandlock binary next to the test executable (once per process) and skips
// with check's own words; a feature name check does not know fails the test.
#pragma once

#include "test_paths.hpp"

#include <boost/json.hpp>
#include <gtest/gtest.h>

#include <cstdio>
#include <optional>
#include <string>

namespace sandlock::test {

// The features of `sandlock check --json`, name -> available.
inline const boost::json::array& checked_features() {
    static const boost::json::array features = [] {
        std::string text;
        if (FILE* out = ::popen((sandlock_bin() + " check --json").c_str(), "r")) {
            char buffer[4096];
            for (std::size_t n; (n = std::fread(buffer, 1, sizeof buffer, out)) > 0;) text.append(buffer, n);
            ::pclose(out);
        }
        boost::system::error_code ec;
        boost::json::value report = boost::json::parse(text, ec);
        if (ec || !report.is_object() || !report.as_object().contains("features")) return boost::json::array{};
        return report.at("features").as_array();
    }();
    return features;
}

// Whether check reports `feature` available; nullopt when check names no such feature.
inline std::optional<bool> check_reports_available(const std::string& feature) {
    for (const auto& entry : checked_features()) {
        const auto& object = entry.as_object();
        if (object.at("name").as_string() == feature) return object.at("available").as_bool();
    }
    return std::nullopt;
}

// Whether sandboxes get their own user + PID + mount namespaces here. Where they cannot (the
// fallback `sandlock check` reports), some answers differ by design: Landlock's EACCES rather
// than the read-only mount's EROFS, a process outside visible rather than absent (ESRCH).
inline bool sandbox_namespaces() { return check_reports_available("sandbox namespaces").value_or(false); }

}  // namespace sandlock::test

#define SANDLOCK_SKIP_UNLESS_AVAILABLE(feature)                                                   \
    do {                                                                                          \
        const std::optional<bool> available_ = ::sandlock::test::check_reports_available(feature); \
        ASSERT_TRUE(available_.has_value()) << "`sandlock check --json` names no feature " << (feature); \
        if (!*available_) GTEST_SKIP() << "sandlock check reports it missing: " << (feature);      \
    } while (0)
