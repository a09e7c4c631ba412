# Building a backend plugin and making `xhal conform` its acceptance test: the two CMake
# functions a port uses (docs/PORTING.md). Included by the top-level CMakeLists.txt.

set(XHAL_CMAKE_DIR ${CMAKE_CURRENT_LIST_DIR})

# xhal_add_backend(<name> SOURCES <file>...
#                  [EMBED <symbol>=<file>...]    files compiled in as NUL-terminated char arrays
#                                                (kernel sources, the tuning INI)
#                  [INCLUDES <dir>...] [LIBRARIES <lib>...]
#                  [OUTPUT_DIRECTORY <dir>]      default: lib/xhal, where the core looks
#                  [NO_INSTALL])
# makes the plugin libxhal-<name>.so (target xhal-<name>) linked with backends/common
# (xhal_common), the project's warnings and XHAL_NO_UNDEFINED, and installs it beside the others.
function(xhal_add_backend name)
  cmake_parse_arguments(B "NO_INSTALL" "OUTPUT_DIRECTORY"
                        "SOURCES;EMBED;INCLUDES;LIBRARIES" ${ARGN})
  set(target xhal-${name})
  set(sources ${B_SOURCES})
  if(B_EMBED)
    set(embedded_c ${CMAKE_CURRENT_BINARY_DIR}/${name}_embedded.c)
    set(embedded_files "")
    foreach(entry IN LISTS B_EMBED)
      string(REGEX REPLACE "^[^=]*=" "" path "${entry}")
      list(APPEND embedded_files ${path})
    endforeach()
    add_custom_command(
      OUTPUT ${embedded_c}
      COMMAND ${CMAKE_COMMAND} -DOUTPUT=${embedded_c} "-DINPUTS=${B_EMBED}"
              -P ${XHAL_CMAKE_DIR}/xhal_embed.cmake
      DEPENDS ${embedded_files} ${XHAL_CMAKE_DIR}/xhal_embed.cmake
      COMMENT "Embedding the data of the ${name} backend"
      VERBATIM)
    list(APPEND sources ${embedded_c})
  endif()
  if(NOT B_OUTPUT_DIRECTORY)
    set(B_OUTPUT_DIRECTORY ${XHAL_PLUGIN_OUTPUT_DIRECTORY})
  endif()
  add_library(${target} MODULE ${sources})
  target_include_directories(${target} PRIVATE ${CMAKE_CURRENT_SOURCE_DIR} ${B_INCLUDES})
  target_link_libraries(${target} PRIVATE xhal xhal_common xhal_warnings Threads::Threads
                        ${CMAKE_DL_LIBS} m ${B_LIBRARIES})
  target_link_options(${target} PRIVATE ${XHAL_NO_UNDEFINED})
  set_target_properties(${target} PROPERTIES PREFIX "lib" OUTPUT_NAME "xhal-${name}"
                        LIBRARY_OUTPUT_DIRECTORY ${B_OUTPUT_DIRECTORY})
  if(NOT B_NO_INSTALL)
    install(TARGETS ${target} LIBRARY DESTINATION ${XHAL_PLUGIN_INSTALL_DIR})
  endif()
endfunction()

# xhal_backend_acceptance(<name> [EXPECTED <file>] [PLUGIN_DIR <dir>] [TIMEOUT <s>]
#                         [LABELS <label>...] [ARGS <conform option>...] [NOTHING_RUNS])
# makes `xhal conform --device <name> [ARGS] --expected <file>` the acceptance test of backend
# <name> (ctest name: conform_<name>): it passes when every correctness case passes, is skipped
# (SKIP) with its reason or is an expected failure listed in <file> (default:
# backends/<name>/expected.ini when it exists). Without a device of that backend the test is
# skipped (exit 77). PLUGIN_DIR is put in XHAL_BACKEND_PATH (a plugin built outside lib/xhal).
# NOTHING_RUNS (the skeleton) asks more: every case is SKIP with a reason, none passes.
# Registered by tests/cmake/backends.cmake when testing is on.
function(xhal_backend_acceptance name)
  cmake_parse_arguments(A "NOTHING_RUNS" "EXPECTED;PLUGIN_DIR;TIMEOUT" "LABELS;ARGS" ${ARGN})
  if(NOT A_EXPECTED AND EXISTS ${CMAKE_CURRENT_SOURCE_DIR}/expected.ini)
    set(A_EXPECTED ${CMAKE_CURRENT_SOURCE_DIR}/expected.ini)
  endif()
  if(NOT A_TIMEOUT)
    set(A_TIMEOUT 600)
  endif()
  string(REPLACE ";" "@@" args "${A_ARGS}")
  string(REPLACE ";" "@@" labels "${A_LABELS}")
  set_property(GLOBAL APPEND PROPERTY XHAL_BACKEND_ACCEPTANCE
               "${name}|${A_EXPECTED}|${A_PLUGIN_DIR}|${A_TIMEOUT}|${labels}|${args}|${A_NOTHING_RUNS}")
endfunction()
