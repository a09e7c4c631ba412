# SPIR-V modules of the OpenCL C kernels (kernels/opencl/*.cl), compiled at build time for the
# runtimes that ingest IL (Intel's OpenCL runtimes through clCreateProgramWithIL, Level Zero's
# zeModuleCreate), validated with spirv-val, and compiled into the plugins as a table
# (backends/common/xc_spirv.h). Included by the top-level CMakeLists.txt; also run in script mode
# (cmake -P) by the build to compile one module.
#
# Tools (Debian clang-15, llvm-spirv-15, spirv-tools; scripts/install-deps.sh): each step is
#   clang-15 -cl-std=CL1.2 -target spir64 -O2 -Xclang -disable-llvm-passes -fgnu89-inline
#            -emit-llvm -c <program>.cl <-D options>     (why those flags: see below)
#   llvm-spirv-15 --spirv-max-version=1.0
#   spirv-val --target-env opencl1.2, and spirv-dis: no imported (undefined) function
# XHAL_WITH_SPIRV: AUTO (default; without the tools no SPIR-V is built and the backends build
# their kernels from source, with a status line saying so), ON (the tools are required) or OFF.
#
# What a backend calls:
#
#   xhal_opencl_spirv(<out_var> SYMBOL <name>)
#     Sets <out_var> to a generated C file (add it to the plugin's SOURCES) that defines
#       const xc_spirv_module_t <name>[];   const size_t <name>_count;
#     one module per program and per variant: the programs of the OpenCL backend (see
#     XHAL_OPENCL_PROGRAMS below: "gemm", "attention", "attention_merge") times the distinct -D
#     option strings that the sections of the shipped tuning file kernels/tuning/opencl.ini give
#     (exactly the string ocl_program_options() makes for a device with that section).
#     <out_var> is "" when SPIR-V is not built (XHAL_SPIRV_FOUND false): the plugin then defines
#     the table itself as empty, or compiles with XHAL_HAVE_SPIRV undefined.
#     The modules themselves are built once per build tree into ${CMAKE_BINARY_DIR}/spirv/
#     (<program>-<md5 of the options, 12 hex>.spv, listed with their options in modules.txt there)
#     by the custom target xhal_spirv, whoever calls first.
#
#   xhal_spirv_module(<out_var> NAME <name> SOURCES <file.cl>... [OPTIONS <clang option>...])
#     One validated module ${CMAKE_BINARY_DIR}/spirv/<name>.spv from the sources concatenated
#     in order (as the OpenCL backend hands them to clCreateProgramWithSource); <out_var> is its
#     path. The building custom command belongs to the calling directory.

set(XHAL_SPIRV_CMAKE ${CMAKE_CURRENT_LIST_FILE})

