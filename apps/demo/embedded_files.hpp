// The demo page's files (web/), compiled into the binary so `duplex serve`
// serves them from any directory.
#pragma once

#include <cstdint>
#include <span>
#include <string_view>

namespace duplex::demo {

struct EmbeddedFile {
  std::string_view path;  // "/index.html"
  std::span<const unsigned char> bytes;
};

std::span<const EmbeddedFile> embedded_files();

}  // namespace duplex::demo
