# gatelab_target_defaults(<target>): warnings and sanitizers, set per target rather than globally
# so third-party code and consumers of gatelab are unaffected.
function(gatelab_target_defaults target)
  if(CMAKE_CXX_COMPILER_ID MATCHES "GNU|Clang")
    target_compile_options(${target} PRIVATE
      -Wall -Wextra -Wpedantic -Wshadow -Wconversion -Wsign-conversion -Wnon-virtual-dtor
      -Wold-style-cast -Woverloaded-virtual -Wimplicit-fallthrough)
    if(CMAKE_CXX_COMPILER_ID STREQUAL "GNU" AND CMAKE_CXX_COMPILER_VERSION VERSION_GREATER_EQUAL 12)
      # GCC 12 reports bogus -Wrestrict overlaps inside std::string concatenation at -O3
      # (GCC bug 105329); nothing in gatelab's own code is involved.
      target_compile_options(${target} PRIVATE -Wno-restrict)
    endif()
    if(GATELAB_WARNINGS_AS_ERRORS)
      target_compile_options(${target} PRIVATE -Werror)
    endif()
    if(GATELAB_SANITIZE)
      string(REPLACE ";" "," _san "${GATELAB_SANITIZE}")
      target_compile_options(${target} PRIVATE -fsanitize=${_san} -fno-omit-frame-pointer)
      target_link_options(${target} PRIVATE -fsanitize=${_san})
    endif()
  endif()
endfunction()