# ---- Script mode: compile one module (cmake -DOUTPUT=.. -DSOURCES=a;b -DOPTIONS=.. -P ..) ----
if(CMAKE_SCRIPT_MODE_FILE)
  get_filename_component(dir ${OUTPUT} DIRECTORY)
  get_filename_component(stem ${OUTPUT} NAME_WE)
  set(cl ${dir}/${stem}.cl)
  set(text "")
  foreach(source IN LISTS SOURCES)
    file(READ ${source} part)
    string(APPEND text "${part}")
  endforeach()
  file(WRITE ${cl} "${text}")
  string(REPLACE "@@" ";" options "${OPTIONS}")
  # The modules carry unoptimized IR, without optnone: the runtime optimizes them as it does
  # source. Both flags work around LLVM 15's tools (measured on the shipped kernels):
  # -Xclang -disable-llvm-passes: clang's -O1/-O2 passes make `freeze` instructions, which
  #   llvm-spirv-15 cannot translate ("Can't translate llvm instruction: freeze"), or control
  #   flow spirv-val refuses (-O1: "already a merge block for another header"); -O0 instead
  #   marks every function optnone, and Intel's runtime then leaves the kernels unoptimized.
  # -fgnu89-inline: the kernels' helpers are plain `inline` (C99: an inline definition only,
  #   no symbol); one left uninlined is a call to an undefined function, which Intel's runtime
  #   refuses at link ("Symbols not found: [ merge_body ]"). GNU89 semantics emit it.
  execute_process(
    COMMAND ${CLANG} -cl-std=CL1.2 -target spir64 -O2 -Xclang -disable-llvm-passes
            -fgnu89-inline -emit-llvm -c ${options} ${cl}
            -o ${dir}/${stem}.bc
    RESULT_VARIABLE failed)
  if(failed)
    message(FATAL_ERROR "xhal: ${CLANG} could not compile ${cl} (options: ${options})")
  endif()
  execute_process(COMMAND ${LLVM_SPIRV} --spirv-max-version=1.0 ${dir}/${stem}.bc
                          -o ${OUTPUT}.tmp RESULT_VARIABLE failed)
  if(failed)
    message(FATAL_ERROR "xhal: ${LLVM_SPIRV} could not translate ${dir}/${stem}.bc")
  endif()
  # An invalid module must fail the build here, not crash a runtime later.
  execute_process(COMMAND ${SPIRV_VAL} --target-env opencl1.2 ${OUTPUT}.tmp
                  RESULT_VARIABLE failed)
  if(failed)
    file(REMOVE ${OUTPUT}.tmp)
    message(FATAL_ERROR "xhal: spirv-val rejected the SPIR-V of ${cl} (options: ${options})")
  endif()
  # spirv-val accepts a module that imports a function it lacks (a helper left as a mere
  # declaration); no runtime can link it: refuse it here. (Built-in variables, __spirv_*, are
  # imports the runtime provides.)
  execute_process(COMMAND ${SPIRV_DIS} ${OUTPUT}.tmp OUTPUT_VARIABLE listing RESULT_VARIABLE failed)
  string(REGEX MATCHALL "LinkageAttributes \"[A-Za-z][^\"]*\" Import" imports "${listing}")
  if(failed OR imports)
    file(REMOVE ${OUTPUT}.tmp)
    message(FATAL_ERROR "xhal: the SPIR-V of ${cl} imports functions it does not define, which no "
                        "runtime can link: ${imports}")
  endif()
  file(RENAME ${OUTPUT}.tmp ${OUTPUT})
  file(REMOVE ${dir}/${stem}.bc)
  return()
endif()

# ---- Configure time ----
set(XHAL_WITH_SPIRV AUTO CACHE STRING "Build SPIR-V modules of the OpenCL kernels: AUTO, ON or OFF")
set_property(CACHE XHAL_WITH_SPIRV PROPERTY STRINGS AUTO ON OFF)

# The programs of the OpenCL backend, each its sources in order (backends/opencl/ocl_program.c
# builds the same list from the embedded sources; tests/opencl checks that every program of every
# shipped tuning section has its module).
set(XHAL_OPENCL_PROGRAMS
    "gemm=common.cl,gemm_epilogue.cl,gemm.cl,qgemm.cl"
    "attention=common.cl,attention.cl"
    "attention_merge=common.cl,attention_merge.cl")

set(XHAL_SPIRV_FOUND FALSE)
if(NOT XHAL_WITH_SPIRV STREQUAL "OFF")
  find_program(XHAL_SPIRV_CLANG NAMES clang-15 DOC "clang 15 (OpenCL C to LLVM IR for spir64)")
  find_program(XHAL_LLVM_SPIRV NAMES llvm-spirv-15 DOC "LLVM 15's SPIR-V translator")
  find_program(XHAL_SPIRV_VAL NAMES spirv-val DOC "SPIRV-Tools' validator")
  find_program(XHAL_SPIRV_DIS NAMES spirv-dis DOC "SPIRV-Tools' disassembler")
  set(xhal_spirv_missing "")
  foreach(tool XHAL_SPIRV_CLANG:clang-15 XHAL_LLVM_SPIRV:llvm-spirv-15 XHAL_SPIRV_VAL:spirv-tools
               XHAL_SPIRV_DIS:spirv-tools)
    string(REGEX REPLACE ":.*" "" var ${tool})
    string(REGEX REPLACE ".*:" "" package ${tool})
    if(NOT ${var})
      list(APPEND xhal_spirv_missing ${package})
    endif()
  endforeach()
  if(xhal_spirv_missing)
    list(REMOVE_DUPLICATES xhal_spirv_missing)
    string(REPLACE ";" " " xhal_spirv_missing "${xhal_spirv_missing}")
    if(XHAL_WITH_SPIRV STREQUAL "ON")
      message(FATAL_ERROR "XHAL_WITH_SPIRV=ON, but the SPIR-V build lacks ${xhal_spirv_missing} "
                          "(apt install ${xhal_spirv_missing}; scripts/install-deps.sh)")
    endif()
    message(STATUS "xhal: SPIR-V kernels not built: missing ${xhal_spirv_missing} (apt install "
                   "${xhal_spirv_missing}); IL runtimes will build the OpenCL C source instead")
  else()
    set(XHAL_SPIRV_FOUND TRUE)
    message(STATUS "xhal: SPIR-V kernels built with ${XHAL_SPIRV_CLANG} and ${XHAL_LLVM_SPIRV}, "
                   "validated with ${XHAL_SPIRV_VAL}")
  endif()
