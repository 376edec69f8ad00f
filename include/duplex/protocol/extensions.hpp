/// @file
/// Sec-WebSocket-Extensions (RFC 6455 section 9.1): parsing an offer or a
/// response into extensions with parameters, and formatting one back.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <system_error>
#include <vector>

namespace duplex::protocol {

/// One parameter of an extension offer or answer.
struct ExtensionParam {
  std::string name;                  ///< as sent
  std::optional<std::string> value;  ///< quoted-string values are unquoted
};

/// One extension of a Sec-WebSocket-Extensions value, with its parameters.
struct Extension {
  std::string name;                    ///< the extension token
  std::vector<ExtensionParam> params;  ///< in order

  /// The parameter of that name (case-insensitive), or null.
  const ExtensionParam* find(std::string_view param_name) const noexcept;
};

/// Appends every extension of one header field value to `out`. Returns
/// HandshakeError::invalid_extension_header if the value breaks the grammar (including
/// a quoted value that is not a token once unquoted).
std::error_code parse_extension_list(std::string_view value, std::vector<Extension>& out);

/// "name; p1; p2=v" (values that are tokens go unquoted).
std::string format_extension(const Extension& extension);

}  // namespace duplex::protocol
