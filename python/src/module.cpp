// sandlock._sandlock: the C++ core as the Python package (python/sandlock) uses it. Policies
// cross as the policy schema's JSON (sdk/policy_schema.hpp), results as dicts; everything that
// waits runs without the GIL. The public, reference-compatible API is the Python package's.
#include "kernel.hpp"
#include "syscall_lists.hpp"

#include <Python.h>
#include <pybind11/functional.h>
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include <sandlock/checkpoint.hpp>
#include <sandlock/errors.hpp>
#include <sandlock/input_check.hpp>
#include <sandlock/profile.hpp>
#include <sandlock/sandbox.hpp>
#include <sandlock/sdk/policy_schema.hpp>

#include <algorithm>
#include <chrono>
#include <optional>
#include <span>
#include <string>
#include <vector>

namespace py = pybind11;
using namespace sandlock;

namespace {

Policy policy_from(const std::string& json) {
    try {
        return policy_from_json(json);
    } catch (const std::exception& e) {
        // The Python side builds this document: a failure here is our bug, said as such.
        throw PolicyError(std::string("internal: the policy did not convert: ") + e.what());
    }
}

// Seconds as the core's timeout: none for None or more than a year (inf), at least 1 ms.
Timeout timeout_from(std::optional<double> seconds) {
    if (!seconds || *seconds > 365.0 * 24 * 3600) return std::nullopt;
    if (!(*seconds >= 0)) throw PolicyError("timeout: must be a number of seconds, 0 or more (or None)");
    return std::chrono::milliseconds(std::max(1LL, static_cast<long long>(*seconds * 1000.0 + 0.5)));
}

py::dict result_dict(const Result& r) {
    py::dict d;
    d["exit_code"] = r.exit_code;
    d["term_signal"] = r.term_signal;
    d["timed_out"] = r.timed_out;
    d["stdout"] = py::bytes(r.stdout_text);
    d["stderr"] = py::bytes(r.stderr_text);
    d["output_truncated"] = r.output_truncated;
    d["error"] = r.error;
    return d;
}

SandboxOptions options_from(const std::vector<std::string>& plugin_path) {
    SandboxOptions options;
    options.plugin_path = plugin_path;
    return options;
}

// CPython around the fork that starts call()'s function (sandbox.hpp: ForkHooks): the calling
// thread takes the GIL back for the fork, so no other thread is inside the interpreter; the
// child continues as the interpreter's only thread, holding the GIL.
class PythonFork {
public:
    ForkHooks hooks() {
        return ForkHooks{
            [this] {
                gil_ = PyGILState_Ensure();
                PyOS_BeforeFork();
            },
            [this] {
                PyOS_AfterFork_Parent();
                PyGILState_Release(gil_);
            },
            [] { PyOS_AfterFork_Child(); },
        };
    }

private:
    PyGILState_STATE gil_{};
};

class PySandbox;

class PyProcess {
public:
    explicit PyProcess(Process* process) : process_(process) {}
    pid_t pid() const { return process_->pid(); }
    bool running() const { return process_->running(); }
    py::dict wait(std::optional<double> timeout) {
        const Timeout t = timeout_from(timeout);
        Result r;
        {
            py::gil_scoped_release released;
            r = process_->wait(t);
        }
        return result_dict(r);
    }
    // None while it still runs after `seconds` (finite, 0 or more: the caller checks).
    py::object try_wait(double seconds) {
        const Timeout within = timeout_from(seconds);
        if (!within) return wait(std::nullopt);
        std::optional<Result> r;
        {
            py::gil_scoped_release released;
            r = process_->try_wait(*within);
        }
        if (!r) return py::none();
        return result_dict(*r);
    }
    void kill(int signal) {
        py::gil_scoped_release released;
        process_->kill(signal);
    }

private:
    Process* process_;  // owned by its Sandbox, which the Python side keeps alive
};

// A checkpoint (sandlock/checkpoint.hpp): taken by Sandbox.checkpoint() or loaded by name.
class PyCheckpoint {
public:
    explicit PyCheckpoint(Checkpoint checkpoint) : checkpoint_(std::move(checkpoint)) {}

