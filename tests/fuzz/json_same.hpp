// Whether two JSON texts hold the same value, doubles compared to within 1e-12 of each other:
// Boost.JSON 1.81 parses doubles to within an ulp or two (its precise mode came in 1.83), so a
// double may drift by that much at each hop; anything else must survive exactly.
#pragma once

#include <boost/json.hpp>

#include <cmath>
#include <string_view>

namespace sandlock::fuzz {

inline bool same_value(const boost::json::value& a, const boost::json::value& b) {
    if (a.is_double() && b.is_double())
        return std::fabs(a.get_double() - b.get_double()) <= 1e-12 * std::fmax(std::fabs(a.get_double()), 1.0);
    if (a.kind() != b.kind()) return false;
    if (a.is_array()) {
        const auto &x = a.get_array(), &y = b.get_array();
        if (x.size() != y.size()) return false;
        for (std::size_t i = 0; i < x.size(); ++i)
            if (!same_value(x[i], y[i])) return false;
        return true;
    }
    if (a.is_object()) {
        const auto &x = a.get_object(), &y = b.get_object();
        if (x.size() != y.size()) return false;
        for (const auto& [key, value] : x) {
            const boost::json::value* other = y.if_contains(key);
            if (other == nullptr || !same_value(value, *other)) return false;
        }
        return true;
    }
    return a == b;
}

inline bool same_json(std::string_view a, std::string_view b) {
    return same_value(boost::json::parse(a), boost::json::parse(b));
}

}  // namespace sandlock::fuzz
