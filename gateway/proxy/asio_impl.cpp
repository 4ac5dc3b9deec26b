// The one translation unit that compiles Boost.Asio and Boost.Beast (separate compilation: every
// other file of the proxy and its tests includes their headers with BOOST_ASIO_SEPARATE_COMPILATION
// and BOOST_BEAST_SEPARATE_COMPILATION, set on the gatelab::proxy target, and does not recompile
// them). Keeps incremental builds of the proxy fast.
#include <boost/asio/impl/src.hpp>
#include <boost/asio/ssl/impl/src.hpp>
#include <boost/beast/src.hpp>
