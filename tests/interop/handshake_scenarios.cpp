// Scenarios about an upgrade the peer refuses: the client must report the
// HTTP status (and body) it was refused with.
#include "scenarios.hpp"

namespace interop {

Outcome expect_rejection(const std::string& url, const std::string& origin, int status,
                         const std::optional<std::string>& body) {
  bool opened = false;
  std::optional<duplex::ConnectError> error;
  duplex::ClientOptions options;
  options.origin = origin;
  duplex::Client client;
  duplex::ClientHandlers handlers{
      .on_open =
          [&](duplex::WebSocket& ws) {
            opened = true;
            ws.close();
          },
      .on_error = [&](const duplex::ConnectError& e) { error = e; },
  };
  if (const auto ec = client.connect(url, options, handlers)) {
    return fail("cannot connect to " + url + ": " + ec.message());
  }
  if (!run_bounded(client, std::chrono::seconds{15})) return fail("timed out after 15 s");

  const std::string wanted = std::to_string(status) + (body ? " \"" + *body + "\"" : "");
  if (opened) return fail("the upgrade was accepted, expected " + wanted);
  if (!error) return fail("neither opened nor reported an error");
  if (error->http_status != status || (body && error->http_body != *body)) {
    return fail("expected " + wanted + ", got " + std::to_string(error->http_status) + " \"" +
                error->http_body + "\" (" + error->message() + ")");
  }
  return pass("refused with " + wanted + ": " + error->message());
}

}  // namespace interop