else()
  message(STATUS "xhal: SPIR-V kernels off (XHAL_WITH_SPIRV=OFF)")
endif()

function(xhal_spirv_module out_var)
  cmake_parse_arguments(M "" "NAME" "SOURCES;OPTIONS" ${ARGN})
  set(output ${CMAKE_BINARY_DIR}/spirv/${M_NAME}.spv)
  string(REPLACE ";" "@@" options "${M_OPTIONS}")
  add_custom_command(
    OUTPUT ${output}
    COMMAND ${CMAKE_COMMAND} -DOUTPUT=${output} "-DSOURCES=${M_SOURCES}" "-DOPTIONS=${options}"
            -DCLANG=${XHAL_SPIRV_CLANG} -DLLVM_SPIRV=${XHAL_LLVM_SPIRV}
            -DSPIRV_VAL=${XHAL_SPIRV_VAL} -DSPIRV_DIS=${XHAL_SPIRV_DIS} -P ${XHAL_SPIRV_CMAKE}
    DEPENDS ${M_SOURCES} ${XHAL_SPIRV_CMAKE}
    COMMENT "SPIR-V ${M_NAME} (validated)"
    VERBATIM)
  set(${out_var} ${output} PARENT_SCOPE)
endfunction()

# The -D options of each distinct variant the shipped tuning file gives, as
# "<program>|<options>" entries in <out_var>. Mirrors ocl_program_options() (backends/opencl/ocl_tuning.c):
# a parameter a variant does not use is pinned so that it cannot change the options.
function(xhal_opencl_spirv_variants out_var tuning_file)
  file(STRINGS ${tuning_file} lines)
  set(sections "")
  set(section "")
  foreach(line IN LISTS lines)
    string(STRIP "${line}" line)
    if(line MATCHES "^[;#]" OR line STREQUAL "")
      continue()
    elseif(line MATCHES "^\\[(.+)\\]$")
      string(MAKE_C_IDENTIFIER "${CMAKE_MATCH_1}" section)
      list(APPEND sections ${section})
    elseif(line MATCHES "^([A-Za-z0-9_]+)[ \t]*=[ \t]*(.*)$" AND section)
      set(v_${section}_${CMAKE_MATCH_1} "${CMAKE_MATCH_2}")
    endif()
  endforeach()
  set(keys gemm_vw gemm_tm gemm_nv gemm_rb gemm_local gemm_wg_m gemm_wg_n gemm_kb gemm_pack_k
           gemv_rows gemv_nv gemv_tc att_vw att_bq att_dec_rb)
  set(variants "")
  foreach(section IN LISTS sections)
    foreach(key IN LISTS keys)
      if(DEFINED v_${section}_${key})
        set(${key} ${v_${section}_${key}})
      elseif(DEFINED v_default_${key})
        set(${key} ${v_default_${key}})
      else()
        message(FATAL_ERROR "xhal: ${tuning_file} [${section}] has no ${key}, nor has [default]")
      endif()
    endforeach()
    if(gemm_local)
      set(rb 1)
      set(wg_m ${gemm_wg_m})
      set(wg_n ${gemm_wg_n})
      set(kb ${gemm_kb})
    else()
      set(rb ${gemm_rb})
      set(wg_m 1)
      set(wg_n 1)
      set(kb 1)
    endif()
    list(APPEND variants
         "gemm|-cl-std=CL1.2 -DXV=${gemm_vw} -DGEMM_TM=${gemm_tm} -DGEMM_NV=${gemm_nv} -DGEMM_RB=${rb} -DGEMM_LOCAL=${gemm_local} -DGEMM_WG_M=${wg_m} -DGEMM_WG_N=${wg_n} -DGEMM_KB=${kb} -DGEMM_PACK_K=${gemm_pack_k} -DGEMV_M=${gemv_rows} -DGEMV_NV=${gemv_nv} -DGEMV_TC=${gemv_tc}")
    set(att "-cl-std=CL1.2 -DXV=${att_vw} -DATT_BQ=${att_bq} -DATT_DEC_RB=${att_dec_rb} -DATT_DMAX=256")
    list(APPEND variants "attention|${att}" "attention_merge|${att}")
  endforeach()
  list(REMOVE_DUPLICATES variants)
  set(${out_var} "${variants}" PARENT_SCOPE)
