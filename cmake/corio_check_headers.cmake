# corio_check_headers(): the target `check_headers` compiles every installed public header on
# its own (one generated translation unit per header, including nothing else), so a header that
# relies on something its includer happened to include first fails here rather than in a user's
# build. Not part of `all`; CI builds it (.ci/run).
function(corio_check_headers)
  set(roots
    ${PROJECT_SOURCE_DIR}/include
    ${PROJECT_SOURCE_DIR}/runtime/include
    ${PROJECT_SOURCE_DIR}/channels/include
    ${PROJECT_SOURCE_DIR}/io/include
    ${PROJECT_SOURCE_DIR}/testing/include)
  set(sources)
  foreach(root IN LISTS roots)
    file(GLOB_RECURSE headers RELATIVE ${root} CONFIGURE_DEPENDS ${root}/*.hpp)
    foreach(h IN LISTS headers)
      string(MAKE_C_IDENTIFIER ${h} id)
      set(tu ${PROJECT_BINARY_DIR}/check_headers/${id}.cpp)
      set(content "#include <${h}>\n#include <${h}>  // and twice: the include guard works\n")
      if(EXISTS ${tu})
        file(READ ${tu} old)
      else()
        set(old "")
      endif()
      if(NOT old STREQUAL content)
        file(WRITE ${tu} ${content})
      endif()
      list(APPEND sources ${tu})
    endforeach()
  endforeach()
  add_library(check_headers OBJECT EXCLUDE_FROM_ALL ${sources})
  target_link_libraries(check_headers PRIVATE corio::corio corio::testing)
  target_compile_options(check_headers PRIVATE -Wall -Wextra)
endfunction()
