# Tests of the OpenCL backend (backends/opencl), included by tests/CMakeLists.txt. Added only
# where the plugin is built. A test that needs an OpenCL device exits 77 where none is found,
# which ctest reports as skipped. Tests that run kernels on PoCL at length are labelled "slow",
# which keeps them out of the valgrind stage (PoCL's LLVM under valgrind is very slow).
if(NOT TARGET xhal-opencl)
  return()
endif()

xhal_test(opencl SOURCE opencl/test_opencl.c LABELS opencl)
xhal_test(opencl SOURCE opencl/test_opencl.c RUN_NAME opencl_build_error ARGS build_error
          LABELS "opencl;slow" ENV "XHAL_OPENCL_BUILD_OPTIONS=-DXV=3;XHAL_OPENCL_CACHE=0")
target_link_libraries(test_opencl PRIVATE Threads::Threads)
add_dependencies(test_opencl xhal-opencl)

# The kernels unknown devices get (the [default] section), run on PoCL.
foreach(op gemm gemm_serving attention)
  xhal_test(${op} RUN_NAME ${op}_opencl_generic LABELS "opencl;slow" TIMEOUT 600
            ENV "XHAL_TEST_BACKEND=opencl;XHAL_OPENCL_TUNING=${CMAKE_CURRENT_SOURCE_DIR}/opencl/generic.ini")
endforeach()

set(xhal_opencl_empty_vendors ${CMAKE_BINARY_DIR}/tests/opencl-no-vendors)
add_test(NAME opencl_no_platform
         COMMAND bash ${CMAKE_CURRENT_SOURCE_DIR}/opencl/no_platform.sh $<TARGET_FILE:xhal_tool>
                 ${xhal_opencl_empty_vendors})
add_test(NAME opencl_cache
         COMMAND bash ${CMAKE_CURRENT_SOURCE_DIR}/opencl/cache.sh $<TARGET_FILE:xhal_tool>
                 ${CMAKE_BINARY_DIR}/tests/opencl-cache)
set_tests_properties(opencl_no_platform PROPERTIES LABELS "opencl;tool" TIMEOUT 300)
set_tests_properties(opencl_cache PROPERTIES LABELS "opencl;tool;slow" TIMEOUT 600
                     SKIP_RETURN_CODE 77)

# Issue 14, defect 9: a tuning file that is /dev/zero hung the plugin's init; now it is refused
# with a warning and init finishes (the device opens where there is one).
add_test(NAME opencl_tuning_not_a_file COMMAND xhal_tool devices)
set_tests_properties(opencl_tuning_not_a_file PROPERTIES LABELS "opencl;tool" TIMEOUT 60
                     ENVIRONMENT "XHAL_OPENCL_TUNING=/dev/zero;XHAL_BACKENDS=opencl"
                     PASS_REGULAR_EXPRESSION "opencl +(not )?loaded")

# The timing program of docs/PERFORMANCE.md, on tiny shapes so that it keeps working.
add_executable(ocl_bench opencl/ocl_bench.c)
target_link_libraries(ocl_bench PRIVATE xhal xhal_conformance xhal_test_flags)
set_target_properties(ocl_bench PROPERTIES RUNTIME_OUTPUT_DIRECTORY ${XHAL_TEST_BIN_DIR})
add_test(NAME ocl_bench_gemm COMMAND ocl_bench --repeats 2 gemm 70 65 33 bf16 tn)
add_test(NAME ocl_bench_attention COMMAND ocl_bench --repeats 2 attention 1 4 2 40 40 32 causal)
add_test(NAME ocl_bench_decode COMMAND ocl_bench --repeats 2 attention 1 4 1 1 300 64 causal f16)
add_test(NAME ocl_bench_serving COMMAND ocl_bench --repeats 1 --rounds 1 serving decode 3 16 100)
set_tests_properties(ocl_bench_gemm ocl_bench_attention ocl_bench_decode ocl_bench_serving PROPERTIES
                     LABELS "opencl;tool;slow" SKIP_RETURN_CODE 77)

# Garbage index buffers on the OpenCL device: views between inaccessible pages (the test's
# comment says why: ASan cannot see into PoCL's kernels).
xhal_test(attention_garbage RUN_NAME attention_garbage_opencl ARGS opencl LABELS opencl TIMEOUT 600)

set_tests_properties(opencl opencl_build_error gemm_opencl_generic attention_opencl_generic
                     gemm_serving_opencl_generic attention_garbage_opencl PROPERTIES SKIP_RETURN_CODE 77)
# The GEMM correctness cases of the conformance suite (dense, epilogues, quantized B) on the
# OpenCL device with its own tuning; skipped where there is none.
if(COMMAND xhal_conform_test)
  xhal_conform_test(conform_gemm_opencl
    ARGS "conform@@--only@@correctness@@--op@@gemm@@--device@@opencl:0@@--out@@gemm-opencl"
    EXIT 0
    MATCH "correctness: [0-9]+ passed, 0 failed, 0 skipped"
    CLEAN ${XHAL_CONFORM_WORK_DIR}/gemm-opencl
    ENV "XHAL_BACKENDS=opencl"
    LABELS "opencl;slow" TIMEOUT 900)
  set_tests_properties(conform_gemm_opencl PROPERTIES
                       SKIP_REGULAR_EXPRESSION "backend opencl has no device")
endif()
