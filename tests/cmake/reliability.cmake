# Tests of the reliability work (issue 14; docs/RELIABILITY.md), included by tests/CMakeLists.txt
# in its scope (xhal_test, xhal_test_plugin, XHAL_TEST_CPU_SOURCES come from there):
#
#   reliability   one regression test per defect the outside campaign found
#   faults        the fault-injection backend (plugins/faulty_plugin.c) failing every call of a
#                 scenario in turn: each fault reported, nothing leaked, the library still usable
#   chart_bounds  the roofline and bar charts with coinciding, huge and non-finite points
#   (tool tests)  warnings for bad XHAL_CPU_ISA / XHAL_CPU_THREADS values
#
# The sanitizer campaigns (libFuzzer targets, the ThreadSanitizer stress test) have their own
# builds: tests/fuzz/ and tests/stress/ (see the Makefile's test-fuzz and test-tsan).

set(XHAL_ODD_PLUGIN_DIR ${CMAKE_BINARY_DIR}/tests/odd-plugins)
set(XHAL_FAULTY_PLUGIN_DIR ${CMAKE_BINARY_DIR}/tests/faulty-plugins)

# Plugins whose entry is a data object, and whose init returns a status xhal does not define.
set(xhal_odd_plugins "")
foreach(spec "baddata;7" "badstatus;6")
  list(GET spec 0 pname)
  list(GET spec 1 pmode)
  set(target xhal_test_plugin_${pname})
  add_library(${target} MODULE ${CMAKE_CURRENT_SOURCE_DIR}/plugins/broken_plugin.c)
  set_target_properties(${target} PROPERTIES PREFIX "lib" OUTPUT_NAME "xhal-${pname}"
                        SUFFIX ".so" LIBRARY_OUTPUT_DIRECTORY ${XHAL_ODD_PLUGIN_DIR}
                        C_VISIBILITY_PRESET hidden)
  target_include_directories(${target} PRIVATE ${XHAL_TEST_ROOT}/hal/include)
  target_compile_definitions(${target} PRIVATE BROKEN_MODE=${pmode} BROKEN_NAME="${pname}")
  target_link_libraries(${target} PRIVATE xhal_test_flags)
  list(APPEND xhal_odd_plugins ${target})
endforeach()

xhal_test(reliability)
xhal_test(reliability RUN_NAME reliability_heavy ARGS heavy LABELS slow)
target_compile_definitions(test_reliability PRIVATE XT_ODD_DIR="${XHAL_ODD_PLUGIN_DIR}")
if(TARGET xhal-opencl)
  target_compile_definitions(test_reliability PRIVATE XT_INSTALL_PLUGIN="opencl")
  add_dependencies(test_reliability xhal-opencl)
endif()
add_dependencies(test_reliability ${xhal_odd_plugins})

# The fault-injection backend: the CPU backend's objects (compiled once for the conformance
# plugins when they exist) behind a table that fails chosen calls.
if(TARGET xhal_conform_cpu_objects)
  set(xhal_faulty_cpu $<TARGET_OBJECTS:xhal_conform_cpu_objects>)
else()
  set(xhal_faulty_cpu ${XHAL_TEST_CPU_SOURCES})
endif()
add_library(xhal_test_plugin_faulty MODULE ${CMAKE_CURRENT_SOURCE_DIR}/plugins/faulty_plugin.c
            ${xhal_faulty_cpu})
set_target_properties(xhal_test_plugin_faulty PROPERTIES PREFIX "lib" OUTPUT_NAME "xhal-faulty"
                      SUFFIX ".so" LIBRARY_OUTPUT_DIRECTORY ${XHAL_FAULTY_PLUGIN_DIR}
                      C_VISIBILITY_PRESET hidden)
target_include_directories(xhal_test_plugin_faulty PRIVATE
                           $<TARGET_PROPERTY:xhal,INCLUDE_DIRECTORIES>)
target_compile_definitions(xhal_test_plugin_faulty PRIVATE
                           $<TARGET_PROPERTY:xhal,COMPILE_DEFINITIONS>)
