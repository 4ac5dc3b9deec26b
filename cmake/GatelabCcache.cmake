# Route compilations through ccache when it is installed (a warm cache makes CI rebuilds cheap).
if(GATELAB_USE_CCACHE AND NOT CMAKE_CXX_COMPILER_LAUNCHER)
  find_program(GATELAB_CCACHE_PROGRAM ccache)
  if(GATELAB_CCACHE_PROGRAM)
    set(CMAKE_CXX_COMPILER_LAUNCHER "${GATELAB_CCACHE_PROGRAM}")
    message(STATUS "gatelab: compiling through ${GATELAB_CCACHE_PROGRAM}")
  endif()
endif()