    static PyCheckpoint load(const std::string& name, const std::string& store, const std::vector<std::string>& plugin_path) {
        py::gil_scoped_release released;
        return PyCheckpoint(Checkpoint::load(name, {store, plugin_path}));
    }
    static std::vector<std::string> list(const std::string& store, const std::vector<std::string>& plugin_path) {
        py::gil_scoped_release released;
        return Checkpoint::list({store, plugin_path});
    }
    static void remove(const std::string& name, const std::string& store, const std::vector<std::string>& plugin_path) {
        py::gil_scoped_release released;
        Checkpoint::remove(name, {store, plugin_path});
    }
    void save(const std::string& name, const std::string& store) {
        py::gil_scoped_release released;
        checkpoint_.save(name, store);
    }
    std::string name() const { return checkpoint_.name(); }
    std::string directory() const { return checkpoint_.directory(); }
    std::string policy_json() const { return policy_to_json(checkpoint_.policy()); }
    py::object app_state() const {
        if (!checkpoint_.app_state()) return py::none();
        return py::bytes(*checkpoint_.app_state());
    }
    py::list processes() const {
        py::list out;
        for (const CheckpointProcess& p : checkpoint_.processes()) {
            py::dict d;
            d["pid"] = p.pid;
            d["exe"] = p.exe;
            d["argv"] = p.argv;
            d["threads"] = p.threads;
            d["memory_bytes"] = p.memory_bytes;
            out.append(d);
        }
        return out;
    }
    std::vector<std::string> unrestorable() const { return checkpoint_.unrestorable(); }
    const Checkpoint& get() const { return checkpoint_; }

private:
    Checkpoint checkpoint_;
};

// A Python callable kept by C++ code that may drop it without the GIL: taken with the GIL,
// called and released with it.
class HeldCallable {
public:
    explicit HeldCallable(py::object fn) : fn_(new py::object(std::move(fn)), [](py::object* o) {
        py::gil_scoped_acquire held;
        delete o;
    }) {}
    std::string operator()() const {
        py::gil_scoped_acquire held;
        try {
            py::object value = (*fn_)();
            if (!py::isinstance<py::bytes>(value))
                throw CheckpointError("save_fn: it returned " + std::string(py::str(value.get_type().attr("__name__"))) +
                                      ", not bytes");
            return value.cast<std::string>();
        } catch (py::error_already_set& e) {
            // Turned into a C++ error here, with the GIL held, to cross the core.
            throw CheckpointError(std::string("save_fn raised ") + e.what());
        }
    }

private:
    std::shared_ptr<py::object> fn_;
};

class PySandbox {
public:
    PySandbox(const std::string& policy_json, const std::vector<std::string>& plugin_path)
        : sandbox_(policy_from(policy_json), options_from(plugin_path)) {}
    explicit PySandbox(Sandbox nested) : sandbox_(std::move(nested)) {}

    py::dict run(const std::vector<std::string>& argv, std::optional<double> timeout) {
        const Timeout t = timeout_from(timeout);
        Result r;
        {
            py::gil_scoped_release released;
            r = sandbox_.run(argv, t);
        }
        return result_dict(r);
    }

    // fn() runs in the confined child and returns the text sent back: (value, error, result).
    py::tuple call(const py::function& fn, std::optional<double> timeout) {
        const Timeout t = timeout_from(timeout);
        std::function<std::string()> in_child = [&fn]() -> std::string {
            py::gil_scoped_acquire held;
            return fn().cast<std::string>();
        };
        PythonFork python_fork;
        const ForkHooks hooks = python_fork.hooks();
        CallResult c;
        {
            py::gil_scoped_release released;
            c = sandbox_.call(in_child, t, hooks);
        }
        py::object value = c.value ? py::object(py::str(*c.value)) : py::object(py::none());
        return py::make_tuple(value, c.error, result_dict(c.process));
    }

    PyProcess exec(const std::vector<std::string>& argv, int stdin_fd, int stdout_fd, int stderr_fd, py::object save_fn) {
        std::function<std::string()> save;
        if (!save_fn.is_none()) save = HeldCallable(std::move(save_fn));
        py::gil_scoped_release released;
        return PyProcess(&sandbox_.exec(argv, ExecIo{stdin_fd, stdout_fd, stderr_fd}, std::move(save)));
    }
    PyCheckpoint checkpoint() {
        py::gil_scoped_release released;  // a save_fn takes it back
        return PyCheckpoint(sandbox_.checkpoint());
    }
    PyProcess restore(const PyCheckpoint& checkpoint, int stdin_fd, int stdout_fd, int stderr_fd, bool skip_unrestorable) {
        py::gil_scoped_release released;
        return PyProcess(&sandbox_.restore(checkpoint.get(), ExecIo{stdin_fd, stdout_fd, stderr_fd},
                                           RestoreOptions{.skip_unrestorable = skip_unrestorable}));
    }
    py::dict wait(std::optional<double> timeout) {
        const Timeout t = timeout_from(timeout);
        Result r;
        {
            py::gil_scoped_release released;
            r = sandbox_.wait(t);
        }
        return result_dict(r);
    }
    void pause() {
        py::gil_scoped_release released;
        sandbox_.pause();
    }
    void resume() {
        py::gil_scoped_release released;
        sandbox_.resume();
    }
    void update(std::optional<std::uint64_t> max_memory, std::optional<std::uint32_t> max_processes,
                std::optional<std::uint32_t> max_cpu) {
        py::gil_scoped_release released;
        sandbox_.update(Limits{max_memory, max_processes, max_cpu});
    }
    bool running() const { return sandbox_.running(); }
    void close() {
        py::gil_scoped_release released;
        sandbox_.close();
    }
    PySandbox nested(const std::string& child_json) {
        Policy child = policy_from(child_json);
        py::gil_scoped_release released;
        return PySandbox(sandbox_.sandbox(std::move(child)));
    }
    std::string policy_json() const { return policy_to_json(sandbox_.policy()); }

private:
    Sandbox sandbox_;
};

std::vector<std::string> names(std::span<const std::string_view> list) { return {list.begin(), list.end()}; }

// The Python exception classes live in sandlock.exceptions (pure Python, subclassable).
void raise_as(const char* class_name, const std::exception& e) {
    py::object cls = py::module_::import("sandlock.exceptions").attr(class_name);
    PyErr_SetString(cls.ptr(), e.what());
}

}  // namespace