target_link_libraries(xhal_test_plugin_faulty PRIVATE xhal xhal_common xhal_test_flags Threads::Threads m)
target_link_options(xhal_test_plugin_faulty PRIVATE ${XHAL_NO_UNDEFINED})

xhal_test(faults)
target_compile_definitions(test_faults PRIVATE XT_FAULTY_DIR="${XHAL_FAULTY_PLUGIN_DIR}"
                           XT_FAULTY_PLUGIN="${XHAL_FAULTY_PLUGIN_DIR}/libxhal-faulty.so")
target_link_libraries(test_faults PRIVATE ${CMAKE_DL_LIBS})
add_dependencies(test_faults xhal_test_plugin_faulty)

# Bad values of the CPU backend's variables are warned about (XHAL_LOG=warn shows warnings).
add_test(NAME tool_bad_cpu_isa COMMAND xhal_tool devices)
set_tests_properties(tool_bad_cpu_isa PROPERTIES LABELS "tool"
  ENVIRONMENT "XHAL_LOG=warn;XHAL_BACKENDS=cpu;XHAL_CPU_ISA=garbage"
  PASS_REGULAR_EXPRESSION "XHAL_CPU_ISA=\"?garbage\"? is not (one of )?avx512, avx2,? (or )?generic")
add_test(NAME tool_cpu_threads_oversubscribed COMMAND xhal_tool devices)
# More threads than valgrind runs (500): labelled slow, which keeps it out of the valgrind stage.
set_tests_properties(tool_cpu_threads_oversubscribed PROPERTIES LABELS "tool;slow"
  ENVIRONMENT "XHAL_LOG=warn;XHAL_BACKENDS=cpu;XHAL_CPU_THREADS=512"
  PASS_REGULAR_EXPRESSION "XHAL_CPU_THREADS=512 is more than the [0-9]+ CPUs")

if(TARGET xhal_conformance)
  xhal_test(chart_bounds SOURCE conformance/test_chart_bounds.c LABELS conformance)
  target_link_libraries(test_chart_bounds PRIVATE xhal_conformance)
  target_compile_definitions(test_chart_bounds PRIVATE
                             XT_WORK_DIR="${CMAKE_BINARY_DIR}/tests/chart-bounds")
  file(MAKE_DIRECTORY ${CMAKE_BINARY_DIR}/tests/chart-bounds)
endif()

# An OpenCL tuning that passes every key's range but not the device's local memory. It runs
# kernels on PoCL, so it is labelled slow (out of the valgrind stage, where bash itself leaks).
if(TARGET xhal-opencl)
  add_test(NAME opencl_tuning_limits
           COMMAND bash ${CMAKE_CURRENT_SOURCE_DIR}/opencl/tuning_limits.sh
                   $<TARGET_FILE:xhal_tool> ${CMAKE_BINARY_DIR}/tests/opencl-tuning-limits)
  set_tests_properties(opencl_tuning_limits PROPERTIES LABELS "opencl;tool;slow" TIMEOUT 300
                       SKIP_RETURN_CODE 77)
  # xhal tune (issue 20): a wrong candidate rejected, a second process using the tuned file, a
  # corrupt and a stale file ignored. Builds PoCL programs: labelled slow like the test above.
  add_test(NAME opencl_tune
           COMMAND bash ${CMAKE_CURRENT_SOURCE_DIR}/opencl/tune.sh
                   $<TARGET_FILE:xhal_tool> ${CMAKE_BINARY_DIR}/tests/opencl-tune)
  set_tests_properties(opencl_tune PROPERTIES LABELS "opencl;tool;slow" TIMEOUT 600
                       SKIP_RETURN_CODE 77)
endif()

# Threads x streams x devices with every result checked, churn, and lookups racing shutdown. A
# few seconds here; the ThreadSanitizer stage (make test-tsan) runs it longer.
xhal_test(stress SOURCE stress/test_stress.c ENV XHAL_STRESS_SECONDS=3 TIMEOUT 600)
target_compile_definitions(test_stress PRIVATE XT_FAULTY_DIR="${XHAL_FAULTY_PLUGIN_DIR}")
add_dependencies(test_stress xhal_test_plugin_faulty)
