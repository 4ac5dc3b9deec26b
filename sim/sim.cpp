// Anchor for gatelab_sim; areas add their sources from their own CMakeLists.txt.
