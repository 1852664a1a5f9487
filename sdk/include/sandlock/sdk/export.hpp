// Exports a Plugin subclass across the waist. Include this in exactly one source file of a
// plugin (it also compiles Boost.JSON into the plugin, header-only), then write:
//
//   SANDLOCK_EXPORT_PLUGIN(MyPlugin, kMyManifest)
//
// where MyPlugin has a constructor MyPlugin(const sandlock::sdk::HostApi*) and kMyManifest is
// a namespace-scope `constexpr sandlock::sdk::Manifest`.
#pragma once

#include <sandlock/sdk/policy_schema.hpp>
#include <sandlock/sdk/plugin.hpp>

#include <boost/dll/alias.hpp>
#include <boost/json/src.hpp>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstring>
#include <exception>

namespace sandlock::sdk::detail {

inline void write_error(ErrorSink* err, std::string_view message) {
    if (err == nullptr) return;
    std::size_t n = std::min(message.size(), sizeof(err->message) - 1);
    std::memcpy(err->message, message.data(), n);
    err->message[n] = '\0';
}

// Runs a hook body; any exception becomes a failure with its message (nothing crosses the waist).
template <class Body>
int guarded(ErrorSink* err, Body&& body) noexcept {
    try {
        body();
        return 0;
    } catch (const std::exception& e) {
        write_error(err, e.what());
    } catch (...) {
        write_error(err, "unknown error");
    }
    return -1;
}

template <class P, const Manifest& M>
struct Adapter {
    static P& self(void* p) { return *static_cast<P*>(p); }

    static void* create(const HostApi* host, ErrorSink* err) noexcept {
        void* made = nullptr;
        guarded(err, [&] { made = new P(host); });
        return made;
    }
    static void destroy(void* p) noexcept { delete static_cast<P*>(p); }
    static std::int32_t configure(void* p, Str policy_json, Str options_json, ErrorSink* err) noexcept {
        return guarded(err, [&] {
            Policy policy = policy_from_json(view(policy_json));
            boost::json::object options;
            if (options_json.size != 0) options = boost::json::parse(view(options_json)).as_object();
            self(p).configure(policy, options);
        });
    }
    static std::int32_t prepare(void* p, ErrorSink* err) noexcept {
        return guarded(err, [&] { self(p).prepare(); });
    }
    static std::int32_t child_stage(void* p, sandlock_stage stage, ChildContext* ctx) noexcept {
        return self(p).child_stage(static_cast<Stage>(stage), *ctx);
    }
    static std::int32_t after_fork(void* p, const ParentContext* ctx, ErrorSink* err) noexcept {
        return guarded(err, [&] { self(p).after_fork(*ctx); });
    }
    static std::int32_t on_exit(void* p, const ExitInfo* info, ErrorSink* err) noexcept {
        return guarded(err, [&] { self(p).on_exit(*info); });
    }
    static void receive_fd(void* p, std::int32_t fd) noexcept { self(p).receive_fd(fd); }
    static std::int32_t command(void* p, Str request_json, const OutputSink* out, ErrorSink* err) noexcept {
        return guarded(err, [&] {
            Output output(out);
            self(p).command(boost::json::parse(view(request_json)).as_object(), output);
        });
    }

    static std::int32_t control(void* p, Str request_json, const OutputSink* out, ErrorSink* err) noexcept {
        return guarded(err, [&] {
            const boost::json::object request = boost::json::parse(view(request_json)).as_object();
            const boost::json::string_view what = request.at("command").as_string();
            if (what == "update") {
                self(p).update(policy_from_json(boost::json::serialize(request.at("policy"))));
            } else if (what == "pause" || what == "resume") {
                self(p).paused(what == "pause");
            } else if (what == "nest") {
                const auto root = static_cast<int>(request.at("root").to_number<std::int64_t>());
                for (const auto& scope : request.at("scopes").as_array())
                    self(p).nest(root, scope.at("id").as_string(),
                                 policy_from_json(boost::json::serialize(scope.at("policy"))));
            } else if (what == "status") {
                boost::json::object counters;
                self(p).status(counters);
                if (!counters.empty()) Output(out) << boost::json::serialize(counters);
            } else if (what == "snapshot") {
                boost::json::object saved;
                self(p).snapshot(saved);
                if (!saved.empty()) Output(out) << boost::json::serialize(saved);
            } else {
                throw Error("unknown control request " + std::string(what));
            }
        });
    }

    static std::int32_t nested(void* p, NestedConfinement* out, ErrorSink* err) noexcept {
        return guarded(err, [&] { self(p).nested(*out); });
    }

    static inline const PluginVTable vtable = {
        kAbiVersion, &create,  &destroy,    &configure, &prepare, &child_stage,
        &after_fork, &on_exit, &receive_fd, &command,   &control, &nested,
    };
};

// The manifest note (abi.hpp), laid out at compile time from a Manifest.
template <const Manifest& M>
struct ManifestNote {
    static constexpr std::size_t round4(std::size_t n) { return (n + 3) & ~std::size_t{3}; }
    static constexpr std::size_t desc_size() {
        std::size_t n = 16 + M.name.size() + 1 + M.description.size() + 1 + 1;
        for (std::string_view field : M.owned_fields) n += field.size() + 1;
        return n;
    }
    static constexpr std::size_t kOwnerSize = 9;  // "sandlock" and its NUL
    static constexpr std::size_t size() { return 12 + round4(kOwnerSize) + round4(desc_size()); }

    static constexpr std::array<unsigned char, size()> bytes() {
        std::array<unsigned char, size()> out{};
        std::size_t at = 0;
        auto u32 = [&](std::uint32_t v) {
            for (int i = 0; i < 4; ++i) out[at++] = static_cast<unsigned char>(v >> (8 * i));
        };
        auto text = [&](std::string_view t) {
            for (char c : t) out[at++] = static_cast<unsigned char>(c);
            out[at++] = 0;
        };
        u32(kOwnerSize);
        u32(static_cast<std::uint32_t>(desc_size()));
        u32(kManifestNoteType);
        text("sandlock");
        at = 12 + round4(kOwnerSize);
        u32(kAbiVersion);
        u32(M.child_stages);
        u32(M.flags);
        u32(0);
        text(M.name);
        text(M.description);
        for (std::string_view field : M.owned_fields) text(field);
        out[at++] = 0;
        return out;
    }
};

}  // namespace sandlock::sdk::detail

#define SANDLOCK_EXPORT_PLUGIN(PluginClass, manifest)                                         \
    namespace sandlock_plugin_export {                                                        \
    [[gnu::section(".note.sandlock"), gnu::used, gnu::retain, gnu::aligned(4)]]               \
    constinit const auto manifest_note = ::sandlock::sdk::detail::ManifestNote<manifest>::bytes(); \
    const std::uint32_t abi_version = ::sandlock::sdk::kAbiVersion;                           \
    const ::sandlock::sdk::PluginVTable* factory() {                                          \
        return &::sandlock::sdk::detail::Adapter<PluginClass, manifest>::vtable;              \
    }                                                                                         \
    }                                                                                         \
    BOOST_DLL_ALIAS(sandlock_plugin_export::abi_version, sandlock_plugin_abi)                 \
    BOOST_DLL_ALIAS(sandlock_plugin_export::factory, sandlock_plugin)
