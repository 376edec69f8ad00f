// Scenarios about an upgrade that must not succeed: the peer refuses it (the
// client must report the HTTP status and body), or the client must refuse
// the peer (its certificate, its handshake answer) with an error that says why.
#include "scenarios.hpp"

#include <regex>

namespace interop {
namespace {

// How an attempt to connect ended, when it was meant never to open.
struct Attempt {
  bool opened = false;
  bool in_time = true;
  std::optional<duplex::ConnectError> error;
  std::error_code refused_at_once;  // by Client::connect() itself
};

Attempt attempt(const std::string& url, const duplex::ClientOptions& options) {
  Attempt result;
  duplex::Client client;
  duplex::Handlers<> handlers{
      .on_open =
          [&](duplex::WebSocket& ws) {
            result.opened = true;
            ws.close();
          },
      .on_error = [&](const duplex::ConnectError& e) { result.error = e; },
  };
  if (const auto ec = client.connect(url, options, handlers)) {
    result.refused_at_once = ec;
    return result;
  }
  result.in_time = run_bounded(client, std::chrono::seconds{15});
  return result;
}

}  // namespace

Outcome expect_rejection(const Target& target, const std::string& origin, int status,
                         const std::optional<std::string>& body) {
  duplex::ClientOptions options = target.options;
  options.origin = origin;
  const Attempt a = attempt(target.url, options);
  if (a.refused_at_once) {
    return fail("cannot connect to " + target.url + ": " + a.refused_at_once.message());
  }
  if (!a.in_time) return fail("timed out after 15 s");

  const std::string wanted = std::to_string(status) + (body ? " \"" + *body + "\"" : "");
  if (a.opened) return fail("the upgrade was accepted, expected " + wanted);
  if (!a.error) return fail("neither opened nor reported an error");
  const duplex::ConnectError& error = *a.error;
  if (error.http_status != status || (body && error.http_body != *body)) {
    return fail("expected " + wanted + ", got " + std::to_string(error.http_status) + " \"" +
                error.http_body + "\" (" + error.message() + ")");
  }
  return pass("refused with " + wanted + ": " + error.message());
}

Outcome expect_connect_failure(const Target& target, const std::string& pattern) {
  std::regex wanted;
  try {
    wanted = std::regex(pattern, std::regex::ECMAScript | std::regex::icase);
  } catch (const std::regex_error& e) {
    return fail("bad pattern \"" + pattern + "\": " + e.what());
  }
  const Attempt a = attempt(target.url, target.options);
  if (!a.in_time) return fail("neither opened nor failed within 15 s");
  if (a.opened) return fail("the connection opened; expected a failure matching /" + pattern + "/");
  if (!a.error && !a.refused_at_once) return fail("neither opened nor reported an error");
  // Client::connect() may refuse before trying (a CA file it cannot read).
  const std::string text = a.error ? a.error->message() : a.refused_at_once.message();
  if (!std::regex_search(text, wanted)) {
    return fail("failed with \"" + text + "\", which does not match /" + pattern + "/");
  }
  return pass("failed: " + text);
}

}  // namespace interop
