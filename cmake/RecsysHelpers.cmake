# Small target helpers in the spirit of Abseil's absl_cc_library: every project target gets
# the same warnings and the recsys:: alias.

function(recsys_set_warnings target)
  set(_flags -Wall -Wextra -Wno-unused-parameter -Wno-missing-field-initializers)
  if(RECSYS_WERROR)
    list(APPEND _flags -Werror)
  endif()
  target_compile_options(${target} PRIVATE $<$<COMPILE_LANGUAGE:CXX>:${_flags}>)
endfunction()

# recsys_cc_library(NAME <name> SRCS ... [HDRS ...] [DEPS ...] [PRIVATE_DEPS ...])
# Builds recsys_<name> with alias recsys::<name>; the repository root is the include root.
function(recsys_cc_library)
  cmake_parse_arguments(ARG "" "NAME" "SRCS;HDRS;DEPS;PRIVATE_DEPS" ${ARGN})
  set(_t recsys_${ARG_NAME})
  if(ARG_SRCS)
    add_library(${_t} STATIC ${ARG_SRCS} ${ARG_HDRS})
    target_include_directories(${_t} PUBLIC ${PROJECT_SOURCE_DIR})
    target_link_libraries(${_t} PUBLIC ${ARG_DEPS} PRIVATE ${ARG_PRIVATE_DEPS})
    recsys_set_warnings(${_t})
  else()
    add_library(${_t} INTERFACE ${ARG_HDRS})
    target_include_directories(${_t} INTERFACE ${PROJECT_SOURCE_DIR})
    target_link_libraries(${_t} INTERFACE ${ARG_DEPS})
  endif()
  add_library(recsys::${ARG_NAME} ALIAS ${_t})
endfunction()

# recsys_cc_binary(NAME <output name> SRCS ... DEPS ...)
function(recsys_cc_binary)
  cmake_parse_arguments(ARG "" "NAME" "SRCS;DEPS" ${ARGN})
  add_executable(${ARG_NAME} ${ARG_SRCS})
  target_link_libraries(${ARG_NAME} PRIVATE ${ARG_DEPS})
  recsys_set_warnings(${ARG_NAME})
  install(TARGETS ${ARG_NAME} RUNTIME DESTINATION bin)
endfunction()

# recsys_cc_test(NAME <name> SRCS ... DEPS ... LABELS ... [TIMEOUT s] [FIXTURES name])
# One gtest binary; each TEST becomes a CTest test carrying LABELS (unit, integration, gpu).
# FIXTURES: a CTest fixture (FIXTURES_SETUP elsewhere) its tests need run first.
function(recsys_cc_test)
  cmake_parse_arguments(ARG "" "NAME;TIMEOUT;FIXTURES" "SRCS;DEPS;LABELS" ${ARGN})
  if(NOT ARG_TIMEOUT)
    set(ARG_TIMEOUT 120)
  endif()
  set(_fixtures "")
  if(ARG_FIXTURES)
    set(_fixtures FIXTURES_REQUIRED ${ARG_FIXTURES})
  endif()
  add_executable(${ARG_NAME} ${ARG_SRCS})
  target_link_libraries(${ARG_NAME} PRIVATE ${ARG_DEPS} GTest::gtest GTest::gmock GTest::gtest_main)
  recsys_set_warnings(${ARG_NAME})
  gtest_discover_tests(${ARG_NAME}
                       DISCOVERY_TIMEOUT 30
                       PROPERTIES LABELS "${ARG_LABELS}" TIMEOUT ${ARG_TIMEOUT} ${_fixtures})
endfunction()
