# Warnings, sanitizers and the static C++ runtime shared by every target of this tree.

add_library(sandlock_warnings INTERFACE)
target_compile_options(sandlock_warnings INTERFACE -Wall -Wextra -Wpedantic -Wshadow
  -Wno-missing-field-initializers $<$<BOOL:${SANDLOCK_WERROR}>:-Werror>)

# The startup budget: the executable and the plugins carry their own libstdc++/libgcc, so no
# C++ runtime is loaded at start (a sanitizer build links dynamically).
add_library(sandlock_runtime INTERFACE)
if(SANDLOCK_SANITIZE)
  add_compile_options(-fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined)
  add_link_options(-fsanitize=address,undefined)
else()
  target_link_options(sandlock_runtime INTERFACE -static-libstdc++ -static-libgcc)
endif()

# Less work for the dynamic loader on every start: compact relative relocations (DT_RELR)
# and no unused code or data in the executable and the plugins.
add_compile_options(-ffunction-sections -fdata-sections)
set(SANDLOCK_LEAN_LINK_OPTIONS -Wl,-z,pack-relative-relocs -Wl,--gc-sections -Wl,-O1)
target_link_options(sandlock_runtime INTERFACE ${SANDLOCK_LEAN_LINK_OPTIONS})

# sandlock_add_plugin_internals(NAME SOURCES...): a plugin's logic as a static library, so the
# unit tests can link what the plugin module links (position-independent, symbols hidden).
function(sandlock_add_plugin_internals name)
  add_library(${name} STATIC ${ARGN})
  set_target_properties(${name} PROPERTIES
    POSITION_INDEPENDENT_CODE ON
    CXX_VISIBILITY_PRESET hidden
    VISIBILITY_INLINES_HIDDEN ON)
  target_include_directories(${name} PUBLIC ${CMAKE_CURRENT_SOURCE_DIR})
  target_link_libraries(${name} PUBLIC sandlock::sdk PRIVATE sandlock_warnings)
endfunction()
