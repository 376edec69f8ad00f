// `duplex serve`'s log lines on stderr: "duplex: text" for people, or one
// JSON object per line ({"time","level","msg"}) for log collectors.
#pragma once

#include <duplex/log.hpp>

namespace duplex::cli {

enum class LogFormat { text, json };

// Warnings always; info lines too when `verbose`. Called on loop threads:
// each line goes out in one write, so lines from threads do not mix.
LogSink make_log_sink(LogFormat format, bool verbose);

}  // namespace duplex::cli
