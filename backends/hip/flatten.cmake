# Writes the HIP kernels as one self-contained source for hiprtc, which has no include path:
# every #include "file" found beside the including file or in INCLUDE_DIRS is replaced by the
# file's text (once; later includes of it are dropped: every header has a guard). <system>
# includes are kept (the kernels guard them with __HIPCC_RTC__).
#   cmake -DINPUT=kernels/hip/xk_hip.hip -DOUTPUT=out.hip "-DINCLUDE_DIRS=a;b" -P flatten.cmake
cmake_minimum_required(VERSION 3.20)

set(xhal_flatten_seen "")

function(xhal_flatten file out_var)
  file(READ ${file} text)
  get_filename_component(here ${file} DIRECTORY)
  string(REGEX MATCHALL "#[ \t]*include[ \t]+\"[^\"]+\"" includes "${text}")
  foreach(include IN LISTS includes)
    string(REGEX REPLACE ".*\"([^\"]+)\"" "\\1" name "${include}")
    set(found "")
    foreach(dir ${here} ${INCLUDE_DIRS})
      if(NOT found AND EXISTS ${dir}/${name})
        get_filename_component(found ${dir}/${name} ABSOLUTE)
      endif()
    endforeach()
    if(NOT found)
      message(FATAL_ERROR "flatten: ${file} includes \"${name}\", not found in ${INCLUDE_DIRS}")
    endif()
    set(inner "")
    list(FIND xhal_flatten_seen ${found} index)
    if(index EQUAL -1)
      list(APPEND xhal_flatten_seen ${found})
      xhal_flatten(${found} inner)
    endif()
    string(REPLACE "${include}" "${inner}" text "${text}")
  endforeach()
  get_filename_component(short ${file} NAME)
  set(${out_var} "// ---- ${short} ----\n${text}" PARENT_SCOPE)
  set(xhal_flatten_seen ${xhal_flatten_seen} PARENT_SCOPE)
endfunction()

xhal_flatten(${INPUT} result)
file(WRITE ${OUTPUT}.tmp "${result}")
file(RENAME ${OUTPUT}.tmp ${OUTPUT})
