# Warnings are errors for everything the project compiles itself.
add_library(csm_warnings INTERFACE)
target_compile_options(csm_warnings INTERFACE
  -Wall -Wextra -Wpedantic -Werror
  $<$<CXX_COMPILER_ID:GNU>:-Wshadow=local>
  $<$<CXX_COMPILER_ID:Clang>:-Wshadow-uncaptured-local>)
