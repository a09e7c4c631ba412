# Tests of examples/minilm (all-MiniLM-L6-v2 through xhal), included by tests/CMakeLists.txt.
#
# - C unit tests of the JSON and safetensors readers, the tokenizer, and the encoder on a small
#   random BERT written by the test (no model needed).
# - minilm_similarity: the program on the real model, on the CPU, as the README shows it.
# - Python checks (tests/run-python.sh runs them with the project's venv): the tokenizer against
#   Hugging Face's `tokenizers`, the embeddings on every device and weight dtype against the fp64
#   numpy reference, the committed Unicode tables against their generator. They are labelled
#   "slow" to keep them out of the valgrind stage (valgrind would trace Python).
# Without the venv or the model (`make model`), the tests that need them are reported skipped,
# with the reason in their output.
if(NOT TARGET minilm)
  return()
endif()

set(XHAL_MINILM_DIR ${XHAL_TEST_ROOT}/examples/minilm)

foreach(name json safetensors tokenizer encoder)
  xhal_test(minilm_${name} SOURCE ${XHAL_MINILM_DIR}/tests/test_${name}.c LABELS minilm)
  target_link_libraries(test_minilm_${name} PRIVATE minilm_core)
endforeach()

add_test(NAME minilm_similarity
         COMMAND minilm --device cpu "The new movie is awesome" "The new movie is so great")
# sentence-transformers gives 0.8939 for this pair.
set_tests_properties(minilm_similarity PROPERTIES LABELS "minilm;tool" TIMEOUT 600
                     PASS_REGULAR_EXPRESSION "1.0000  0.8939" SKIP_REGULAR_EXPRESSION "no model at")
add_test(NAME minilm_bench
         COMMAND minilm --device cpu --bench --repeats 1 "The new movie is awesome"
                 "The new movie is so great" "A man is eating food.")
set_tests_properties(minilm_bench PROPERTIES LABELS "minilm;tool;slow" TIMEOUT 600
                     PASS_REGULAR_EXPRESSION "sentences/s.*gemm .*GFLOP/s.*attention.*host"
                     SKIP_REGULAR_EXPRESSION "no model at")
add_test(NAME minilm_no_model COMMAND minilm --model ${CMAKE_BINARY_DIR}/no-such-model "hello")
set_tests_properties(minilm_no_model PROPERTIES LABELS "minilm;tool"
                     PASS_REGULAR_EXPRESSION "no model at .*make model")
add_test(NAME minilm_usage COMMAND minilm --dtype f8 "hello")
set_tests_properties(minilm_usage PROPERTIES LABELS "minilm;tool" WILL_FAIL TRUE)

set(XHAL_MINILM_PY bash ${XHAL_MINILM_DIR}/tests/run-python.sh ${XHAL_TEST_ROOT})
function(xhal_minilm_python name)
  add_test(NAME ${name} COMMAND ${XHAL_MINILM_PY} ${ARGN})
  # One BLAS thread: ctest runs tests side by side, and the reference's matrices are small.
  set_tests_properties(${name} PROPERTIES LABELS "minilm;python;slow" TIMEOUT 600
                       SKIP_RETURN_CODE 77 ENVIRONMENT OPENBLAS_NUM_THREADS=1)
endfunction()

xhal_minilm_python(minilm_tokenizer_hf ${XHAL_MINILM_DIR}/tests/check_tokens.py
                   $<TARGET_FILE:minilm> ${XHAL_MINILM_DIR}/tests/tokenizer-sentences.jsonl)
xhal_minilm_python(minilm_unicode_tables ${XHAL_MINILM_DIR}/tools/gen_unicode_tables.py
                   --check ${XHAL_MINILM_DIR}/unicode_tables.c)

# Embeddings against the fp64 reference, by cosine. Issue 13 asks >= 0.99999 in f32 and >= 0.999
# with 16-bit weights; the figures measured are 1 - 1e-12 (f32), 1 - 1.4e-5 (bf16) and
# 1 - 1.8e-7 (f16) on cpu and PoCL, so the bounds here are tighter, enough to catch a tanh GELU
# (1 - 1e-6) or a LayerNorm epsilon of 1e-5 (1 - 3e-6), which the issue's would let pass. The
# fallback path (host epilogue, one attention per sentence) is checked too. The reference is
# computed once per run (a fixture) and read by each check.
set(minilm_reference ${CMAKE_BINARY_DIR}/tests/minilm-reference.txt)
xhal_minilm_python(minilm_reference ${XHAL_MINILM_DIR}/tools/reference.py embed
                   --file ${XHAL_MINILM_DIR}/tests/embedding-sentences.txt
                   --out ${minilm_reference})
set_tests_properties(minilm_reference PROPERTIES FIXTURES_SETUP minilm_reference)
set(minilm_devices cpu)
if(TARGET xhal-opencl)
  list(APPEND minilm_devices opencl)
endif()
foreach(device IN LISTS minilm_devices)
  foreach(spec "f32;0.999999999" "bf16;0.9999" "f16;0.99999")
    list(GET spec 0 dtype)
    list(GET spec 1 bound)
    xhal_minilm_python(minilm_embeddings_${device}_${dtype}
                       ${XHAL_MINILM_DIR}/tests/check_embeddings.py $<TARGET_FILE:minilm>
                       ${XHAL_MINILM_DIR}/tests/embedding-sentences.txt --device ${device}
                       --dtype ${dtype} --min-cosine ${bound} --reference ${minilm_reference})
    set_tests_properties(minilm_embeddings_${device}_${dtype} PROPERTIES
                         FIXTURES_REQUIRED minilm_reference)
  endforeach()
  xhal_minilm_python(minilm_embeddings_${device}_f32_unfused
                     ${XHAL_MINILM_DIR}/tests/check_embeddings.py $<TARGET_FILE:minilm>
                     ${XHAL_MINILM_DIR}/tests/embedding-sentences.txt --device ${device}
                     --dtype f32 --min-cosine 0.999999999 --unfused --reference ${minilm_reference})
  set_tests_properties(minilm_embeddings_${device}_f32_unfused PROPERTIES
                       FIXTURES_REQUIRED minilm_reference)
endforeach()
