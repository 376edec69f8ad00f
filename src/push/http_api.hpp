// Centrifugo's server HTTP API for backends: POST {prefix}/publish,
// broadcast, history, history_remove, presence, presence_stats, channels,
// info and disconnect, with the API key in `X-API-Key` or
// `Authorization: apikey KEY`. Answers are {"result":{..}} or
// {"error":{"code":..,"message":..}} with status 200; a bad key gets 401
// and a body that is not JSON 400.
#pragma once

#include "push_core.hpp"

namespace duplex::push::detail {

// Adds the API's routes (the server must not listen yet).
void add_http_api(Server& server, PushCore& core);

}  // namespace duplex::push::detail
