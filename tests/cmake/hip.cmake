# Tests of the HIP backend (included by tests/CMakeLists.txt; nothing here without the plugin).
#
#   hip_plan         pure host logic: kernel choice, tiles, split-K, grids, the tuning INI (read
#                    by backends/common/xc_tuning)
#   hip_mfma_layout  the MFMA fragment layouts of the CDNA kernels, against a CPU emulation of
#                    the instruction
#   hip_nodevice     the plugin loads and reports UNAVAILABLE with its reason: the system's
#                    runtime without a GPU, no runtime, and stand-ins whose hipInit fails, that
#                    find no device, that are too old
#   hip_fake         on the runtime stand-in (tests/hip/fake_libamdhip.c): devices, memory,
#                    copies, fills, streams, events, errors, out of memory
#   hip_kernels      on the stand-in: the launches of GEMM and attention (serving features on
#                    the exact kernel, the merge op), every built-in target's kernels, a target
#                    without code object; hip_kernels_jit (slow)
#                    compiles the built-in source with the system's hiprtc and uses the cache
#   hip_mfma_disasm  (with llvm-objdump) v_mfma in every MFMA kernel, no scratch
#   tool_devices_hip `xhal devices` names the HIP backend's reason for having no device
if(NOT TARGET xhal-hip)
  return()
endif()

set(XHAL_HIP_TEST_DIR ${CMAKE_CURRENT_SOURCE_DIR}/hip)
set(XHAL_HIP_BACKEND_DIR ${XHAL_TEST_ROOT}/backends/hip)
set(XHAL_HIP_TEST_INCLUDES ${XHAL_HIP_BACKEND_DIR} ${XHAL_TEST_ROOT}/backends/common
    ${XHAL_TEST_ROOT}/kernels/gpu
    ${XHAL_TEST_ROOT}/kernels/hip ${XHAL_HIP_TEST_DIR})

xhal_test(hip_plan SOURCE hip/test_hip_plan.c LABELS hip)
target_sources(test_hip_plan PRIVATE ${XHAL_HIP_BACKEND_DIR}/hip_plan.c
               ${XHAL_HIP_BACKEND_DIR}/hip_tuning.c)
target_include_directories(test_hip_plan PRIVATE ${XHAL_HIP_TEST_INCLUDES})
target_link_libraries(test_hip_plan PRIVATE xhal_common)
target_compile_definitions(test_hip_plan PRIVATE
                           XT_HIP_INI="${XHAL_TEST_ROOT}/kernels/tuning/hip.ini")

xhal_test(hip_mfma_layout SOURCE hip/test_hip_mfma_layout.c LABELS hip)
target_include_directories(test_hip_mfma_layout PRIVATE ${XHAL_HIP_TEST_INCLUDES})

# The runtime stand-ins: ROCm 6-like, ROCm 5-like (the older properties layout), and one that
# lacks an entry point. Test-only files, in the test plugin folder.
foreach(variant "fakehip;" "fakehip5;FAKE_HIP_R0000" "fakehip-old;FAKE_HIP_OLD"
        "fakehip-moved;FAKE_HIP_MOVED")
  list(GET variant 0 name)
  list(LENGTH variant n)
  set(target xhal_test_${name})
  string(REPLACE "-" "_" target ${target})
  add_library(${target} SHARED ${XHAL_HIP_TEST_DIR}/fake_libamdhip.c)
  set_target_properties(${target} PROPERTIES OUTPUT_NAME ${name} C_VISIBILITY_PRESET hidden
                        LIBRARY_OUTPUT_DIRECTORY ${XHAL_TEST_PLUGIN_DIR})
  target_include_directories(${target} PRIVATE ${XHAL_HIP_TEST_INCLUDES})
  target_link_libraries(${target} PRIVATE xhal_test_flags)
  if(n GREATER 1)
    list(GET variant 1 define)
    target_compile_definitions(${target} PRIVATE ${define})
  endif()
  list(APPEND xhal_hip_fakes ${target})
endforeach()

set(xhal_hip_test_defs XT_HIP_PLUGIN_DIR="${XHAL_PLUGIN_OUTPUT_DIRECTORY}"
    XT_FAKE_HIP_DIR="${XHAL_TEST_PLUGIN_DIR}")
xhal_test(hip_nodevice SOURCE hip/test_hip_nodevice.c LABELS hip)
add_dependencies(test_hip_nodevice xhal-hip ${xhal_hip_fakes})
target_compile_definitions(test_hip_nodevice PRIVATE ${xhal_hip_test_defs})

