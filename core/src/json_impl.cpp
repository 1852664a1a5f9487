// Boost.JSON compiled into the core, header-only: Debian's static library is not built as
// position-independent code, and the host must not load a shared Boost.
#include <boost/json/src.hpp>
