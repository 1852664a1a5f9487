# Debian packages with CPack, one per install component (cmake/SandlockPackage.cmake):
#   sandlock                  cli: bin/sandlock (core linked in), man pages 1 and 5; Provides
#                             sandlock-abi-N and recommends the layers
#   sandlock-plugin-NAME      plugin_NAME: one layer; Depends on sandlock-abi-N
#   libsandlock-dev           dev: headers, libsandlock.a, CMake config, pkg-config, man page 7
# N is the plugin ABI the host speaks (SANDLOCK_ABI_VERSION, read from the SDK's abi.h below), so a layer built
# for another ABI cannot be installed next to this host. Build them with scripts/build-debs.sh
# (configured with CMAKE_INSTALL_PREFIX=/usr, which makes LIBDIR lib/<multiarch>).

file(STRINGS ${PROJECT_SOURCE_DIR}/sdk/include/sandlock/sdk/abi.h abi_line REGEX "define SANDLOCK_ABI_VERSION [0-9]+u")
if(NOT abi_line MATCHES "define SANDLOCK_ABI_VERSION ([0-9]+)u")
  message(FATAL_ERROR "cannot read SANDLOCK_ABI_VERSION from sdk/include/sandlock/sdk/abi.h for the sandlock-abi-N package")
endif()
set(SANDLOCK_ABI_PACKAGE sandlock-abi-${CMAKE_MATCH_1})

set(SANDLOCK_LAYERS landlock seccomp notif branchfs checkpoint)
set(SANDLOCK_DEFAULT_LAYERS landlock seccomp notif)
set(SANDLOCK_DEB_MAINTAINER "sandlock developers <dev@sandlock.invalid>" CACHE STRING
  "Maintainer field of the Debian packages")

set(CPACK_GENERATOR DEB)
set(CPACK_PACKAGE_NAME sandlock)
set(CPACK_PACKAGE_VENDOR sandlock)
set(CPACK_PACKAGE_CONTACT "${SANDLOCK_DEB_MAINTAINER}")
set(CPACK_PACKAGE_VERSION ${PROJECT_VERSION})
set(CPACK_PACKAGING_INSTALL_PREFIX ${CMAKE_INSTALL_PREFIX})
set(CPACK_STRIP_FILES ON)
set(CPACK_DEB_COMPONENT_INSTALL ON)
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)
set(CPACK_DEBIAN_PACKAGE_RELEASE 1)
set(CPACK_DEBIAN_PACKAGE_PRIORITY optional)
set(CPACK_DEBIAN_PACKAGE_SECTION admin)
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)
set(CPACK_DEBIAN_COMPRESSION_TYPE xz)

