set(SANDLOCK_PLUGIN_MAP ${CMAKE_CURRENT_LIST_DIR}/sandlock-plugin.map)

# sandlock_add_plugin(NAME SOURCES...): builds NAME.so for lib/sandlock/plugins. The plugin
# sees only the SDK and the public API, keeps its symbols hidden, and links libstdc++ and
# libgcc statically so loading it pulls no C++ runtime into the host.
function(sandlock_add_plugin name)
  add_library(${name} MODULE ${ARGN})
  target_link_libraries(${name} PRIVATE sandlock::sdk)
  set_target_properties(${name} PROPERTIES
    PREFIX ""
    OUTPUT_NAME ${name}
    CXX_VISIBILITY_PRESET hidden
    VISIBILITY_INLINES_HIDDEN ON)
  if(DEFINED SANDLOCK_PLUGIN_OUTPUT_DIR)
    set_target_properties(${name} PROPERTIES LIBRARY_OUTPUT_DIRECTORY ${SANDLOCK_PLUGIN_OUTPUT_DIR})
  endif()
  target_link_options(${name} PRIVATE -Wl,--version-script=${SANDLOCK_PLUGIN_MAP} -Wl,-z,defs)
  if(NOT SANDLOCK_SANITIZE)
    target_link_options(${name} PRIVATE -static-libstdc++ -static-libgcc -Wl,--exclude-libs,ALL
      -Wl,-z,pack-relative-relocs -Wl,--gc-sections -Wl,-O1)
  endif()
endfunction()
