# Tests of the CUDA backend (included by tests/CMakeLists.txt; nothing here without the plugin).
#
#   cuda_plan       pure host logic: kernel choice, tiles, split-K, grids, the tuning INI
#   cuda_nodevice   the plugin loads and reports UNAVAILABLE with its reason: no libcuda.so.1,
#                   a driver whose cuInit fails, one with no device, one too old (fake drivers)
#   cuda_sass       (when cuobjdump is found) the sm_90a fatbin has HGMMA, the generic one HMMA
#   cuda_gpu        every GEMM and attention correctness case on cuda:0; skipped without a GPU
#                   (scripts/gpu-check.sh runs it, and its --bench mode, on a GPU machine)
#   cuda_gpu_harness_cpu  the same program's correctness harness on cpu:0
if(NOT TARGET xhal-cuda)
  return()
endif()

set(XHAL_CUDA_TEST_DIR ${CMAKE_CURRENT_SOURCE_DIR}/cuda)
set(XHAL_CUDA_BACKEND_DIR ${XHAL_TEST_ROOT}/backends/cuda)

xhal_test(cuda_plan SOURCE cuda/test_cuda_plan.c)
target_sources(test_cuda_plan PRIVATE ${XHAL_CUDA_BACKEND_DIR}/cuda_plan.c
               ${XHAL_CUDA_BACKEND_DIR}/cuda_tuning.c)
target_include_directories(test_cuda_plan PRIVATE ${XHAL_CUDA_BACKEND_DIR}
                           ${XHAL_TEST_ROOT}/kernels/gpu)
target_link_libraries(test_cuda_plan PRIVATE xhal_common)
target_compile_definitions(test_cuda_plan PRIVATE
                           XT_CUDA_INI="${XHAL_TEST_ROOT}/kernels/tuning/cuda.ini")

# Fake drivers: libcuda look-alikes whose cuInit fails, that find no device, or that lack a
# symbol of a recent driver. Test-only files, in the test plugin folder.
foreach(mode init_fail no_device old)
  set(target xhal_test_fake_cuda_${mode})
  add_library(${target} SHARED ${XHAL_CUDA_TEST_DIR}/fake_libcuda.c)
  set_target_properties(${target} PROPERTIES OUTPUT_NAME "fakecuda-${mode}"
                        LIBRARY_OUTPUT_DIRECTORY ${XHAL_TEST_PLUGIN_DIR})
  target_link_libraries(${target} PRIVATE xhal_test_flags)
  string(TOUPPER ${mode} upper)
  target_compile_definitions(${target} PRIVATE FAKE_CUDA_${upper})
endforeach()

xhal_test(cuda_nodevice SOURCE cuda/test_cuda_nodevice.c)
add_dependencies(test_cuda_nodevice xhal-cuda xhal_test_fake_cuda_init_fail
                 xhal_test_fake_cuda_no_device xhal_test_fake_cuda_old)
target_compile_definitions(test_cuda_nodevice PRIVATE
                           XT_CUDA_PLUGIN_DIR="${XHAL_PLUGIN_OUTPUT_DIRECTORY}"
                           XT_FAKE_CUDA_DIR="${XHAL_TEST_PLUGIN_DIR}")

# The GPU check program (tests/cuda/gpu_check.cmake: no cmocka, so that the GPU machine's image
# builds it too). Without a CUDA device it exits 77, which ctest reports as skipped. On the CPU
# device it runs the same correctness harness on a backend known to be right, so that a FAIL on
# the GPU means the GPU, not the harness.
include(${XHAL_CUDA_TEST_DIR}/gpu_check.cmake)
add_test(NAME cuda_gpu COMMAND test_cuda_gpu --quick)
# RESOURCE_LOCK: on a GPU machine ctest -j runs it alone on the GPU, never beside another GPU run.
set_tests_properties(cuda_gpu PROPERTIES LABELS "unit;gpu" SKIP_RETURN_CODE 77 TIMEOUT 600
                     ENVIRONMENT "XHAL_BACKENDS=cuda,cpu" RESOURCE_LOCK cuda_device)
# "slow": valgrind takes minutes over its CPU kernels; the ASan stage checks its memory.
add_test(NAME cuda_gpu_harness_cpu COMMAND test_cuda_gpu --quick --device cpu)
set_tests_properties(cuda_gpu_harness_cpu PROPERTIES LABELS "unit;cuda;slow" TIMEOUT 300
                     ENVIRONMENT "XHAL_BACKENDS=cpu" PASS_REGULAR_EXPRESSION "correctness: [1-9][0-9]* passed, 0 failed")

# SASS: the wgmma kernel must show HGMMA (a matrix kernel showing only HMMA or FFMA is on a
# slower path); the sm_80 kernels HMMA. cuobjdump is part of the full toolkit, often absent.
find_program(XHAL_CUOBJDUMP cuobjdump HINTS ${XHAL_CUDA_TOOLKIT_ROOT}/bin)
if(XHAL_CUOBJDUMP)
  add_test(NAME cuda_sass COMMAND bash ${XHAL_CUDA_TEST_DIR}/check_sass.sh ${XHAL_CUOBJDUMP}
                                  ${XHAL_CUDA_FATBIN_GPU} ${XHAL_CUDA_FATBIN_SM90})
  set_tests_properties(cuda_sass PROPERTIES LABELS "unit;cuda")
else()
  message(STATUS "xhal: cuda_sass test not registered: no cuobjdump (part of the full CUDA "
                 "toolkit; scripts/gpu-check.sh greps the SASS where it exists)")
endif()
