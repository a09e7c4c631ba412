# Runs the xhal tool once and checks what it did; used by tests/cmake/conformance.cmake.
#   -DTOOL=<xhal>        the program
#   -DARGS=a@@b@@c       its arguments, separated by "@@" (they may hold ';', ',' and '|')
#   -DEXIT=0|1|2|nonzero the exit status wanted
#   -DMATCH=re@@re       regular expressions stdout must match
#   -DNOMATCH=re@@re     regular expressions stdout must not match
#   -DCLEAN=<dir>        removed before the run
#   -DFILES=f@@f         files that must exist afterwards
#   -DXML=f@@f           files an XML parser must accept (needs -DPYTHON)
#   -DJSON=f@@f          files a JSON parser must accept (needs -DPYTHON)
#   -DCSV=f@@f           CSV files whose rows must all have as many fields as their header
#   -DPYTHON=<python3>
cmake_minimum_required(VERSION 3.20)

function(split out text)
  string(REPLACE "@@" ";" list "${text}")
  set(${out} "${list}" PARENT_SCOPE)
endfunction()

split(args "${ARGS}")
if(CLEAN)
  file(REMOVE_RECURSE "${CLEAN}")
endif()
execute_process(COMMAND "${TOOL}" ${args} RESULT_VARIABLE rc OUTPUT_VARIABLE out
                ERROR_VARIABLE err)
message("---- stdout ----\n${out}\n---- stderr ----\n${err}\n---- exit ${rc} ----")

if(EXIT STREQUAL "nonzero")
  if(rc EQUAL 0)
    message(FATAL_ERROR "exit status 0, wanted non-zero")
  endif()
elseif(NOT rc STREQUAL EXIT)
  message(FATAL_ERROR "exit status ${rc}, wanted ${EXIT}")
endif()

split(matches "${MATCH}")
foreach(re IN LISTS matches)
  if(NOT out MATCHES "${re}")
    message(FATAL_ERROR "stdout does not match: ${re}")
  endif()
endforeach()
split(nomatches "${NOMATCH}")
foreach(re IN LISTS nomatches)
  if(out MATCHES "${re}")
    message(FATAL_ERROR "stdout matches what it must not: ${re}")
  endif()
endforeach()

split(files "${FILES}")
foreach(f IN LISTS files)
  if(NOT EXISTS "${f}")
    message(FATAL_ERROR "missing: ${f}")
  endif()
endforeach()

function(python_check kind code list)
  split(files "${list}")
  if(NOT files)
    return()
  endif()
  execute_process(COMMAND "${PYTHON}" -c "${code}" ${files} RESULT_VARIABLE prc
                  OUTPUT_VARIABLE pout ERROR_VARIABLE perr)
  if(NOT prc EQUAL 0)
    message(FATAL_ERROR "${kind} check failed: ${pout}${perr}")
  endif()
  message("${kind} ok: ${files}")
endfunction()
python_check(XML "import sys, xml.dom.minidom\nfor f in sys.argv[1:]: xml.dom.minidom.parse(f)"
             "${XML}")
python_check(JSON "import sys, json\nfor f in sys.argv[1:]: json.load(open(f))" "${JSON}")

split(csvs "${CSV}")
foreach(f IN LISTS csvs)
  # Counted with the quotes of RFC 4180 in mind: a comma inside "..." does not split.
  file(READ "${f}" content)
  string(REPLACE ";" "_" content "${content}") # ';' would split CMake's list
  string(REPLACE "\n" ";" lines "${content}")
  set(want "")
  foreach(line IN LISTS lines)
    if(line STREQUAL "")
      continue()
    endif()
    string(REGEX REPLACE "\"[^\"]*\"" "q" bare "${line}")
    string(REGEX REPLACE "[^,]" "" commas "${bare}")
    string(LENGTH "${commas}" n)
    if(want STREQUAL "")
      set(want ${n})
    elseif(NOT n EQUAL want)
      message(FATAL_ERROR "${f}: a row has ${n} commas, the header ${want}: ${line}")
    endif()
  endforeach()
  message("CSV ok: ${f} (${want} commas per row)")
endforeach()
