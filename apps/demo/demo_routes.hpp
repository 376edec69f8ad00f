// Puts the demo on a server: the page (embedded, unless a static directory
// replaces it), /chat, /ticker and /echo.
#pragma once

#include "chat_service.hpp"
#include "ticker_service.hpp"

#include <duplex/server.hpp>

namespace duplex::demo {

void add_demo_routes(Server& server, ChatService& chat, TickerService& ticker, bool embedded_page);

}  // namespace duplex::demo
