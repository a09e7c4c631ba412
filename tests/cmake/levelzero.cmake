# Tests of the Level Zero backend (backends/levelzero), included by tests/CMakeLists.txt. Added
# only when the plugin is built.
#
# No Intel GPU here, so the backend runs over a test-only stand-in for the loader
# (tests/levelzero/ze_standin.c): the loader's entry points carried out by Intel's CPU OpenCL
# runtime from the project's venv, running the same SPIR-V modules. tests/levelzero/standin.sh
# points the backend at it (XHAL_LEVELZERO_LIBRARY) and skips (77) where that runtime is not
# installed. A second build of the stand-in fails zeInit and aborts on any later call.
if(NOT TARGET xhal-levelzero)
  return()
endif()
find_library(XHAL_TEST_OPENCL_LIBRARY NAMES OpenCL libOpenCL.so.1)
if(NOT XHAL_TEST_OPENCL_LIBRARY)
  message(STATUS "xhal: Level Zero stand-in not built (no OpenCL ICD loader to link it with)")
  return()
endif()

set(xhal_lz_dir ${CMAKE_BINARY_DIR}/tests/levelzero)
set(xhal_lz_sources ${CMAKE_CURRENT_SOURCE_DIR}/levelzero/ze_standin.c
                    ${CMAKE_CURRENT_SOURCE_DIR}/levelzero/ze_standin_queue.c
                    ${CMAKE_CURRENT_SOURCE_DIR}/levelzero/ze_standin_module.c)
foreach(kind standin failing)
  add_library(ze_${kind} SHARED ${xhal_lz_sources})
  target_include_directories(ze_${kind} PRIVATE ${XHAL_LEVELZERO_INCLUDE_DIR}
                             ${XHAL_OPENCL_INCLUDE_DIR})
  target_link_libraries(ze_${kind} PRIVATE ${XHAL_TEST_OPENCL_LIBRARY} Threads::Threads
                        xhal_test_flags)
  # Named as the loader is, in a folder of its own.
  set_target_properties(ze_${kind} PROPERTIES OUTPUT_NAME ze_loader PREFIX lib SUFFIX .so.1
                        C_VISIBILITY_PRESET default
                        LIBRARY_OUTPUT_DIRECTORY ${xhal_lz_dir}/${kind})
  add_dependencies(ze_${kind} xhal-levelzero)
endforeach()
target_compile_definitions(ze_failing PRIVATE ZE_STANDIN_FAIL=1)
set(xhal_lz_standin ${xhal_lz_dir}/standin/libze_loader.so.1)
set(xhal_lz_run bash ${CMAKE_CURRENT_SOURCE_DIR}/levelzero/standin.sh ${xhal_lz_standin})

# zeInit fails (as with Debian's intel-opencl-icd and no Intel GPU) and any later call aborts:
# the backend must say why it has no device, and `xhal devices` must not crash.
add_test(NAME levelzero_init_fails COMMAND xhal_tool devices)
set_tests_properties(levelzero_init_fails PROPERTIES LABELS "levelzero;tool" TIMEOUT 60
  ENVIRONMENT "XHAL_LEVELZERO_LIBRARY=${xhal_lz_dir}/failing/libze_loader.so.1;XHAL_BACKENDS=levelzero"
  PASS_REGULAR_EXPRESSION "levelzero +not loaded +\\(XHAL_UNAVAILABLE\\) no Level Zero GPU driver is usable: zeInit returned ZE_RESULT_ERROR_UNINITIALIZED")

# A Level Zero device leaves its peaks to the core, which finds them in devices.ini by name. Every
# test over the stand-in is "slow" and "intel": it loads Intel's runtime, which the valgrind and
# sanitizer stages leave out (as they do the OpenCL tests on that runtime).
add_test(NAME levelzero_peaks COMMAND ${xhal_lz_run} $<TARGET_FILE:xhal_tool> devices)
set_tests_properties(levelzero_peaks PROPERTIES LABELS "levelzero;tool;slow;intel" TIMEOUT 120
  SKIP_RETURN_CODE 77
  ENVIRONMENT "XHAL_ZE_STANDIN_NAME=Intel(R) Arc(TM) A770 Graphics;XHAL_BACKENDS=levelzero"
  PASS_REGULAR_EXPRESSION "peak f16 +137.6 TFLOP/s.*peak source +datasheet: Intel Arc A770")

# Copies at offsets, fills, pinned memory, events across streams and their timing; and an op
# whose tuning no module was built for.
add_executable(test_levelzero ${CMAKE_CURRENT_SOURCE_DIR}/levelzero/test_levelzero.c)
target_link_libraries(test_levelzero PRIVATE xhal_test_util xhal_test_flags)
set_target_properties(test_levelzero PROPERTIES RUNTIME_OUTPUT_DIRECTORY ${XHAL_TEST_BIN_DIR})
add_test(NAME levelzero COMMAND ${xhal_lz_run} $<TARGET_FILE:test_levelzero>)
add_test(NAME levelzero_no_module COMMAND ${xhal_lz_run} $<TARGET_FILE:test_levelzero> nomodule)
set_tests_properties(levelzero levelzero_no_module PROPERTIES LABELS "unit;levelzero;slow;intel"
                     TIMEOUT 300 SKIP_RETURN_CODE 77)
set_tests_properties(levelzero_no_module PROPERTIES ENVIRONMENT
                     "XHAL_OPENCL_TUNING=${CMAKE_CURRENT_SOURCE_DIR}/levelzero/nomodule.ini")

# The backend end to end over the stand-in: the quick GEMM, serving GEMM and attention tests.
foreach(op gemm gemm_serving attention)
  add_test(NAME ${op}_levelzero COMMAND ${xhal_lz_run} $<TARGET_FILE:test_${op}>)
  set_tests_properties(${op}_levelzero PROPERTIES LABELS "unit;levelzero;slow;intel" TIMEOUT 900
                       SKIP_RETURN_CODE 77)
endforeach()
# The first to run compiles the modules (minutes for GEMM on Intel's CPU runtime here) into the
# stand-in's cache; the others wait for it and load them.
set_tests_properties(gemm_serving_levelzero attention_levelzero PROPERTIES DEPENDS gemm_levelzero)
# The conformance suite's correctness cases on levelzero:0.
add_test(NAME conform_levelzero
         COMMAND ${xhal_lz_run} bash ${CMAKE_CURRENT_SOURCE_DIR}/conformance/backend_acceptance.sh
                 $<TARGET_FILE:xhal_tool> levelzero "" ${CMAKE_BINARY_DIR}/tests/acceptance/levelzero
                 "" --quick --only correctness)
set_tests_properties(conform_levelzero PROPERTIES LABELS "conformance;acceptance;levelzero;slow;intel"
                     TIMEOUT 900 SKIP_RETURN_CODE 77 ENVIRONMENT "XHAL_BACKENDS=levelzero"
                     DEPENDS gemm_levelzero)
