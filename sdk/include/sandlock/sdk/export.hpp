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
    static int configure(void* p, std::string_view policy_json, std::string_view options_json,
                         ErrorSink* err) noexcept {
        return guarded(err, [&] {
            Policy policy = policy_from_json(policy_json);
            boost::json::object options;
            if (!options_json.empty()) options = boost::json::parse(options_json).as_object();
            self(p).configure(policy, options);
        });
    }
    static int prepare(void* p, ErrorSink* err) noexcept {
        return guarded(err, [&] { self(p).prepare(); });
    }
    static int child_stage(void* p, Stage stage, ChildContext* ctx) noexcept {
        return self(p).child_stage(stage, *ctx);
    }
    static int after_fork(void* p, const ParentContext* ctx, ErrorSink* err) noexcept {
        return guarded(err, [&] { self(p).after_fork(*ctx); });
    }
    static int on_exit(void* p, const ExitInfo* info, ErrorSink* err) noexcept {
        return guarded(err, [&] { self(p).on_exit(*info); });
    }
    static void receive_fd(void* p, int fd) noexcept { self(p).receive_fd(fd); }
    static int command(void* p, std::string_view request_json, const OutputSink* out, ErrorSink* err) noexcept {
        return guarded(err, [&] {
            Output output(out);
            self(p).command(boost::json::parse(request_json).as_object(), output);
        });
    }

    static inline const PluginVTable vtable = {
        kAbiVersion,        M.name,       M.description, M.owned_fields.data(),
        M.owned_fields.size(), M.child_stages, M.flags,    &create,
        &destroy,           &configure,   &prepare,      &child_stage,
        &after_fork,        &on_exit,     &receive_fd,   &command,
    };
};

}  // namespace sandlock::sdk::detail

#define SANDLOCK_EXPORT_PLUGIN(PluginClass, manifest)                                         \
    namespace sandlock_plugin_export {                                                        \
    const std::uint32_t abi_version = ::sandlock::sdk::kAbiVersion;                           \
    const ::sandlock::sdk::PluginVTable* factory() {                                          \
        return &::sandlock::sdk::detail::Adapter<PluginClass, manifest>::vtable;              \
    }                                                                                         \
    }                                                                                         \
    BOOST_DLL_ALIAS(sandlock_plugin_export::abi_version, sandlock_plugin_abi)                 \
    BOOST_DLL_ALIAS(sandlock_plugin_export::factory, sandlock_plugin)
