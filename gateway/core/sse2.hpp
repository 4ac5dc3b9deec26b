#pragma once
// Byte tests sixteen bytes at a time with SSE2 (every x86-64), shared by the scanners that check
// request paths (core/path.cpp) and upstream answer heads (proxy/response_head.cpp).

#if defined(__SSE2__)
#include <emmintrin.h>

namespace gatelab::core::sse2 {

/// 0xFF in each byte of `x` that lies in [lo, hi] as an unsigned byte, 0x00 in the others.
[[nodiscard]] inline __m128i inRange(__m128i x, char lo, char hi) noexcept {
  const __m128i d = _mm_sub_epi8(x, _mm_set1_epi8(lo));
  return _mm_cmpeq_epi8(_mm_min_epu8(d, _mm_set1_epi8(static_cast<char>(hi - lo))), d);
}

}  // namespace gatelab::core::sse2
#endif
