#pragma once
// 128-bit unsigned integer for exact intermediate products (GCC/Clang extension, marked so
// -Wpedantic stays quiet). Used only inside .cpp files of the core.

namespace gatelab::core {
__extension__ using U128 = unsigned __int128;
}  // namespace gatelab::core
