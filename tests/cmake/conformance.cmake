# Tests of the conformance suite (conformance/, `xhal conform`, `xhal peak`, `xhal compare`).
# Included by tests/CMakeLists.txt, in its scope: xhal_test(), XHAL_TEST_CPU_SOURCES (with the
# per-file ISA flags already set) and XHAL_TEST_ROOT come from there.
#
# Labels: "conformance" on all; "slow" on those that run the suite's utilization part, measure
# peaks, or need Python (the valgrind stage leaves them out: valgrind would trace Python too).

if(NOT TARGET xhal_conformance)
  return()
endif()

set(XHAL_CONFORM_TEST_DIR ${CMAKE_CURRENT_SOURCE_DIR}/conformance)
set(XHAL_CONFORM_PLUGIN_DIR ${CMAKE_BINARY_DIR}/tests/conformance-plugins)
set(XHAL_CONFORM_WORK_DIR ${CMAKE_BINARY_DIR}/tests/conformance-work)
file(MAKE_DIRECTORY ${XHAL_CONFORM_WORK_DIR})
find_package(Python3 COMPONENTS Interpreter QUIET)

# ---- Test plugins: the CPU backend with one thing changed (conformance/conform_plugin.c) ----
# The CPU sources are compiled once for both plugins.
add_library(xhal_conform_cpu_objects OBJECT ${XHAL_TEST_CPU_SOURCES})
set_target_properties(xhal_conform_cpu_objects PROPERTIES C_VISIBILITY_PRESET hidden
                      POSITION_INDEPENDENT_CODE ON)
target_include_directories(xhal_conform_cpu_objects PRIVATE
                           $<TARGET_PROPERTY:xhal,INCLUDE_DIRECTORIES>)
target_compile_definitions(xhal_conform_cpu_objects PRIVATE
                           $<TARGET_PROPERTY:xhal,COMPILE_DEFINITIONS>)
target_link_libraries(xhal_conform_cpu_objects PRIVATE xhal_test_flags xhal_common)

foreach(spec "conformbad;CORRUPT" "conformnamed;NAMED")
  list(GET spec 0 pname)
  list(GET spec 1 pmode)
  set(target xhal_test_plugin_${pname})
  add_library(${target} MODULE ${XHAL_CONFORM_TEST_DIR}/conform_plugin.c
              $<TARGET_OBJECTS:xhal_conform_cpu_objects>)
  set_target_properties(${target} PROPERTIES PREFIX "lib" OUTPUT_NAME "xhal-${pname}"
                        SUFFIX ".so" LIBRARY_OUTPUT_DIRECTORY ${XHAL_CONFORM_PLUGIN_DIR}
                        C_VISIBILITY_PRESET hidden)
  target_include_directories(${target} PRIVATE $<TARGET_PROPERTY:xhal,INCLUDE_DIRECTORIES>)
  target_compile_definitions(${target} PRIVATE CONFORM_MODE_${pmode}
                             $<TARGET_PROPERTY:xhal,COMPILE_DEFINITIONS>)
  target_link_libraries(${target} PRIVATE xhal xhal_common xhal_test_flags Threads::Threads m)
  target_link_options(${target} PRIVATE ${XHAL_NO_UNDEFINED})
endforeach()

# ---- Unit tests of the library (formulas, verdicts, parsers, plan, reports, compare) ----
xhal_test(conformance SOURCE conformance/test_conformance.c LABELS conformance)
target_link_libraries(test_conformance PRIVATE xhal_conformance xhal_common)
target_compile_definitions(test_conformance PRIVATE
                           XT_WORK_DIR="${XHAL_CONFORM_WORK_DIR}/unit")

# ---- Datasheet peaks filled in by the core from hal/data/devices.ini ----
xhal_test(device_peaks SOURCE conformance/test_device_peaks.c LABELS conformance)
target_compile_definitions(test_device_peaks PRIVATE
                           XT_PLUGIN_DIR="${XHAL_CONFORM_PLUGIN_DIR}"
                           XT_DATA_DIR="${XHAL_CONFORM_TEST_DIR}/data"
                           XT_WORK_DIR="${XHAL_CONFORM_WORK_DIR}/device-peaks")
add_dependencies(test_device_peaks xhal_test_plugin_conformnamed)

# ---- The tool, run as a user would ----
# (cmake -P reads the -D options before it, so the script comes last.)
set(XHAL_CONFORM_CHECK ${CMAKE_COMMAND} -DTOOL=$<TARGET_FILE:xhal_tool>
    -DPYTHON=${Python3_EXECUTABLE})

