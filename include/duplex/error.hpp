/// @file
/// Every error Duplex reports, in one include: the conditions to test for
/// (`duplex::Condition`) and the codes of each domain.
///
///     if (const auto ec = ws.send(text); ec == duplex::Condition::connection_closed) ...
#pragma once

#include <duplex/client_error.hpp>
#include <duplex/protocol/error.hpp>
#include <duplex/status.hpp>
#include <duplex/transport_error.hpp>
