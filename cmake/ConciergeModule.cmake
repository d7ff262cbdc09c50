# concierge_module(NAME SOURCES ... DEPS ...) declares src/NAME as the static library
# concierge_NAME, with the project's warnings and include root.
function(concierge_module name)
  cmake_parse_arguments(ARG "" "" "SOURCES;DEPS" ${ARGN})
  add_library(concierge_${name} STATIC ${ARG_SOURCES})
  target_include_directories(concierge_${name} PUBLIC ${PROJECT_SOURCE_DIR}/src)
  target_link_libraries(concierge_${name} PUBLIC ${ARG_DEPS} PRIVATE concierge_warnings)
endfunction()

# concierge_test(NAME SOURCES ... DEPS ...) builds a GoogleTest binary and registers it with CTest.
function(concierge_test name)
  cmake_parse_arguments(ARG "" "" "SOURCES;DEPS;LABELS" ${ARGN})
  add_executable(${name} ${ARG_SOURCES})
  target_include_directories(${name} PRIVATE ${PROJECT_SOURCE_DIR}/src ${PROJECT_SOURCE_DIR}/tests)
  target_link_libraries(${name} PRIVATE ${ARG_DEPS} GTest::gtest GTest::gmock GTest::gtest_main
                                        concierge_warnings)
  add_test(NAME ${name} COMMAND ${name})
  # A GoogleTest case that skips (its data or a privilege is missing) marks the whole binary as
  # skipped in CTest's summary, with the reason in its output, instead of passed.
  set_tests_properties(${name} PROPERTIES LABELS "unit;${ARG_LABELS}"
                                          SKIP_REGULAR_EXPRESSION "\\[  SKIPPED \\]")
endfunction()
