# sb_embed_files(TARGET <name> NAMESPACE <ns> HEADER <path> BASE <dir> FILES <files...>)
# Generates a header with one entry per file: {relative path, contents}, so
# SQL statements and web assets ship inside the binary.
function(sb_embed_files)
  cmake_parse_arguments(E "" "TARGET;NAMESPACE;HEADER;BASE" "FILES" ${ARGN})
  set(out "${CMAKE_CURRENT_BINARY_DIR}/generated/${E_HEADER}")
  set(list_file "${CMAKE_CURRENT_BINARY_DIR}/generated/${E_HEADER}.files")
  string(REPLACE ";" "\n" lines "${E_FILES}")
  file(WRITE "${list_file}.tmp" "${lines}\n")
  file(COPY_FILE "${list_file}.tmp" "${list_file}" ONLY_IF_DIFFERENT)
  add_custom_command(
    OUTPUT "${out}"
    COMMAND ${CMAKE_COMMAND} -DOUT=${out} -DNS=${E_NAMESPACE} -DBASE=${E_BASE} -DLIST=${list_file}
            -P "${PROJECT_SOURCE_DIR}/tools/cmake/embed_run.cmake"
    DEPENDS ${E_FILES} "${list_file}" "${PROJECT_SOURCE_DIR}/tools/cmake/embed_run.cmake"
    COMMENT "Embedding ${E_HEADER}")
  add_custom_target(${E_TARGET}_gen DEPENDS "${out}")
  add_library(${E_TARGET} INTERFACE)
  add_dependencies(${E_TARGET} ${E_TARGET}_gen)
  target_include_directories(${E_TARGET} INTERFACE "${CMAKE_CURRENT_BINARY_DIR}/generated")
endfunction()
