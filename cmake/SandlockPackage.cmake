# Installation: the same layout as the build tree, plus the SDK for out-of-tree plugins
# (find_package(sandlock) with sandlock_add_plugin(), or pkg-config sandlock-sdk).
include(CMakePackageConfigHelpers)

install(TARGETS sandlock RUNTIME DESTINATION bin)
install(TARGETS landlock seccomp notif branchfs LIBRARY DESTINATION ${SANDLOCK_PLUGIN_SUBDIR})
install(DIRECTORY sdk/include/sandlock core/include/sandlock DESTINATION ${CMAKE_INSTALL_INCLUDEDIR})

install(TARGETS sandlock_sdk EXPORT sandlockTargets)
install(EXPORT sandlockTargets NAMESPACE sandlock:: DESTINATION lib/cmake/sandlock)
configure_package_config_file(cmake/sandlockConfig.cmake.in
  ${CMAKE_BINARY_DIR}/sandlockConfig.cmake INSTALL_DESTINATION lib/cmake/sandlock)
write_basic_package_version_file(${CMAKE_BINARY_DIR}/sandlockConfigVersion.cmake
  COMPATIBILITY SameMinorVersion)
install(FILES ${CMAKE_BINARY_DIR}/sandlockConfig.cmake ${CMAKE_BINARY_DIR}/sandlockConfigVersion.cmake
  cmake/SandlockPlugin.cmake cmake/sandlock-plugin.map DESTINATION lib/cmake/sandlock)

configure_file(cmake/sandlock-sdk.pc.in ${CMAKE_BINARY_DIR}/sandlock-sdk.pc @ONLY)
install(FILES ${CMAKE_BINARY_DIR}/sandlock-sdk.pc DESTINATION lib/pkgconfig)