add_library(xhal_test_hip_fake_util STATIC ${XHAL_HIP_TEST_DIR}/hip_fake_util.c)
target_include_directories(xhal_test_hip_fake_util PUBLIC ${XHAL_HIP_TEST_INCLUDES})
target_compile_definitions(xhal_test_hip_fake_util PRIVATE ${xhal_hip_test_defs})
target_link_libraries(xhal_test_hip_fake_util PUBLIC xhal_test_util ${CMAKE_DL_LIBS}
                      PRIVATE xhal_test_flags)

xhal_test(hip_fake SOURCE hip/test_hip_fake.c LABELS hip)
target_link_libraries(test_hip_fake PRIVATE xhal_test_hip_fake_util)
target_compile_definitions(test_hip_fake PRIVATE ${xhal_hip_test_defs})
add_dependencies(test_hip_fake xhal-hip ${xhal_hip_fakes})

string(REPLACE ";" "," xhal_hip_target_list "${XHAL_HIP_BUILT_TARGETS}")
xhal_test(hip_kernels SOURCE hip/test_hip_kernels.c LABELS hip)
xhal_test(hip_kernels RUN_NAME hip_kernels_jit ARGS jit LABELS "hip;slow" TIMEOUT 900)
target_link_libraries(test_hip_kernels PRIVATE xhal_test_hip_fake_util)
target_compile_definitions(test_hip_kernels PRIVATE ${xhal_hip_test_defs}
                           XT_HIP_TARGETS="${xhal_hip_target_list}"
                           XT_HIP_CACHE_DIR="${CMAKE_BINARY_DIR}/tests/hip-cache")
add_dependencies(test_hip_kernels xhal-hip ${xhal_hip_fakes})

# The disassembler of hipcc's LLVM (it knows the gfx targets that compiler built).
find_program(XHAL_LLVM_OBJDUMP NAMES llvm-objdump-${XHAL_HIP_CLANG_MAJOR_FOR_TESTS} llvm-objdump
             HINTS ${ROCM_PATH}/llvm/bin /opt/rocm/llvm/bin
                   /usr/lib/llvm-${XHAL_HIP_CLANG_MAJOR_FOR_TESTS}/bin)
find_program(XHAL_LLVM_READELF NAMES llvm-readelf-${XHAL_HIP_CLANG_MAJOR_FOR_TESTS} llvm-readelf
             HINTS ${ROCM_PATH}/llvm/bin /opt/rocm/llvm/bin
                   /usr/lib/llvm-${XHAL_HIP_CLANG_MAJOR_FOR_TESTS}/bin)
if(XHAL_LLVM_OBJDUMP AND XHAL_LLVM_READELF)
  add_test(NAME hip_mfma_disasm COMMAND bash ${XHAL_HIP_TEST_DIR}/check_mfma.sh
                                        ${XHAL_LLVM_OBJDUMP} ${XHAL_LLVM_READELF}
                                        ${XHAL_HIP_CODE_OBJECTS})
  # "slow": valgrind would trace the disassembler, not xhal.
  set_tests_properties(hip_mfma_disasm PROPERTIES LABELS "unit;hip;slow"
                       PASS_REGULAR_EXPRESSION "MFMA disassembly checks passed")
else()
  message(STATUS "xhal: hip_mfma_disasm not registered: no llvm-objdump/llvm-readelf (llvm-"
                 "${XHAL_HIP_CLANG_MAJOR_FOR_TESTS}, which hipcc depends on, has them)")
endif()

# `xhal devices` with the HIP plugin on this machine: loaded with devices, or not with a reason.
add_test(NAME tool_devices_hip COMMAND xhal_tool devices)
set_tests_properties(tool_devices_hip PROPERTIES LABELS "tool;hip"
  ENVIRONMENT "XHAL_BACKENDS=hip,cpu"
  PASS_REGULAR_EXPRESSION "hip +(loaded +[1-9]|not loaded +\\(XHAL_UNAVAILABLE\\) (hipInit failed|the HIP runtime |hipGetDeviceCount failed))")

# The conformance suite's case list against the HIP backend without a device (the runtime hidden,
# so this holds on a GPU machine too): every case SKIP with the reason, none passes, exit 0.
# (conform_hip, its xhal_backend_acceptance test, runs the suite where an AMD GPU is present and
# is skipped elsewhere.)
add_test(NAME conform_hip_nodevice
         COMMAND xhal_tool conform --quick --only correctness --device hip
                 --out ${CMAKE_BINARY_DIR}/tests/conform-hip-nodevice)
set_tests_properties(conform_hip_nodevice PROPERTIES LABELS "tool;hip;conformance"
  ENVIRONMENT "XHAL_BACKENDS=hip,cpu;XHAL_HIP_RUNTIME=/nonexistent/libamdhip64.so.6"
  PASS_REGULAR_EXPRESSION "correctness: 0 passed, 0 failed, [1-9][0-9]* skipped.*no device: .*libamdhip64.so.6 was not found"
  FAIL_REGULAR_EXPRESSION "^  (PASS|FAIL) ")
