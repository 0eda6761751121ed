# corio_api_docs(): the target `corio_api_docs` builds the API reference (HTML) with doxygen from
# the public headers into <build>/docs/api/html/index.html; docs/mainpage.dox is its main page.
# It fails on any doxygen warning (an undocumented public symbol, a broken reference);
# docs/Doxyfile.in says what counts as public. Not part of `all`; CI builds it (.ci/run). Without
# doxygen (Debian's `doxygen` package) the target does not exist, and configuring says so.
#
# The guide pages (docs/*.md) are not fed to doxygen: 1.9.4 resolves neither their GitHub heading
# anchors (#section links) nor their links to pages outside its input, and each would be a warning.
function(corio_api_docs)
  find_package(Doxygen QUIET)
  if(NOT DOXYGEN_FOUND)
    message(STATUS "corio: doxygen not found, so no corio_api_docs target (apt-get install doxygen)")
    return()
  endif()
  set(CORIO_DOCS_OUTPUT_DIR ${PROJECT_BINARY_DIR}/docs/api)
  set(include_dirs
    ${PROJECT_SOURCE_DIR}/include
    ${PROJECT_SOURCE_DIR}/runtime/include
    ${PROJECT_SOURCE_DIR}/channels/include
    ${PROJECT_SOURCE_DIR}/io/include
    ${PROJECT_SOURCE_DIR}/testing/include)
  # Doxygen's lists are space-separated; each path is quoted so one with a space survives.
  set(CORIO_DOCS_INPUT "\"${PROJECT_SOURCE_DIR}/docs/mainpage.dox\"")
  set(CORIO_DOCS_STRIP_PATHS)
  foreach(dir IN LISTS include_dirs)
    string(APPEND CORIO_DOCS_INPUT " \"${dir}/corio\"")
    # Stripped, so the reference shows each file as it is included: corio/channels/mpsc.hpp.
    string(APPEND CORIO_DOCS_STRIP_PATHS " \"${dir}\"")
  endforeach()
  configure_file(${PROJECT_SOURCE_DIR}/docs/Doxyfile.in ${CORIO_DOCS_OUTPUT_DIR}/Doxyfile @ONLY)

  set(inputs ${PROJECT_SOURCE_DIR}/docs/Doxyfile.in ${PROJECT_SOURCE_DIR}/docs/mainpage.dox)
  foreach(dir IN LISTS include_dirs)
    file(GLOB_RECURSE headers CONFIGURE_DEPENDS ${dir}/corio/*.hpp)
    list(APPEND inputs ${headers})
  endforeach()
  # A stamp, not index.html, is the output: doxygen writes index.html before it fails on warnings,
  # and the next build must run it again.
  add_custom_command(
    OUTPUT ${CORIO_DOCS_OUTPUT_DIR}/doxygen.stamp
    COMMAND Doxygen::doxygen ${CORIO_DOCS_OUTPUT_DIR}/Doxyfile
    COMMAND ${CMAKE_COMMAND} -E touch ${CORIO_DOCS_OUTPUT_DIR}/doxygen.stamp
    DEPENDS ${inputs}
    WORKING_DIRECTORY ${CORIO_DOCS_OUTPUT_DIR}
    COMMENT "corio_api_docs: doxygen -> ${CORIO_DOCS_OUTPUT_DIR}/html/index.html"
    VERBATIM)
  add_custom_target(corio_api_docs DEPENDS ${CORIO_DOCS_OUTPUT_DIR}/doxygen.stamp)
endfunction()
