#include <duplex/handlers.hpp>
#include <duplex/log.hpp>
#include <duplex/protocol/http.hpp>

namespace duplex {

std::string ConnectError::message() const {
  std::string text = error.message();
  if (!detail.empty()) text += ": " + escape_for_log(detail);
  if (http_status != 0) {
    text += ": " + std::to_string(http_status) + " " +
            std::string(protocol::http_reason_phrase(http_status));
    std::string_view body = http_body;
    while (!body.empty() && (body.back() == '\n' || body.back() == '\r')) body.remove_suffix(1);
    if (!body.empty()) text += ": " + escape_for_log(body.substr(0, 200));
  }
  return text;
}

}  // namespace duplex