# xhal_conform_test(<name> ARGS a@@b EXIT code [MATCH re@@re] [NOMATCH ...] [FILES ...] [XML ...]
#                   [JSON ...] [CSV ...] [CLEAN dir] [LABELS ...] [ENV ...] [TIMEOUT s])
function(xhal_conform_test name)
  cmake_parse_arguments(T "" "ARGS;EXIT;MATCH;NOMATCH;FILES;XML;JSON;CSV;CLEAN;TIMEOUT"
                        "LABELS;ENV" ${ARGN})
  if((T_XML OR T_JSON) AND NOT Python3_Interpreter_FOUND)
    message(STATUS "xhal: conformance test ${name} needs python3; not added")
    return()
  endif()
  if(NOT T_TIMEOUT)
    set(T_TIMEOUT 300)
  endif()
  add_test(NAME ${name}
           COMMAND ${XHAL_CONFORM_CHECK} "-DARGS=${T_ARGS}" "-DEXIT=${T_EXIT}"
                   "-DMATCH=${T_MATCH}" "-DNOMATCH=${T_NOMATCH}" "-DFILES=${T_FILES}"
                   "-DXML=${T_XML}" "-DJSON=${T_JSON}" "-DCSV=${T_CSV}" "-DCLEAN=${T_CLEAN}"
                   -P ${XHAL_CONFORM_TEST_DIR}/check_run.cmake
           WORKING_DIRECTORY ${XHAL_CONFORM_WORK_DIR})
  set_tests_properties(${name} PROPERTIES LABELS "conformance;${T_LABELS}" TIMEOUT ${T_TIMEOUT})
  # Every run gets its own cache folder, so that no test reads peaks another one measured; and
  # only the CPU backend unless the test says otherwise (PoCL under valgrind reports its own
  # errors, and is not what these tests are about).
  if(NOT T_ENV MATCHES "XHAL_BACKENDS=")
    list(APPEND T_ENV "XHAL_BACKENDS=cpu")
  endif()
  set_tests_properties(${name} PROPERTIES ENVIRONMENT
                       "XDG_CACHE_HOME=${XHAL_CONFORM_WORK_DIR}/${name}-cache;${T_ENV}")
endfunction()

set(bad_env "XHAL_BACKEND_PATH=${XHAL_CONFORM_PLUGIN_DIR}" "XHAL_BACKENDS=conformbad")

# The suite can fail: the plugin that corrupts one element of f32 GEMMs with m > 4096 must make
# exactly that case FAIL, by name, and the exit status 1.
xhal_conform_test(conform_detects_corruption
  ARGS "conform@@--quick@@--only@@correctness@@--op@@gemm@@--out@@detect"
  EXIT 1
  MATCH "FAIL +gemm +f32 +m4097-tail +4097x7x17.*relative error@@ 1 failed@@report: detect/report.md"
  NOMATCH "FAIL +gemm +f16@@FAIL +gemm +bf16@@FAIL +gemm +f32 +(one|small|k4097)"
  CLEAN ${XHAL_CONFORM_WORK_DIR}/detect
  ENV ${bad_env})

# The same failure listed as expected is XFAIL (exit 0); a listed case that passes is XPASS.
file(WRITE ${XHAL_CONFORM_WORK_DIR}/expected.ini
  "; expected failures for the conformance tests\n"
  "[conformbad]\n"
  "gemm f32 m4097-tail = the test plugin corrupts m > 4096 on purpose\n"
  "gemm bf16 one = listed to see an unexpected pass reported\n")
xhal_conform_test(conform_expected_failures
  ARGS "conform@@--quick@@--only@@correctness@@--op@@gemm@@--expected@@expected.ini@@--out@@xfail"
  EXIT 0
  MATCH "XFAIL +gemm +f32 +m4097-tail@@XPASS +gemm +bf16 +one@@ 0 failed, 0 skipped, 1 expected failures, 1 unexpected passes"
  CLEAN ${XHAL_CONFORM_WORK_DIR}/xfail
  ENV ${bad_env})

# A small run of both parts that valgrind can afford: a few cases, the device's own peaks only.
xhal_conform_test(conform_small
  ARGS "conform@@--quick@@--device@@cpu@@--dtype@@f32@@--case@@e@@--budget@@0.0001@@--peaks@@device@@--out@@small"
  EXIT 0
  MATCH "correctness: [0-9]+ passed, 0 failed@@gemm.square-s +\\| f32@@report: small/report.md"
  FILES "small/report.md@@small/report.json@@small/report.csv@@small/roofline.svg@@small/roofline_pct.svg"
  CLEAN ${XHAL_CONFORM_WORK_DIR}/small)

