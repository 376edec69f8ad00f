// Operations endpoints: GET /health (200 while serving) and GET /metrics
// (Prometheus text exposition format 0.0.4).
#pragma once

#include "push_core.hpp"

namespace duplex::push::detail {

// The metrics as Prometheus text.
std::string prometheus_text(PushCore& core);

// Adds /health and /metrics (the server must not listen yet).
void add_operations_routes(Server& server, PushCore& core);

}  // namespace duplex::push::detail
