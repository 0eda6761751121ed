# corio_add_library(name SOURCES ... DEPS ... PRIVATE_DEPS ...): one folder, one library, one
# alias corio::name, one include root; installed and exported.
function(corio_add_library name)
  cmake_parse_arguments(arg "" "" "SOURCES;DEPS;PRIVATE_DEPS" ${ARGN})
  if(arg_SOURCES)
    add_library(corio_${name} ${arg_SOURCES})
    set(scope PUBLIC)
  else()
    add_library(corio_${name} INTERFACE)
    set(scope INTERFACE)
  endif()
  add_library(corio::${name} ALIAS corio_${name})
  set_target_properties(corio_${name} PROPERTIES EXPORT_NAME ${name} OUTPUT_NAME corio_${name})
  target_include_directories(corio_${name} ${scope}
    $<BUILD_INTERFACE:${CMAKE_CURRENT_SOURCE_DIR}/include> $<INSTALL_INTERFACE:${CMAKE_INSTALL_INCLUDEDIR}>)
  target_compile_features(corio_${name} ${scope} cxx_std_20)
  target_link_libraries(corio_${name} ${scope} ${arg_DEPS})
  if(arg_PRIVATE_DEPS)
    target_link_libraries(corio_${name} PRIVATE ${arg_PRIVATE_DEPS})
  endif()
  if(arg_SOURCES)
    target_compile_options(corio_${name} PRIVATE -Wall -Wextra)
  endif()
  install(TARGETS corio_${name} EXPORT corioTargets)
  if(EXISTS ${CMAKE_CURRENT_SOURCE_DIR}/include)
    install(DIRECTORY include/ DESTINATION ${CMAKE_INSTALL_INCLUDEDIR})
  endif()
endfunction()

# corio_add_test(name SOURCES ... LIBS ... LABELS ... [PREFIX p] [TIMEOUT s]): one gtest
# executable, one ctest entry per test case (named p + suite.case: a prefix tells apart the same
# test sources built against another library variant).
function(corio_add_test name)
  cmake_parse_arguments(arg "" "TIMEOUT;PREFIX" "SOURCES;LIBS;LABELS" ${ARGN})
  if(NOT arg_TIMEOUT)
    set(arg_TIMEOUT 120)
  endif()
  add_executable(${name} ${arg_SOURCES})
  target_link_libraries(${name} PRIVATE ${arg_LIBS} GTest::gtest GTest::gtest_main)
  target_compile_options(${name} PRIVATE -Wall -Wextra)
  gtest_discover_tests(${name} DISCOVERY_MODE PRE_TEST TEST_PREFIX "${arg_PREFIX}"
    PROPERTIES TIMEOUT ${arg_TIMEOUT} LABELS "${arg_LABELS}")
endfunction()