# The acceptance run: the quick suite on the CPU device, every report file, valid SVG/JSON/CSV.
# (The CPU backend's acceptance test, with its expected failures.)
xhal_conform_test(conform_quick_cpu
  ARGS "conform@@--quick@@--device@@cpu@@--out@@quick-cpu@@--expected@@${XHAL_TEST_ROOT}/backends/cpu/expected.ini"
  EXIT 0
  MATCH "correctness: [0-9]+ passed, 0 failed@@\\| # +\\| case +\\| dtype +\\| shape +\\| ms +\\| FLOP/s +\\| B/s +\\| FLOP/B +\\| MFU +\\| MBU +\\| % roofline@@attn.decode@@copy.d2d"
  FILES "quick-cpu/report.md@@quick-cpu/report.csv"
  XML "quick-cpu/roofline.svg@@quick-cpu/roofline_pct.svg"
  JSON "quick-cpu/report.json"
  CSV "quick-cpu/report.csv"
  CLEAN ${XHAL_CONFORM_WORK_DIR}/quick-cpu
  ENV "XHAL_BACKENDS=" # every backend loads, as for a user; only the CPU device runs
  LABELS slow TIMEOUT 900)

# The attention correctness cases (dense, serving, merge) on the CPU's AVX2 and portable paths
# too (conform_quick_cpu runs the native one); slow: left out of the valgrind stage.
foreach(isa avx2 generic)
  xhal_conform_test(conform_attention_${isa}
    ARGS "conform@@--quick@@--only@@correctness@@--op@@attention@@--device@@cpu@@--out@@attn-${isa}"
    EXIT 0
    MATCH "correctness: [0-9]+ passed, 0 failed, 0 skipped"
    CLEAN ${XHAL_CONFORM_WORK_DIR}/attn-${isa}
    ENV "XHAL_CPU_ISA=${isa}"
    LABELS slow)
endforeach()

# `xhal compare` over runs of the CPU and the PoCL device (fixtures taken from real runs).
set(fixtures ${XHAL_CONFORM_TEST_DIR}/data/cpu-report.json@@${XHAL_CONFORM_TEST_DIR}/data/pocl-report.json)
set(compare_match
  "\\| run +\\| device +\\| backend@@\\| cpu:0 +\\| AMD EPYC +\\| cpu@@\\| opencl:0 +\\| pthread-[^|]*\\| opencl"
  "\\| case +\\| dtype +\\| shape +\\| cpu:0 FLOP/s +\\| cpu:0 B/s +\\| cpu:0 MFU +\\| cpu:0 MBU +\\| cpu:0 % roof +\\| opencl:0 FLOP/s"
  "\\| gemm.square-s +\\| f32 +\\|[^\n]*GFLOP/s[^\n]*%[^\n]*GFLOP/s[^\n]*%"
  "written: compare/compare.md")
string(REPLACE ";" "@@" compare_match "${compare_match}")
xhal_conform_test(compare_side_by_side
  ARGS "compare@@${fixtures}@@--out@@compare"
  EXIT 0
  MATCH "${compare_match}"
  FILES "compare/compare.md@@compare/compare.svg"
  CLEAN ${XHAL_CONFORM_WORK_DIR}/compare)
xhal_conform_test(compare_svg_valid
  ARGS "compare@@${fixtures}@@--out@@compare-xml"
  EXIT 0
  XML "compare-xml/compare.svg"
  CLEAN ${XHAL_CONFORM_WORK_DIR}/compare-xml
  LABELS slow)
xhal_conform_test(compare_not_a_report
  ARGS "compare@@${XHAL_CONFORM_TEST_DIR}/check_run.cmake"
  EXIT 1)

# `xhal peak` measures and stores; the store is read back by conform (peaks "measured").
xhal_conform_test(peak_quick_cpu
  ARGS "peak@@--quick@@--device@@cpu"
  EXIT 0
  MATCH "\\| f32 +\\| [0-9.]+ GFLOP/s@@\\| bandwidth +\\|@@stored in .*peak_quick_cpu-cache/xhal/peaks.ini"
  LABELS slow)

# Usage and help.
xhal_conform_test(conform_help ARGS "conform@@--help" EXIT 0 MATCH "usage: xhal conform")
xhal_conform_test(peak_help ARGS "peak@@--help" EXIT 0 MATCH "usage: xhal peak")
xhal_conform_test(compare_help ARGS "compare@@--help" EXIT 0 MATCH "usage: xhal compare")
xhal_conform_test(conform_bad_op ARGS "conform@@--op@@gemmm" EXIT 2)
xhal_conform_test(conform_bad_expected
  ARGS "conform@@--quick@@--only@@correctness@@--expected@@no-such-file.ini" EXIT 1)