endfunction()

function(xhal_opencl_spirv out_var)
  cmake_parse_arguments(S "" "SYMBOL" "" ${ARGN})
  set(${out_var} "" PARENT_SCOPE)
  if(NOT XHAL_SPIRV_FOUND)
    return()
  endif()
  get_filename_component(root ${XHAL_SPIRV_CMAKE}/../.. ABSOLUTE)
  set(kernels ${root}/kernels/opencl)
  get_property(entries GLOBAL PROPERTY XHAL_SPIRV_ENTRIES)
  if(NOT TARGET xhal_spirv)
    xhal_opencl_spirv_variants(variants ${root}/kernels/tuning/opencl.ini)
    set(entries "")
    set(outputs "")
    set(manifest "# program | SPIR-V file | options (written by cmake/xhal_spirv.cmake)\n")
    foreach(variant IN LISTS variants)
      string(REGEX MATCH "^([^|]*)\\|(.*)$" matched "${variant}")
      set(program ${CMAKE_MATCH_1})
      set(options "${CMAKE_MATCH_2}")
      set(sources "")
      foreach(entry IN LISTS XHAL_OPENCL_PROGRAMS)
        if(entry MATCHES "^${program}=(.*)$")
          string(REPLACE "," ";" files "${CMAKE_MATCH_1}")
          foreach(file IN LISTS files)
            list(APPEND sources ${kernels}/${file})
          endforeach()
        endif()
      endforeach()
      string(MD5 hash "${options}")
      string(SUBSTRING ${hash} 0 12 hash)
      separate_arguments(option_list UNIX_COMMAND "${options}")
      xhal_spirv_module(spv NAME ${program}-${hash} SOURCES ${sources} OPTIONS ${option_list})
      list(APPEND outputs ${spv})
      list(APPEND entries "${program}|${options}|${spv}")
      string(APPEND manifest "${program} | ${spv} | ${options}\n")
    endforeach()
    file(WRITE ${CMAKE_BINARY_DIR}/spirv/modules.txt "${manifest}")
    add_custom_target(xhal_spirv ALL DEPENDS ${outputs})
    set_property(GLOBAL PROPERTY XHAL_SPIRV_ENTRIES "${entries}")
    set_property(GLOBAL PROPERTY XHAL_SPIRV_OUTPUTS "${outputs}")
  endif()
  get_property(outputs GLOBAL PROPERTY XHAL_SPIRV_OUTPUTS)
  set(table ${CMAKE_CURRENT_BINARY_DIR}/${S_SYMBOL}_spirv.c)
  # Entries hold spaces and '|': handed over in a file rather than on the command line.
  set(list_file ${CMAKE_CURRENT_BINARY_DIR}/${S_SYMBOL}_spirv.list)
  string(REPLACE ";" "\n" lines "${entries}")
  file(WRITE ${list_file} "${lines}\n")
  add_custom_command(
    OUTPUT ${table}
    COMMAND ${CMAKE_COMMAND} -DTABLE=${table} -DSYMBOL=${S_SYMBOL} -DLIST=${list_file}
            -P ${root}/cmake/xhal_spirv_table.cmake
    DEPENDS ${outputs} ${list_file} xhal_spirv ${root}/cmake/xhal_spirv_table.cmake
    COMMENT "Embedding the SPIR-V modules as ${S_SYMBOL}[]"
    VERBATIM)
  set(${out_var} ${table} PARENT_SCOPE)
endfunction()
