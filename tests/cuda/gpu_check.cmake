# The CUDA GPU check program, build/tests/test_cuda_gpu (cuda_gpu_check.c: every GEMM and
# attention correctness case through every kernel path; cuda_gpu_bench.c: the timings against
# cuBLASLt and the measured copy bandwidth). scripts/gpu-check.sh runs it on a lent GPU machine.
#
# It needs neither cmocka nor pkg-config, which that machine's image does not have: it takes the
# fp64 references of tests/test_util.c compiled with XT_NO_CMOCKA. Included from two places:
#   - tests/cmake/cuda.cmake, in the unit-test build (it is also registered with ctest there);
#   - the top level when XHAL_GPU_CHECK=ON, which works with BUILD_TESTING=OFF (the GPU build:
#     the library, the CUDA plugin, the xhal tool and this program, nothing else).
include_guard(GLOBAL)

if(NOT TARGET xhal-cuda)
  message(FATAL_ERROR "XHAL_GPU_CHECK=ON needs the CUDA backend, which is not built (see the "
                      "'xhal: cuda backend' message above; configure with -DXHAL_WITH_CUDA=ON "
                      "to stop at the reason)")
endif()

get_filename_component(xhal_gpu_check_root ${CMAKE_CURRENT_LIST_DIR}/../.. ABSOLUTE)
set(xhal_gpu_check_dir ${xhal_gpu_check_root}/tests/cuda)

add_executable(test_cuda_gpu ${xhal_gpu_check_dir}/cuda_gpu_check.c
               ${xhal_gpu_check_dir}/cuda_gpu_bench.c ${xhal_gpu_check_root}/tests/test_util.c
               ${xhal_gpu_check_root}/tools/bench_cublas.c
               ${xhal_gpu_check_root}/tools/bench_random.c)
target_compile_definitions(test_cuda_gpu PRIVATE XT_NO_CMOCKA)
target_include_directories(test_cuda_gpu PRIVATE ${xhal_gpu_check_root}/tests
                           ${xhal_gpu_check_root}/tools)
# cuBLASLt and libcuda are dlopen'ed by bench_cublas.c only when the timings run.
target_link_libraries(test_cuda_gpu PRIVATE xhal xhal_conformance xhal_warnings m ${CMAKE_DL_LIBS})
set_target_properties(test_cuda_gpu PROPERTIES RUNTIME_OUTPUT_DIRECTORY ${CMAKE_BINARY_DIR}/tests)
# The plugin is loaded at run time from lib/xhal; build it with the program.
add_dependencies(test_cuda_gpu xhal-cuda)
