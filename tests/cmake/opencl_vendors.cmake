# Every GEMM and attention correctness case of the conformance suite on the three devices of
# this machine (issue 17): the CPU backend, PoCL and Intel's CPU OpenCL runtime, the second
# OpenCL vendor, which runs the SPIR-V modules (cmake/xhal_spirv.cmake). Included by
# tests/CMakeLists.txt after opencl.cmake and conformance.cmake. (PoCL's GEMM cases are
# conform_gemm_opencl, in opencl.cmake.)
#
# Intel's runtime comes from the project's venv (scripts/setup-python.sh --opencl) and is
# registered by scripts/opencl-vendors.sh; its tests point the ICD loader at its .icd alone, so
# it is opencl:0 there. Without it they are skipped, saying how to install it. They share one
# program cache folder: building the gemm program from SPIR-V costs Intel's compiler about a
# minute of CPU, once (opencl_spirv_intel runs first and fills it).

# backends/common/xc_spirv: module lookup, IL versions, cache digest.
xhal_test(spirv SOURCE common/test_spirv.c)
target_link_libraries(test_spirv PRIVATE xhal_common)

if(NOT COMMAND xhal_conform_test)
  return()
endif()

# ---- The CPU backend ----
foreach(op gemm attention)
  xhal_conform_test(conform_${op}_cpu
    ARGS "conform@@--only@@correctness@@--op@@${op}@@--device@@cpu@@--expected@@${XHAL_TEST_ROOT}/backends/cpu/expected.ini@@--out@@${op}-cpu"
    EXIT 0
    MATCH "correctness: [0-9]+ passed, 0 failed"
    CLEAN ${XHAL_CONFORM_WORK_DIR}/${op}-cpu
    LABELS slow TIMEOUT 900)
endforeach()

if(NOT TARGET xhal-opencl)
  return()
endif()

# ---- PoCL (opencl:0 with the system's vendors): the attention cases ----
xhal_conform_test(conform_attention_opencl
  ARGS "conform@@--only@@correctness@@--op@@attention@@--device@@opencl:0@@--expected@@${XHAL_TEST_ROOT}/backends/opencl/expected.ini@@--out@@attention-opencl"
  EXIT 0
  MATCH "correctness: [0-9]+ passed, 0 failed"
  CLEAN ${XHAL_CONFORM_WORK_DIR}/attention-opencl
  ENV "XHAL_BACKENDS=opencl"
  LABELS "opencl;slow" TIMEOUT 900)
set_tests_properties(conform_attention_opencl PROPERTIES
                     SKIP_REGULAR_EXPRESSION "backend opencl has no device")

# ---- Intel's CPU OpenCL runtime ----
execute_process(COMMAND bash ${XHAL_TEST_ROOT}/scripts/opencl-vendors.sh --quiet
                OUTPUT_VARIABLE xhal_opencl_vendors OUTPUT_STRIP_TRAILING_WHITESPACE
                RESULT_VARIABLE xhal_vendors_failed)
if(xhal_vendors_failed OR NOT xhal_opencl_vendors)
  set(xhal_opencl_vendors ${CMAKE_BINARY_DIR}/tests/no-opencl-vendors)
endif()
set(xhal_intel_icd ${xhal_opencl_vendors}/xhal-intel-cpu.icd)
if(NOT EXISTS ${xhal_intel_icd})
  message(STATUS "xhal: Intel's CPU OpenCL runtime is not installed: its tests will be skipped "
                 "(scripts/setup-python.sh --opencl, then scripts/opencl-vendors.sh)")
endif()
set(xhal_intel_cache ${CMAKE_BINARY_DIR}/tests/opencl-intel-cache)
set(xhal_intel_env "XHAL_BACKENDS=opencl" "OCL_ICD_VENDORS=${xhal_intel_icd}"
                   "XHAL_OPENCL_CACHE=${xhal_intel_cache}")

add_test(NAME opencl_spirv_intel
         COMMAND bash ${CMAKE_CURRENT_SOURCE_DIR}/opencl/spirv.sh $<TARGET_FILE:xhal_tool>
                 ${xhal_intel_icd} ${xhal_intel_cache} ${CMAKE_BINARY_DIR}/tests/opencl-spirv
                 ${XHAL_TEST_ROOT}/kernels/tuning/opencl.ini)
set_tests_properties(opencl_spirv_intel PROPERTIES LABELS "opencl;intel;tool;slow" TIMEOUT 900
                     SKIP_RETURN_CODE 77)

foreach(op gemm attention)
  xhal_conform_test(conform_${op}_intel
    ARGS "conform@@--only@@correctness@@--op@@${op}@@--device@@opencl:0@@--expected@@${XHAL_TEST_ROOT}/backends/opencl/expected-intel.ini@@--out@@${op}-intel"
    EXIT 0
    MATCH "correctness: [0-9]+ passed, 0 failed"
    CLEAN ${XHAL_CONFORM_WORK_DIR}/${op}-intel
    ENV ${xhal_intel_env}
    LABELS "opencl;intel;slow" TIMEOUT 900)
  set_tests_properties(conform_${op}_intel PROPERTIES DEPENDS opencl_spirv_intel
                       SKIP_REGULAR_EXPRESSION "backend opencl has no device")
endforeach()

# `make conform`'s three devices side by side (one small case): table and SVG chart.
add_test(NAME compare_vendors
         COMMAND bash ${CMAKE_CURRENT_SOURCE_DIR}/opencl/compare_vendors.sh
                 $<TARGET_FILE:xhal_tool> ${xhal_opencl_vendors} ${xhal_intel_cache}
                 ${CMAKE_BINARY_DIR}/tests/compare-vendors)
set_tests_properties(compare_vendors PROPERTIES LABELS "opencl;intel;tool;slow" TIMEOUT 900
                     SKIP_RETURN_CODE 77 DEPENDS opencl_spirv_intel)