PYBIND11_MODULE(_sandlock, m) {
    m.doc() = "sandlock's C++ core; use the sandlock package";

    py::register_exception_translator([](std::exception_ptr p) {
        try {
            if (p) std::rethrow_exception(p);
        } catch (const PolicyError& e) {
            raise_as("PolicyError", e);
        } catch (const PluginError& e) {
            raise_as("PluginError", e);
        } catch (const ConfinementError& e) {
            raise_as("ConfinementError", e);
        } catch (const SandboxError& e) {
            raise_as("SandboxError", e);
        } catch (const CheckpointError& e) {
            raise_as("CheckpointError", e);
        } catch (const Error& e) {
            raise_as("SandlockError", e);
        }
    });

    m.def("landlock_abi_version", &landlock_abi);
    m.def("default_deny_syscalls", [] { return names(seccomp::default_deny_list()); });
    m.def("default_allow_syscalls", [] { return names(seccomp::default_allow_list()); });
    m.def("list_profiles", [] {
        std::vector<std::string> out;
        for (const ProfileEntry& entry : list_profiles()) out.push_back(entry.name);
        return out;
    });
    m.def("load_profile", [](const std::string& name) { return policy_to_json(load_profile(name)); });
    m.def("parse_profile", [](const std::string& text, const std::string& source) {
        return policy_to_json(parse_profile(text, source));
    });
    m.def("check_policy", [](const std::string& json) { check_policy_text(policy_from(json)); });

    py::class_<PyProcess>(m, "Process")
        .def_property_readonly("pid", &PyProcess::pid)
        .def_property_readonly("running", &PyProcess::running)
        .def("wait", &PyProcess::wait, py::arg("timeout") = py::none())
        .def("try_wait", &PyProcess::try_wait, py::arg("seconds"))
        .def("kill", &PyProcess::kill, py::arg("signal") = SIGKILL);

    py::class_<PySandbox>(m, "Sandbox")
        .def(py::init<const std::string&, const std::vector<std::string>&>(), py::arg("policy_json"),
             py::arg("plugin_path"))
        .def("run", &PySandbox::run, py::arg("argv"), py::arg("timeout") = py::none())
        .def("call", &PySandbox::call, py::arg("fn"), py::arg("timeout") = py::none())
        .def("exec", &PySandbox::exec, py::arg("argv"), py::arg("stdin_fd"), py::arg("stdout_fd"), py::arg("stderr_fd"),
             py::arg("save_fn"),
             py::keep_alive<0, 1>())
        .def("wait", &PySandbox::wait, py::arg("timeout") = py::none())
        .def("pause", &PySandbox::pause)
        .def("resume", &PySandbox::resume)
        .def("update", &PySandbox::update, py::arg("max_memory"), py::arg("max_processes"), py::arg("max_cpu"))
        .def_property_readonly("running", &PySandbox::running)
        .def("close", &PySandbox::close)
        .def("nested", &PySandbox::nested, py::arg("child_policy_json"), py::keep_alive<0, 1>())
        .def("policy_json", &PySandbox::policy_json)
        .def("checkpoint", &PySandbox::checkpoint)
        .def("restore", &PySandbox::restore, py::arg("checkpoint"), py::arg("stdin_fd"), py::arg("stdout_fd"),
             py::arg("stderr_fd"), py::arg("skip_unrestorable"), py::keep_alive<0, 1>());

    py::class_<PyCheckpoint>(m, "Checkpoint")
        .def_static("load", &PyCheckpoint::load, py::arg("name"), py::arg("store"), py::arg("plugin_path"))
        .def_static("list", &PyCheckpoint::list, py::arg("store"), py::arg("plugin_path"))
        .def_static("remove", &PyCheckpoint::remove, py::arg("name"), py::arg("store"), py::arg("plugin_path"))
        .def("save", &PyCheckpoint::save, py::arg("name"), py::arg("store"))
        .def_property_readonly("name", &PyCheckpoint::name)
        .def_property_readonly("directory", &PyCheckpoint::directory)
        .def_property_readonly("app_state", &PyCheckpoint::app_state)
        .def_property_readonly("processes", &PyCheckpoint::processes)
        .def_property_readonly("unrestorable", &PyCheckpoint::unrestorable)
        .def("policy_json", &PyCheckpoint::policy_json);
}