set(CPACK_COMPONENTS_ALL cli dev)
set(CPACK_DEBIAN_CLI_PACKAGE_NAME sandlock)
set(CPACK_DEBIAN_CLI_PACKAGE_PROVIDES ${SANDLOCK_ABI_PACKAGE})
list(TRANSFORM SANDLOCK_DEFAULT_LAYERS PREPEND sandlock-plugin- OUTPUT_VARIABLE recommended)
list(JOIN recommended ", " recommended)
set(CPACK_DEBIAN_CLI_PACKAGE_RECOMMENDS "${recommended}")
set(CPACK_DEBIAN_CLI_PACKAGE_SUGGESTS "sandlock-plugin-branchfs, sandlock-plugin-checkpoint")
set(CPACK_COMPONENT_CLI_DESCRIPTION "lightweight Linux process sandbox
sandlock confines untrusted programs with the kernel's own mechanisms:
Landlock, seccomp-bpf and seccomp user notification. No root, no containers,
no images.
.
This package holds the sandlock command. Each enforcement layer is a plugin
in its own package (sandlock-plugin-*).")

foreach(layer IN LISTS SANDLOCK_LAYERS)
  string(TOUPPER plugin_${layer} component)
  list(APPEND CPACK_COMPONENTS_ALL plugin_${layer})
  set(CPACK_DEBIAN_${component}_PACKAGE_NAME sandlock-plugin-${layer})
  set(CPACK_DEBIAN_${component}_PACKAGE_DEPENDS ${SANDLOCK_ABI_PACKAGE})
endforeach()
set(layer_description "
sandlock confines untrusted programs with the kernel's own mechanisms. Each
enforcement layer is a plugin loaded by the sandlock command (package
sandlock) or the sandlock library (package libsandlock-dev).")
set(CPACK_COMPONENT_PLUGIN_LANDLOCK_DESCRIPTION "sandlock layer: Landlock filesystem, port and IPC rules${layer_description}
.
This layer enforces the readable and writable paths, TCP port rules and
IPC and signal scoping with Landlock.")
set(CPACK_COMPONENT_PLUGIN_SECCOMP_DESCRIPTION "sandlock layer: seccomp system call filter${layer_description}
.
This layer installs the seccomp-bpf filter (denied and allowed system calls,
argument checks) and hands the notification listener to the notif layer.
sandlock always loads it.")
set(CPACK_COMPONENT_PLUGIN_NOTIF_DESCRIPTION "sandlock layer: supervisor on seccomp user notification${layer_description}
.
This layer enforces memory, process and CPU limits, network host allowlists
and /proc rules from a supervisor thread.")
set(CPACK_COMPONENT_PLUGIN_BRANCHFS_DESCRIPTION "sandlock layer: copy-on-write branches of a workspace${layer_description}
.
This layer gives the sandbox an overlay branch of a workspace that is
committed, aborted or kept when the command ends.")
set(CPACK_COMPONENT_PLUGIN_CHECKPOINT_DESCRIPTION "sandlock layer: checkpoint and restore${layer_description}
.
This layer takes checkpoints of a running sandbox's processes with ptrace,
keeps them in the user's checkpoint store and restores a process in place.")

set(CPACK_DEBIAN_DEV_PACKAGE_NAME libsandlock-dev)
set(CPACK_DEBIAN_DEV_PACKAGE_SECTION libdevel)
# libsandlock.a links Boost.Log statically and its headers include Boost.
set(boost_version ${Boost_VERSION_MAJOR}.${Boost_VERSION_MINOR})
set(CPACK_DEBIAN_DEV_PACKAGE_DEPENDS "libboost${boost_version}-dev, libboost-log${boost_version}-dev")
set(CPACK_DEBIAN_DEV_PACKAGE_RECOMMENDS "${recommended}")
set(CPACK_COMPONENT_DEV_DESCRIPTION "sandlock library and plugin SDK
sandlock confines untrusted programs with the kernel's own mechanisms:
Landlock, seccomp-bpf and seccomp user notification.
.
This package holds the C++ library libsandlock.a (Sandbox, Policy, Result)
with its CMake config (find_package(sandlock), target sandlock::sandlock)
and pkg-config file (sandlock), and the SDK for writing plugins (target
sandlock::sdk, pkg-config sandlock-sdk).")

if(TARGET _sandlock)
  list(APPEND CPACK_COMPONENTS_ALL python)
  set(CPACK_DEBIAN_PYTHON_PACKAGE_NAME python3-sandlock)
  set(CPACK_DEBIAN_PYTHON_PACKAGE_SECTION python)
  # The extension module is built for this interpreter's minor version.
  set(CPACK_DEBIAN_PYTHON_PACKAGE_DEPENDS
    "python3 (>= ${SANDLOCK_PYTHON_VERSION}), python3 (<< ${SANDLOCK_PYTHON_VERSION}.99), ${SANDLOCK_ABI_PACKAGE}")
  set(CPACK_DEBIAN_PYTHON_PACKAGE_RECOMMENDS "${recommended}")
  set(CPACK_COMPONENT_PYTHON_DESCRIPTION "sandlock for Python: import sandlock
sandlock confines untrusted programs with the kernel's own mechanisms:
Landlock, seccomp-bpf and seccomp user notification.
.
This package holds the Python package sandlock (Sandbox, Policy, Result),
a drop-in for the public API of the reference sandlock 0.1.0, on the C++
core. Its layers come from the sandlock-plugin-* packages.")
endif()

# Every package carries its copyright and changelog (Debian policy 12.5 and 12.7).
string(TIMESTAMP changelog_date "%a, %d %b %Y %H:%M:%S +0000" UTC)
foreach(component IN LISTS CPACK_COMPONENTS_ALL)
  string(TOUPPER ${component} upper)
  set(package ${CPACK_DEBIAN_${upper}_PACKAGE_NAME})
  set(doc ${CMAKE_BINARY_DIR}/debian-doc/${package})
  file(WRITE ${doc}/changelog.Debian
    "${package} (${PROJECT_VERSION}-${CPACK_DEBIAN_PACKAGE_RELEASE}) unstable; urgency=medium\n\n"
    "  * Built from the sandlock source tree with CPack.\n\n"
    " -- ${SANDLOCK_DEB_MAINTAINER}  ${changelog_date}\n")
  execute_process(COMMAND gzip -9nf ${doc}/changelog.Debian COMMAND_ERROR_IS_FATAL ANY)
  install(FILES ${PROJECT_SOURCE_DIR}/cmake/debian/copyright ${doc}/changelog.Debian.gz
    DESTINATION ${CMAKE_INSTALL_DATAROOTDIR}/doc/${package} COMPONENT ${component}
    EXCLUDE_FROM_ALL)
endforeach()

install(FILES ${PROJECT_SOURCE_DIR}/cmake/debian/libsandlock-dev.lintian-overrides
  DESTINATION ${CMAKE_INSTALL_DATAROOTDIR}/lintian/overrides RENAME libsandlock-dev COMPONENT dev
  EXCLUDE_FROM_ALL)

include(CPack)
