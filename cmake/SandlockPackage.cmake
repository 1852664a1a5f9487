# Installation, in components the Debian packages are cut along (cmake/SandlockDeb.cmake):
#   cli              bin/sandlock                                       -> package sandlock
#   plugin_NAME      LIBDIR/sandlock/plugins/NAME.so                    -> sandlock-plugin-NAME
#   dev              headers, libsandlock.a, CMake config, pkg-config   -> libsandlock-dev
# LIBDIR is lib under /usr/local and lib/<multiarch> under /usr (GNUInstallDirs); bin/sandlock
# looks in both (plugin_search_path()). find_package(sandlock) gives sandlock::sandlock (the
# library) and sandlock::sdk with sandlock_add_plugin(); pkg-config: sandlock, sandlock-sdk.
include(CMakePackageConfigHelpers)
include(SandlockStaticLinkFlags)

set(SANDLOCK_CMAKE_DIR ${SANDLOCK_INSTALL_LIBDIR}/cmake/sandlock)
set(SANDLOCK_PKGCONFIG_DIR ${SANDLOCK_INSTALL_LIBDIR}/pkgconfig)

install(TARGETS sandlock RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR} COMPONENT cli)
foreach(plugin landlock seccomp notif branchfs checkpoint)
  install(TARGETS ${plugin} LIBRARY DESTINATION ${SANDLOCK_INSTALL_PLUGIN_SUBDIR} COMPONENT plugin_${plugin})
endforeach()

install(DIRECTORY sdk/include/sandlock core/include/sandlock DESTINATION ${CMAKE_INSTALL_INCLUDEDIR}
  COMPONENT dev)
install(TARGETS sandlock_sdk sandlock_core EXPORT sandlockTargets
  ARCHIVE DESTINATION ${SANDLOCK_INSTALL_LIBDIR} COMPONENT dev)
# `cmake --install --strip` and CPack strip executables and modules, not archives: without its
# debug information libsandlock.a is about a tenth of its size (what dh_strip does).
install(CODE "if(CMAKE_INSTALL_DO_STRIP)
  execute_process(COMMAND \"${CMAKE_STRIP}\" --strip-debug --enable-deterministic-archives
    \"\$ENV{DESTDIR}\${CMAKE_INSTALL_PREFIX}/${SANDLOCK_INSTALL_LIBDIR}/libsandlock.a\" COMMAND_ERROR_IS_FATAL ANY)
endif()" COMPONENT dev)
install(EXPORT sandlockTargets NAMESPACE sandlock:: DESTINATION ${SANDLOCK_CMAKE_DIR} COMPONENT dev)
configure_package_config_file(cmake/sandlockConfig.cmake.in
  ${CMAKE_BINARY_DIR}/sandlockConfig.cmake INSTALL_DESTINATION ${SANDLOCK_CMAKE_DIR})
write_basic_package_version_file(${CMAKE_BINARY_DIR}/sandlockConfigVersion.cmake
  COMPATIBILITY SameMinorVersion)
install(FILES ${CMAKE_BINARY_DIR}/sandlockConfig.cmake ${CMAKE_BINARY_DIR}/sandlockConfigVersion.cmake
  cmake/SandlockPlugin.cmake cmake/sandlock-plugin.map DESTINATION ${SANDLOCK_CMAKE_DIR} COMPONENT dev)

# libsandlock.a links Boost.Log statically, like bin/sandlock: its users need these after it.
sandlock_static_link_flags(SANDLOCK_PC_DEPENDENCY_LIBS Boost::log)
string(APPEND SANDLOCK_PC_DEPENDENCY_LIBS " -l${CMAKE_DL_LIBS}")
configure_file(cmake/sandlock.pc.in ${CMAKE_BINARY_DIR}/sandlock.pc @ONLY)
configure_file(cmake/sandlock-sdk.pc.in ${CMAKE_BINARY_DIR}/sandlock-sdk.pc @ONLY)
install(FILES ${CMAKE_BINARY_DIR}/sandlock.pc ${CMAKE_BINARY_DIR}/sandlock-sdk.pc
  DESTINATION ${SANDLOCK_PKGCONFIG_DIR} COMPONENT dev)

include(SandlockDeb)
