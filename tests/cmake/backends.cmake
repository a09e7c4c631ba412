# The acceptance tests of the backends (xhal_backend_acceptance() in cmake/xhal_backend.cmake),
# and the proof that a port built from the skeleton runs: backends/null copied under another name
# as a port does (docs/PORTING.md), built with its own CMakeLists.txt, and put through the whole
# conformance suite, which must SKIP every case with its reason.

set(XHAL_ACCEPTANCE_DIR ${CMAKE_BINARY_DIR}/tests/acceptance)
file(MAKE_DIRECTORY ${XHAL_ACCEPTANCE_DIR})

# ---- The port: backends/null -> porttest, "null" replaced in names and text ----
set(xhal_port_src ${CMAKE_BINARY_DIR}/tests/porttest-src)
file(GLOB xhal_null_files ${XHAL_TEST_ROOT}/backends/null/*)
set_property(DIRECTORY APPEND PROPERTY CMAKE_CONFIGURE_DEPENDS ${xhal_null_files})
foreach(null_file IN LISTS xhal_null_files)
  get_filename_component(file_name ${null_file} NAME)
  string(REPLACE "null" "porttest" port_name "${file_name}")
  file(READ ${null_file} content)
  string(REPLACE "null" "porttest" content "${content}")
  # Written through configure_file so that an unchanged file is not touched (no rebuild).
  file(WRITE ${xhal_port_src}/${port_name}.in "${content}")
  configure_file(${xhal_port_src}/${port_name}.in ${xhal_port_src}/${port_name} COPYONLY)
endforeach()
add_subdirectory(${xhal_port_src} ${CMAKE_BINARY_DIR}/tests/porttest-build)

# ---- One test per backend that asked for one ----
get_property(xhal_acceptance GLOBAL PROPERTY XHAL_BACKEND_ACCEPTANCE)
foreach(entry IN LISTS xhal_acceptance)
  string(REPLACE "|" ";" fields "${entry}")
  list(GET fields 0 name)
  list(GET fields 1 expected)
  list(GET fields 2 plugin_dir)
  list(GET fields 3 timeout)
  list(GET fields 4 labels)
  list(GET fields 5 args)
  list(GET fields 6 nothing_runs)
  string(REPLACE "@@" ";" labels "${labels}")
  string(REPLACE "@@" ";" args "${args}")
  add_test(NAME conform_${name}
           COMMAND bash ${CMAKE_CURRENT_SOURCE_DIR}/conformance/backend_acceptance.sh
                   $<TARGET_FILE:xhal_tool> ${name} "${expected}" ${XHAL_ACCEPTANCE_DIR}/${name}
                   "${nothing_runs}" ${args})
  # Only the backend under test loads. The user's cache stays: a backend's compiled programs
  # there (OpenCL: tens of seconds to build on PoCL) serve its other tests too.
  set(env "XHAL_BACKENDS=${name}")
  if(plugin_dir)
    list(APPEND env "XHAL_BACKEND_PATH=${plugin_dir}")
  endif()
  # A real backend's acceptance runs its kernels: too slow for the valgrind stage (and bash's
  # own leaks on the skip path would fail it there). The skeleton's runs nothing: valgrind
  # checks the suite and the skeleton through it.
  if(NOT nothing_runs OR name STREQUAL "null") # (null: its copy, porttest, is the same code)
    list(APPEND labels slow)
  endif()
  set_tests_properties(conform_${name} PROPERTIES LABELS "conformance;acceptance;${labels}"
                       TIMEOUT ${timeout} SKIP_RETURN_CODE 77 ENVIRONMENT "${env}")
endforeach()
