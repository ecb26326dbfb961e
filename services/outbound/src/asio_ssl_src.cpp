// Asio's SSL support, compiled once (BOOST_ASIO_SEPARATE_COMPILATION): the
// shared sb_net unit compiles Asio and Beast but not asio::ssl, which only
// the outbound client uses. Move this line into common/src/net when a second
// user of asio::ssl appears, and delete this file.
#include <boost/asio/ssl/impl/src.hpp>
